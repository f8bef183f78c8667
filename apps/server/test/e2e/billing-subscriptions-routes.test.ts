/**
 * The subscription, top-up, receipt, notice and consumer-plan routes over real HTTP, on SQLite
 * and PostgreSQL.
 *
 * A business subscribes to a premium plan mid-month (prorated), changes plan, cancels; the
 * operator records top-ups (a replayed key returns the first receipt and moves no money); a
 * person's consumer plan lapses and is renewed once the payment is confirmed. Every refused
 * request answers its documented code and changes nothing: the ledger balance, the
 * subscription, the business's plan, the receipts and the coverage are read back after each.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/platform/clock.js';
import { newPhone } from '../harness/builders.js';
import { type Answer, apiCaller } from '../harness/http.js';
import { startTestServer, type TestServer } from '../harness/server.js';
import { PG_AVAILABLE } from '../harness/storage.js';

const DAY = 86_400_000;
const NOV_1 = Date.parse('2026-11-01T00:00:00Z');
const DEC_1 = Date.parse('2026-12-01T00:00:00Z');
// Half of November is left: 15 of its 30 days.
const NOV_16 = Date.parse('2026-11-16T00:00:00Z');
// 8 of November's 30 days are left.
const NOV_23 = Date.parse('2026-11-23T00:00:00Z');

for (const dialect of ['sqlite', 'postgres'] as const)
  (dialect === 'postgres' && !PG_AVAILABLE ? describe.skip : describe)(
    `subscription, top-up and consumer-plan routes [${dialect}]`,
    () => {
      const clock = createManualClock(NOV_16);
      let server: TestServer;
      let op: string;
      beforeAll(async () => {
        // The api role only: the worker's renewals and reminders must not race the test.
        server = await startTestServer({ dialect, clock, env: { PARLEY_ROLES: 'api' } });
        const token = server.platform.secrets.operator_token;
        if (!token) throw new Error('the data folder has no operator token');
        op = token;
      });
      afterAll(async () => {
        await server?.close();
      });

      const request = apiCaller(() => server.url);
      // Status and body only: the tests compare whole answers.
      const call = async (...a: Parameters<typeof request>): Promise<Pick<Answer, 'status' | 'body'>> => {
        const { status, body } = await request(...a);
        return { status, body };
      };
      const refused = (a: Pick<Answer, 'status' | 'body'>) => [a.status, a.body?.error?.code];

      const balanceOf = async (ownerType: 'business' | 'person', ownerId: string) => {
        const account = await server.modules.billing.accounts.get(ownerType, ownerId);
        if (!account) return undefined;
        return (await server.modules.ledger.balance(account.ledger_account_id)).posted;
      };
      const planOf = async (businessId: string) =>
        (
          await server.platform.db.kysely
            .selectFrom('businesses')
            .select('plan_id')
            .where('id', '=', businessId)
            .executeTakeFirstOrThrow()
        ).plan_id;
      const chargesOf = async (column: 'business_id' | 'person_account_id', id: string) =>
        (
          await server.platform.db.kysely
            .selectFrom('billing_charges')
            .select(['idempotency_key', 'stream', 'amount_micros', 'description'])
            .where(column, '=', id)
            .orderBy('idempotency_key')
            .execute()
        ).map((c) => ({ ...c, amount_micros: BigInt(c.amount_micros) }));

      it('top-ups: receipts, a replayed key moves no money, bad input is refused', async () => {
        clock.set(NOV_16);
        const { business } = server.modules;
        const owner = await server.newPerson('Tina');
        const biz = await business.create({ name: 'Topup Co', phone: newPhone(), owner: owner.account_id });
        const path = `/api/v1/admin/billing/accounts/${biz.business_id}/top-ups`;
        const receiptsPath = `/api/v1/businesses/${biz.business_id}/billing/receipts`;
        const topUp = { amount_minor: '2500', key: 'bank-2026-11-16-1', reference: 'SEPA 4711' };

        for (const token of [undefined, 'wrong', owner.token]) {
          expect(refused(await call('POST', path, token, topUp))).toEqual([401, 'OPERATOR_UNAUTHENTICATED']);
        }
        expect(await balanceOf('business', biz.business_id)).toBeUndefined();
        expect((await call('GET', receiptsPath, owner.token)).body).toEqual({ receipts: [] });

        for (const amount of ['-5', -5, '1.5', 1.5, '0', 0, 'ten', '1e3', '0x10']) {
          expect(
            refused(await call('POST', path, op, { ...topUp, amount_minor: amount })),
            JSON.stringify(amount),
          ).toEqual([400, 'BILLING_INVALID_AMOUNT']);
        }
        expect(refused(await call('POST', path, op, { amount_minor: '2500' }))).toEqual([
          400,
          'VALIDATION_FAILED',
        ]);
        const badProvider = await call('POST', path, op, { ...topUp, provider: 'bitcoin' });
        expect(refused(badProvider)).toEqual([400, 'BILLING_PROVIDER_UNKNOWN']);
        expect(badProvider.body.error.details).toEqual({ providers: ['manual'] });
        expect(
          refused(await call('POST', '/api/v1/admin/billing/accounts/biz_nobody/top-ups', op, topUp)),
        ).toEqual([404, 'BUSINESS_NOT_FOUND']);
        expect((await balanceOf('business', biz.business_id)) ?? 0n).toBe(0n);
        expect((await call('GET', receiptsPath, owner.token)).body).toEqual({ receipts: [] });

        const first = await call('POST', path, op, topUp);
        expect(first.status).toBe(200);
        const receipt = {
          receipt_id: expect.stringMatching(/^rcp_/),
          number: expect.any(Number),
          amount_minor: '2500',
          currency: 'USD',
          provider: 'manual',
          reference: 'SEPA 4711',
          created_at: NOV_16,
        };
        expect(first.body).toEqual({ receipt, replayed: false });
        expect(await balanceOf('business', biz.business_id)).toBe(2_500n);

        // A replay (a retried request) answers the first receipt and moves nothing.
        clock.advance(60_000);
        const replay = await call('POST', path, op, topUp);
        expect(replay).toEqual({ status: 200, body: { receipt: first.body.receipt, replayed: true } });
        expect(await balanceOf('business', biz.business_id)).toBe(2_500n);
        // The same key for another top-up is a conflict.
        for (const other of [
          { ...topUp, amount_minor: 2600 },
          { ...topUp, provider: 'manual', amount_minor: '1' },
        ]) {
          const conflict = await call('POST', path, op, other);
          expect(refused(conflict)).toEqual([409, 'BILLING_IDEMPOTENCY_CONFLICT']);
          expect(conflict.body.error.details).toEqual({ receipt_id: first.body.receipt.receipt_id });
        }
        expect(await balanceOf('business', biz.business_id)).toBe(2_500n);

        // A number as amount; receipts are numbered without gaps (refusals took none).
        const second = await call('POST', path, op, { amount_minor: 700, key: 'bank-2026-11-16-2' });
        expect(second.status).toBe(200);
        expect(second.body).toEqual({
          receipt: {
            ...receipt,
            number: first.body.receipt.number + 1,
            amount_minor: '700',
            reference: null,
            created_at: NOV_16 + 60_000,
          },
          replayed: false,
        });
        expect(await balanceOf('business', biz.business_id)).toBe(3_200n);

        const listed = await call('GET', receiptsPath, owner.token);
        expect(listed.status).toBe(200);
        expect(
          listed.body.receipts
            .map((r: { number: number; amount_minor: string }) => [r.number, r.amount_minor])
            .sort(),
        ).toEqual(
          [
            [first.body.receipt.number, '2500'],
            [first.body.receipt.number + 1, '700'],
          ].sort(),
        );
        const stranger = await server.newPerson('Stan');
        expect(refused(await call('GET', receiptsPath))).toEqual([401, 'UNAUTHENTICATED']);
        expect(refused(await call('GET', receiptsPath, stranger.token))).toEqual([404, 'BUSINESS_NOT_FOUND']);
      });

      it('subscribe, change and cancel a plan: prorated charges; refusals change nothing', async () => {
        clock.set(NOV_16);
        const { business, plans } = server.modules;
        await plans.set('gold', { name: 'Gold', price_minor: 3000, currency: 'USD' });
        await plans.set('euro', { name: 'Euro', price_minor: 1000, currency: 'EUR' });
        const owner = await server.newPerson('Olga');
        const agent = await server.newPerson('Andy');
        const stranger = await server.newPerson('Sam');
        const biz = await business.create({ name: 'Plans Co', phone: newPhone(), owner: owner.account_id });
        const id = biz.business_id;
        const subPath = `/api/v1/businesses/${id}/billing/subscription`;
        const noticesPath = `/api/v1/businesses/${id}/billing/notices`;
        const topUps = `/api/v1/admin/billing/accounts/${id}/top-ups`;

        expect(await call('GET', subPath, owner.token)).toEqual({
          status: 200,
          body: { subscription: null },
        });
        expect((await call('GET', noticesPath, owner.token)).body).toEqual({ notices: [] });

        // No money: refused by the ledger, nothing changes.
        const broke = await call('PUT', subPath, owner.token, { plan_id: 'premium' });
        expect(refused(broke)).toEqual([402, 'LEDGER_INSUFFICIENT_FUNDS']);
        // The manual provider only confirms later: the payment is not collected now.
        const pending = await call('PUT', subPath, owner.token, {
          plan_id: 'premium',
          payment_provider: 'manual',
        });
        expect(refused(pending)).toEqual([402, 'BILLING_PAYMENT_FAILED']);
        expect(pending.body.error.details).toMatchObject({ status: 'pending', provider: 'manual' });
        expect(
          refused(
            await call('PUT', subPath, owner.token, { plan_id: 'premium', payment_provider: 'bitcoin' }),
          ),
        ).toEqual([400, 'BILLING_PROVIDER_UNKNOWN']);
        expect(refused(await call('PUT', subPath, owner.token, { plan_id: 'platinum' }))).toEqual([
          404,
          'PLAN_NOT_FOUND',
        ]);
        expect(refused(await call('PUT', subPath, owner.token, { plan_id: 'free' }))).toEqual([
          404,
          'BILLING_SUBSCRIPTION_NOT_FOUND',
        ]);
        expect(refused(await call('PUT', subPath, owner.token, { plan_id: '' }))).toEqual([
          400,
          'VALIDATION_FAILED',
        ]);
        expect(refused(await call('PUT', subPath, owner.token, {}))).toEqual([400, 'VALIDATION_FAILED']);
        expect((await call('GET', subPath, owner.token)).body).toEqual({ subscription: null });
        expect(await planOf(id)).toBe('free');
        expect(await chargesOf('business_id', id)).toEqual([]);
        expect((await balanceOf('business', id)) ?? 0n).toBe(0n);

        expect(
          (await call('POST', topUps, op, { amount_minor: '2000', key: `plans-${dialect}-1` })).status,
        ).toBe(200);
        // The account is in USD: a plan in EUR is refused.
        const mismatch = await call('PUT', subPath, owner.token, { plan_id: 'euro' });
        expect(refused(mismatch)).toEqual([400, 'BILLING_PLAN_CURRENCY_MISMATCH']);
        expect(mismatch.body.error.details).toEqual({ plan_currency: 'EUR', account_currency: 'USD' });
        expect(await balanceOf('business', id)).toBe(2_000n);

        // Who may: the owner only.
        const body = { plan_id: 'premium' };
        expect(refused(await call('PUT', subPath, undefined, body))).toEqual([401, 'UNAUTHENTICATED']);
        expect(refused(await call('PUT', subPath, stranger.token, body))).toEqual([
          404,
          'BUSINESS_NOT_FOUND',
        ]);
        expect(refused(await call('PUT', subPath, op, body))).toEqual([401, 'UNAUTHENTICATED']);
        expect(await balanceOf('business', id)).toBe(2_000n);

        // Subscribe on the 16th: half of November's 15.00 is charged.
        const subscribed = await call('PUT', subPath, owner.token, body);
        expect(subscribed.status).toBe(200);
        const view = {
          subscription_id: expect.stringMatching(/^sub_/),
          business_id: id,
          plan_id: 'premium',
          status: 'active',
          current_period_start: NOV_1,
          current_period_end: DEC_1,
          cancel_at_period_end: false,
          payment_provider: null,
          dunning_step: 0,
          next_attempt_at: null,
          grace_until: null,
          canceled_at: null,
        };
        expect(subscribed.body).toEqual({ subscription: view });
        const subId: string = subscribed.body.subscription.subscription_id;
        expect(await balanceOf('business', id)).toBe(1_250n);
        expect(await planOf(id)).toBe('premium');
        expect(await call('GET', subPath, owner.token)).toEqual({
          status: 200,
          body: { subscription: view },
        });
        // The same plan again charges nothing.
        expect((await call('PUT', subPath, owner.token, body)).body).toEqual({ subscription: view });
        expect(await balanceOf('business', id)).toBe(1_250n);

        // Premium allows a second agent; an agent is not a manager.
        await business.addAgent(
          await server.modules.accounts.authenticate(owner.token),
          id,
          agent.phone,
          'agent',
        );
        for (const [method, path] of [
          ['GET', subPath],
          ['PUT', subPath],
          ['GET', noticesPath],
          ['GET', `/api/v1/businesses/${id}/billing/receipts`],
        ] as const) {
          const b = method === 'PUT' ? { plan_id: 'gold' } : undefined;
          expect(refused(await call(method, path, agent.token, b)), `${method} ${path}`).toEqual([
            403,
            'BUSINESS_ROLE_REQUIRED',
          ]);
          expect(refused(await call(method, path, stranger.token, b)), `${method} ${path}`).toEqual([
            404,
            'BUSINESS_NOT_FOUND',
          ]);
          expect(refused(await call(method, path, undefined, b)), `${method} ${path}`).toEqual([
            401,
            'UNAUTHENTICATED',
          ]);
        }
        expect(await planOf(id)).toBe('premium');

        // Change to gold on the 23rd: 4.00 of premium back, 8.00 of gold charged.
        clock.set(NOV_23);
        const changed = await call('PUT', subPath, owner.token, { plan_id: 'gold' });
        expect(changed.status).toBe(200);
        expect(changed.body).toEqual({ subscription: { ...view, subscription_id: subId, plan_id: 'gold' } });
        expect(await balanceOf('business', id)).toBe(850n);
        expect(await planOf(id)).toBe('gold');
        expect(await chargesOf('business_id', id)).toEqual([
          {
            idempotency_key: `sub:${subId}:2026-11:1`,
            stream: 'premium_plan',
            amount_micros: 7_500_000n,
            description: 'Premium plan, 2026-11 (from 2026-11-16)',
          },
          {
            idempotency_key: `sub:${subId}:2026-11:2`,
            stream: 'premium_plan',
            amount_micros: -4_000_000n,
            description: 'Unused Premium plan, 2026-11',
          },
          {
            idempotency_key: `sub:${subId}:2026-11:3`,
            stream: 'premium_plan',
            amount_micros: 8_000_000n,
            description: 'Gold plan, 2026-11 (from 2026-11-23)',
          },
        ]);

        // A change to a plan it cannot pay: refused, nothing changes.
        await plans.set('diamond', { name: 'Diamond', price_minor: 9000, currency: 'USD' });
        // 8/30 of 90.00 is 24.00, less 8.00 of gold back: 16.00 > 8.50.
        expect(refused(await call('PUT', subPath, owner.token, { plan_id: 'diamond' }))).toEqual([
          402,
          'LEDGER_INSUFFICIENT_FUNDS',
        ]);
        expect(await balanceOf('business', id)).toBe(850n);
        expect(await planOf(id)).toBe('gold');
        expect((await call('GET', subPath, owner.token)).body.subscription.plan_id).toBe('gold');
        expect(await chargesOf('business_id', id)).toHaveLength(3);

        // An unknown provider is refused even when nothing is due now (a downgrade).
        const unknownProvider = await call('PUT', subPath, owner.token, {
          plan_id: 'premium',
          payment_provider: 'bitcoin',
        });
        expect(refused(unknownProvider)).toEqual([400, 'BILLING_PROVIDER_UNKNOWN']);
        expect((await call('GET', subPath, owner.token)).body.subscription).toMatchObject({
          plan_id: 'gold',
          payment_provider: null,
        });
        expect(await balanceOf('business', id)).toBe(850n);

        // `free` cancels at the period end; the plan stays until then. Twice is once.
        const canceled = await call('PUT', subPath, owner.token, { plan_id: 'free' });
        expect(canceled.body).toEqual({
          subscription: { ...view, subscription_id: subId, plan_id: 'gold', cancel_at_period_end: true },
        });
        expect((await call('PUT', subPath, owner.token, { plan_id: 'free' })).body).toEqual(canceled.body);
        expect(await planOf(id)).toBe('gold');
        expect(await balanceOf('business', id)).toBe(850n);
        const notices = await call('GET', noticesPath, owner.token);
        expect(notices.body).toEqual({
          notices: [
            {
              notice_id: expect.stringMatching(/^ntc_/),
              kind: 'subscription_canceled',
              title: 'Subscription canceled',
              body: 'Your plan stays until 2026-12-01, then the business moves to the free plan.',
              data: { subscription_id: subId, ends_at: DEC_1 },
              created_at: NOV_23,
              read_at: null,
            },
          ],
        });
        // Choosing the plan again keeps it.
        expect((await call('PUT', subPath, owner.token, { plan_id: 'gold' })).body).toEqual({
          subscription: { ...view, subscription_id: subId, plan_id: 'gold' },
        });
        expect(await balanceOf('business', id)).toBe(850n);
        expect((await server.modules.ledger.check()).ok).toBe(true);
      });

      it('the consumer plan: the operator setting, a lapse, and a renewal once paid', async () => {
        const T0 = Date.parse('2026-11-20T12:00:00Z');
        clock.set(T0);
        const setting = '/api/v1/admin/billing/consumer-plan';
        const person = await server.newPerson('Pia');
        const mine = '/api/v1/me/billing/consumer-plan';
        const off = {
          enabled: false,
          annual_fee_minor: '99',
          currency: 'USD',
          free_days: 365,
          reminder_days: [30, 7, 1],
          grace_days: 30,
        };

        for (const token of [undefined, 'wrong', person.token]) {
          expect(refused(await call('GET', setting, token))).toEqual([401, 'OPERATOR_UNAUTHENTICATED']);
          expect(refused(await call('PUT', setting, token, { enabled: true }))).toEqual([
            401,
            'OPERATOR_UNAUTHENTICATED',
          ]);
        }
        expect(await call('GET', setting, op)).toEqual({ status: 200, body: off });
        expect(await call('GET', mine, person.token)).toEqual({
          status: 200,
          body: {
            enabled: false,
            expires_at: null,
            grace_until: null,
            can_send: true,
            annual_fee_minor: '99',
            currency: 'USD',
          },
        });
        expect(refused(await call('GET', mine))).toEqual([401, 'UNAUTHENTICATED']);
        expect(
          refused(await call('POST', `${mine}/renew`, person.token, { payment_provider: 'manual' })),
        ).toEqual([400, 'VALIDATION_FAILED']);

        for (const [bad, code] of [
          [{ annual_fee_minor: '-5' }, 'BILLING_INVALID_AMOUNT'],
          [{ annual_fee_minor: '9.99' }, 'BILLING_INVALID_AMOUNT'],
          [{ annual_fee_minor: -5 }, 'BILLING_INVALID_AMOUNT'],
          [{ annual_fee_minor: 9.99 }, 'BILLING_INVALID_AMOUNT'],
          [{ currency: 'XYZ' }, 'BILLING_UNKNOWN_CURRENCY'],
          [{ currency: 'usd' }, 'BILLING_UNKNOWN_CURRENCY'],
          [{ free_days: -1 }, 'VALIDATION_FAILED'],
          [{ grace_days: 1.5 }, 'VALIDATION_FAILED'],
          [{ reminder_days: [7, -1] }, 'VALIDATION_FAILED'],
          [{ enabled: 'yes' }, 'VALIDATION_FAILED'],
        ] as const) {
          expect(
            refused(await call('PUT', setting, op, { enabled: true, ...bad })),
            JSON.stringify(bad),
          ).toEqual([400, code]);
        }
        expect((await call('GET', setting, op)).body).toEqual(off);

        // On: 30 free days from sign-up, then 10 days of grace. A fee given as a number.
        const on = await call('PUT', setting, op, {
          enabled: true,
          annual_fee_minor: 1200,
          free_days: 30,
          grace_days: 10,
          reminder_days: [1, 7, 7],
        });
        const settings = {
          ...off,
          enabled: true,
          annual_fee_minor: '1200',
          free_days: 30,
          grace_days: 10,
          reminder_days: [7, 1],
        };
        expect(on).toEqual({ status: 200, body: settings });
        expect((await call('GET', setting, op)).body).toEqual(settings);
        const covered = {
          enabled: true,
          expires_at: T0 + 30 * DAY,
          grace_until: T0 + 40 * DAY,
          can_send: true,
          annual_fee_minor: '1200',
          currency: 'USD',
        };
        expect((await call('GET', mine, person.token)).body).toEqual(covered);

        // Past the grace period sending is paused.
        const later = T0 + 41 * DAY;
        clock.set(later);
        expect((await call('GET', mine, person.token)).body).toEqual({ ...covered, can_send: false });

        // Renewing: an unknown provider, then the manual provider before it has confirmed.
        expect(
          refused(await call('POST', `${mine}/renew`, person.token, { payment_provider: 'bitcoin' })),
        ).toEqual([400, 'BILLING_PROVIDER_UNKNOWN']);
        const unpaid = await call('POST', `${mine}/renew`, person.token, { payment_provider: 'manual' });
        expect(refused(unpaid)).toEqual([402, 'BILLING_PAYMENT_FAILED']);
        expect(refused(await call('POST', `${mine}/renew`, person.token, {}))).toEqual([
          400,
          'VALIDATION_FAILED',
        ]);
        expect(
          refused(await call('POST', `${mine}/renew`, undefined, { payment_provider: 'manual' })),
        ).toEqual([401, 'UNAUTHENTICATED']);
        expect((await call('GET', mine, person.token)).body).toEqual({ ...covered, can_send: false });
        expect(await chargesOf('person_account_id', person.account_id)).toEqual([]);
        expect((await balanceOf('person', person.account_id)) ?? 0n).toBe(0n);
        expect((await call('GET', '/api/v1/me/billing/notices', person.token)).body).toEqual({ notices: [] });

        // The provider confirms: the payment is booked under the renewal's key, as a provider's
        // webhook would, and the renewal then goes through.
        const account = await server.modules.billing.accounts.get('person', person.account_id);
        if (!account) throw new Error('the renewal attempt opened the person’s billing account');
        await server.modules.billing.payments.topUp({
          billingAccountId: account.id,
          amountMinor: 1200n,
          key: `cp:${person.account_id}:${T0 + 30 * DAY}:pay`,
          provider: 'manual',
          reference: 'card-confirmed',
        });
        const renewed = await call('POST', `${mine}/renew`, person.token, { payment_provider: 'manual' });
        const year = {
          ...covered,
          expires_at: later + 365 * DAY,
          grace_until: later + 375 * DAY,
        };
        expect(renewed).toEqual({ status: 200, body: year });
        expect((await call('GET', mine, person.token)).body).toEqual(year);
        expect(await chargesOf('person_account_id', person.account_id)).toEqual([
          {
            idempotency_key: `cp:${person.account_id}:${T0 + 30 * DAY}`,
            stream: 'consumer_plan',
            amount_micros: 12_000_000n,
            description: 'Consumer plan, one year',
          },
        ]);
        expect(await balanceOf('person', person.account_id)).toBe(0n);
        expect((await call('GET', '/api/v1/me/billing/notices', person.token)).body).toEqual({
          notices: [
            {
              notice_id: expect.stringMatching(/^ntc_/),
              kind: 'consumer_plan_renewed',
              title: 'Plan renewed',
              body: 'Thank you: your plan is renewed for a year.',
              data: { previous_expires_at: T0 + 30 * DAY },
              created_at: later,
              read_at: null,
            },
          ],
        });
        expect(refused(await call('GET', '/api/v1/me/billing/notices'))).toEqual([401, 'UNAUTHENTICATED']);

        // Renewing again is the next year's fee, not yet paid: refused, nothing changes.
        expect(
          refused(await call('POST', `${mine}/renew`, person.token, { payment_provider: 'manual' })),
        ).toEqual([402, 'BILLING_PAYMENT_FAILED']);
        expect((await call('GET', mine, person.token)).body).toEqual(year);
        expect(await chargesOf('person_account_id', person.account_id)).toHaveLength(1);
        expect(await balanceOf('person', person.account_id)).toBe(0n);

        // Off again, so the other tests' people are not paused.
        expect((await call('PUT', setting, op, { enabled: false })).body).toEqual({
          ...settings,
          enabled: false,
        });
        expect((await server.modules.ledger.check()).ok).toBe(true);
      });

      it('the OpenAPI document lists the routes, admin ones under the operator scheme', async () => {
        const doc = await call('GET', '/api/docs/json');
        expect(doc.status).toBe(200);
        const paths = doc.body.paths as Record<string, Record<string, { security?: unknown }>>;
        const biz = '/api/v1/businesses/{businessId}/billing';
        const bearer: [string, string][] = [
          ['get', `${biz}/subscription`],
          ['put', `${biz}/subscription`],
          ['get', `${biz}/receipts`],
          ['get', `${biz}/notices`],
          ['get', '/api/v1/me/billing/notices'],
          ['get', '/api/v1/me/billing/consumer-plan'],
          ['post', '/api/v1/me/billing/consumer-plan/renew'],
        ];
        const operator: [string, string][] = [
          ['post', '/api/v1/admin/billing/accounts/{businessId}/top-ups'],
          ['get', '/api/v1/admin/billing/consumer-plan'],
          ['put', '/api/v1/admin/billing/consumer-plan'],
        ];
        for (const [method, path] of bearer) {
          expect(paths[path]?.[method]?.security, `${method} ${path}`).toEqual([{ bearer: [] }]);
        }
        for (const [method, path] of operator) {
          expect(paths[path]?.[method]?.security, `${method} ${path}`).toEqual([{ operator: [] }]);
        }
      });
    },
  );
