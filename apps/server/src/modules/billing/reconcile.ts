/**
 * Reconciliation: recomputes a month's charges from the raw delivery events and proves the
 * stored charges, the ledger and the invoices agree with them.
 *
 * Events are walked in metering order (occurred_at, event_key) through the same pricing
 * rules as live metering, from empty monthly counters (CBP conversations opened in the last
 * 24 h of the month before are replayed first). Checked:
 * - every delivery event has exactly one charge and every message charge has its event;
 * - per account, category, market, pricing type, rate-card version and unit price, the
 *   counts and micros equal (compared per line, not per event: when two events share a
 *   millisecond across metering batches, which one got a tier's last cheap slot may differ,
 *   but never how many did);
 * - per account, all usage posted to the ledger plus the carry equals all billable micros;
 * - each invoice of the period equals its lines recomputed from the charges (when the
 *   invoices module is wired).
 * Partner markups are compared as recorded: they are the partner's current terms, not
 * versioned data.
 *
 * Only the events are walked in JavaScript (pricing needs the rules); the stored side is
 * grouped lines and anti-joins run by the database (reconcile.repo.ts), so a month of millions
 * of charges is never held in memory.
 */
import { AppError } from '../../errors.js';
import type { Executor } from '../../platform/db.js';
import type { LedgerPort, PricingModelsPort, RateCardsPort } from './billing.ports.js';
import type { BillingAccountRow, BillingAccountsRepo, NewCharge } from './billing-accounts.repo.js';
import { priceEvents } from './metering.js';
import { decide, memoryState, type PricingEvent } from './pricing-rules.js';
import { createReconcileRepo } from './reconcile.repo.js';
import { microsPerMinor } from './units.js';

export interface ReconcileReport {
  period: string;
  events: number;
  charges: number;
  differences: number;
  missing_charges: number;
  extra_charges: number;
  line_differences: number;
  ledger_differences: number;
  invoice_differences: number;
  invoices_checked: number;
  /** The first differences, for people. */
  details: string[];
}

export interface InvoiceCheckPort {
  /** Invoices of the period that differ from their charges: a description of each. */
  verify(tx: Executor, period: string): Promise<{ checked: number; differences: string[] }>;
}

export interface ReconcileDeps {
  db: { kysely: Executor };
  repo: BillingAccountsRepo;
  ledger: Pick<LedgerPort, 'debitedByKinds'>;
  rateCards: RateCardsPort;
  pricingModels: PricingModelsPort;
  invoices?: InvoiceCheckPort | undefined;
}

const PAGE = 5000;

export function parsePeriod(period: string): { from: number; to: number } {
  const m = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(period);
  if (!m) throw new AppError('BILLING_RECONCILE_INVALID', `"${period}" is not a month written YYYY-MM.`);
  const y = Number(m[1]);
  const mo = Number(m[2]);
  return { from: Date.UTC(y, mo - 1, 1), to: Date.UTC(y, mo, 1) };
}

type LineKey = string;
const lineOf = (
  c: Pick<
    NewCharge,
    'billing_account_id' | 'category' | 'market' | 'pricing_type' | 'rate_card_version_id' | 'billable'
  > & { unit_price_micros: unknown },
): LineKey =>
  [
    c.billing_account_id,
    c.category,
    c.market,
    c.pricing_type,
    c.rate_card_version_id ?? '-',
    String(c.unit_price_micros),
    c.billable,
  ].join('|');

function addLine(
  lines: Map<LineKey, { count: number; micros: bigint }>,
  key: LineKey,
  count: number,
  micros: bigint,
) {
  const l = lines.get(key) ?? { count: 0, micros: 0n };
  l.count += count;
  l.micros += micros;
  lines.set(key, l);
}

export function createReconciler(deps: ReconcileDeps) {
  const { repo } = deps;
  const stored = createReconcileRepo();
  let n = 0;
  const ids = { newId: () => `rec_${++n}` };

  return {
    async reconcile(period: string): Promise<ReconcileReport> {
      const { from, to } = parsePeriod(period);
      const tx = deps.db.kysely;
      const details: string[] = [];
      const note = (s: string) => {
        if (details.length < 50) details.push(s);
      };
      const state = memoryState();
      const accounts = new Map<string, BillingAccountRow>();
      const accountsOf = async (events: PricingEvent[]) => {
        const missing = [...new Set(events.map((e) => e.business_id))].filter((b) => !accounts.has(b));
        if (missing.length > 0)
          for (const a of await repo.forBusinesses(tx, missing)) accounts.set(a.owner_id, a);
      };

      // CBP conversations opened in the 24 h before the month still count inside it.
      let cursor: { at: number; key: string } | undefined;
      for (;;) {
        const page = (await repo.events(tx, from - 24 * 3600_000, from, cursor, PAGE)) as PricingEvent[];
        if (page.length === 0) break;
        await accountsOf(page);
        for (const e of page) {
          const account = accounts.get(e.business_id);
          if (account && (await deps.pricingModels.modelAt(tx, e.occurred_at)) === 'CBP')
            decide('CBP', e, account.id, state);
        }
        const last = page[page.length - 1] as PricingEvent;
        cursor = { at: last.occurred_at, key: last.event_key };
      }
      state.counters.clear();

      // The events side: every delivery of the month priced again, summed per line.
      const expected = new Map<LineKey, { count: number; micros: bigint }>();
      let events = 0;
      cursor = undefined;
      for (;;) {
        const page = (await repo.events(tx, from, to, cursor, PAGE)) as PricingEvent[];
        if (page.length === 0) break;
        events += page.length;
        await accountsOf(page);
        for (const e of page)
          if (!accounts.has(e.business_id))
            note(`event ${e.event_key}: its business ${e.business_id} has no billing account`);
        const priced = await priceEvents({ ...deps, ids, partners: undefined }, tx, page, accounts, state, 0);
        for (const c of priced) addLine(expected, lineOf(c), 1, BigInt(c.amount_micros));
        const last = page[page.length - 1] as PricingEvent;
        cursor = { at: last.occurred_at, key: last.event_key };
      }

      // The stored side, grouped and anti-joined by the database.
      const actual = new Map<LineKey, { count: number; micros: bigint }>();
      const touched = new Set<string>();
      let charges = 0;
      for (const l of await stored.chargeLines(tx, period)) {
        addLine(actual, lineOf(l), l.count, l.micros);
        touched.add(l.billing_account_id);
        charges += l.count;
      }
      const missingKeys = await stored.eventsWithoutCharge(tx, from, to);
      for (const k of missingKeys) note(`no charge for ${k}`);
      const extraKeys = await stored.chargesWithoutEvent(tx, period, from, to);
      for (const k of extraKeys) note(`charge ${k} has no delivery event in ${period}`);
      let lineDiffs = 0;
      for (const key of new Set([...expected.keys(), ...actual.keys()])) {
        const e = expected.get(key);
        const a = actual.get(key);
        if (e?.count === a?.count && e?.micros === a?.micros) continue;
        lineDiffs += 1;
        note(
          `line ${key}: expected ${e?.count ?? 0} for ${e?.micros ?? 0n} micros, charged ${a?.count ?? 0} for ${a?.micros ?? 0n}`,
        );
      }

      // Money: every account's usage on the ledger plus its carry is all its billable micros.
      let ledgerDiffs = 0;
      const money = await stored.accountMoney(tx, [...touched].sort());
      const posted = await deps.ledger.debitedByKinds(
        tx,
        money.map((m) => m.ledger_account_id),
        ['usage', 'usage_partner'],
      );
      for (const m of money) {
        const usage = posted.get(m.ledger_account_id) ?? 0n;
        if (usage * microsPerMinor(m.currency) + m.carry_micros !== m.billable_micros) {
          ledgerDiffs += 1;
          note(
            `account ${m.id}: ledger usage ${usage} minor + carry ${m.carry_micros} micros ≠ charges ${m.billable_micros} micros`,
          );
        }
      }

      const invoices = deps.invoices
        ? await deps.invoices.verify(tx, period)
        : { checked: 0, differences: [] };
      for (const d of invoices.differences) note(d);

      const missing = missingKeys.length;
      const extra = extraKeys.length;
      const differences = missing + extra + lineDiffs + ledgerDiffs + invoices.differences.length;
      return {
        period,
        events,
        charges,
        differences,
        missing_charges: missing,
        extra_charges: extra,
        line_differences: lineDiffs,
        ledger_differences: ledgerDiffs,
        invoice_differences: invoices.differences.length,
        invoices_checked: invoices.checked,
        details,
      };
    },
  };
}

export type Reconciler = ReturnType<typeof createReconciler>;
