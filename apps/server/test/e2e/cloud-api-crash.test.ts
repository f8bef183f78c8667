/**
 * kill -9 while a business sends through the Business Messaging API: every message that was
 * answered "accepted" reaches the person after the restart, and none twice.
 */
import fs from 'node:fs';
import { ParleyClient, type ReceivedMessage } from '@parley/sdk';
import { afterEach, describe, expect, it } from 'vitest';
import { toWamid } from '../../src/modules/cloud-api/index.js';
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

        const personPhone = newPhone();
        const person = JSON.parse(
          (await runParley(['account', 'create', '--phone', personPhone, '--name', 'Pat', '--json'], env))
            .stdout,
        ) as { token: string };
        const biz = JSON.parse(
          (await runParley(['business', 'create', '--name', 'Acme', '--phone', newPhone(), '--json'], env))
            .stdout,
        ) as { phone_number_id: string; access_token: string };
        let server = await start();

        const accepted: string[] = [];
        let stop = false;
        const sender = async (lane: number) => {
          for (let i = 0; !stop; i++) {
            try {
              const res = await fetch(`${server.url}/v23.0/${biz.phone_number_id}/messages`, {
                method: 'POST',
                headers: { authorization: `Bearer ${biz.access_token}`, 'content-type': 'application/json' },
                body: JSON.stringify({
                  messaging_product: 'whatsapp',
                  to: personPhone.slice(1),
                  type: 'text',
                  text: { body: `storm ${lane}-${i}` },
                }),
              });
              const body = (await res.json()) as { messages?: { id: string }[] };
              if (res.ok && body.messages?.[0]) accepted.push(body.messages[0].id);
            } catch {
              // The server died under this request: its answer never came, so it was not accepted.
              return;
            }
          }
        };
        const lanes = Array.from({ length: 16 }, (_, lane) => sender(lane));
        await until(() => accepted.length >= 300, 30_000);
        await server.crash();
        stop = true;
        await Promise.all(lanes);
        const acceptedAtCrash = [...accepted];

        server = await start();
        const client = new ParleyClient({ baseUrl: server.url, token: person.token });
        const inbox: ReceivedMessage[] = [];
        client.onMessage((m) => {
          inbox.push(m);
        });
        client.on('error', () => {});
        cleanups.push(() => client.close());
        await client.connect();
        const received = () => new Set(inbox.map((m) => toWamid(m.messageId)));
        await until(() => acceptedAtCrash.every((id) => received().has(id)), 60_000);
        await client.whenSynced();
        const ids = inbox.map((m) => m.messageId);
        expect(new Set(ids).size).toBe(ids.length);
        const texts = inbox.map((m) => m.text);
        expect(new Set(texts).size).toBe(texts.length);
      }, 120_000);
    },
  );
}
