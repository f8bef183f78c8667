import { afterEach, expect, it } from 'vitest';
import { createBillingHarness } from '../../../test/harness/billing.js';
import { closeTestContexts, createTestContext } from '../../../test/harness/builders.js';
import { describeStorage, type StorageContext } from '../../../test/harness/storage.js';
import type { DeviceActor } from '../accounts/index.js';

const DAY = 86_400_000;
const at = (iso: string) => Date.parse(iso);
const payload = Buffer.from(JSON.stringify({ text: 'hi' })).toString('base64');

async function setup(storage: StorageContext) {
  let gate: (actor: DeviceActor) => Promise<void> = async () => {};
  const t = createTestContext(storage, { sendGate: (actor) => gate(actor) });
  t.clock.set(at('2026-01-01T00:00:00Z'));
  const b = await createBillingHarness(storage, t);
  gate = (actor) => b.consumerPlan.requireCanSend(actor);
  const ana = await t.newPerson('Ana');
  const ben = await t.newPerson('Ben');
  let n = 0;
  const send = (from: typeof ana, to: typeof ben) =>
    t.delivery.send(from.actor, { clientId: `c-${++n}`, to: to.phone, payload });
  return { t, b, ana, ben, send };
}

describeStorage('consumer plan', (storage: () => StorageContext) => {
  afterEach(closeTestContexts);

  it('is off by default: no effect on sending, no notices', async () => {
    const { t, b, ana, ben, send } = await setup(storage());
    expect((await b.consumerPlan.settings()).enabled).toBe(false);
    t.clock.set(at('2028-01-01T00:00:00Z'));
    expect(await b.consumerPlan.tick()).toEqual({ reminders: 0, expired: 0, paused: 0 });
    await expect(send(ana, ben)).resolves.toBeDefined();
    expect(await b.consumerPlan.canSend(storage().db.kysely, ana.account_id, t.clock.now())).toBe(true);
    expect(await b.notices.list('person', ana.account_id)).toEqual([]);
  });

  it('on: a free first year, reminders at 30/7/1 days, grace, sending paused (receiving works), renewal resumes', async () => {
    const { t, b, ana, ben, send } = await setup(storage());
    await b.consumerPlan.set({ enabled: true, annual_fee_minor: '99', currency: 'USD', grace_days: 30 });
    const signUp = at('2026-01-01T00:00:00Z');
    const expires = signUp + 365 * DAY;
    const tickAt = (ms: number) => {
      t.clock.set(ms);
      return b.consumerPlan.tick();
    };
    // A later sign-up stays covered throughout.
    t.clock.set(at('2026-06-01T00:00:00Z'));
    const late = await t.newPerson('Late');

    // (Other tests' people share the database: count Ana's notices, not the tick's totals.)
    const count = async (kind: string) =>
      (await b.notices.list('person', ana.account_id)).filter((x) => x.kind === kind).length;
    await tickAt(expires - 31 * DAY);
    expect(await count('consumer_plan_reminder')).toBe(0);
    await tickAt(expires - 30 * DAY);
    expect(await count('consumer_plan_reminder')).toBe(1);
    await tickAt(expires - 29 * DAY); // once per reminder point
    expect(await count('consumer_plan_reminder')).toBe(1);
    await tickAt(expires - 7 * DAY);
    await tickAt(expires - DAY);
    expect(await count('consumer_plan_reminder')).toBe(3);
    const reminders = (await b.notices.list('person', ana.account_id)).filter(
      (x) => x.kind === 'consumer_plan_reminder',
    );
    expect(reminders.map((r) => r.data.days_before)).toEqual([1, 7, 30]);

    // Expired: grace, still sending.
    await tickAt(expires);
    expect(await count('consumer_plan_expired')).toBe(1);
    await expect(send(ana, ben)).resolves.toBeDefined();
    t.clock.set(expires + 30 * DAY - 1);
    await expect(send(ana, ben)).resolves.toBeDefined();

    // Grace over: sending paused, receiving still works; the late sign-up is unaffected.
    await tickAt(expires + 30 * DAY);
    expect(await count('consumer_plan_paused')).toBe(1);
    await expect(send(ana, ben)).rejects.toMatchObject({ code: 'BILLING_CONSUMER_PLAN_EXPIRED' });
    await expect(send(late, ana)).resolves.toBeDefined();
    expect(await b.consumerPlan.canSend(storage().db.kysely, late.account_id, t.clock.now())).toBe(true);

    // Renewal through the test provider: a year from now, sending resumes, the fee is charged once.
    const renewed = await b.consumerPlan.renew(ana.account_id, { provider: 'test' });
    expect(renewed).toMatchObject({ can_send: true, expires_at: t.clock.now() + 365 * DAY });
    await expect(send(ana, ben)).resolves.toBeDefined();
    const charges = await storage()
      .db.kysely.selectFrom('billing_charges')
      .select(['amount_micros', 'person_account_id'])
      .where('stream', '=', 'consumer_plan')
      .execute();
    expect(charges.map((c) => [c.person_account_id, Number(c.amount_micros)])).toEqual([
      [ana.account_id, 99 * 10_000],
    ]);
    // Ben is still paused; turning the plan off lifts it at once on this node.
    await expect(send(ben, ana)).rejects.toMatchObject({ code: 'BILLING_CONSUMER_PLAN_EXPIRED' });
    await b.consumerPlan.set({ enabled: false });
    await expect(send(ben, ana)).resolves.toBeDefined();
  });

  it('a declined renewal changes nothing', async () => {
    const { t, b, ana } = await setup(storage());
    await b.consumerPlan.set({ enabled: true });
    t.clock.set(at('2027-03-01T00:00:00Z'));
    await expect(b.consumerPlan.renew(ana.account_id, { provider: 'manual' })).rejects.toMatchObject({
      code: 'BILLING_PAYMENT_FAILED',
      details: { status: 'pending' },
    });
    await expect(b.consumerPlan.renew(ana.account_id, { provider: 'stripe' })).rejects.toMatchObject({
      code: 'BILLING_PROVIDER_UNKNOWN',
    });
    const st = await b.consumerPlan.status(ana.account_id);
    expect(st.can_send).toBe(false);
    expect(st.expires_at).toBe(at('2026-01-01T00:00:00Z') + 365 * DAY);
  });
});
