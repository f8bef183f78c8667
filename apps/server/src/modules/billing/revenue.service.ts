/**
 * The operator's revenue, from the immutable `billing_charges` (what each charge cost: the
 * operator's price `amount_micros` plus the partner's markup `partner_markup_micros`).
 *
 * Every figure is a sum of micros; each row (and each total) is rounded to minor units once,
 * half to even, so a row's minor amounts may differ from the sum of the charges' own
 * roundings by less than one minor unit per row, while the micros always add up exactly.
 * Days and months are UTC. The four revenue streams are always listed in the totals, with
 * zero when nothing was charged (payment commissions until payments exist).
 */
import { AppError } from '../../errors.js';
import { microsToMinor } from './money.js';
import type { RevenueRepo, RevenueRow } from './revenue.repo.js';

export const REVENUE_STREAMS = [
  'api_messages',
  'premium_plan',
  'consumer_plan',
  'payment_commission',
] as const;
export const MAX_DAY_BUCKETS = 366;
export const MAX_REPORT_DAYS = 3660;
const DAY_MS = 86_400_000;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const PERIOD = /^(\d{4})-(0[1-9]|1[0-2])$/;

/** One outstanding balance, as the ledger reports it (negative: the business owes). */
export interface OutstandingBalance {
  businessId: string;
  currency: string;
  balanceMinor: bigint;
}

export interface RevenueServiceDeps {
  repo: RevenueRepo;
  /** Balances businesses owe (the integrator implements it on the ledger). */
  outstanding?: () => Promise<OutstandingBalance[]>;
}

export interface RevenueQuery {
  from?: string | undefined;
  to?: string | undefined;
  /** `YYYY-MM`: the whole month, instead of from/to. */
  period?: string | undefined;
  granularity?: string | undefined;
}

interface Amounts {
  count: number;
  operator_minor: string;
  partner_minor: string;
  total_minor: string;
  operator_micros: string;
  partner_micros: string;
}

export interface RevenueRowView extends Amounts {
  bucket: string;
  stream: string;
  category: string | null;
  market: string | null;
  currency: string;
}

export interface RevenueView {
  from: string;
  to: string;
  granularity: 'day' | 'month';
  rows: RevenueRowView[];
  totals: ({ stream: string; currency: string | null } & Amounts)[];
}

function amounts(count: number, operator: bigint, partner: bigint, currency: string | null): Amounts {
  const round = (m: bigint) => (currency === null ? m : microsToMinor(m, currency, 'half_even'));
  const op = round(operator);
  const pt = round(partner);
  return {
    count,
    operator_minor: op.toString(),
    partner_minor: pt.toString(),
    total_minor: (op + pt).toString(),
    operator_micros: operator.toString(),
    partner_micros: partner.toString(),
  };
}

function big(x: number | string | bigint | null | undefined): bigint {
  return x === null || x === undefined ? 0n : BigInt(x);
}

function validation(issues: { path: string; message: string }[]): AppError {
  return new AppError('VALIDATION_FAILED', 'The revenue query is not valid.', { issues });
}

function parseDate(s: string | undefined): number | undefined {
  const m = s === undefined ? null : DATE.exec(s);
  if (!m) return undefined;
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return new Date(t).toISOString().slice(0, 10) === s ? t : undefined;
}

export function parsePeriod(period: string | undefined, path = 'period'): { from: number; to: number } {
  const m = period === undefined ? null : PERIOD.exec(period);
  if (!m) throw validation([{ path, message: 'expected a month YYYY-MM' }]);
  const y = Number(m[1]);
  const mo = Number(m[2]) - 1;
  return { from: Date.UTC(y, mo, 1), to: Date.UTC(y, mo + 1, 1) };
}

const day = (t: number) => new Date(t).toISOString().slice(0, 10);
const month = (t: number) => new Date(t).toISOString().slice(0, 7);

export function parseRange(query: RevenueQuery) {
  const issues: { path: string; message: string }[] = [];
  const granularity = query.granularity ?? 'month';
  if (granularity !== 'day' && granularity !== 'month') {
    issues.push({ path: 'granularity', message: 'expected day or month' });
  }
  let from: number | undefined;
  let to: number | undefined;
  if (query.period !== undefined) {
    if (query.from !== undefined || query.to !== undefined) {
      issues.push({ path: 'period', message: 'give either period or from and to' });
    } else {
      ({ from, to } = parsePeriod(query.period));
    }
  } else {
    from = parseDate(query.from);
    const last = parseDate(query.to);
    if (from === undefined) issues.push({ path: 'from', message: 'expected a calendar date YYYY-MM-DD' });
    if (last === undefined) issues.push({ path: 'to', message: 'expected a calendar date YYYY-MM-DD' });
    if (last !== undefined) to = last + DAY_MS;
  }
  if (from !== undefined && to !== undefined && issues.length === 0) {
    const days = (to - from) / DAY_MS;
    const max = granularity === 'day' ? MAX_DAY_BUCKETS : MAX_REPORT_DAYS;
    if (days < 1) issues.push({ path: 'to', message: 'must not be before from' });
    else if (days > max)
      issues.push({ path: 'to', message: `a ${granularity} report covers at most ${max} days` });
  }
  if (issues.length > 0 || from === undefined || to === undefined) throw validation(issues);
  return {
    from,
    to,
    fromPeriod: month(from),
    toPeriod: month(to - 1),
    granularity: granularity as 'day' | 'month',
  };
}

/** Labels the repository's day rows `YYYY-MM-DD`, or sums them per month `YYYY-MM`. */
function foldBuckets(rows: RevenueRow[], granularity: 'day' | 'month') {
  const out = new Map<
    string,
    Omit<RevenueRow, 'bucket' | 'count' | 'operator_micros' | 'partner_micros'> & {
      bucket: string;
      count: bigint;
      operator_micros: bigint;
      partner_micros: bigint;
    }
  >();
  for (const r of rows) {
    const date = day(Number(r.bucket) * DAY_MS);
    const bucket = granularity === 'day' ? date : date.slice(0, 7);
    const key = [bucket, r.stream, r.category, r.market, r.currency].join('\u0000');
    const o = out.get(key) ?? { ...r, bucket, count: 0n, operator_micros: 0n, partner_micros: 0n };
    o.count += big(r.count);
    o.operator_micros += big(r.operator_micros);
    o.partner_micros += big(r.partner_micros);
    out.set(key, o);
  }
  return [...out.values()];
}

export function createRevenueService(deps: RevenueServiceDeps) {
  const { repo } = deps;

  return {
    /** Revenue per bucket × stream × category × market × currency, and totals per stream × currency. */
    async report(query: RevenueQuery): Promise<RevenueView> {
      const range = parseRange(query);
      const raw = foldBuckets(await repo.rows(range), range.granularity);
      const totals = new Map<
        string,
        { stream: string; currency: string; count: number; op: bigint; pt: bigint }
      >();
      const currencies = new Set<string>();
      const rows = raw.map((r) => {
        const count = Number(r.count ?? 0);
        const op = big(r.operator_micros);
        const pt = big(r.partner_micros);
        currencies.add(r.currency);
        const key = `${r.stream}\u0000${r.currency}`;
        const t = totals.get(key) ?? { stream: r.stream, currency: r.currency, count: 0, op: 0n, pt: 0n };
        t.count += count;
        t.op += op;
        t.pt += pt;
        totals.set(key, t);
        return {
          bucket: r.bucket,
          stream: r.stream,
          category: r.category,
          market: r.market,
          currency: r.currency,
          ...amounts(count, op, pt, r.currency),
        };
      });
      const cmp = (a: string | null, b: string | null) => (a ?? '').localeCompare(b ?? '');
      rows.sort(
        (a, b) =>
          cmp(a.bucket, b.bucket) ||
          cmp(a.currency, b.currency) ||
          cmp(a.stream, b.stream) ||
          cmp(a.category, b.category) ||
          cmp(a.market, b.market),
      );
      const streams = [...REVENUE_STREAMS, ...[...totals.values()].map((t) => t.stream)];
      const seen = currencies.size > 0 ? [...currencies].sort() : [null];
      const totalRows: RevenueView['totals'] = [];
      for (const currency of seen) {
        for (const stream of new Set(streams)) {
          const t = currency === null ? undefined : totals.get(`${stream}\u0000${currency}`);
          if (!t && !(REVENUE_STREAMS as readonly string[]).includes(stream)) continue;
          totalRows.push({ stream, currency, ...amounts(t?.count ?? 0, t?.op ?? 0n, t?.pt ?? 0n, currency) });
        }
      }
      return {
        from: day(range.from),
        to: day(range.to - DAY_MS),
        granularity: range.granularity,
        rows,
        totals: totalRows,
      };
    },

    /** The businesses that paid most in a month (per currency: amounts of different currencies are not compared). */
    async topBusinesses(query: {
      period?: string | undefined;
      limit?: number | undefined;
      currency?: string | undefined;
    }) {
      parsePeriod(query.period);
      const period = query.period as string;
      const limit = query.limit ?? 10;
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
        throw validation([{ path: 'limit', message: 'expected a whole number from 1 to 1000' }]);
      }
      const rows = await repo.topBusinesses(period, limit, query.currency);
      return {
        period,
        rows: rows.map((r) => ({
          business_id: r.business_id ?? '',
          name: r.name ?? null,
          currency: r.currency,
          ...amounts(Number(r.count ?? 0), big(r.operator_micros), big(r.partner_micros), r.currency),
        })),
      };
    },

    /**
     * A month's revenue split: for each partner (and `partner_id: null` for businesses without
     * one) the operator's share (its price) and the partner's share (its markup), separately.
     */
    async partners(query: { period?: string | undefined }) {
      parsePeriod(query.period);
      const rows = await repo.byPartner(query.period as string);
      return {
        period: query.period as string,
        rows: rows
          .map((r) => ({
            partner_id: r.partner_id,
            name: r.name ?? null,
            currency: r.currency,
            clients: Number(r.clients ?? 0),
            ...amounts(Number(r.count ?? 0), big(r.operator_micros), big(r.partner_micros), r.currency),
          }))
          .sort(
            (a, b) =>
              (a.partner_id === null ? 1 : 0) - (b.partner_id === null ? 1 : 0) ||
              (a.partner_id ?? '').localeCompare(b.partner_id ?? '') ||
              a.currency.localeCompare(b.currency),
          ),
      };
    },

    /** Balances businesses owe, from the ledger (empty until it is wired). */
    async outstanding() {
      const rows = (await deps.outstanding?.()) ?? [];
      return {
        rows: rows.map((r) => ({
          business_id: r.businessId,
          currency: r.currency,
          balance_minor: r.balanceMinor.toString(),
        })),
      };
    },
  };
}

export type RevenueService = ReturnType<typeof createRevenueService>;
