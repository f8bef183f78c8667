import fs from 'node:fs';
import { expect, it, vi } from 'vitest';
import { describeStorage, type StorageContext } from '../../../test/harness/storage.js';
import { AppError } from '../../errors.js';
import { createManualClock } from '../../platform/clock.js';
import { createIds } from '../../platform/ids.js';
import { createPricingModelsService } from './pricing-models.service.js';
import { createRateCardsService } from './rate-cards.service.js';

const at = (iso: string) => Date.parse(iso);
const EXAMPLE = fs.readFileSync(
  new URL('../../../../../docs/rate-card.example.csv', import.meta.url),
  'utf8',
);
const HEADER = 'category,market,unit_price,from_count\n';

function setup(storage: StorageContext, start = '2026-11-01T00:00:00Z') {
  const clock = createManualClock(at(start));
  const ids = createIds(clock);
  const rateCards = createRateCardsService({ db: storage.db, clock, ids });
  return { clock, ids, rateCards };
}

async function errorOf(p: Promise<unknown>): Promise<AppError> {
  try {
    await p;
  } catch (e: unknown) {
    if (e instanceof AppError) return e;
    throw e;
  }
  throw new Error('expected an AppError');
}

describeStorage('rate cards', (storage) => {
  it('imports the example card and exports it byte for byte', async () => {
    const { rateCards } = setup(storage());
    const created = await rateCards.importCsv(EXAMPLE, { currency: 'USD', name: 'example' });
    expect(created.rows).toBe(26);
    expect(created.status).toBe('in_force');
    expect(await rateCards.exportCsv(created.id)).toBe(EXAMPLE);
    const shown = await rateCards.get(created.id);
    expect(shown.prices).toContainEqual({
      category: 'utility',
      market: 'US',
      from_count: 0,
      unit_price: '0.0044',
      unit_price_micros: '4400',
    });
  });

  it('prices by the version in force at the time, with market fallback and volume tiers', async () => {
    const { rateCards, clock } = setup(storage());
    const db = storage().db.kysely;
    const first = await rateCards.importCsv(
      `${HEADER}marketing,*,0.05,\nmarketing,DE,0.15,\nutility,DE,0.06,\nutility,DE,0.05,1001\nutility,DE,0.04,10001\n`,
      { currency: 'EUR', effectiveFrom: at('2026-11-01T00:00:00Z') },
    );
    const second = await rateCards.importCsv(`${HEADER}marketing,DE,0.2,\n`, {
      currency: 'EUR',
      effectiveFrom: at('2026-12-01T00:00:00Z'),
      supersede: true,
    });
    const price = (
      when: string,
      category: 'marketing' | 'utility' | 'service',
      market: string,
      monthlyCount = 0,
    ) => rateCards.priceAt(db, { currency: 'EUR', category, market, at: at(when), monthlyCount });

    expect(await price('2026-11-15T00:00:00Z', 'marketing', 'DE')).toEqual({
      versionId: first.id,
      unitPriceMicros: 150_000n,
    });
    expect(await price('2026-11-15T00:00:00Z', 'marketing', 'FR')).toEqual({
      versionId: first.id,
      unitPriceMicros: 50_000n,
    });
    // Tiers: the 1,001st message of the month and later ones cost less.
    expect((await price('2026-11-15T00:00:00Z', 'utility', 'DE', 999))?.unitPriceMicros).toBe(60_000n);
    expect((await price('2026-11-15T00:00:00Z', 'utility', 'DE', 1000))?.unitPriceMicros).toBe(50_000n);
    expect((await price('2026-11-15T00:00:00Z', 'utility', 'DE', 20_000))?.unitPriceMicros).toBe(40_000n);
    // No row and no `*` row: priced 0 and flagged.
    expect(await price('2026-11-15T00:00:00Z', 'utility', 'FR')).toEqual({
      versionId: first.id,
      unitPriceMicros: 0n,
      noPrice: true,
    });
    // The first version was closed where the second begins.
    expect(await price('2026-11-30T23:59:59.999Z', 'marketing', 'DE')).toMatchObject({ versionId: first.id });
    expect(await price('2026-12-01T00:00:00Z', 'marketing', 'DE')).toEqual({
      versionId: second.id,
      unitPriceMicros: 200_000n,
    });
    // Before any version: no price at all.
    expect(await price('2026-10-31T00:00:00Z', 'marketing', 'DE')).toBeNull();
    expect((await rateCards.list('EUR')).map((v) => [v.id, v.status, v.effective_to])).toEqual([
      [first.id, 'in_force', '2026-12-01T00:00:00.000Z'],
      [second.id, 'scheduled', null],
    ]);

    // Deleting the scheduled version reopens the one it superseded.
    await rateCards.remove(second.id);
    expect(await price('2026-12-05T00:00:00Z', 'marketing', 'DE')).toMatchObject({
      versionId: first.id,
      unitPriceMicros: 150_000n,
    });
    // A version in force cannot be deleted.
    expect((await errorOf(rateCards.remove(first.id))).code).toBe('BILLING_RATE_CARD_IN_FORCE');
    clock.set(at('2026-11-02T00:00:00Z'));
    expect((await rateCards.list('EUR')).map((v) => v.id)).toEqual([first.id]);
  });

  it('refuses an overlapping version and changes nothing', async () => {
    const { rateCards } = setup(storage());
    const db = storage().db.kysely;
    const open = await rateCards.importCsv(`${HEADER}marketing,GB,0.05,\n`, { currency: 'GBP' });
    const before = await rateCards.list('GBP');
    const overlap = await errorOf(
      rateCards.importCsv(`${HEADER}marketing,GB,0.07,\n`, {
        currency: 'GBP',
        effectiveFrom: at('2026-12-01T00:00:00Z'),
      }),
    );
    expect(overlap.code).toBe('BILLING_RATE_CARD_OVERLAP');
    expect(overlap.details).toMatchObject({ clash: { id: open.id }, clashes: [open.id] });
    // Supersede cannot replace a version from the instant it started.
    const same = await errorOf(
      rateCards.importCsv(`${HEADER}marketing,GB,0.07,\n`, { currency: 'GBP', supersede: true }),
    );
    expect(same.code).toBe('BILLING_RATE_CARD_OVERLAP');
    expect(await rateCards.list('GBP')).toEqual(before);
    expect(
      await rateCards.priceAt(db, {
        currency: 'GBP',
        category: 'marketing',
        market: 'GB',
        at: at('2027-01-01T00:00:00Z'),
        monthlyCount: 0,
      }),
    ).toEqual({ versionId: open.id, unitPriceMicros: 50_000n });
  });

  it('reports every bad row with its line and stores nothing', async () => {
    const { rateCards } = setup(storage());
    const csv = `${HEADER}marketing,US,0.0275,\npromo,US,0.01,\nmarketing,USA,0.01,\nutility,US,-0.004,\nutility,US,0.0000001,\nmarketing,US,0.03,\nmarketing,BR,0.06,100\nservice,US,0.001,5\n`;
    const e = await errorOf(rateCards.importCsv(csv, { currency: 'CAD' }));
    expect(e.code).toBe('BILLING_RATE_CARD_INVALID');
    const errors = (e.details?.errors ?? []) as { line: number; field?: string }[];
    expect(errors.map((x) => [x.line, x.field])).toEqual([
      [3, 'category'],
      [4, 'market'],
      [5, 'unit_price'],
      [6, 'unit_price'],
      [7, undefined],
      [8, 'from_count'],
      [9, 'from_count'],
    ]);
    expect(await rateCards.list('CAD')).toEqual([]);
    const unknown = await errorOf(rateCards.importCsv(`${HEADER}marketing,US,0.01,\n`, { currency: 'XYZ' }));
    expect(unknown.code).toBe('BILLING_UNKNOWN_CURRENCY');
    const past = await errorOf(
      rateCards.importCsv(`${HEADER}marketing,US,0.01,\n`, {
        currency: 'CAD',
        effectiveFrom: at('2026-10-01T00:00:00Z'),
      }),
    );
    expect(past.code).toBe('BILLING_RATE_CARD_INVALID');
    const header = await errorOf(
      rateCards.importCsv('category,market,price\nmarketing,US,0.01\n', { currency: 'CAD' }),
    );
    expect(header.details).toMatchObject({ errors: [{ line: 1 }] });
  });

  it('serves lookups from memory and sees another process’s import within a second', async () => {
    const s = storage();
    const here = setup(s);
    const other = createRateCardsService({ db: s.db, clock: here.clock, ids: here.ids });
    const db = s.db.kysely;
    const lookup = () =>
      here.rateCards.priceAt(db, {
        currency: 'BRL',
        category: 'marketing',
        market: 'BR',
        at: here.clock.now(),
        monthlyCount: 0,
      });
    expect(await lookup()).toBeNull();
    // Written by this instance: seen at once.
    const mine = await here.rateCards.importCsv(`${HEADER}marketing,BR,0.3,\n`, { currency: 'BRL' });
    expect(await lookup()).toEqual({ versionId: mine.id, unitPriceMicros: 300_000n });

    here.clock.advance(10);
    const theirs = await other.importCsv(`${HEADER}marketing,BR,0.4,\n`, {
      currency: 'BRL',
      effectiveFrom: here.clock.now() + 20,
      supersede: true,
    });
    here.clock.advance(100);
    // Within the second: the cached snapshot (no SQL) still answers with the old card.
    expect(await lookup()).toEqual({ versionId: mine.id, unitPriceMicros: 300_000n });
    here.clock.advance(1000);
    expect(await lookup()).toEqual({ versionId: theirs.id, unitPriceMicros: 400_000n });
  });
});

describeStorage('pricing models', (storage) => {
  it('switches at a date, defaults to PMP, and refuses the past', async () => {
    const s = storage();
    const clock = createManualClock(at('2026-09-01T00:00:00Z'));
    const models = createPricingModelsService({ db: s.db, clock });
    const db = s.db.kysely;
    expect(await models.modelAt(db, clock.now())).toBe('PMP');
    await models.set('PMP_2026', at('2026-10-01T00:00:00Z'));
    await models.set('CBP', at('2026-09-01T00:00:00Z'));
    expect(await models.modelAt(db, at('2026-09-15T00:00:00Z'))).toBe('CBP');
    expect(await models.modelAt(db, at('2026-10-01T00:00:00Z'))).toBe('PMP_2026');
    expect(await models.modelAt(db, at('2026-08-31T00:00:00Z'))).toBe('PMP');
    expect((await errorOf(models.set('PMP', at('2026-08-01T00:00:00Z')))).code).toBe(
      'BILLING_PRICING_MODEL_INVALID',
    );
    expect((await errorOf(models.set('FREE'))).code).toBe('BILLING_PRICING_MODEL_INVALID');
    clock.set(at('2026-10-02T00:00:00Z'));
    expect((await models.list()).map((m) => [m.model, m.status])).toEqual([
      ['CBP', 'ended'],
      ['PMP_2026', 'in_force'],
    ]);
    // The synchronous read answers from the cache once loaded.
    const fresh = createPricingModelsService({ db: s.db, clock });
    await fresh.refresh();
    expect(fresh.modelAtCached(clock.now())).toBe('PMP_2026');
  });

  it('answers synchronously from memory and picks up another process’s switch in the background', async () => {
    const s = storage();
    const clock = createManualClock(at('2027-03-01T00:00:00Z'));
    const here = createPricingModelsService({ db: s.db, clock });
    const other = createPricingModelsService({ db: s.db, clock });
    await here.refresh();
    const before = here.modelAtCached(clock.now());
    const next = before === 'CBP' ? 'PMP' : 'CBP';
    await other.set(next, clock.now());
    // Within the second the cached answer stands; after it, a background refresh brings the switch.
    clock.advance(500);
    expect(here.modelAtCached(clock.now())).toBe(before);
    clock.advance(600);
    here.modelAtCached(clock.now());
    await vi.waitFor(() => expect(here.modelAtCached(clock.now())).toBe(next));
  });
});
