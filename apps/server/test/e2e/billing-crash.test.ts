/**
 * kill -9 while deliveries of a business's API messages are being metered: after a restart and
 * every message delivered, each delivery has exactly one charge, no hold is left, the ledger
 * balances and the month reconciles with no difference.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ParleyClient } from '@parley/sdk';
import { afterEach, describe, expect, it } from 'vitest';
import { openDb } from '../../src/platform/db.js';
import { newPhone } from '../harness/builders.js';
import { freePort, runParley, type ServerChild, spawnServer } from '../harness/process.js';
import { createPostgresDatabase, PG_AVAILABLE, tempDir } from '../harness/storage.js';
import { until } from '../harness/wait.js';

const CARD = 'category,market,unit_price,from_count\nmarketing,*,0.0275,\nutility,*,0.0044,\n';

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe.skipIf(dialect === 'postgres' && !PG_AVAILABLE)(`billing crash [${dialect}]`, () => {
    const cleanups: (() => Promise<unknown>)[] = [];
    afterEach(async () => {
      for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
    });

    it('kill -9 while deliveries are metered: one charge per delivery, no hold left, reconcile finds nothing', async () => {
      const dataDir = tempDir();
      const env: Record<string, string> = {
        PARLEY_DATA_DIR: dataDir,
        PARLEY_PORT: String(await freePort()),
        // A credit line, so sends are accepted and held against it.
        PARLEY_BILLING_CREDIT_LIMIT: '100000',
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
      const parley = async (args: string[]) => {
        const r = await runParley(args, env);
        if (r.code !== 0) throw new Error(`parley ${args.join(' ')}: ${r.stderr}`);
        return r.stdout;
      };

      const cardFile = path.join(dataDir, 'rates.csv');
      fs.writeFileSync(cardFile, CARD);
      await parley(['billing', 'rates', 'import', cardFile, '--currency', 'USD', '--name', 'crash']);

      const people: { phone: string; token: string }[] = [];
      for (let i = 0; i < 6; i++) {
        const phone = newPhone();
        const created = JSON.parse(
          await parley(['account', 'create', '--phone', phone, '--name', `P${i}`, '--json']),
        ) as { token: string };
        people.push({ phone, token: created.token });
      }
      const bizPhone = newPhone();
      const biz = JSON.parse(
        await parley(['business', 'create', '--name', 'Acme', '--phone', bizPhone, '--json']),
      ) as { business_id: string; waba_id: string; phone_number_id: string; access_token: string };
      let server = await start();
      const graph = (p: string, body: unknown) =>
        fetch(`${server.url}${p}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${biz.access_token}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });

      // A marketing template (charged) and free-form text (free in the open window).
      const created = (await (
        await graph(`/v23.0/${biz.waba_id}/message_templates`, {
          name: 'weekly_offer',
          language: 'en_US',
          category: 'MARKETING',
          components: [{ type: 'BODY', text: 'Offer {{1}}.', example: { body_text: [['A']] } }],
        })
      ).json()) as { id: string; status: string };
      if (created.status === 'PENDING') await parley(['template', 'approve', String(created.id)]);

      // Each person writes first and confirms every business message it receives.
      const received = new Map<string, Set<string>>(people.map((p) => [p.token, new Set()]));
      const connect = async () => {
        const clients: ParleyClient[] = [];
        for (const person of people) {
          const c = new ParleyClient({ baseUrl: server.url, token: person.token });
          c.on('error', () => {});
          c.onMessage((m) => {
            if (m.from !== bizPhone) return;
            received.get(person.token)?.add(m.messageId);
            c.sendReceipt('delivered', [m.messageId]);
          });
          await c.connect();
          clients.push(c);
        }
        return clients;
      };
      let clients = await connect();
      for (const c of clients) await c.sendText(bizPhone, 'hello');
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

      const send = (to: string, lane: number, i: number) =>
        graph(
          `/v23.0/${biz.phone_number_id}/messages`,
          lane % 2 === 0
            ? {
                messaging_product: 'whatsapp',
                to: to.slice(1),
                type: 'template',
                template: {
                  name: 'weekly_offer',
                  language: { code: 'en_US' },
                  components: [{ type: 'body', parameters: [{ type: 'text', text: `${lane}-${i}` }] }],
                },
              }
            : {
                messaging_product: 'whatsapp',
                to: to.slice(1),
                type: 'text',
                text: { body: `storm ${lane}-${i}` },
              },
        );
      const accepted: string[] = [];
      let stop = false;
      const sender = async (person: { phone: string }, lane: number) => {
        for (let i = 0; !stop && i < 40; i++) {
          try {
            const res = await send(person.phone, lane, i);
            const body = (await res.json()) as { messages?: { id: string }[] };
            if (res.ok && body.messages?.[0]) accepted.push(body.messages[0].id);
          } catch {
            return; // the server died under this request
          }
        }
      };
      const lanes = people.map((person, lane) => sender(person, lane));
      // Kill once deliveries are being metered, at a random point of the storm.
      const metered = async () =>
        Number(
          (
            await db.kysely
              .selectFrom('billing_charges')
              .select((eb) => eb.fn.countAll<number>().as('n'))
              .where('business_id', '=', biz.business_id)
              .executeTakeFirst()
          )?.n ?? 0,
        );
      const killAt = 20 + Math.floor(Math.random() * 60);
      await until(async () => (await metered()) >= killAt, 30_000);
      await server.crash();
      stop = true;
      await Promise.all(lanes);
      for (const c of clients) c.close();
      expect(accepted.length).toBeGreaterThan(0);

      // Restart: every person gets the rest and confirms everything again (receipts in flight
      // at the crash were lost; the others are replays).
      server = await start();
      clients = await connect();
      cleanups.push(async () => {
        for (const c of clients) c.close();
      });
      const statuses = async () =>
        db.kysely
          .selectFrom('api_messages')
          .select(['message_id', 'status'])
          .where('business_id', '=', biz.business_id)
          .execute();
      let lastResend = 0;
      await until(async () => {
        if (Date.now() - lastResend < 500) return false;
        lastResend = Date.now();
        for (const [i, person] of people.entries()) {
          const ids = [...(received.get(person.token) ?? [])];
          if (ids.length > 0) clients[i]?.sendReceipt('delivered', ids);
        }
        const rows = await statuses();
        return rows.length > 0 && rows.every((r) => r.status === 'delivered' || r.status === 'read');
      }, 60_000).catch(async (e: unknown) => {
        const rows = await statuses();
        const by = new Map<string, number>();
        for (const r of rows) by.set(r.status, (by.get(r.status) ?? 0) + 1);
        const got = [...received.values()].reduce((n, s) => n + s.size, 0);
        throw new Error(
          `${String(e)}: statuses ${JSON.stringify([...by])}, received ${got}, accepted ${accepted.length}\n${server.output().slice(-3000)}`,
        );
      });
      expect((await statuses()).length).toBeGreaterThanOrEqual(accepted.length);

      const events = await db.kysely
        .selectFrom('message_events')
        .select(['event_key', 'message_id'])
        .where('business_id', '=', biz.business_id)
        .where('kind', '=', 'delivered')
        .execute();
      const charges = await db.kysely
        .selectFrom('billing_charges')
        .select(['idempotency_key', 'billable', 'amount_micros'])
        .where('business_id', '=', biz.business_id)
        .execute();
      expect(events.length).toBe((await statuses()).length);
      expect(new Set(events.map((e) => e.message_id)).size).toBe(events.length);
      expect(charges.length).toBe(events.length);
      const keys = charges.map((c) => c.idempotency_key);
      expect(new Set(keys).size).toBe(keys.length);
      expect(new Set(keys)).toEqual(new Set(events.map((e) => `msg:${e.event_key}`)));
      // Templates were charged, texts free: both kinds were metered.
      expect(charges.some((c) => c.billable === 1) && charges.some((c) => c.billable === 0)).toBe(true);

      // No hold outlives its delivered message; the ledger balances.
      const ledger = JSON.parse(await parley(['ledger', 'check', '--json'])) as { ok: boolean };
      expect(ledger.ok).toBe(true);
      const account = await db.kysely
        .selectFrom('billing_accounts')
        .select('ledger_account_id')
        .where('owner_id', '=', biz.business_id)
        .executeTakeFirstOrThrow();
      const balance = JSON.parse(
        await parley(['ledger', 'balance', `business:${biz.business_id}`, 'USD', '--json']),
      ) as Record<string, string>;
      expect(balance).toMatchObject({ pending_debits: '0' });
      expect(account.ledger_account_id).toMatch(/^lac_/);

      // The month (or months, at a month's turn) reconcile with no difference.
      const operator = (await parley(['operator', 'token'])).trim();
      const periods = new Set(
        (
          await db.kysely
            .selectFrom('billing_charges')
            .select('period')
            .where('business_id', '=', biz.business_id)
            .execute()
        ).map((r) => r.period),
      );
      for (const period of periods) {
        const res = await fetch(`${server.url}/api/v1/admin/billing/reconcile?period=${period}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${operator}` },
        });
        expect(res.status).toBe(200);
        const report = (await res.json()) as { differences: number; details: string[] };
        expect(report.details).toEqual([]);
        expect(report.differences).toBe(0);
      }
    }, 180_000);
  });
}
