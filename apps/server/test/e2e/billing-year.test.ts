/**
 * Invoices, subscriptions and the consumer plan together over a simulated year, through a
 * whole server on real sockets: a manual clock walks from 2026-01-01 to 2027-03-01 and the
 * worker's billing tasks (close-billing-period, renew-subscriptions, consumer-plan-reminders)
 * run after each move, as the worker role runs them.
 *
 * - Prepaid: premium plan paid through the `test` provider, two marketing templates a month
 *   to a real Parley recipient, VAT (DE, 19 %) on every invoice.
 * - Failing: premium through the `test` provider until its payments fail from June: retries
 *   on the 2nd, 4th and 8th, grace to the 15th, then the free plan and its limits.
 * - Changer: a credit line, premium changed to pro on 16 March (prorated to the minor unit),
 *   one credit note, every invoice paid by the operator.
 * - Dana: a person whose free consumer-plan year ends on 2027-01-01: reminders 30, 7 and 1
 *   days before, grace, sending paused (receiving still works), renewal resumes it.
 *
 * Every month: one invoice per billed account, numbered without gaps in finalize order,
 * total = Σ lines + tax − credits, usage lines equal to what was metered, the expected lines
 * to the minor unit, reconciliation without differences, the ledger check, and each balance
 * equal to what came in minus what was charged. At the end the revenue report per stream
 * equals the sum of the invoices.
 */
import type { ReceivedMessage } from '@parley/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/platform/clock.js';
import { newPhone } from '../harness/builders.js';
import { createSdkPool, type SdkConnection } from '../harness/sdk.js';
import { startTestServer, type TestServer } from '../harness/server.js';
import { PG_AVAILABLE } from '../harness/storage.js';
import { until } from '../harness/wait.js';

const DAY = 86_400_000;
const at = (iso: string) => Date.parse(iso);
const START = at('2026-01-01T00:00:00Z');
const CARD = 'category,market,unit_price,from_count\nmarketing,*,0.05,\nutility,*,0.01,\n';

interface Line {
  kind: string;
  stream: string;
  category: string | null;
  market: string | null;
  quantity: number;
  unit_price_micros: string;
  amount_minor: string;
  description: string;
}
interface Invoice {
  invoice_id: string;
  number: string;
  status: string;
  period: string;
  billing_account_id: string;
  business_id: string | null;
  person_account_id: string | null;
  issued_at: string;
  due_at: string;
  tax: { country: string; rate_bps: number; posted: boolean } | null;
  subtotal_minor: string;
  tax_minor: string;
  credits_minor: string;
  total_minor: string;
  lines: Line[];
}
interface Notice {
  kind: string;
  data: Record<string, unknown>;
}
interface SubscriptionView {
  plan_id: string;
  status: string;
  dunning_step: number;
  next_attempt_at: number | null;
  grace_until: number | null;
}

/** An expected invoice line: the fields a reader checks, amounts in minor units. */
type Want = [kind: string, stream: string, quantity: number, amountMinor: number, description: string];
const usage = (n: number): Want => ['usage', 'api_messages', n, 5 * n, 'Marketing messages to US'];
// The first month was subscribed on its first instant: the whole price, "from" the 1st.
const premium = (period: string): Want => [
  'subscription',
  'premium_plan',
  1,
  1500,
  period === '2026-01' ? 'Premium plan, 2026-01 (from 2026-01-01)' : `Premium plan, ${period}`,
];
const pro = (period: string): Want => ['subscription', 'premium_plan', 1, 4900, `Pro plan, ${period}`];

const MONTHS = [
  '2026-01',
  '2026-02',
  '2026-03',
  '2026-04',
  '2026-05',
  '2026-06',
  '2026-07',
  '2026-08',
  '2026-09',
  '2026-10',
  '2026-11',
  '2026-12',
  '2027-01',
  '2027-02',
] as const;
const monthStart = (period: string) => at(`${period}-01T00:00:00Z`);
const nextMonth = (period: string) => {
  const d = new Date(monthStart(period));
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
};

for (const dialect of ['sqlite', 'postgres'] as const)
  (dialect === 'postgres' && !PG_AVAILABLE ? describe.skip : describe)(
    `billing over a simulated year [${dialect}]`,
    () => {
      let server: TestServer;
      const clock = createManualClock(START);
      const sdk = createSdkPool(() => server.url);
      beforeAll(async () => {
        // No worker role: the test runs the worker's billing tasks itself after each clock move.
        server = await startTestServer({
          dialect,
          clock,
          env: { PARLEY_ROLES: 'api,gateway', PARLEY_BILLING_TEST_PROVIDER: 'true' },
        });
      });
      afterAll(async () => {
        await sdk.closeAll();
        await server?.close();
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
      const operator = (method: string, path: string, body?: unknown) =>
        call(method, path, server.platform.secrets.operator_token ?? '', body);
      /** The body of a call that must answer `status`, read as `T`. */
      const ok = async <T = Record<string, unknown>>(
        p: Promise<{ status: number; body: unknown }>,
        status = 200,
      ): Promise<T> => {
        const r = await p;
        expect(r.status, JSON.stringify(r.body)).toBe(status);
        return r.body as T;
      };

      /** The worker's billing tasks, in the worker's order, at the clock's time. */
      const runBillingTasks = async () => {
        const out: Record<string, unknown> = {};
        for (const task of server.modules.billing.tasks) out[task.name] = await task.run();
        return out as {
          'close-billing-period': { period: string; finalized: number } | null;
          'renew-subscriptions': Record<string, number>;
          'consumer-plan-reminders': { reminders: number; expired: number; paused: number };
        };
      };
      const moveTo = (ms: number) => clock.set(ms);
      // A later sign-up (July 2026), covered throughout: the person Dana writes to.
      let late: Awaited<ReturnType<TestServer['newPerson']>> | undefined;
      let lateConnection: SdkConnection | undefined;
      const lateConn = () => {
        if (!late || !lateConnection) throw new Error('Late signs up in July 2026');
        return { phone: late.phone, conn: lateConnection };
      };

      it('bills three businesses and a person month by month, and every month adds up', async () => {
        const { billing, ledger } = server.modules;
        const db = server.platform.db.kysely;

        // --- The operator's setup: a rate card, VAT in DE, the consumer plan, a pro plan.
        const card = await fetch(`${server.url}/api/v1/admin/billing/rate-cards?currency=USD&name=year`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${server.platform.secrets.operator_token}`,
            'content-type': 'text/csv',
          },
          body: CARD,
        });
        expect(card.status).toBe(201);
        await ok(
          operator('PUT', '/api/v1/admin/billing/tax-rates', { country: 'DE', rate_bps: 1900, name: 'VAT' }),
        );
        expect(
          await ok(
            operator('PUT', '/api/v1/admin/billing/consumer-plan', {
              enabled: true,
              annual_fee_minor: '1200',
              currency: 'USD',
            }),
          ),
        ).toMatchObject({ enabled: true, free_days: 365, reminder_days: [30, 7, 1], grace_days: 30 });
        await server.modules.plans.set('pro', {
          name: 'Pro',
          price_minor: 4900,
          currency: 'USD',
          limits: { agents: 25, broadcast_size: 4096, keyword_rules: 100, labels: 200, short_links: 200 },
          features: { custom_link_code: true, verified_badge: true },
          rank: 2,
        });

        // --- People: the recipient of every template, and Dana (consumer plan).
        const pat = await server.newPerson('Pat');
        const patConn = await sdk.connect(pat.token, { synced: true });
        const dana = await server.newPerson('Dana');
        const danaConn = await sdk.connect(dana.token, { synced: true });
        expect(await ok(call('GET', '/api/v1/me/billing/consumer-plan', dana.token))).toMatchObject({
          enabled: true,
          expires_at: at('2027-01-01T00:00:00Z'),
          grace_until: at('2027-01-31T00:00:00Z'),
          can_send: true,
        });

        // --- Businesses, each with an approved marketing template.
        const newBusiness = async (name: string) => {
          const owner = await server.newPerson(`${name} owner`);
          const biz = await server.modules.business.create({
            name,
            phone: newPhone(),
            owner: owner.account_id,
          });
          const created = await call('POST', `/v23.0/${biz.waba_id}/message_templates`, biz.access_token, {
            name: 'monthly_news',
            language: 'en_US',
            category: 'MARKETING',
            components: [{ type: 'BODY', text: 'News: {{1}} this month.', example: { body_text: [['x']] } }],
          });
          expect(created.status).toBe(200);
          if (created.body.status === 'PENDING')
            await server.modules.templates.approve(String(created.body.id));
          return { name, owner, biz, id: biz.business_id };
        };
        const prepaid = await newBusiness('Prepaid');
        const failing = await newBusiness('Failing');
        const changer = await newBusiness('Changer');
        const businesses = [prepaid, failing, changer];
        const path = (b: { id: string }, rest: string) => `/api/v1/businesses/${b.id}/billing/${rest}`;

        // What each account's balance must be: money in (top-ups, payments, credit notes) minus
        // what was charged (fees, delivered messages, tax). Kept by the test, step by step.
        const balance = new Map<string, bigint>();
        const add = (owner: string, amount: number) =>
          balance.set(owner, (balance.get(owner) ?? 0n) + BigInt(amount));

        // Prepaid and Failing: prepaid, topped up by bank transfer; Prepaid pays VAT in DE.
        await ok(operator('PATCH', `/api/v1/admin/billing/accounts/${prepaid.id}`, { country: 'DE' }));
        for (const [b, amount] of [
          [prepaid, 5000],
          [failing, 1000],
        ] as const) {
          const topUp = await ok(
            operator('POST', `/api/v1/admin/billing/accounts/${b.id}/top-ups`, {
              amount_minor: String(amount),
              key: `bank-${b.name}-1`,
            }),
          );
          expect(topUp).toMatchObject({ replayed: false, receipt: { amount_minor: String(amount) } });
          add(b.id, amount);
        }
        // Changer: a credit line of USD 1,000.00; the operator records its invoices as paid.
        expect(
          await ok(
            operator('PATCH', `/api/v1/admin/billing/accounts/${changer.id}`, {
              mode: 'credit',
              credit_limit_minor: '100000',
            }),
          ),
        ).toMatchObject({ mode: 'credit', credit_limit_minor: '100000' });

        // --- Subscriptions on 1 January: a whole month each.
        for (const [b, provider] of [
          [prepaid, 'test'],
          [failing, 'test'],
          [changer, undefined],
        ] as const) {
          const sub = await ok<{ subscription: SubscriptionView }>(
            call('PUT', path(b, 'subscription'), b.owner.token, {
              plan_id: 'premium',
              ...(provider ? { payment_provider: provider } : {}),
            }),
          );
          expect(sub.subscription).toMatchObject({
            plan_id: 'premium',
            status: 'active',
            current_period_start: START,
            current_period_end: at('2026-02-01T00:00:00Z'),
          });
          // Through the provider: collected (a top-up) and then charged; else charged only.
          if (provider) add(b.id, 1500);
          add(b.id, -1500);
        }
        const { testProvider } = billing;
        if (!testProvider) throw new Error('PARLEY_BILLING_TEST_PROVIDER=true registers the test provider');
        const failingAccount = (await billing.accounts.get('business', failing.id))?.id ?? '';
        expect(failingAccount).toMatch(/^bac_/);

        // --- Sending: templates to real recipients, delivered (receipt) and so metered.
        let sent = 0;
        const deliver = async (
          sends: { from: (typeof businesses)[number]; to: string; conn: SdkConnection }[],
        ) => {
          const texts: string[] = [];
          for (const s of sends) {
            const text = `n${++sent}`;
            texts.push(`News: ${text} this month.`);
            const r = await call(
              'POST',
              `/v23.0/${s.from.biz.phone_number_id}/messages`,
              s.from.biz.access_token,
              {
                messaging_product: 'whatsapp',
                to: s.to.slice(1),
                type: 'template',
                template: {
                  name: 'monthly_news',
                  language: { code: 'en_US' },
                  components: [{ type: 'body', parameters: [{ type: 'text', text }] }],
                },
              },
            );
            expect(r.status, JSON.stringify(r.body)).toBe(200);
            add(s.from.id, -5);
          }
          const got: ReceivedMessage[] = [];
          for (const [i, s] of sends.entries()) {
            await until(() => s.conn.inbox.some((m) => m.text === texts[i]));
            const m = s.conn.inbox.find((x) => x.text === texts[i]) as ReceivedMessage;
            got.push(m);
            s.conn.client.sendReceipt('delivered', [m.messageId]);
          }
          const ids = got.map((m) => m.messageId);
          await until(async () => {
            const rows = await db
              .selectFrom('billing_charges')
              .select('idempotency_key')
              .where(
                'idempotency_key',
                'in',
                ids.map((id) => `msg:delivered:${id}`),
              )
              .execute();
            return rows.length === ids.length;
          });
        };
        const monthlySends = () =>
          deliver([
            { from: prepaid, to: pat.phone, conn: patConn },
            { from: prepaid, to: pat.phone, conn: patConn },
            { from: failing, to: pat.phone, conn: patConn },
            { from: changer, to: pat.phone, conn: patConn },
          ]);

        // --- What each month's invoices must hold.
        const expected: Record<string, Record<string, { lines: Want[]; tax: number; credits: number }>> = {};
        const want = (period: string, owner: string, lines: Want[], tax = 0, credits = 0) => {
          expected[period] ??= {};
          (expected[period] as Record<string, unknown>)[owner] = { lines, tax, credits };
        };
        for (const period of MONTHS) {
          // Prepaid: premium + two messages (three in January 2027: one to Dana); VAT on them.
          // 1510 × 19 % = 286.9 → 287; 1515 × 19 % = 287.85 → 288.
          const prepaidMessages = period === '2027-01' ? 3 : 2;
          want(
            period,
            prepaid.id,
            [usage(prepaidMessages), premium(period)],
            prepaidMessages === 3 ? 288 : 287,
          );
          // Failing: premium until May; from June (its renewal failed) messages only.
          want(period, failing.id, period < '2026-06' ? [usage(1), premium(period)] : [usage(1)]);
          // Changer: premium, then pro from 16 March; the credit note comes off May's invoice.
          if (period < '2026-03') want(period, changer.id, [usage(1), premium(period)]);
          else if (period === '2026-03')
            want(period, changer.id, [
              usage(1),
              // March has 2,678,400 s; from the 16th 1,382,400 s are left (largest remainder):
              // pro 4900 → 2529 (used 2371); premium 1500 → 774 unused (used 726).
              ['subscription', 'premium_plan', 1, 2529, 'Pro plan, 2026-03 (from 2026-03-16)'],
              premium('2026-03'),
              ['credit', 'premium_plan', 1, -774, 'Unused Premium plan, 2026-03'],
            ]);
          else want(period, changer.id, [usage(1), pro(period)], 0, period === '2026-05' ? 1000 : 0);
          if (period === '2027-02')
            want(period, dana.account_id, [
              ['subscription', 'consumer_plan', 1, 1200, 'Consumer plan, one year'],
            ]);
        }

        const allNumbers: { number: string; issuedAt: string }[] = [];
        /** The month-end proof for `period` (its invoices were just finalized). */
        const checkClosedMonth = async (period: string, events: number) => {
          const list = await ok<{ invoices: Invoice[] }>(
            operator('GET', `/api/v1/admin/billing/invoices?period=${period}`),
          );
          const wanted = expected[period] ?? {};
          const owners = Object.keys(wanted);
          expect(list.invoices).toHaveLength(owners.length);
          const numbersBefore = allNumbers.length;
          for (const summary of list.invoices as Invoice[]) {
            const inv = await ok<Invoice>(
              operator('GET', `/api/v1/admin/billing/invoices/${summary.invoice_id}`),
            );
            const owner = inv.business_id ?? inv.person_account_id ?? '';
            const w = wanted[owner];
            expect(w, `an invoice for ${owner} in ${period}`).toBeDefined();
            if (!w) continue;
            expect(inv).toMatchObject({
              status: 'finalized',
              issued_at: new Date(clock.now()).toISOString(),
              due_at: new Date(clock.now() + 14 * DAY).toISOString(),
            });
            expect(
              inv.lines.map((l) => [l.kind, l.stream, l.quantity, Number(l.amount_minor), l.description]),
              `${owner} ${period}`,
            ).toEqual(w.lines);
            const subtotal = w.lines.reduce((s, l) => s + l[3], 0);
            expect(inv).toMatchObject({
              subtotal_minor: String(subtotal),
              tax_minor: String(w.tax),
              credits_minor: String(w.credits),
              total_minor: String(subtotal + w.tax - w.credits),
            });
            // The invoice adds up by itself too.
            const sumLines = inv.lines.reduce((s, l) => s + BigInt(l.amount_minor), 0n);
            expect(BigInt(inv.total_minor)).toBe(
              sumLines + BigInt(inv.tax_minor) - BigInt(inv.credits_minor),
            );
            if (w.tax > 0) {
              expect(inv.tax).toMatchObject({ country: 'DE', rate_bps: 1900, posted: true });
              add(owner, -w.tax);
            } else expect(inv.tax).toBeNull();
            // Usage lines are exactly what was metered in the month.
            if (inv.business_id) {
              const used = await ok<{ total_minor: string; lines: { messages: number }[] }>(
                call(
                  'GET',
                  path({ id: owner }, `usage?period=${period}`),
                  businesses.find((b) => b.id === owner)?.owner.token ?? '',
                ),
              );
              const usageLines = inv.lines.filter((l) => l.kind === 'usage');
              expect(used.total_minor).toBe(
                String(usageLines.reduce((s, l) => s + Number(l.amount_minor), 0)),
              );
              expect(used.lines.map((l) => l.messages)).toEqual(usageLines.map((l) => l.quantity));
            }
            allNumbers.push({ number: inv.number, issuedAt: inv.issued_at });
            // The operator records the credit line's invoice as paid.
            if (owner === changer.id) {
              const paid = await ok(
                operator('POST', `/api/v1/admin/billing/invoices/${inv.invoice_id}/pay`, {}),
              );
              expect(paid).toMatchObject({ status: 'paid', payment: { provider: 'manual' } });
              add(owner, Number(inv.total_minor));
            }
          }
          // Numbered in finalize order, without gaps: this close took the next block of the year.
          const year = new Date(clock.now()).getUTCFullYear();
          const block = allNumbers
            .slice(numbersBefore)
            .map((n) => n.number)
            .sort();
          const previousOfYear = allNumbers
            .slice(0, numbersBefore)
            .filter((n) => n.number.startsWith(`PAR-${year}-`)).length;
          expect(block).toEqual(
            owners.map((_, i) => `PAR-${year}-${String(previousOfYear + i + 1).padStart(6, '0')}`),
          );

          const report = await billing.reconciler.reconcile(period);
          expect(report, report.details.join('\n')).toMatchObject({
            differences: 0,
            events,
            charges: events,
            invoices_checked: owners.length,
          });
          expect((await ledger.check()).ok).toBe(true);
        };
        const sum = (v: string | number | bigint | null | undefined) => BigInt(v ?? 0);
        /**
         * The same from the server's own records: receipts (top-ups) + invoices paid on the credit
         * line + credit notes − charges − tax posted. Every price is in whole cents here, so the
         * usage posted with its carry is exactly Σ charges.
         */
        const fromRecords = async (accountId: string) => {
          const receipts = await db
            .selectFrom('billing_receipts')
            .select((eb) => eb.fn.sum<string | number>('amount_minor').as('v'))
            .where('billing_account_id', '=', accountId)
            .executeTakeFirst();
          const charged = await db
            .selectFrom('billing_charges')
            .select((eb) => [
              eb.fn.sum<string | number>('amount_micros').as('v'),
              eb.fn.sum<string | number>('partner_markup_micros').as('m'),
            ])
            .where('billing_account_id', '=', accountId)
            .executeTakeFirst();
          const taxed = await db
            .selectFrom('invoices')
            .select((eb) => eb.fn.sum<string | number>('tax_minor').as('v'))
            .where('billing_account_id', '=', accountId)
            .where('tax_transfer_id', 'is not', null)
            .executeTakeFirst();
          const paid = await db
            .selectFrom('invoices')
            .select((eb) => eb.fn.sum<string | number>('total_minor').as('v'))
            .where('billing_account_id', '=', accountId)
            .where('status', '=', 'paid')
            .executeTakeFirst();
          const credited = await db
            .selectFrom('credit_notes')
            .select((eb) => eb.fn.sum<string | number>('amount_minor').as('v'))
            .where('billing_account_id', '=', accountId)
            .executeTakeFirst();
          const chargedMicros = sum(charged?.v) + sum(charged?.m);
          expect(chargedMicros % 10_000n).toBe(0n);
          return sum(receipts?.v) + sum(paid?.v) + sum(credited?.v) - chargedMicros / 10_000n - sum(taxed?.v);
        };
        /** Every account's balance is what came in minus what was charged. */
        const checkBalances = async () => {
          for (const b of businesses) {
            const view = await ok<{ balance_minor: string; held_minor: string }>(
              call('GET', path(b, 'account'), b.owner.token),
            );
            expect(view.balance_minor, `${b.name} balance`).toBe(String(balance.get(b.id) ?? 0n));
            expect(view.held_minor).toBe('0');
            const account = await billing.accounts.get('business', b.id);
            expect(await fromRecords(account?.id ?? '')).toBe(balance.get(b.id) ?? 0n);
          }
          const person = await billing.accounts.get('person', dana.account_id);
          if (person) {
            const b = await ledger.balance(person.ledger_account_id);
            expect(b.posted).toBe(balance.get(dana.account_id) ?? 0n);
            expect(await fromRecords(person.id)).toBe(b.posted);
          }
        };
        const notices = async (token: string, where: string) =>
          (await ok<{ notices: Notice[] }>(call('GET', where, token))).notices;
        const subscription = async (b: (typeof businesses)[number]) =>
          (
            await ok<{ subscription: SubscriptionView | null }>(
              call('GET', path(b, 'subscription'), b.owner.token),
            )
          ).subscription;
        const customLink = (b: (typeof businesses)[number], code: string) =>
          call('POST', `/api/v1/businesses/${b.id}/links`, b.owner.token, { text: 'Hello', code });

        // ======================= The year, month by month =======================
        for (const period of MONTHS) {
          const start = monthStart(period);

          if (period === '2026-06') {
            // The renewal of 1 June was declined (the provider fails from the end of May's
            // iteration on): past due, retries at +1, +3 and +7 days, the downgrade at +14.
            const expectStep = async (step: number, next: string | null) => {
              expect(await subscription(failing)).toMatchObject({
                plan_id: 'premium',
                status: 'past_due',
                dunning_step: step,
                next_attempt_at: next === null ? null : at(next),
                grace_until: at('2026-06-15T00:00:00Z'),
              });
            };
            await expectStep(1, '2026-06-02T00:00:00Z');
            moveTo(at('2026-06-01T23:59:59Z'));
            await runBillingTasks();
            await expectStep(1, '2026-06-02T00:00:00Z');
            moveTo(at('2026-06-02T00:00:00Z'));
            expect((await runBillingTasks())['renew-subscriptions']).toMatchObject({ failed: 1 });
            await expectStep(2, '2026-06-04T00:00:00Z');
            moveTo(at('2026-06-04T00:00:00Z'));
            expect((await runBillingTasks())['renew-subscriptions']).toMatchObject({ failed: 1 });
            await expectStep(3, '2026-06-08T00:00:00Z');
            moveTo(at('2026-06-08T00:00:00Z'));
            expect((await runBillingTasks())['renew-subscriptions']).toMatchObject({ failed: 1 });
            await expectStep(4, null);
            // Grace: the plan's features stay.
            expect((await customLink(failing, 'failing-grace')).status).toBe(201);
          }
          if (period === '2027-01') {
            // Dana's free year is over: grace, still sending.
            const l = lateConn();
            await danaConn.client.sendText(l.phone, 'still in grace');
            await until(() => l.conn.inbox.some((m) => m.text === 'still in grace'));
          }

          // The monthly sends, on the 10th.
          moveTo(start + 9 * DAY);
          await monthlySends();

          if (period === '2026-03') {
            moveTo(at('2026-03-16T00:00:00Z'));
            const changed = await ok<{ subscription: SubscriptionView }>(
              call('PUT', path(changer, 'subscription'), changer.owner.token, { plan_id: 'pro' }),
            );
            expect(changed.subscription).toMatchObject({ plan_id: 'pro', status: 'active' });
            add(changer.id, 774 - 2529);
          }
          if (period === '2026-05') {
            moveTo(at('2026-05-20T00:00:00Z'));
            const note = await ok(
              operator('POST', '/api/v1/admin/billing/credit-notes', {
                business_id: changer.id,
                amount_minor: '1000',
                reason: 'Goodwill: a support delay in May',
                stream: 'premium_plan',
              }),
            );
            expect(note).toMatchObject({ number: 'PAR-CN-2026-000001', amount_minor: '1000' });
            add(changer.id, 1000);
          }
          if (period === '2026-06') {
            // Grace ends on the 15th: one last attempt, then the free plan and its limits.
            moveTo(at('2026-06-15T00:00:00Z'));
            expect((await runBillingTasks())['renew-subscriptions']).toMatchObject({ downgraded: 1 });
            expect(await subscription(failing)).toBeNull();
            const refused = await customLink(failing, 'failing-free');
            expect(refused.status).toBe(409);
            expect(refused.body.error).toMatchObject({
              code: 'PLAN_LIMIT_REACHED',
              details: { feature: 'custom_link_code', plan: 'free', upgrade_to: 'premium' },
            });
            // The free plan's numeric limits too: 3 short links (it has one from its grace).
            for (const n of [2, 3]) {
              const made = await call('POST', `/api/v1/businesses/${failing.id}/links`, failing.owner.token, {
                text: `Hello ${n}`,
              });
              expect(made.status).toBe(201);
            }
            const fourth = await call('POST', `/api/v1/businesses/${failing.id}/links`, failing.owner.token, {
              text: 'Hello 4',
            });
            expect(fourth.status).toBe(409);
            expect(fourth.body.error).toMatchObject({
              code: 'PLAN_LIMIT_REACHED',
              details: { limit: 'short_links', plan: 'free', max: 3, wanted: 4, upgrade_to: 'premium' },
            });
            const kinds = (await notices(failing.owner.token, path(failing, 'notices')))
              .filter((n) => n.kind === 'payment_failed' || n.kind === 'subscription_downgraded')
              .map((n) => [n.kind, n.data.attempt ?? null]);
            expect(kinds.sort()).toEqual(
              [
                ['payment_failed', 1],
                ['payment_failed', 2],
                ['payment_failed', 3],
                ['payment_failed', 4],
                ['subscription_downgraded', null],
              ].sort(),
            );
          }
          if (period === '2026-07') {
            // A later sign-up, covered until 2027-07: the one Dana writes to.
            late = await server.newPerson('Late');
            lateConnection = await sdk.connect(late.token, { synced: true });
          }
          if (period === '2026-12') {
            // Reminders 30, 7 and 1 days before 2027-01-01, one each.
            const reminders = async () =>
              (await notices(dana.token, '/api/v1/me/billing/notices'))
                .filter((n) => n.kind === 'consumer_plan_reminder')
                .map((n) => n.data.days_before)
                .sort((a, b) => Number(a) - Number(b));
            expect(await reminders()).toEqual([]);
            for (const [day, seen] of [
              ['2026-12-02T00:00:00Z', [30]],
              ['2026-12-20T00:00:00Z', [30]],
              ['2026-12-25T00:00:00Z', [7, 30]],
              ['2026-12-31T00:00:00Z', [1, 7, 30]],
            ] as const) {
              moveTo(at(day));
              await runBillingTasks();
              expect(await reminders(), day).toEqual(seen);
            }
            expect(await ok(call('GET', '/api/v1/me/billing/consumer-plan', dana.token))).toMatchObject({
              can_send: true,
            });
          }
          if (period === '2027-01') {
            // Grace is over on the 31st: sending paused with the documented code, receiving works.
            moveTo(at('2027-01-31T00:00:00Z'));
            // Paused: everyone who signed up on 1 January 2026 (Pat, Dana, the three owners).
            expect((await runBillingTasks())['consumer-plan-reminders']).toEqual({
              reminders: 0,
              expired: 0,
              paused: 5,
            });
            const kinds = (await notices(dana.token, '/api/v1/me/billing/notices')).map((n) => n.kind);
            expect(kinds.filter((k) => k === 'consumer_plan_expired')).toHaveLength(1);
            expect(kinds.filter((k) => k === 'consumer_plan_paused')).toHaveLength(1);
            expect(await ok(call('GET', '/api/v1/me/billing/consumer-plan', dana.token))).toMatchObject({
              can_send: false,
            });
            const l = lateConn();
            await expect(danaConn.client.sendText(l.phone, 'paused?')).rejects.toMatchObject({
              code: 'BILLING_CONSUMER_PLAN_EXPIRED',
            });
            await l.conn.client.sendText(dana.phone, 'hello Dana');
            await until(() => danaConn.inbox.some((m) => m.text === 'hello Dana'));
            await deliver([{ from: prepaid, to: dana.phone, conn: danaConn }]);
          }
          if (period === '2027-02') {
            // Renewal through the test provider un-pauses her for a year from now.
            moveTo(at('2027-02-03T00:00:00Z'));
            const renewed = await ok(
              call('POST', '/api/v1/me/billing/consumer-plan/renew', dana.token, {
                payment_provider: 'test',
              }),
            );
            expect(renewed).toMatchObject({ can_send: true, expires_at: clock.now() + 365 * DAY });
            add(dana.account_id, 1200 - 1200);
            const l = lateConn();
            await danaConn.client.sendText(l.phone, 'back again');
            await until(() => l.conn.inbox.some((m) => m.text === 'back again'));
          }

          // Month end: the worker closes the month, renews the plans, sends reminders.
          moveTo(nextMonth(period));
          if (period === '2026-05') {
            // The card behind Failing's plan is declined from the renewal of 1 June on.
            testProvider.failFor(failingAccount);
          }
          const ran = await runBillingTasks();
          expect(ran['close-billing-period']).toEqual({
            period,
            finalized: Object.keys(expected[period] ?? {}).length,
          });
          // Renewals for the new month: Prepaid (through the provider) and the other plans.
          if (nextMonth(period) < at('2027-03-02T00:00:00Z')) {
            add(prepaid.id, 1500 - 1500);
            if (period < '2026-05') add(failing.id, 1500 - 1500);
            add(changer.id, period < '2026-03' ? -1500 : -4900);
          }
          await checkClosedMonth(period, period === '2027-01' ? 5 : 4);
          await checkBalances();
        }

        // Every number of each year, in finalize order, without a gap.
        const ordered = [...allNumbers].sort(
          (a, b) => a.issuedAt.localeCompare(b.issuedAt) || a.number.localeCompare(b.number),
        );
        for (const year of ['2026', '2027']) {
          const numbers = ordered.filter((n) => n.number.startsWith(`PAR-${year}-`)).map((n) => n.number);
          expect(numbers).toEqual(numbers.map((_, i) => `PAR-${year}-${String(i + 1).padStart(6, '0')}`));
        }
        expect(allNumbers.filter((n) => n.number.startsWith('PAR-2026-'))).toHaveLength(33);
        expect(allNumbers.filter((n) => n.number.startsWith('PAR-2027-'))).toHaveLength(10);

        // --- The revenue report of 2026 per stream equals the sum of 2026's invoices.
        const invoiceSums = new Map<string, bigint>();
        let credits = 0n;
        for (const period of MONTHS.filter((p) => p.startsWith('2026'))) {
          const list = await ok<{ invoices: Invoice[] }>(
            operator('GET', `/api/v1/admin/billing/invoices?period=${period}`),
          );
          for (const s of list.invoices) {
            const inv = await ok<Invoice>(operator('GET', `/api/v1/admin/billing/invoices/${s.invoice_id}`));
            credits += BigInt(inv.credits_minor);
            for (const l of inv.lines)
              invoiceSums.set(l.stream, (invoiceSums.get(l.stream) ?? 0n) + BigInt(l.amount_minor));
          }
        }
        type Totals = { totals: { stream: string; total_minor: string }[] };
        const revenue = await ok<Totals>(
          operator('GET', '/api/v1/admin/billing/revenue?from=2026-01-01&to=2026-12-31&granularity=month'),
        );
        const totals = Object.fromEntries(revenue.totals.map((t) => [t.stream, t.total_minor]));
        // api: 12 × (10 + 5 + 5); premium: Prepaid 12 × 1500, Failing 5 × 1500, Changer
        // 2 × 1500 + (1500 + 2529 − 774) + 9 × 4900.
        expect(totals).toEqual({
          api_messages: '240',
          premium_plan: '75855',
          consumer_plan: '0',
          payment_commission: '0',
        });
        for (const stream of ['api_messages', 'premium_plan'])
          expect(totals[stream]).toBe(String(invoiceSums.get(stream) ?? 0n));
        // The credit note is not revenue taken back in the report: it is on the invoices.
        expect(credits).toBe(1000n);
        const feb2027 = await ok<Totals>(operator('GET', '/api/v1/admin/billing/revenue?period=2027-02'));
        expect(feb2027.totals.find((t) => t.stream === 'consumer_plan')?.total_minor).toBe('1200');

        // VAT: 13 months at 287 and January 2027 at 288, all in the ledger's tax:DE account.
        const vat = await ledger.findAccount(undefined, 'tax:DE', 'USD');
        expect((await ledger.balance(vat?.id ?? '')).posted).toBe(13n * 287n + 288n);
        // Outstanding: only the credit line owes, its pro fee for March 2027 (renewed on the 1st).
        expect(await ok(operator('GET', '/api/v1/admin/billing/outstanding'))).toEqual({
          rows: [{ business_id: changer.id, currency: 'USD', balance_minor: '-4900' }],
        });

        // Prepaid's receipts: the bank transfer, and each of its 15 plan fees (January's
        // subscription, 14 renewals up to 1 March 2027) collected through the test provider.
        const receipts = (
          await ok<{ receipts: { provider: string; amount_minor: string }[] }>(
            call('GET', path(prepaid, 'receipts'), prepaid.owner.token),
          )
        ).receipts;
        expect(receipts.filter((r) => r.provider === 'manual').map((r) => r.amount_minor)).toEqual(['5000']);
        expect(receipts.filter((r) => r.provider === 'test').map((r) => r.amount_minor)).toEqual(
          Array(15).fill('1500'),
        );
      });
    },
  );
