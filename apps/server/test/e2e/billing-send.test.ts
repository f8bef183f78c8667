/**
 * Billing on the send path over real HTTP: a prepaid business with no money is refused with
 * Graph error 131042 before anything is stored; after a top-up a send holds its price, the
 * delivery releases the hold and posts the charge; a send to a number not on Parley holds
 * nothing; and spending below the low-balance threshold raises an `account_alerts` webhook.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newPhone } from '../harness/builders.js';
import { createSdkPool } from '../harness/sdk.js';
import { startTestServer, type TestServer } from '../harness/server.js';
import { PG_AVAILABLE } from '../harness/storage.js';
import { until } from '../harness/wait.js';

const CARD = 'category,market,unit_price,from_count\nmarketing,*,0.05,\nutility,*,0.01,\n';

/** A webhook receiver: answers the handshake and keeps what it is sent. */
async function startReceiver(verifyToken: string) {
  const received: { field: string; value: Record<string, unknown> }[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'GET') {
      if (url.searchParams.get('hub.verify_token') !== verifyToken) return res.writeHead(403).end();
      return res.writeHead(200).end(url.searchParams.get('hub.challenge'));
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        entry: { changes: { field: string; value: Record<string, unknown> }[] }[];
      };
      for (const e of body.entry) received.push(...e.changes);
      res.writeHead(200).end('EVENT_RECEIVED');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhook`,
    received,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

for (const dialect of ['sqlite', 'postgres'] as const)
  (dialect === 'postgres' && !PG_AVAILABLE ? describe.skip : describe)(
    `billing on the send path [${dialect}]`,
    () => {
      let server: TestServer;
      let receiver: Awaited<ReturnType<typeof startReceiver>>;
      const sdk = createSdkPool(() => server.url);
      beforeAll(async () => {
        server = await startTestServer({ dialect });
        receiver = await startReceiver('verify-me');
      });
      afterAll(async () => {
        await sdk.closeAll();
        await server?.close();
        await receiver?.close();
      });

      const call = async (method: string, path: string, token: string, body?: unknown) => {
        const res = await fetch(`${server.url}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${token}`,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        const text = await res.text();
        return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
      };

      it('refuses an unpaid send, holds and settles a paid one, and alerts on a low balance', async () => {
        const db = server.platform.db.kysely;
        const { billing, ledger } = server.modules;
        const card = await billing.rateCards.importCsv(CARD, { currency: 'USD', name: 'test' });

        const owner = await server.newPerson('Owner');
        const biz = await server.modules.business.create({
          name: 'Acme',
          phone: newPhone(),
          owner: owner.account_id,
        });
        const p = await server.newPerson('Pat');
        const person = await sdk.connect(p.token, { synced: true });

        const created = await call('POST', `/v23.0/${biz.waba_id}/message_templates`, biz.access_token, {
          name: 'spring_sale',
          language: 'en_US',
          category: 'MARKETING',
          components: [{ type: 'BODY', text: 'Sale: {{1}} off.', example: { body_text: [['10%']] } }],
        });
        expect(created.status).toBe(200);
        if (created.body.status === 'PENDING')
          await server.modules.templates.approve(String(created.body.id));
        const template = (to: string, off: string) => ({
          messaging_product: 'whatsapp',
          to,
          type: 'template',
          template: {
            name: 'spring_sale',
            language: { code: 'en_US' },
            components: [{ type: 'body', parameters: [{ type: 'text', text: off }] }],
          },
        });
        const send = (to: string, off: string) =>
          call('POST', `/v23.0/${biz.phone_number_id}/messages`, biz.access_token, template(to, off));
        const accountView = async () => {
          const v = await call('GET', `/api/v1/businesses/${biz.business_id}/billing/account`, owner.token);
          expect(v.status).toBe(200);
          return v.body as { balance_minor: string; held_minor: string; low_balance_minor: string | null };
        };
        const apiMessages = async () =>
          db.selectFrom('api_messages').selectAll().where('business_id', '=', biz.business_id).execute();

        // 1. No money, no credit: refused before anything is stored or sent.
        const refused = await send(p.phone.slice(1), '10%');
        expect(refused.status).toBe(400);
        expect(refused.body.error).toMatchObject({ code: 131042 });
        expect(await apiMessages()).toEqual([]);
        expect((await accountView()).held_minor).toBe('0');

        // 2. A top-up of USD 1.00 from outside.
        const account = await billing.accounts.get('business', biz.business_id);
        if (!account) throw new Error('the account view creates the billing account');
        const external = await db.transaction().execute((tx) =>
          ledger.openAccount(tx, {
            code: 'external:manual',
            currency: 'USD',
            kind: 'external',
            overdraftLimit: null,
          }),
        );
        await ledger.execute({
          type: 'transfer',
          key: `topup:${biz.business_id}:1`,
          debitAccountId: external.id,
          creditAccountId: account.ledger_account_id,
          amount: 100n,
          currency: 'USD',
          kind: 'topup',
        });
        expect(await accountView()).toMatchObject({ balance_minor: '100', held_minor: '0' });

        // 3. Accepted; 5 cents held until delivery.
        const sent = await send(p.phone.slice(1), '20%');
        expect(sent.status).toBe(200);
        expect(await accountView()).toMatchObject({ balance_minor: '100', held_minor: '5' });
        await until(() => person.inbox.some((m) => m.text === 'Sale: 20% off.'));
        const got = person.inbox.find((m) => m.text === 'Sale: 20% off.');
        const messageId = got?.messageId ?? '';
        person.client.sendReceipt('delivered', [messageId]);
        const status = async (id: string) =>
          (
            await db
              .selectFrom('api_messages')
              .select('status')
              .where('message_id', '=', id)
              .executeTakeFirst()
          )?.status;
        await until(async () => (await status(messageId)) === 'delivered');

        // 4. Delivered: hold released, charge posted.
        expect(await accountView()).toMatchObject({ balance_minor: '95', held_minor: '0' });
        const charges = await db
          .selectFrom('billing_charges')
          .selectAll()
          .where('business_id', '=', biz.business_id)
          .execute();
        expect(charges).toHaveLength(1);
        expect(charges[0]).toMatchObject({
          idempotency_key: `msg:delivered:${messageId}`,
          billable: 1,
          category: 'marketing',
          pricing_model: 'PMP',
          rate_card_version_id: card.id,
        });
        expect(BigInt(charges[0]?.amount_micros ?? 0)).toBe(50_000n);

        // 5. A number not on Parley: accepted, fails, and holds nothing.
        const nowhere = await send(newPhone().slice(1), '30%');
        expect(nowhere.status).toBe(200);
        const nowhereId = (await apiMessages()).find((m) => m.status === 'failed')?.message_id;
        expect(nowhereId).toBeDefined();
        expect(await ledger.byKeys(db, [`hold:${nowhereId}`])).toEqual(new Map());
        expect(await accountView()).toMatchObject({ balance_minor: '95', held_minor: '0' });

        // 6. Low balance: threshold 93 cents; the next delivery takes the balance to 90.
        const sub = await call('POST', `/v23.0/${biz.waba_id}/subscribed_apps`, biz.access_token, {
          override_callback_uri: receiver.url,
          verify_token: 'verify-me',
        });
        expect(sub.status).toBe(200);
        const patched = await call(
          'PATCH',
          `/api/v1/businesses/${biz.business_id}/billing/account`,
          owner.token,
          {
            low_balance_minor: '93',
          },
        );
        expect(patched.status).toBe(200);
        expect(patched.body.low_balance_minor).toBe('93');
        expect((await send(p.phone.slice(1), '40%')).status).toBe(200);
        await until(() => person.inbox.some((m) => m.text === 'Sale: 40% off.'));
        const second = person.inbox.find((m) => m.text === 'Sale: 40% off.')?.messageId ?? '';
        person.client.sendReceipt('delivered', [second]);
        await until(async () => (await status(second)) === 'delivered');
        expect(await accountView()).toMatchObject({ balance_minor: '90', held_minor: '0' });
        const alerts = await db
          .selectFrom('webhook_deliveries')
          .select('body')
          .where('business_id', '=', biz.business_id)
          .where('field', '=', 'account_alerts')
          .execute();
        expect(alerts).toHaveLength(1);
        await until(() => receiver.received.some((c) => c.field === 'account_alerts'), 20_000);
        const alert = receiver.received.find((c) => c.field === 'account_alerts');
        expect(alert?.value).toMatchObject({
          entity_id: biz.business_id,
          alert_info: { alert_type: 'LOW_BALANCE', alert_severity: 'WARNING' },
        });

        // The money adds up.
        expect((await ledger.check()).ok).toBe(true);
        const report = await billing.reconciler.reconcile(new Date().toISOString().slice(0, 7));
        expect(report.differences).toBe(0);
      });
    },
  );
