import { afterEach, expect, it } from 'vitest';
import { createBillingHarness } from '../../../test/harness/billing.js';
import { closeTestContexts, createTestContext, newPhone } from '../../../test/harness/builders.js';
import { describeStorage, type StorageContext } from '../../../test/harness/storage.js';

const at = (iso: string) => Date.parse(iso);

async function setup(storage: StorageContext) {
  const t = createTestContext(storage);
  t.clock.set(at('2026-01-16T00:00:00Z'));
  const owner = await t.newPerson('Owner');
  const created = await t.business.create({ name: 'Acme', phone: newPhone(), owner: owner.phone });
  const b = await createBillingHarness(storage, t);
  const businessId = created.business_id;
  const db = storage.db.kysely;
  const balance = () => b.accounts.balance('business', businessId, db);
  const plan = async () => (await t.plans.planOf(db, businessId)).plan_id;
  const tickAt = async (iso: string) => {
    t.clock.set(at(iso));
    return b.subscriptions.tick();
  };
  const topUp = (amount: string, key: string) =>
    b.payments.topUpBusiness(businessId, { amountMinor: amount, key });
  return { t, b, businessId, balance, plan, tickAt, topUp, db, owner };
}

describeStorage('subscriptions', (storage: () => StorageContext) => {
  afterEach(closeTestContexts);

  it('subscribes mid-month (prorated), renews at month ends, dunning, recovery after a top-up, then downgrade after grace', async () => {
    const { t, b, businessId, balance, plan, tickAt, topUp, db } = await setup(storage());
    // Nothing to pay with: refused, nothing changes.
    await expect(b.subscriptions.subscribe(businessId, 'premium')).rejects.toMatchObject({
      code: 'LEDGER_INSUFFICIENT_FUNDS',
    });
    expect(await b.subscriptions.view(businessId)).toBeNull();
    expect(await plan()).toBe('free');

    await topUp('5000', 'top-1');
    // 16 of January's 31 days remain: 1500 × 16/31 = 774.19 → 774.
    const sub = await b.subscriptions.subscribe(businessId, 'premium');
    expect(sub).toMatchObject({
      status: 'active',
      plan_id: 'premium',
      current_period_end: at('2026-02-01T00:00:00Z'),
    });
    expect(await balance()).toBe(5000n - 774n);
    expect(await plan()).toBe('premium');

    // Month ends: each renewal charged once, however often the worker runs.
    expect((await tickAt('2026-01-31T23:59:59Z')).renewed).toBe(0);
    expect((await tickAt('2026-02-01T00:00:00Z')).renewed).toBe(1);
    expect((await tickAt('2026-02-01T00:05:00Z')).renewed).toBe(0);
    expect(await balance()).toBe(4226n - 1500n);
    expect((await tickAt('2026-03-01T00:00:01Z')).renewed).toBe(1);
    expect(await balance()).toBe(1226n);

    // April cannot be paid: past due, the plan stays, a notice.
    expect((await tickAt('2026-04-01T00:00:00Z')).failed).toBe(1);
    let v = await b.subscriptions.view(businessId);
    expect(v).toMatchObject({
      status: 'past_due',
      dunning_step: 1,
      next_attempt_at: at('2026-04-02T00:00:00Z'),
      grace_until: at('2026-04-15T00:00:00Z'),
    });
    expect(await plan()).toBe('premium');
    expect(await balance()).toBe(1226n);
    expect((await tickAt('2026-04-01T12:00:00Z')).failed).toBe(0); // not before the retry
    expect((await tickAt('2026-04-02T00:00:00Z')).failed).toBe(1);
    expect((await b.subscriptions.view(businessId))?.next_attempt_at).toBe(at('2026-04-04T00:00:00Z'));
    // A top-up; the next retry pays and the subscription is active again.
    await topUp('1000', 'top-2');
    expect((await tickAt('2026-04-04T00:00:00Z')).recovered).toBe(1);
    v = await b.subscriptions.view(businessId);
    expect(v).toMatchObject({ status: 'active', dunning_step: 0, grace_until: null });
    expect(v?.current_period_end).toBe(at('2026-05-01T00:00:00Z'));
    expect(await balance()).toBe(2226n - 1500n);
    const kinds = (await b.notices.list('business', businessId)).map((n) => n.kind);
    expect(kinds.filter((k) => k === 'payment_failed')).toHaveLength(2);
    expect(kinds).toContain('payment_succeeded');

    // May fails through every retry (1, 3, 7 days) and grace (14 days): downgraded to free.
    expect((await tickAt('2026-05-01T00:00:00Z')).failed).toBe(1);
    for (const d of ['2026-05-02', '2026-05-04', '2026-05-08'])
      expect((await tickAt(`${d}T00:00:00Z`)).failed).toBe(1);
    expect((await b.subscriptions.view(businessId))?.next_attempt_at).toBeNull();
    expect((await tickAt('2026-05-14T23:59:59Z')).downgraded).toBe(0);
    expect(await plan()).toBe('premium');
    expect((await tickAt('2026-05-15T00:00:00Z')).downgraded).toBe(1);
    expect(await plan()).toBe('free');
    expect(await b.subscriptions.view(businessId)).toBeNull();
    expect(await balance()).toBe(726n);
    // The free plan's limits apply again.
    await expect(
      db.transaction().execute((tx) => t.plans.check(tx, businessId, 'agents', 2)),
    ).rejects.toMatchObject({ code: 'PLAN_LIMIT_REACHED' });
    expect((await b.notices.list('business', businessId)).map((n) => n.kind)).toContain(
      'subscription_downgraded',
    );
    // Charges: Jan (prorated), Feb, Mar, Apr — each once.
    const charges = await db
      .selectFrom('billing_charges')
      .select(['period', 'amount_micros'])
      .where('stream', '=', 'premium_plan')
      .orderBy('period')
      .execute();
    expect(charges.map((c) => [c.period, Number(c.amount_micros) / 10_000])).toEqual([
      ['2026-01', 774],
      ['2026-02', 1500],
      ['2026-03', 1500],
      ['2026-04', 1500],
    ]);
  });

  it('changes plan mid-month with proration, cancels at period end, and renews a full year exactly once a month', async () => {
    const { t, b, businessId, balance, plan, tickAt, topUp, db } = await setup(storage());
    await t.plans.set('pro', { name: 'Pro', price_minor: 3000, currency: 'USD', limits: { agents: 50 } });
    t.clock.set(at('2026-06-01T00:00:00Z'));
    await topUp('100000', 'big');
    await b.subscriptions.subscribe(businessId, 'premium');
    expect(await balance()).toBe(100000n - 1500n);
    // June has 30 days; from the 16th: credit 750 of premium, charge 1500 of pro.
    t.clock.set(at('2026-06-16T00:00:00Z'));
    const changed = await b.subscriptions.subscribe(businessId, 'pro');
    expect(changed.plan_id).toBe('pro');
    expect(await plan()).toBe('pro');
    expect(await balance()).toBe(100000n - 1500n + 750n - 1500n);
    const june = await db
      .selectFrom('billing_charges')
      .select((eb) => eb.fn.sum<number | string>('amount_micros').as('sum'))
      .where('period', '=', '2026-06')
      .executeTakeFirstOrThrow();
    expect(Number(june.sum) / 10_000).toBe(750 + 1500);

    // A simulated year of renewals, with the worker running twice each time.
    let paid = 0n;
    for (let m = 6; m < 18; m++) {
      const iso = new Date(Date.UTC(2026, m, 1)).toISOString();
      await tickAt(iso);
      await tickAt(iso);
      paid += 3000n;
    }
    expect(await balance()).toBe(100000n - 1500n + 750n - 1500n - paid);
    expect((await b.subscriptions.view(businessId))?.current_period_end).toBe(Date.UTC(2027, 6, 1));

    // Cancel at period end: the plan stays until then, no further charge.
    await b.subscriptions.subscribe(businessId, 'free');
    expect((await b.subscriptions.view(businessId))?.cancel_at_period_end).toBe(true);
    expect(await plan()).toBe('pro');
    const before = await balance();
    expect((await tickAt('2027-07-01T00:00:00Z')).canceled).toBe(1);
    expect(await plan()).toBe('free');
    expect(await balance()).toBe(before);
  });

  it('collects through a payment provider, and a provider failure starts dunning', async () => {
    const { b, businessId, balance, tickAt, db } = await setup(storage());
    await b.subscriptions.subscribe(businessId, 'premium', { provider: 'test' });
    // Paid in through the provider (a receipt), then charged: the balance is back to zero.
    expect(await balance()).toBe(0n);
    const account = await b.accounts.get(db, 'business', businessId);
    expect(await b.payments.receipts(account?.id ?? '')).toHaveLength(1);
    b.testProvider.failFor(account?.id ?? '');
    expect((await tickAt('2026-02-01T00:00:00Z')).failed).toBe(1);
    expect((await b.subscriptions.view(businessId))?.status).toBe('past_due');
    b.testProvider.succeedFor(account?.id ?? '');
    expect((await tickAt('2026-02-02T00:00:00Z')).recovered).toBe(1);
    expect(await balance()).toBe(0n);
  });

  it('top-ups: a replay with the same key changes nothing; another amount conflicts; bad amounts are refused', async () => {
    const { b, businessId, balance, topUp, db } = await setup(storage());
    const first = await topUp('2500', 'k1');
    expect(first.replayed).toBe(false);
    expect(first.receipt).toMatchObject({ amount_minor: '2500', provider: 'manual', currency: 'USD' });
    const transfers = await b.ledger.transferCount();
    const again = await topUp('2500', 'k1');
    expect(again).toEqual({ receipt: first.receipt, replayed: true });
    expect(await balance()).toBe(2500n);
    expect(await b.ledger.transferCount()).toBe(transfers);
    await expect(topUp('2400', 'k1')).rejects.toMatchObject({ code: 'BILLING_IDEMPOTENCY_CONFLICT' });
    for (const bad of ['-5', '0', '1.5', 'abc', '']) {
      await expect(topUp(bad, `bad-${bad}`)).rejects.toMatchObject({ code: 'BILLING_INVALID_AMOUNT' });
    }
    const second = await topUp('100', 'k2');
    expect(second.receipt.number).toBe(first.receipt.number + 1);
    expect(await balance()).toBe(2600n);
    const account = await b.accounts.get(db, 'business', businessId);
    expect((await b.payments.receipts(account?.id ?? '')).map((r) => r.amount_minor)).toEqual([
      '100',
      '2500',
    ]);
  });
});
