import { randomUUID } from 'node:crypto';
import { afterEach, expect, it } from 'vitest';
import {
  closeTestContexts,
  createTestContext,
  newPhone,
  type TestContext,
} from '../../../../test/harness/builders.js';
import { describeStorage, type StorageContext } from '../../../../test/harness/storage.js';
import { createBusinessRepo } from '../../business/business.repo.js';
import { GraphError } from '../graph-error.js';
import { createLimitsModule } from './index.js';
import { DAY, HOUR, SECOND } from './limits.policy.js';
import type { CheckInput } from './limits.service.js';

const b64 = (text: string) => Buffer.from(JSON.stringify({ text })).toString('base64');
type Person = Awaited<ReturnType<TestContext['newPerson']>>;

async function setup(storage: StorageContext, options: { verified?: boolean } = {}) {
  const t = createTestContext(storage);
  t.clock.set(Date.UTC(2026, 2, 2, 9));
  const owner = await t.newPerson('Owner');
  const phone = newPhone();
  const created = await t.business.create({ name: 'Acme', phone, owner: owner.phone });
  const businessId = created.business_id;
  await t.business.setPlan(businessId, 'premium');
  if (options.verified) await t.business.setVerified(businessId, true);
  await t.hostedEndpoint.start();
  const businessRepo = createBusinessRepo(storage.db.kysely);
  const number = await businessRepo.numberById(created.phone_number_id);
  const business = await businessRepo.find(businessId);
  if (!number || !business) throw new Error('no business');
  const limits = createLimitsModule({ db: storage.db, clock: t.clock }).service;
  let n = 0;

  /** The person messages the business number now, and the inbox takes it in. */
  async function inbound(from: Person, text = 'hi') {
    await t.delivery.send(from.actor, { clientId: `in-${++n}`, to: phone, payload: b64(text) });
    await t.hostedEndpoint.idle();
  }
  /** The number sends the person a message through the inbox (an agent's or the API's). */
  async function outbound(to: Person, text = 'hello') {
    const from = number as NonNullable<typeof number>;
    const { sending } = await t.inbox.queueSends([
      {
        number: from,
        row: {
          client_id: `out-${++n}`,
          phone_number_id: from.phone_number_id,
          to_account: to.account_id,
          author: 'api',
          payload: b64(text),
          created_at: t.clock.now(),
        },
      },
    ]);
    await sending;
  }
  /** An API message as the send pipeline stores it. */
  async function apiMessage(
    toPhone: string,
    at: number,
    status: 'sent' | 'delivered' | 'failed' = 'delivered',
  ) {
    await storage.db.kysely
      .insertInto('api_messages')
      .values({
        message_id: `msg_${randomUUID()}`,
        business_id: businessId,
        phone_number_id: created.phone_number_id,
        to_phone: toPhone,
        to_account: null,
        type: 'template',
        category: 'marketing',
        template_id: null,
        callback_data: null,
        window_open: 0,
        entry_point: null,
        status,
        error_code: null,
        error_details: null,
        created_at: at,
        sent_at: null,
        delivered_at: null,
        read_at: null,
      })
      .execute();
  }
  const input = (over: Partial<CheckInput> = {}): CheckInput => ({
    business,
    number: number as NonNullable<typeof number>,
    personAccountId: undefined,
    toPhone: newPhone(),
    kind: 'template',
    category: 'utility',
    ...over,
  });
  return {
    t,
    owner,
    phone,
    businessId,
    created,
    number,
    business,
    limits,
    inbound,
    outbound,
    apiMessage,
    input,
  };
}

/** The GraphError a promise rejects with (the test fails when it resolves). */
async function refusal(p: Promise<unknown>): Promise<GraphError> {
  try {
    await p;
  } catch (e: unknown) {
    if (e instanceof GraphError) return e;
    throw e;
  }
  throw new Error('expected a refusal, but the message was allowed');
}

describeStorage('Business Messaging API limits', (storage: () => StorageContext) => {
  afterEach(closeTestContexts);

  it('allows 80 messages a second per number and refuses the 81st at once (130429); the next second is fine', async () => {
    const { t, limits, input } = await setup(storage());
    for (let i = 0; i < 80; i++) await limits.check(input());
    const e = await refusal(limits.check(input()));
    expect([e.code, e.status, e.async]).toEqual([130429, 400, false]);
    t.clock.advance(SECOND);
    for (let i = 0; i < 80; i++) await limits.check(input());
    await refusal(limits.check(input()));
  });

  it('takes the operator’s throughput for a number, and shows it as HIGH', async () => {
    const { t, limits, input, created, number } = await setup(storage(), { verified: true });
    expect((await limits.numberStatus(number, true)).throughput).toEqual({ level: 'STANDARD' });
    await limits.setThroughput(created.phone_number_id, 1000);
    for (let i = 0; i < 1000; i++) await limits.check(input());
    expect((await refusal(limits.check(input()))).code).toBe(130429);
    expect((await limits.numberStatus(number, true)).throughput).toEqual({ level: 'HIGH' });
    await expect(limits.setThroughput(created.phone_number_id, 0)).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    await expect(limits.setThroughput('999', 100)).rejects.toMatchObject({ code: 'BUSINESS_NOT_FOUND' });
    // Another process (a fresh service) reads the stored value.
    const other = createLimitsModule({ db: storage().db, clock: t.clock }).service;
    for (let i = 0; i < 1000; i++) await other.check(input());
  });

  it('limits one person to bursts of 45, then one message per 6 seconds (131056)', async () => {
    const { t, limits, input } = await setup(storage());
    const to = newPhone();
    for (let i = 0; i < 45; i++) await limits.check(input({ toPhone: to }));
    const e = await refusal(limits.check(input({ toPhone: to })));
    expect([e.code, e.async]).toEqual([131056, false]);
    // Others are not held up, and the refusal took no throughput.
    await limits.check(input());
    t.clock.advance(5 * SECOND);
    await refusal(limits.check(input({ toPhone: to })));
    t.clock.advance(SECOND);
    await limits.check(input({ toPhone: to }));
  });

  it('allows free-form messages for 24 hours after the person’s last message, templates always (131047)', async () => {
    const { t, limits, input, inbound } = await setup(storage());
    const pat = await t.newPerson('Pat');
    const to = { personAccountId: pat.account_id, toPhone: pat.phone };

    // Never wrote: only a template may open the conversation.
    expect((await refusal(limits.check(input({ ...to, kind: 'free_form' })))).code).toBe(131047);
    expect(await limits.check(input({ ...to, kind: 'template' }))).toEqual({
      windowOpen: false,
      entryPoint: null,
    });

    await inbound(pat);
    t.clock.advance(DAY - 1);
    expect(await limits.check(input({ ...to, kind: 'free_form' }))).toEqual({
      windowOpen: true,
      entryPoint: null,
    });
    t.clock.advance(1);
    const e = await refusal(limits.check(input({ ...to, kind: 'free_form' })));
    expect([e.code, e.status, e.async]).toEqual([131047, 400, true]);
    expect(e.extra.details).toMatch(/more than 24 hours/);
    expect(await limits.check(input({ ...to, kind: 'template', category: 'marketing' }))).toEqual({
      windowOpen: false,
      entryPoint: null,
    });
    // Writing again reopens it.
    await inbound(pat, 'back again');
    expect((await limits.check(input({ ...to, kind: 'free_form' }))).windowOpen).toBe(true);
  });

  it('reports a free entry point for 72 hours of a conversation started from a short link', async () => {
    const { t, limits, input, inbound, owner, businessId } = await setup(storage());
    const link = await t.links.create(owner.actor, businessId, { text: 'Book a table' });
    const lee = await t.newPerson('Lee');
    await t.links.open(lee.actor, link.code, 'link');
    t.clock.advance(60_000);
    await inbound(lee, 'Book a table');
    const to = { personAccountId: lee.account_id, toPhone: lee.phone };
    expect(await limits.check(input({ ...to, kind: 'free_form' }))).toEqual({
      windowOpen: true,
      entryPoint: 'link',
    });
    t.clock.advance(48 * HOUR);
    expect(await limits.check(input(to))).toEqual({ windowOpen: false, entryPoint: 'link' });
    t.clock.advance(24 * HOUR);
    expect(await limits.check(input(to))).toEqual({ windowOpen: false, entryPoint: null });
  });

  it('counts unique people reached by business-initiated messages per business in a rolling 24 h (131048)', async () => {
    const { t, limits, input, inbound, number, created } = await setup(storage());
    await limits.setThroughput(created.phone_number_id, 100_000);
    expect((await limits.numberStatus(number, false)).messaging_limit_tier).toBe('TIER_250');
    const people = Array.from({ length: 250 }, () => newPhone());
    for (const to of people) await limits.check(input({ toPhone: to }));
    t.clock.advance(HOUR);
    const e = await refusal(limits.check(input({ toPhone: newPhone() })));
    expect([e.code, e.async]).toEqual([131048, true]);
    expect(e.extra.details).toMatch(/messaging limit of 250/);
    // Someone already reached counts once; replies inside a window are not limited.
    await limits.check(input({ toPhone: people[0] }));
    const pat = await t.newPerson('Pat');
    await inbound(pat);
    await limits.check(input({ toPhone: pat.phone, personAccountId: pat.account_id }));
    await limits.check(input({ toPhone: pat.phone, personAccountId: pat.account_id, kind: 'free_form' }));
    // 24 h after the first 250 (but not after people[0]'s second message) there is room for 249.
    t.clock.advance(DAY - HOUR);
    for (let i = 0; i < 249; i++) await limits.check(input());
    await refusal(limits.check(input()));
  });

  it('counts what other processes sent, from stored API messages, but not failed ones', async () => {
    const { t, limits, input, apiMessage } = await setup(storage());
    const now = t.clock.now();
    for (let i = 0; i < 248; i++) await apiMessage(newPhone(), now - HOUR);
    await apiMessage(newPhone(), now - DAY - 1);
    await apiMessage(newPhone(), now - HOUR, 'failed');
    await limits.check(input());
    await limits.check(input());
    expect((await refusal(limits.check(input()))).code).toBe(131048);
  });

  it('starts a verified business at 2,000 (TIER_1K on the wire) and lets the operator set a tier', async () => {
    const { limits, input, number, businessId, created } = await setup(storage(), { verified: true });
    await limits.setThroughput(created.phone_number_id, 100_000);
    expect((await limits.numberStatus(number, true)).messaging_limit_tier).toBe('TIER_1K');
    for (let i = 0; i < 300; i++) await limits.check(input());
    expect(await limits.setTier(businessId, 'TIER_UNLIMITED')).toBe('TIER_UNLIMITED');
    expect((await limits.numberStatus(number, true)).messaging_limit_tier).toBe('TIER_UNLIMITED');
    expect(await limits.tierOf(businessId)).toMatchObject({ tier: 'TIER_UNLIMITED', changed_by: 'operator' });
    await expect(limits.setTier(businessId, 'TIER_3K')).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(limits.setTier('biz_nope', 'TIER_2K')).rejects.toMatchObject({ code: 'BUSINESS_NOT_FOUND' });
  });

  it('upgrades a tier every 6 hours at most, after half the limit was used over 7 days', async () => {
    const { t, limits, businessId, apiMessage, number } = await setup(storage(), { verified: true });
    const now = t.clock.now();
    // 999 unique people over the week (one of them twice): not yet half of 2,000.
    for (let i = 0; i < 999; i++)
      await apiMessage(`+1666${String(i).padStart(7, '0')}`, now - (i % 6) * DAY - HOUR);
    await apiMessage('+16660000000', now - HOUR);
    await limits.evaluate();
    expect(await limits.tierOf(businessId)).toEqual({
      tier: 'TIER_2K',
      changed_at: now,
      changed_by: 'initial',
      evaluated_at: now,
    });

    await apiMessage(newPhone(), now);
    // Not due again before 6 h.
    t.clock.advance(6 * HOUR - 1);
    await limits.evaluate();
    expect(await limits.tierOf(businessId)).toMatchObject({ tier: 'TIER_2K', evaluated_at: now });
    t.clock.advance(1);
    expect(await limits.evaluate()).toMatchObject({ upgraded: expect.any(Number) });
    expect(await limits.tierOf(businessId)).toEqual({
      tier: 'TIER_10K',
      changed_at: t.clock.now(),
      changed_by: 'automatic',
      evaluated_at: t.clock.now(),
    });
    expect((await limits.numberStatus(number, true)).messaging_limit_tier).toBe('TIER_10K');
  });

  it('takes an unverified business to 2,000 after 2,000 unique people got its templates in 30 days', async () => {
    const { t, limits, businessId, apiMessage } = await setup(storage());
    const now = t.clock.now();
    for (let i = 0; i < 1999; i++)
      await apiMessage(`+1777${String(i).padStart(7, '0')}`, now - (i % 29) * DAY);
    await apiMessage(newPhone(), now, 'sent');
    await limits.evaluate();
    expect((await limits.tierOf(businessId)).tier).toBe('TIER_250');
    await apiMessage(newPhone(), now, 'delivered');
    t.clock.advance(6 * HOUR);
    await limits.evaluate();
    expect((await limits.tierOf(businessId)).tier).toBe('TIER_2K');
  });

  it('rates a number RED when people it messaged block or report it, which stops upgrades', async () => {
    const { t, limits, businessId, apiMessage, number, outbound, phone } = await setup(storage(), {
      verified: true,
    });
    const people = [
      await t.newPerson('A'),
      await t.newPerson('B'),
      await t.newPerson('C'),
      await t.newPerson('D'),
    ];
    for (const p of people) await outbound(p);
    const stranger = await t.newPerson('Stranger');
    // Someone the number never messaged: their block says nothing about its messages.
    await t.contacts.block(stranger.actor, phone);
    await t.contacts.block(people[0]!.actor, phone);
    await t.contacts.report(people[1]!.actor, { account: phone, reason: 'spam' });
    await limits.evaluate();
    expect((await limits.numberStatus(number, true)).quality_rating).toBe('YELLOW');

    await t.contacts.report(people[2]!.actor, { account: phone, block: true });
    for (let i = 0; i < 1000; i++) await apiMessage(`+1888${String(i).padStart(7, '0')}`, t.clock.now());
    t.clock.advance(6 * HOUR);
    await limits.evaluate();
    expect(await limits.numberStatus(number, true)).toMatchObject({
      quality_rating: 'RED',
      status: 'FLAGGED',
    });
    expect((await limits.tierOf(businessId)).tier).toBe('TIER_2K');

    // A week later the feedback has aged out: GREEN again, and the upgrade goes through.
    t.clock.advance(7 * DAY);
    for (let i = 0; i < 1000; i++) await apiMessage(`+1999${String(i).padStart(7, '0')}`, t.clock.now());
    await limits.evaluate();
    expect(await limits.numberStatus(number, true)).toMatchObject({
      quality_rating: 'GREEN',
      status: 'CONNECTED',
    });
    expect((await limits.tierOf(businessId)).tier).toBe('TIER_10K');
  });

  it('refuses a person who blocked the number, as Meta does: accepted, then failed (131026)', async () => {
    const { t, limits, input, phone } = await setup(storage());
    const pat = await t.newPerson('Pat');
    await t.contacts.block(pat.actor, phone);
    const e = await refusal(limits.check(input({ personAccountId: pat.account_id, toPhone: pat.phone })));
    expect([e.code, e.async]).toEqual([131026, true]);
    expect(e.extra.details).not.toMatch(/block/);
    await t.contacts.unblock(pat.actor, phone);
    await limits.check(input({ personAccountId: pat.account_id, toPhone: pat.phone }));
  });

  it('stops marketing templates after STOP or UNSUBSCRIBE until START (131050); other messages go on', async () => {
    const { t, limits, input, inbound, businessId, created } = await setup(storage());
    const pat = await t.newPerson('Pat');
    const to = { personAccountId: pat.account_id, toPhone: pat.phone };
    const record = (text: string) =>
      storage()
        .db.kysely.transaction()
        .execute((tx) =>
          limits.recordInbound(tx, {
            businessId,
            phoneNumberId: created.phone_number_id,
            personAccountId: pat.account_id,
            text,
            at: t.clock.now(),
          }),
        );
    await inbound(pat, 'Stop');
    await record('Stop');
    const e = await refusal(limits.check(input({ ...to, category: 'marketing' })));
    expect([e.code, e.async]).toEqual([131050, true]);
    await limits.check(input({ ...to, category: 'utility' }));
    await limits.check(input({ ...to, category: 'authentication' }));
    await limits.check(input({ ...to, kind: 'free_form' }));
    await record('please stop calling me'); // not the keyword: changes nothing
    await record('start');
    await limits.check(input({ ...to, category: 'marketing' }));
    await record('  UNSUBSCRIBE ');
    await record('UNSUBSCRIBE');
    expect((await refusal(limits.check(input({ ...to, category: 'marketing' })))).code).toBe(131050);
  });
});
