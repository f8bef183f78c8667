import fc from 'fast-check';
import { beforeAll, expect, it } from 'vitest';
import { describeStorage, type StorageContext } from '../../../test/harness/storage.js';
import { createManualClock } from '../../platform/clock.js';
import { createIds } from '../../platform/ids.js';
import { createLedger } from '../ledger/index.js';
import type { BillingAccountRow, ChargeRow, MessageEvent } from './billing-accounts.repo.js';
import { createBillingModule } from './index.js';
import { priceEvents } from './metering.js';
import { memoryState } from './pricing-rules.js';

const at = (iso: string) => Date.parse(iso);
const HOUR = 3600_000;
const HEADER = 'category,market,unit_price,from_count\n';

// Two versions of the USD card: marketing gets dearer on 20 November.
const CARD_V1 =
  `${HEADER}marketing,*,0.025,\nmarketing,BR,0.0625,\nutility,*,0.0044,\n` +
  'utility,BR,0.008,\nutility,BR,0.006,4\nauthentication,*,0.0135,\n';
const CARD_V2 = CARD_V1.replace('marketing,*,0.025,', 'marketing,*,0.03,');

type Category = MessageEvent['category'];
interface EventSpec {
  business: string;
  phone?: string;
  category: Category;
  market?: string;
  windowOpen?: boolean;
  entryPoint?: string | null;
  recipient?: string;
  at: number;
}

let seq = 0;
function event(s: EventSpec): MessageEvent {
  const message_id = `msg_${++seq}_${s.business}`;
  return {
    event_key: `delivered:${message_id}`,
    kind: 'delivered',
    business_id: s.business,
    phone_number_id: s.phone ?? `pn_${s.business}`,
    message_id,
    category: s.category,
    market: s.market ?? 'US',
    window_open: s.windowOpen ? 1 : 0,
    entry_point: s.entryPoint ?? null,
    source: 'api',
    occurred_at: s.at,
    recipient: s.recipient ?? '+15550001',
  };
}

async function setup(storage: StorageContext) {
  const db = storage.db;
  const clock = createManualClock(at('2026-10-01T00:00:00Z'));
  const ids = createIds(clock);
  const ledger = createLedger({ db, clock, ids });
  const billing = createBillingModule({
    db,
    ledger,
    clock,
    ids,
    defaults: { currency: 'USD', creditLimitMinor: 0n },
  });
  const v1 = await billing.rateCards.importCsv(CARD_V1, {
    currency: 'USD',
    name: 'v1',
    effectiveFrom: at('2026-11-01T00:00:00Z'),
  });
  const v2 = await billing.rateCards.importCsv(CARD_V2, {
    currency: 'USD',
    name: 'v2',
    effectiveFrom: at('2026-11-20T00:00:00Z'),
    supersede: true,
  });
  // PMP in November, PMP_2026 in December, CBP in January, PMP again from February.
  await billing.pricingModels.set('PMP_2026', at('2026-12-01T00:00:00Z'));
  await billing.pricingModels.set('CBP', at('2027-01-01T00:00:00Z'));
  await billing.pricingModels.set('PMP', at('2027-02-01T00:00:00Z'));

  /** Records delivery events as the inbox does: the event rows and their metering, in one transaction. */
  async function deliver(events: MessageEvent[]): Promise<number> {
    return db.kysely.transaction().execute(async (tx) => {
      const fresh = events.filter((e) => !recorded.has(e.event_key));
      for (const e of fresh) recorded.add(e.event_key);
      if (fresh.length > 0) await tx.insertInto('message_events').values(fresh).execute();
      return billing.metering.meter(tx, events);
    });
  }
  const recorded = new Set<string>();

  async function chargesOf(business: string): Promise<ChargeRow[]> {
    return db.kysely
      .selectFrom('billing_charges')
      .selectAll()
      .where('business_id', '=', business)
      .orderBy('occurred_at')
      .orderBy('idempotency_key')
      .execute();
  }
  const byKey = (charges: ChargeRow[]) => new Map(charges.map((c) => [c.idempotency_key, c]));
  const account = async (business: string) =>
    (await billing.accounts.get('business', business)) as BillingAccountRow;
  const balance = async (business: string) => ledger.balance((await account(business)).ledger_account_id);

  return { db, clock, ids, ledger, billing, v1, v2, deliver, chargesOf, byKey, account, balance };
}

describeStorage('metering', (storage) => {
  let t: Awaited<ReturnType<typeof setup>>;
  beforeAll(async () => {
    t = await setup(storage());
  });

  it('PMP: marketing and utility outside the window are charged; service, utility in the window and free entry points are free', async () => {
    const day = at('2026-11-05T10:00:00Z');
    const marketing = event({ business: 'biz_pmp', category: 'marketing', at: day });
    const utilityIn = event({ business: 'biz_pmp', category: 'utility', windowOpen: true, at: day + 1 });
    const utilityOut = event({ business: 'biz_pmp', category: 'utility', at: day + 2 });
    const service = event({ business: 'biz_pmp', category: 'service', windowOpen: true, at: day + 3 });
    const fep = event({ business: 'biz_pmp', category: 'marketing', entryPoint: 'ctwa', at: day + 4 });
    expect(await t.deliver([marketing, utilityIn, utilityOut, service, fep])).toBe(5);

    const charges = t.byKey(await t.chargesOf('biz_pmp'));
    const view = (e: MessageEvent) => {
      const c = charges.get(`msg:${e.event_key}`);
      return c && [c.billable, c.pricing_model, c.pricing_type, BigInt(c.amount_micros)];
    };
    expect(view(marketing)).toEqual([1, 'PMP', 'regular', 25_000n]);
    expect(view(utilityIn)).toEqual([0, 'PMP', 'free_customer_service', 0n]);
    expect(view(utilityOut)).toEqual([1, 'PMP', 'regular', 4_400n]);
    expect(view(service)).toEqual([0, 'PMP', 'free_customer_service', 0n]);
    expect(view(fep)).toEqual([0, 'PMP', 'free_entry_point', 0n]);
    // 29,400 micros: 2 cents posted, 9,400 micros carried.
    expect((await t.balance('biz_pmp')).posted).toBe(-2n);
    expect(BigInt((await t.account('biz_pmp')).carry_micros)).toBe(9_400n);
  });

  it('records the rate-card version in force when the message was delivered', async () => {
    const before = event({ business: 'biz_ver', category: 'marketing', at: at('2026-11-19T23:59:59Z') });
    const after = event({ business: 'biz_ver', category: 'marketing', at: at('2026-11-20T00:00:00Z') });
    await t.deliver([after, before]);
    const charges = t.byKey(await t.chargesOf('biz_ver'));
    const b = charges.get(`msg:${before.event_key}`);
    const a = charges.get(`msg:${after.event_key}`);
    expect([b?.rate_card_version_id, BigInt(b?.unit_price_micros ?? -1)]).toEqual([t.v1.id, 25_000n]);
    expect([a?.rate_card_version_id, BigInt(a?.unit_price_micros ?? -1)]).toEqual([t.v2.id, 30_000n]);
  });

  it('volume tiers: the 4th utility message of the month to BR and later ones cost the lower rate', async () => {
    const base = at('2026-11-06T00:00:00Z');
    const events = Array.from({ length: 5 }, (_, i) =>
      event({ business: 'biz_tier', category: 'utility', market: 'BR', at: base + i * HOUR }),
    );
    // Two batches, the second first in the array: metering order is time, not arrival.
    await t.deliver(events.slice(0, 2));
    await t.deliver([...events.slice(2)].reverse());
    const units = (await t.chargesOf('biz_tier')).map((c) => BigInt(c.unit_price_micros));
    expect(units).toEqual([8_000n, 8_000n, 8_000n, 6_000n, 6_000n]);
  });

  it('sub-cent prices: 3 messages at USD 0.0044 post 1 cent and carry 3,200 micros', async () => {
    const base = at('2026-11-07T00:00:00Z');
    const events = [0, 1, 2].map((i) => event({ business: 'biz_sub', category: 'utility', at: base + i }));
    // One at a time: the carry adds up across batches.
    for (const e of events) await t.deliver([e]);
    const charges = await t.chargesOf('biz_sub');
    expect(charges.map((c) => BigInt(c.amount_micros))).toEqual([4_400n, 4_400n, 4_400n]);
    const b = await t.balance('biz_sub');
    expect(b.posted).toBe(-1n);
    expect(b.pendingDebits).toBe(0n);
    expect(BigInt((await t.account('biz_sub')).carry_micros)).toBe(3_200n);
    const check = await t.ledger.check();
    expect(check.ok).toBe(true);
    expect(check.mismatches).toEqual([]);
  });

  it('replaying the same events changes nothing', async () => {
    const base = at('2026-11-08T00:00:00Z');
    const events = Array.from({ length: 7 }, (_, i) =>
      event({ business: 'biz_replay', category: i % 2 ? 'marketing' : 'utility', at: base + i * HOUR }),
    );
    expect(await t.deliver(events)).toBe(7);
    const charges = await t.chargesOf('biz_replay');
    const balance = await t.balance('biz_replay');
    const carry = (await t.account('biz_replay')).carry_micros;
    // The same batch, a prefix, a duplicate inside one batch: all already charged.
    expect(await t.deliver(events)).toBe(0);
    expect(await t.deliver(events.slice(0, 3))).toBe(0);
    expect(await t.deliver([events[4] as MessageEvent, events[4] as MessageEvent])).toBe(0);
    expect(await t.chargesOf('biz_replay')).toEqual(charges);
    expect(await t.balance('biz_replay')).toEqual(balance);
    expect((await t.account('biz_replay')).carry_micros).toEqual(carry);
    // Events of other kinds are not metered.
    const read = { ...event({ business: 'biz_replay', category: 'marketing', at: base }), kind: 'read' };
    expect(await t.billing.metering.meter(t.db.kysely, [read as unknown as MessageEvent])).toBe(0);
  });

  it('PMP_2026: 1,000 free service messages per number and month, then the utility rate', async () => {
    const base = at('2026-12-03T00:00:00Z');
    const events = Array.from({ length: 1002 }, (_, i) =>
      event({
        business: 'biz_2026',
        phone: 'pn_2026_a',
        category: 'service',
        windowOpen: true,
        at: base + i,
      }),
    );
    await t.deliver(events.slice(0, 600));
    await t.deliver(events.slice(600));
    // Another number of the same business has its own quota; marketing is charged as ever.
    const other = event({ business: 'biz_2026', phone: 'pn_2026_b', category: 'service', at: base + 5000 });
    const marketing = event({
      business: 'biz_2026',
      phone: 'pn_2026_b',
      category: 'marketing',
      at: base + 5001,
    });
    await t.deliver([other, marketing]);
    const charges = await t.chargesOf('biz_2026');
    expect(charges).toHaveLength(1004);
    const byKey = t.byKey(charges);
    const billable = charges.filter((c) => c.billable === 1);
    expect(billable.map((c) => c.idempotency_key).sort()).toEqual(
      [events[1000], events[1001], marketing].map((e) => `msg:${e?.event_key}`).sort(),
    );
    const last = byKey.get(`msg:${events[1001]?.event_key}`);
    expect([
      last?.pricing_model,
      last?.pricing_type,
      last?.category,
      BigInt(last?.amount_micros ?? 0),
    ]).toEqual(['PMP_2026', 'regular', 'service', 4_400n]);
    expect(byKey.get(`msg:${events[999]?.event_key}`)?.pricing_type).toBe('free_tier');
    expect(byKey.get(`msg:${other.event_key}`)?.pricing_type).toBe('free_tier');
    expect(BigInt(byKey.get(`msg:${marketing.event_key}`)?.amount_micros ?? 0)).toBe(30_000n);
  });

  it('CBP: one charge per 24-hour conversation per category and recipient', async () => {
    const t0 = at('2027-01-10T08:00:00Z');
    const e = (category: Category, offset: number, recipient = '+15550101') =>
      event({ business: 'biz_cbp', category, recipient, at: t0 + offset });
    const first = e('marketing', 0);
    const inside = e('marketing', HOUR);
    const utility = e('utility', 2 * HOUR);
    const utilityAgain = e('utility', 3 * HOUR);
    const nextDay = e('marketing', 25 * HOUR);
    const otherPerson = e('marketing', 0, '+15550102');
    await t.deliver([first, inside, utility]);
    await t.deliver([utilityAgain, nextDay, otherPerson]);
    const byKey = t.byKey(await t.chargesOf('biz_cbp'));
    const billable = (x: MessageEvent) => byKey.get(`msg:${x.event_key}`)?.billable;
    expect([first, inside, utility, utilityAgain, nextDay, otherPerson].map(billable)).toEqual([
      1, 0, 1, 0, 1, 1,
    ]);
    expect(byKey.get(`msg:${first.event_key}`)?.pricing_model).toBe('CBP');
  });

  it('property: charges equal independently priced events, and replaying any prefix changes nothing', async () => {
    let run = 0;
    const months = [at('2026-11-21T00:00:00Z'), at('2026-12-10T00:00:00Z'), at('2027-01-15T00:00:00Z')];
    const spec = fc.record({
      category: fc.constantFrom<Category>('marketing', 'utility', 'authentication', 'service'),
      market: fc.constantFrom('US', 'BR', 'DE'),
      windowOpen: fc.boolean(),
      entryPoint: fc.option(fc.constant('ctwa'), { freq: 5 }),
      recipient: fc.constantFrom('+15550201', '+15550202', '+15550203'),
      phone: fc.constantFrom('a', 'b'),
      offset: fc.integer({ min: 0, max: 60 * HOUR }),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...months),
        fc.array(spec, { minLength: 1, maxLength: 40 }),
        fc.array(fc.integer({ min: 1, max: 15 }), { minLength: 1, maxLength: 5 }),
        fc.nat(),
        async (month, specs, cuts, prefixSeed) => {
          const business = `biz_prop_${++run}`;
          const events = specs
            .map((s) => event({ ...s, business, phone: `pn_prop_${run}_${s.phone}`, at: month + s.offset }))
            .sort((a, b) => a.occurred_at - b.occurred_at || (a.event_key < b.event_key ? -1 : 1));
          // Metered in consecutive batches of random sizes, as deliveries arrive.
          let i = 0;
          for (let c = 0; i < events.length; c++) {
            const size = cuts[c % cuts.length] as number;
            await t.deliver(events.slice(i, i + size));
            i += size;
          }
          const charges = await t.chargesOf(business);
          expect(charges).toHaveLength(events.length);

          const account = await t.account(business);
          const expected = await priceEvents(
            { rateCards: t.billing.rateCards, pricingModels: t.billing.pricingModels, ids: t.ids },
            t.db.kysely,
            events,
            new Map([[business, account]]),
            memoryState(),
            0,
          );
          const sum = (xs: { amount_micros: unknown; billable: unknown }[]) =>
            xs.reduce((s, c) => s + BigInt(c.amount_micros as string), 0n);
          expect(sum(charges)).toBe(sum(expected));
          expect(charges.filter((c) => c.billable === 1)).toHaveLength(
            expected.filter((c) => c.billable === 1).length,
          );
          // Money: posted cents plus the carry are exactly the billable micros.
          const posted = -(await t.balance(business)).posted;
          expect(posted * 10_000n + BigInt(account.carry_micros)).toBe(sum(charges));

          const before = { balance: await t.balance(business), carry: account.carry_micros };
          const prefix = events.slice(0, 1 + (prefixSeed % events.length));
          expect(await t.deliver(prefix)).toBe(0);
          expect(await t.chargesOf(business)).toEqual(charges);
          expect(await t.balance(business)).toEqual(before.balance);
          expect((await t.account(business)).carry_micros).toEqual(before.carry);
        },
      ),
      { numRuns: 25 },
    );
    expect((await t.ledger.check()).ok).toBe(true);
  });

  it('reconciles every month to zero differences, and finds a deleted charge', async () => {
    for (const period of ['2026-11', '2026-12', '2027-01']) {
      const report = await t.billing.reconciler.reconcile(period);
      expect(report.details).toEqual([]);
      expect(report.differences).toBe(0);
      expect(report.charges).toBe(report.events);
    }
    const victim = (await t.chargesOf('biz_pmp'))[0] as ChargeRow;
    await t.db.kysely.deleteFrom('billing_charges').where('id', '=', victim.id).execute();
    const report = await t.billing.reconciler.reconcile('2026-11');
    expect(report.differences).toBeGreaterThanOrEqual(1);
    expect(report.missing_charges).toBe(1);
    expect(report.details.join('\n')).toContain(victim.idempotency_key);
  });

  it('finds a charge without its delivery, a changed amount and usage the ledger never saw', async () => {
    const charges = await t.chargesOf('biz_sub');
    const [orphan, changed] = charges as [ChargeRow, ChargeRow];
    // The test before left a deleted charge behind: count from there.
    const before = await t.billing.reconciler.reconcile('2026-11');
    expect(before.extra_charges).toBe(0);
    // The delivery behind one charge disappears: an extra charge, and its line no longer matches.
    await t.db.kysely
      .deleteFrom('message_events')
      .where('event_key', '=', orphan.idempotency_key.slice('msg:'.length))
      .execute();
    let report = await t.billing.reconciler.reconcile('2026-11');
    expect(report.extra_charges).toBe(1);
    expect(report.ledger_differences).toBe(before.ledger_differences);
    expect(report.details.join('\n')).toContain(`charge ${orphan.idempotency_key} has no delivery event`);

    // A charge's amount edited in place: its line and its account's money both disagree.
    await t.db.kysely
      .updateTable('billing_charges')
      .set({ amount_micros: 5_400 })
      .where('id', '=', changed.id)
      .execute();
    report = await t.billing.reconciler.reconcile('2026-11');
    expect(report.ledger_differences).toBe(before.ledger_differences + 1);
    expect(report.line_differences).toBeGreaterThan(before.line_differences);
    const sub = await t.account('biz_sub');
    expect(report.details.join('\n')).toContain(
      `account ${sub.id}: ledger usage 1 minor + carry 3200 micros ≠ charges 14200 micros`,
    );
    expect(report.differences).toBe(
      report.missing_charges +
        report.extra_charges +
        report.line_differences +
        report.ledger_differences +
        report.invoice_differences,
    );
  });
});
