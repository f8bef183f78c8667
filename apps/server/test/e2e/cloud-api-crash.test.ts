/**
 * kill -9 while a business sends through the Business Messaging API: every message that was
 * answered "accepted" reaches its person after the restart, and none twice.
 */
import fs from 'node:fs';
import { ParleyClient, type ReceivedMessage } from '@parley/sdk';
import { afterEach, describe, expect, it } from 'vitest';
import { toWamid } from '../../src/modules/cloud-api/index.js';
import { openDb } from '../../src/platform/db.js';
import { newPhone } from '../harness/builders.js';
import { freePort, runParley, type ServerChild, spawnServer } from '../harness/process.js';
import { createPostgresDatabase, PG_AVAILABLE, tempDir } from '../harness/storage.js';
import { until } from '../harness/wait.js';

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe.skipIf(dialect === 'postgres' && !PG_AVAILABLE)(
    `Business Messaging API crash [${dialect}]`,
    () => {
      const cleanups: (() => Promise<unknown>)[] = [];
      afterEach(async () => {
        for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
      });

      it('kill -9 during an API send storm: every accepted message is delivered after restart, none twice', async () => {
        const dataDir = tempDir();
        const env: Record<string, string> = {
          PARLEY_DATA_DIR: dataDir,
          PARLEY_PORT: String(await freePort()),
        };
        if (dialect === 'postgres') {
          const database = await createPostgresDatabase();
          env.DATABASE_URL = database.url;
          cleanups.push(() => database.drop());
        }
        cleanups.push(async () => fs.rmSync(dataDir, { recursive: true, force: true }));
        const start = async (): Promise<ServerChild> => {
          const server = await spawnServer(env);
          cleanups.push(() => server.stop());
          return server;
        };

        // Several people (a business may burst 45 messages to one person), each of whom wrote
        // first: free-form messages go only into an open 24-hour window.
        const people: { phone: string; token: string }[] = [];
        for (let i = 0; i < 8; i++) {
          const phone = newPhone();
          const created = JSON.parse(
            (await runParley(['account', 'create', '--phone', phone, '--name', `P${i}`, '--json'], env))
              .stdout,
          ) as { token: string };
          people.push({ phone, token: created.token });
        }
        const bizPhone = newPhone();
        const biz = JSON.parse(
          (await runParley(['business', 'create', '--name', 'Acme', '--phone', bizPhone, '--json'], env))
            .stdout,
        ) as { phone_number_id: string; access_token: string };
        let server = await start();
        const send = (to: string, text: string) =>
          fetch(`${server.url}/v23.0/${biz.phone_number_id}/messages`, {
            method: 'POST',
            headers: { authorization: `Bearer ${biz.access_token}`, 'content-type': 'application/json' },
            body: JSON.stringify({
              messaging_product: 'whatsapp',
              to: to.slice(1),
              type: 'text',
              text: { body: text },
            }),
          });
        for (const person of people) {
          const c = new ParleyClient({ baseUrl: server.url, token: person.token });
          c.on('error', () => {});
          await c.connect();
          await c.sendText(bizPhone, 'hello');
          c.close();
        }
        // The number's inbox has every hello (each person's window is open).
        const db = openDb({ databaseUrl: env.DATABASE_URL, dataDir });
        cleanups.push(() => db.close());
        await until(async () => {
          const open = await db.kysely
            .selectFrom('conversations')
            .select('id')
            .where('phone_number_id', '=', biz.phone_number_id)
            .where('last_inbound_at', 'is not', null)
            .execute();
          return open.length === people.length;
        });

        const accepted: string[] = [];
        let stop = false;
        const sender = async (person: { phone: string }, lane: number) => {
          for (let i = 0; !stop && i < 40; i++) {
            try {
              const res = await send(person.phone, `storm ${lane}-${i}`);
              const body = (await res.json()) as { messages?: { id: string }[] };
              if (res.ok && body.messages?.[0]) accepted.push(body.messages[0].id);
            } catch {
              // The server died under this request: its answer never came, so it was not accepted.
              return;
            }
          }
        };
        const lanes = people.map((person, lane) => sender(person, lane));
        await until(() => accepted.length >= 100, 30_000);
        await server.crash();
        stop = true;
        await Promise.all(lanes);
        const acceptedAtCrash = [...accepted];

        server = await start();
        const inbox: ReceivedMessage[] = [];
        for (const person of people) {
          const client = new ParleyClient({ baseUrl: server.url, token: person.token });
          client.onMessage((m) => {
            inbox.push(m);
          });
          client.on('error', () => {});
          cleanups.push(() => client.close());
          await client.connect();
        }
        const received = () => new Set(inbox.map((m) => toWamid(m.messageId)));
        await until(() => acceptedAtCrash.every((id) => received().has(id)), 60_000);
        const ids = inbox.map((m) => m.messageId);
        expect(new Set(ids).size).toBe(ids.length);
        const texts = inbox.map((m) => m.text);
        expect(new Set(texts).size).toBe(texts.length);
      }, 120_000);
    },
  );
}
