import fc from 'fast-check';
import { afterEach, expect, it } from 'vitest';
import { type ChargeSpec, insertCharges } from '../../../test/harness/partner-charges.js';
import { describeStorage, type StorageContext } from '../../../test/harness/storage.js';
import { microsToMinor } from './money.js';
import { createRevenueRepo } from './revenue.repo.js';
import { createRevenueService } from './revenue.service.js';

const at = (iso: string) => Date.parse(iso);

function setup(storage: StorageContext) {
  const db = storage.db.kysely;
  const revenue = createRevenueService({
    repo: createRevenueRepo(db),
    outstanding: async () => [{ businessId: 'biz_late', currency: 'USD', balanceMinor: -1250n }],
  });
  return { db, revenue };
}

describeStorage('revenue reporting', (storage: () => StorageContext) => {
  // The suite's tests share one database: each starts from no charges.
  afterEach(async () => {
    await storage().db.kysely.deleteFrom('billing_charges').execute();
  });

  it('puts charges in UTC day and month buckets at a month’s edge', async () => {
    const { db, revenue } = setup(storage());
    await insertCharges(db, [
      { occurredAt: at('2026-10-31T23:59:59.999Z'), market: 'DE' },
      { occurredAt: at('2026-11-01T00:00:00.000Z'), market: 'DE' },
      { occurredAt: at('2026-11-01T00:00:00.001Z'), market: 'DE', quantity: 2 },
      { occurredAt: at('2026-11-30T23:59:59.999Z'), market: 'DE' },
      { occurredAt: at('2026-12-01T00:00:00.000Z'), market: 'DE' },
    ]);
    const days = await revenue.report({ from: '2026-10-31', to: '2026-12-01', granularity: 'day' });
    expect(days.rows.map((r) => [r.bucket, r.count, r.operator_micros])).toEqual([
      ['2026-10-31', 1, '4400'],
      ['2026-11-01', 3, '13200'],
      ['2026-11-30', 1, '4400'],
      ['2026-12-01', 1, '4400'],
    ]);
    const months = await revenue.report({ from: '2026-10-31', to: '2026-12-01' });
    expect(months.granularity).toBe('month');
    expect(months.rows.map((r) => [r.bucket, r.count])).toEqual([
      ['2026-10', 1],
      ['2026-11', 4],
      ['2026-12', 1],
    ]);
    // A month by its period leaves out the instants on either side.
    const nov = await revenue.report({ period: '2026-11', granularity: 'day' });
    expect(nov).toMatchObject({ from: '2026-11-01', to: '2026-11-30' });
    expect(nov.rows.map((r) => r.count)).toEqual([3, 1]);
    // Every stream is in the totals, zero when nothing was charged.
    expect(nov.totals.map((t) => [t.stream, t.currency, t.count, t.operator_minor, t.partner_minor])).toEqual(
      [
        ['api_messages', 'USD', 4, '2', '0'],
        ['premium_plan', 'USD', 0, '0', '0'],
        ['consumer_plan', 'USD', 0, '0', '0'],
        ['payment_commission', 'USD', 0, '0', '0'],
      ],
    );
    const empty = await revenue.report({ period: '2027-01' });
    expect(empty.rows).toEqual([]);
    expect(empty.totals.map((t) => [t.stream, t.currency, t.total_minor])).toEqual([
      ['api_messages', null, '0'],
      ['premium_plan', null, '0'],
      ['consumer_plan', null, '0'],
      ['payment_commission', null, '0'],
    ]);
  });

  it('rows add up to the charges, the operator’s and the partners’ shares apart', async () => {
    const { db, revenue } = setup(storage());
    const start = at('2026-10-25T00:00:00Z');
    const charge = fc.record({
      stream: fc.constantFrom(
        'api_messages',
        'premium_plan',
        'consumer_plan',
        'payment_commission',
      ) as fc.Arbitrary<ChargeSpec['stream']>,
      category: fc.constantFrom('marketing', 'utility', 'service', null),
      market: fc.constantFrom('US', 'DE', 'IN', null),
      currency: fc.constantFrom('USD', 'EUR', 'JPY', 'BHD'),
      quantity: fc.integer({ min: 1, max: 50 }),
      billable: fc.boolean(),
      unitPriceMicros: fc.bigInt({ min: 0n, max: 5_000_000n }),
      partnerMarkupMicros: fc.bigInt({ min: 0n, max: 2_000_000n }),
      // Three weeks around the October/November edge.
      occurredAt: fc.integer({ min: start, max: start + 21 * 86_400_000 - 1 }),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(charge, { maxLength: 60 }),
        fc.constantFrom('day', 'month'),
        async (charges, granularity) => {
          await db.deleteFrom('billing_charges').execute();
          await insertCharges(db, charges);
          const report = await revenue.report({ from: '2026-10-25', to: '2026-11-14', granularity });
          const want = new Map<string, { count: number; op: bigint; pt: bigint }>();
          for (const c of charges) {
            const key = `${c.stream}/${c.currency}`;
            const w = want.get(key) ?? { count: 0, op: 0n, pt: 0n };
            w.count += c.quantity ?? 1;
            w.op += c.billable ? (c.unitPriceMicros ?? 0n) * BigInt(c.quantity ?? 1) : 0n;
            w.pt += c.partnerMarkupMicros ?? 0n;
            want.set(key, w);
          }
          const got = new Map<string, { count: number; op: bigint; pt: bigint }>();
          for (const r of report.rows) {
            const key = `${r.stream}/${r.currency}`;
            const g = got.get(key) ?? { count: 0, op: 0n, pt: 0n };
            g.count += r.count;
            g.op += BigInt(r.operator_micros);
            g.pt += BigInt(r.partner_micros);
            got.set(key, g);
            // Each row is rounded once from its own micros.
            expect(r.operator_minor).toBe(
              microsToMinor(BigInt(r.operator_micros), r.currency, 'half_even').toString(),
            );
            expect(r.partner_minor).toBe(
              microsToMinor(BigInt(r.partner_micros), r.currency, 'half_even').toString(),
            );
            expect(BigInt(r.total_minor)).toBe(BigInt(r.operator_minor) + BigInt(r.partner_minor));
          }
          expect(got).toEqual(want);
          for (const t of report.totals) {
            const w = t.currency === null ? undefined : want.get(`${t.stream}/${t.currency}`);
            expect([t.count, t.operator_micros, t.partner_micros]).toEqual([
              w?.count ?? 0,
              String(w?.op ?? 0n),
              String(w?.pt ?? 0n),
            ]);
          }
        },
      ),
      { numRuns: 25 },
    );
  });

  it('ranks businesses, splits each partner’s share from the operator’s, lists what is owed', async () => {
    const { db, revenue } = setup(storage());
    const nov = at('2026-11-10T10:00:00Z');
    await insertCharges(db, [
      { businessId: 'biz_a', partnerId: 'ptn_p', quantity: 10, partnerMarkupMicros: 4400n, occurredAt: nov },
      { businessId: 'biz_b', quantity: 20, occurredAt: nov },
      {
        businessId: 'biz_c',
        partnerId: 'ptn_p',
        quantity: 1,
        partnerMarkupMicros: 1_000_000n,
        occurredAt: nov,
      },
      { businessId: 'biz_d', quantity: 1, currency: 'EUR', occurredAt: nov },
      {
        businessId: null,
        stream: 'consumer_plan',
        category: null,
        market: null,
        unitPriceMicros: 990_000n,
        occurredAt: nov,
      },
      { businessId: 'biz_b', quantity: 99, occurredAt: at('2026-10-10T00:00:00Z') },
    ]);
    const top = await revenue.topBusinesses({ period: '2026-11', limit: 2, currency: 'USD' });
    expect(top.rows.map((r) => [r.business_id, r.count, r.total_minor])).toEqual([
      ['biz_c', 1, '100'],
      ['biz_b', 20, '9'],
    ]);
    expect((await revenue.topBusinesses({ period: '2026-11' })).rows).toHaveLength(4);

    const split = await revenue.partners({ period: '2026-11' });
    expect(
      split.rows.map((r) => [r.partner_id, r.currency, r.clients, r.operator_micros, r.partner_micros]),
    ).toEqual([
      ['ptn_p', 'USD', 2, '48400', '1004400'],
      [null, 'EUR', 1, '4400', '0'],
      [null, 'USD', 1, '1078000', '0'],
    ]);
    expect(await revenue.outstanding()).toEqual({
      rows: [{ business_id: 'biz_late', currency: 'USD', balance_minor: '-1250' }],
    });
  });

  it('refuses bad ranges', async () => {
    const { revenue } = setup(storage());
    const bad: [Record<string, string>, string[]][] = [
      [{ from: '2026-11-02', to: '2026-11-01' }, ['to']],
      [{ from: '2026-02-30', to: '2026-03-01' }, ['from']],
      [{ from: '2025-01-01', to: '2026-01-02', granularity: 'day' }, ['to']], // 367 days,
      [{ from: '2026-01-01', to: '2026-01-01', granularity: 'week' }, ['granularity']],
      [{ period: '2026-13' }, ['period']],
      [{ period: '2026-11', from: '2026-11-01' }, ['period']],
    ];
    for (const [query, paths] of bad) {
      const error = await revenue.report(query).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'VALIDATION_FAILED' });
      expect(
        (error as { details: { issues: { path: string }[] } }).details.issues.map((i) => i.path),
      ).toEqual(paths);
    }
    await expect(revenue.topBusinesses({ period: '2026-11', limit: 0 })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    await expect(revenue.partners({})).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    // A year of months is fine.
    await expect(revenue.report({ from: '2025-01-01', to: '2025-12-31' })).resolves.toMatchObject({
      rows: [],
    });
  });
});
