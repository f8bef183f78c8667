/**
 * Rate cards: versioned unit prices the operator imports, and the price lookup metering does
 * for every event.
 *
 * Invariants: versions of one currency never overlap in time (checked under a per-currency
 * lock in the transaction that adds a version), so `priceAt` finds at most one; a version that
 * has started is never changed or deleted, so a charge that names it can always be re-priced;
 * new versions never start in the past, so no event already metered changes price.
 *
 * Cache: `priceAt` runs for every metered event, so versions and prices live in memory. The
 * snapshot is dropped when this process writes, and otherwise compared at most once a second
 * with a one-row signature query (count, newest id, newest update), so a steady-state lookup
 * issues no SQL and another process's import shows within about a second.
 */
import { AppError } from '../../errors.js';
import type { Clock } from '../../platform/clock.js';
import type { Db, Executor } from '../../platform/db.js';
import type { Ids } from '../../platform/ids.js';
import { assertCurrency } from './money.js';
import type { BillingCategory } from './pricing-models.js';
import { parseRateCardCsv, rateCardToCsv } from './rate-cards.csv.js';
import {
  buildPriceTable,
  type PriceTable,
  type RateRow,
  type RateRowView,
  type RawRateRow,
  type RowError,
  rowView,
  sortRows,
  validateRows,
} from './rate-cards.model.js';
import { createRateCardsRepo, type RateCardVersion } from './rate-cards.repo.js';

export const CACHE_CHECK_MS = 1000;

export interface CreateRateCardInput {
  currency: string;
  /** Epoch ms; default now. Not in the past. */
  effectiveFrom?: number | undefined;
  /** Epoch ms, exclusive; default open-ended. */
  effectiveTo?: number | null | undefined;
  name?: string | null | undefined;
  /** Close the open-ended version in force (or scheduled) before effectiveFrom at effectiveFrom. */
  supersede?: boolean | undefined;
  rows: RawRateRow[];
}

export interface RateCardVersionView {
  id: string;
  currency: string;
  name: string | null;
  effective_from: string;
  effective_to: string | null;
  status: 'scheduled' | 'in_force' | 'ended';
  superseded_by: string | null;
  rows: number;
  created_at: string;
}

export interface RateCardView extends RateCardVersionView {
  prices: RateRowView[];
}

export interface PriceAtInput {
  currency: string;
  category: BillingCategory;
  market: string;
  at: number;
  /** Billable events of this category × market this month before this one (volume tiers). */
  monthlyCount: number;
}

export interface PriceAt {
  versionId: string;
  unitPriceMicros: bigint;
  /** The version has no row for this category in this market nor a `*` row: priced 0. */
  noPrice?: true;
}

interface CachedVersion {
  version: RateCardVersion;
  table: PriceTable;
}

interface Snapshot {
  signature: string;
  checkedAt: number;
  byCurrency: Map<string, CachedVersion[]>;
}

const iso = (ms: number) => new Date(ms).toISOString();

export function invalidRateCard(message: string, errors: RowError[]): AppError {
  return new AppError('BILLING_RATE_CARD_INVALID', message, { errors });
}

export function createRateCardsService(deps: { db: Pick<Db, 'kysely' | 'caps'>; clock: Clock; ids: Ids }) {
  const { db, clock, ids } = deps;
  const repo = createRateCardsRepo(db);
  let snapshot: Snapshot | undefined;

  function statusOf(v: RateCardVersion, now: number): RateCardVersionView['status'] {
    if (v.effectiveFrom > now) return 'scheduled';
    return v.effectiveTo !== null && v.effectiveTo <= now ? 'ended' : 'in_force';
  }

  function view(v: RateCardVersion, rows: number, now: number): RateCardVersionView {
    return {
      id: v.id,
      currency: v.currency,
      name: v.name,
      effective_from: iso(v.effectiveFrom),
      effective_to: v.effectiveTo === null ? null : iso(v.effectiveTo),
      status: statusOf(v, now),
      superseded_by: v.supersededBy,
      rows,
      created_at: iso(v.createdAt),
    };
  }

  async function load(tx: Executor, signature: string): Promise<Snapshot> {
    const [versions, prices] = await Promise.all([repo.versions(tx), repo.prices(tx)]);
    const rowsOf = new Map<string, RateRow[]>();
    for (const p of prices) {
      const list = rowsOf.get(p.versionId) ?? [];
      list.push(p);
      rowsOf.set(p.versionId, list);
    }
    const byCurrency = new Map<string, CachedVersion[]>();
    for (const version of versions) {
      const list = byCurrency.get(version.currency) ?? [];
      list.push({ version, table: buildPriceTable(rowsOf.get(version.id) ?? []) });
      byCurrency.set(version.currency, list);
    }
    return { signature, checkedAt: clock.now(), byCurrency };
  }

  /** The current snapshot; SQL only when there is none or the last check is a second old. */
  async function fresh(tx: Executor): Promise<Snapshot> {
    const now = clock.now();
    if (snapshot && now - snapshot.checkedAt < CACHE_CHECK_MS) return snapshot;
    if (snapshot) {
      // Concurrent callers keep using the old snapshot while this one checks.
      const current = snapshot;
      current.checkedAt = now;
      const signature = await repo.signature(tx);
      if (signature === current.signature) return current;
      snapshot = await load(tx, signature);
      return snapshot;
    }
    const signature = await repo.signature(tx);
    snapshot = await load(tx, signature);
    return snapshot;
  }

  function versionAt(s: Snapshot, currency: string, at: number): CachedVersion | undefined {
    const list = s.byCurrency.get(currency);
    if (!list) return undefined;
    for (let i = list.length - 1; i >= 0; i--) {
      const c = list[i];
      if (!c || c.version.effectiveFrom > at) continue;
      return c.version.effectiveTo === null || at < c.version.effectiveTo ? c : undefined;
    }
    return undefined;
  }

  function checkDates(input: CreateRateCardInput, now: number): { from: number; to: number | null } {
    const from = input.effectiveFrom ?? now;
    const to = input.effectiveTo ?? null;
    const errors: RowError[] = [];
    if (!Number.isSafeInteger(from) || from < now) {
      errors.push({
        line: 0,
        field: 'effective_from',
        message: 'must be now or later: prices already charged never change',
      });
    }
    if (to !== null && (!Number.isSafeInteger(to) || to <= from)) {
      errors.push({ line: 0, field: 'effective_to', message: 'must be after effective_from' });
    }
    if (errors.length > 0) throw invalidRateCard('The rate card’s dates are not valid.', errors);
    return { from, to };
  }

  const overlaps = (v: RateCardVersion, from: number, to: number | null) =>
    (to === null || v.effectiveFrom < to) && (v.effectiveTo === null || from < v.effectiveTo);

  const service = {
    /** Validates and stores a new version; refuses an overlap unless `supersede` resolves it. */
    async create(input: CreateRateCardInput): Promise<RateCardView> {
      assertCurrency(input.currency);
      const now = clock.now();
      const { from, to } = checkDates(input, now);
      const { rows, errors } = validateRows(input.rows);
      if (errors.length > 0) throw invalidRateCard(`The rate card has ${errors.length} problem(s).`, errors);
      const version: RateCardVersion = {
        id: ids.newId('rcv'),
        currency: input.currency,
        effectiveFrom: from,
        effectiveTo: to,
        name: input.name ?? null,
        supersededBy: null,
        createdAt: now,
        updatedAt: now,
      };
      await db.kysely.transaction().execute(async (tx) => {
        await repo.lockCurrency(tx, input.currency);
        const clashes = (await repo.versions(tx, input.currency)).filter((v) => overlaps(v, from, to));
        const [only] = clashes;
        const superseding =
          input.supersede === true &&
          clashes.length === 1 &&
          only !== undefined &&
          only.effectiveTo === null &&
          only.effectiveFrom < from;
        if (clashes.length > 0 && !superseding) {
          const counts = await repo.rowCounts(tx);
          throw new AppError(
            'BILLING_RATE_CARD_OVERLAP',
            `The new ${input.currency} rate card overlaps version ${clashes[0]?.id}.`,
            {
              clash: clashes[0] && view(clashes[0], counts.get(clashes[0].id) ?? 0, now),
              clashes: clashes.map((c) => c.id),
            },
          );
        }
        if (superseding && only) await repo.close(tx, only.id, from, version.id, now);
        await repo.insertVersion(tx, version, rows);
      });
      snapshot = undefined;
      return { ...view(version, rows.length, now), prices: rows.map(rowView) };
    },

    /** Parses the CSV format (see rate-cards.csv.ts) and creates a version from it. */
    async importCsv(text: string, input: Omit<CreateRateCardInput, 'rows'>): Promise<RateCardView> {
      const parsed = parseRateCardCsv(text);
      if (parsed.errors.length > 0) {
        // Report row problems too, so the operator sees everything at once.
        const more = validateRows(parsed.rows).errors.filter((e) => e.line > 1);
        const all = [...parsed.errors, ...more].sort((a, b) => a.line - b.line);
        throw invalidRateCard(`The rate card has ${all.length} problem(s).`, all);
      }
      return service.create({ ...input, rows: parsed.rows });
    },

    async list(currency?: string): Promise<RateCardVersionView[]> {
      if (currency !== undefined) assertCurrency(currency);
      const now = clock.now();
      const [versions, counts] = await Promise.all([repo.versions(db.kysely, currency), repo.rowCounts()]);
      return versions.map((v) => view(v, counts.get(v.id) ?? 0, now));
    },

    async get(id: string): Promise<RateCardView> {
      const version = await repo.version(id);
      if (!version) throw new AppError('BILLING_RATE_CARD_NOT_FOUND', `No rate-card version ${id}.`, { id });
      const prices = await repo.prices(db.kysely, id);
      const rows = prices.map(({ versionId: _, ...row }) => row);
      return { ...view(version, rows.length, clock.now()), prices: sortRows(rows).map(rowView) };
    },

    /** The version in force at `at` for the currency (for export and display). */
    async at(currency: string, at: number): Promise<RateCardView> {
      assertCurrency(currency);
      const found = versionAt(await fresh(db.kysely), currency, at);
      if (!found) {
        throw new AppError(
          'BILLING_RATE_CARD_NOT_FOUND',
          `No ${currency} rate card is in force at ${iso(at)}.`,
          {
            currency,
            at: iso(at),
          },
        );
      }
      return service.get(found.version.id);
    },

    async exportCsv(id: string): Promise<string> {
      const prices = await repo.prices(db.kysely, id);
      if (prices.length === 0 && !(await repo.version(id))) {
        throw new AppError('BILLING_RATE_CARD_NOT_FOUND', `No rate-card version ${id}.`, { id });
      }
      return rateCardToCsv(prices);
    },

    /** Deletes a version that has not started; an open-ended one it superseded reopens. */
    async remove(id: string): Promise<void> {
      const now = clock.now();
      await db.kysely.transaction().execute(async (tx) => {
        const version = await repo.version(id, tx);
        if (!version)
          throw new AppError('BILLING_RATE_CARD_NOT_FOUND', `No rate-card version ${id}.`, { id });
        await repo.lockCurrency(tx, version.currency);
        if (version.effectiveFrom <= now) {
          throw new AppError(
            'BILLING_RATE_CARD_IN_FORCE',
            `Rate-card version ${id} has been in force since ${iso(version.effectiveFrom)}; import a new version instead.`,
            { id, effective_from: iso(version.effectiveFrom) },
          );
        }
        const previous = await repo.supersededBy(tx, id);
        await repo.deleteVersion(tx, id);
        if (previous) await repo.close(tx, previous.id, version.effectiveTo, null, now);
      });
      snapshot = undefined;
    },

    /**
     * The unit price of one event: the version of the currency in force at `at`, the row of
     * the category in the market (or `*`), the volume tier reached by `monthlyCount`. Null
     * when no version is in force (the event is priced 0). No SQL in the steady state.
     */
    async priceAt(tx: Executor, input: PriceAtInput): Promise<PriceAt | null> {
      const found = versionAt(await fresh(tx), input.currency, input.at);
      if (!found) return null;
      const micros = found.table.lookup(input.category, input.market, input.monthlyCount);
      return micros === undefined
        ? { versionId: found.version.id, unitPriceMicros: 0n, noPrice: true }
        : { versionId: found.version.id, unitPriceMicros: micros };
    },

    /** Drops the in-memory snapshot (another process is known to have written). */
    invalidate(): void {
      snapshot = undefined;
    },
  };
  return service;
}

export type RateCardsService = ReturnType<typeof createRateCardsService>;
