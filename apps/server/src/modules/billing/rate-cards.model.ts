/**
 * Rate cards as data: validation of price rows (from CSV or JSON) and the in-memory lookup of
 * a unit price. Pure.
 *
 * A row is (category, market, from_count, unit price). `market` is an ISO 3166 alpha-2 code or
 * `*`, the price for every market without its own rows of that category. `from_count` 0 is the
 * base price; a higher one is a monthly volume tier (utility and authentication only) that
 * applies from the Nth billable message of the month of that category in that market on, N =
 * from_count (so from_count 10001 prices the 10,001st message and later ones). A market with no
 * row of the category and no `*` row has no price: its messages are priced 0, and the price
 * preview says "no price".
 */
import { getCountries } from 'libphonenumber-js';
import { formatMicros, parseMajorToMicros } from './money.js';
import { BILLING_CATEGORIES, type BillingCategory } from './pricing-models.js';

export const ANY_MARKET = '*';
const TIERED: ReadonlySet<BillingCategory> = new Set(['utility', 'authentication']);
const MAX_FROM_COUNT = 1_000_000_000_000;

export interface RateRow {
  category: BillingCategory;
  market: string;
  fromCount: number;
  unitPriceMicros: bigint;
}

/** A row as written by a person: strings, as in the CSV (or the JSON rows of the admin API). */
export interface RawRateRow {
  /** CSV line (the header is line 1) or the row's 1-based position in a JSON list. */
  line: number;
  category: unknown;
  market: unknown;
  unit_price: unknown;
  from_count?: unknown;
}

export interface RowError {
  line: number;
  field?: string;
  message: string;
}

let countries: ReadonlySet<string> | undefined;
export function isMarket(code: string): boolean {
  countries ??= new Set<string>(getCountries());
  return countries.has(code);
}

function parseCategory(value: unknown): BillingCategory | undefined {
  if (typeof value !== 'string') return undefined;
  const normalized = value.trim().toLowerCase().replace(/-/g, '_');
  return (BILLING_CATEGORIES as readonly string[]).includes(normalized)
    ? (normalized as BillingCategory)
    : undefined;
}

function parseFromCount(value: unknown): number | undefined {
  if (value === undefined || value === null || value === '') return 0;
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string' || !/^(0|[1-9][0-9]*)$/.test(value.trim())) return undefined;
  const n = Number(value.trim());
  return n <= MAX_FROM_COUNT ? n : undefined;
}

/**
 * Checks every row and returns either the rows or every problem found (not just the first),
 * each with its line, so an operator fixes a file in one pass.
 */
export function validateRows(raw: RawRateRow[]): { rows: RateRow[]; errors: RowError[] } {
  const errors: RowError[] = [];
  const rows: RateRow[] = [];
  const seen = new Map<string, number>();
  for (const r of raw) {
    const before = errors.length;
    const category = parseCategory(r.category);
    if (!category) {
      errors.push({
        line: r.line,
        field: 'category',
        message: `unknown category ${JSON.stringify(r.category)}: use ${BILLING_CATEGORIES.join(', ')}`,
      });
    }
    const market = typeof r.market === 'string' ? r.market.trim().toUpperCase() : '';
    if (market !== ANY_MARKET && !isMarket(market)) {
      errors.push({
        line: r.line,
        field: 'market',
        message: `bad market ${JSON.stringify(r.market)}: an ISO 3166 alpha-2 code (US, DE) or *`,
      });
    }
    const price = typeof r.unit_price === 'string' ? parseMajorToMicros(r.unit_price.trim()) : undefined;
    if (price === undefined) {
      errors.push({
        line: r.line,
        field: 'unit_price',
        message: `bad unit_price ${JSON.stringify(r.unit_price)}: a decimal ≥ 0 in the major unit with at most 6 decimals (0.0044)`,
      });
    }
    const fromCount = parseFromCount(r.from_count);
    if (fromCount === undefined) {
      errors.push({
        line: r.line,
        field: 'from_count',
        message: `bad from_count ${JSON.stringify(r.from_count)}: empty or 0 for the base price, else a whole number`,
      });
    } else if (fromCount > 0 && category && !TIERED.has(category)) {
      errors.push({
        line: r.line,
        field: 'from_count',
        message: `volume tiers exist only for utility and authentication, not ${category}`,
      });
    }
    if (errors.length > before || !category || price === undefined || fromCount === undefined) continue;
    const key = `${category}|${market}|${fromCount}`;
    const first = seen.get(key);
    if (first !== undefined) {
      errors.push({
        line: r.line,
        message: `duplicate row: ${category} ${market} from ${fromCount} already on line ${first}`,
      });
      continue;
    }
    seen.set(key, r.line);
    rows.push({ category, market, fromCount, unitPriceMicros: price });
  }
  // A tier needs the base price it is a discount from.
  for (const row of rows) {
    if (row.fromCount > 0 && !seen.has(`${row.category}|${row.market}|0`)) {
      errors.push({
        line: seen.get(`${row.category}|${row.market}|${row.fromCount}`) ?? 0,
        field: 'from_count',
        message: `a tier of ${row.category} ${row.market} without its base price (from_count 0)`,
      });
    }
  }
  if (raw.length === 0) errors.push({ line: 1, message: 'a rate card needs at least one price row' });
  return { rows: errors.length > 0 ? [] : sortRows(rows), errors };
}

/** Canonical order: category (as listed), market (`*` first), from_count. */
export function sortRows(rows: RateRow[]): RateRow[] {
  const rank = (c: BillingCategory) => BILLING_CATEGORIES.indexOf(c);
  return [...rows].sort(
    (a, b) =>
      rank(a.category) - rank(b.category) ||
      (a.market < b.market ? -1 : a.market > b.market ? 1 : 0) ||
      a.fromCount - b.fromCount,
  );
}

export interface RateRowView {
  category: BillingCategory;
  market: string;
  from_count: number;
  unit_price: string;
  unit_price_micros: string;
}

export function rowView(row: RateRow): RateRowView {
  return {
    category: row.category,
    market: row.market,
    from_count: row.fromCount,
    unit_price: formatMicros(row.unitPriceMicros),
    unit_price_micros: row.unitPriceMicros.toString(),
  };
}

interface Tier {
  from: number;
  micros: bigint;
}

/** The prices of one version, indexed for lookups that cost a map access and a short scan. */
export interface PriceTable {
  lookup(category: BillingCategory, market: string, monthlyCount: number): bigint | undefined;
}

export function buildPriceTable(rows: RateRow[]): PriceTable {
  const byKey = new Map<string, Tier[]>();
  for (const row of rows) {
    const key = `${row.category}|${row.market}`;
    const tiers = byKey.get(key) ?? [];
    tiers.push({ from: row.fromCount, micros: row.unitPriceMicros });
    byKey.set(key, tiers);
  }
  for (const tiers of byKey.values()) tiers.sort((a, b) => a.from - b.from);
  return {
    lookup(category, market, monthlyCount) {
      const tiers = byKey.get(`${category}|${market}`) ?? byKey.get(`${category}|${ANY_MARKET}`);
      if (!tiers) return undefined;
      // This message is number monthlyCount + 1 of the month.
      const ordinal = monthlyCount + 1;
      let price: bigint | undefined;
      for (const tier of tiers) {
        if (tier.from > ordinal) break;
        price = tier.micros;
      }
      return price;
    },
  };
}
