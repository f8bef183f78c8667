/**
 * Billing throughput, on the embedded database opened with the server's own code:
 * - a USD rate card (several markets, volume tiers) is imported in force from 1 November 2026,
 *   and `businesses` businesses get billing accounts with credit lines;
 * - `events` delivery events of November 2026 are inserted (untimed), then metered (timed):
 *   pages read in metering order (occurred_at, event_key), one `metering.meter` transaction
 *   per page, as the delivery path would;
 * - the month's invoices are drafted and finalized for every account (timed), then the month
 *   is reconciled from the raw events (timed; 0 differences expected);
 * - separately, the ledger benchmark posts transfers between random accounts.
 * The server's clock is shifted so that November 2026 is "now" for the rate card and the
 * invoices are issued on 1 December, whatever the date of the run.
 */
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createBillingModule, createIds, createLedger, migrateToLatest, openDb } from '@parley/server';
import { runLedgerTransfers } from './ledger.js';

export interface BillingBenchOptions {
  dataDir: string;
  events?: number;
  businesses?: number;
  /** Events metered per transaction. */
  pageSize?: number;
  /** Ledger transfers posted in the ledger part. */
  transfers?: number;
  /** Concurrent callers posting them (in-flight requests, each awaiting its transfer). */
  callers?: number;
  /** The pricing model in force for the month (the deployment's default when absent). */
  pricingModel?: 'PMP' | 'CBP' | 'PMP_2026' | undefined;
  /** PostgreSQL instead of the embedded database (metering, invoices and reconciliation only). */
  databaseUrl?: string | undefined;
}

const PERIOD = '2026-11';
const FROM = Date.UTC(2026, 10, 1);
const TO = Date.UTC(2026, 11, 1);

/** Base prices per market and volume tiers on the largest ones (USD, major units). */
const RATE_CARD = `category,market,unit_price,from_count
marketing,*,0.0625,
marketing,US,0.0275,
marketing,BR,0.0688,
marketing,IN,0.0130,
marketing,DE,0.1502,
marketing,GB,0.0582,
marketing,AR,0.0618,
utility,*,0.0150,
utility,US,0.0044,
utility,US,0.0040,301
utility,US,0.0035,1001
utility,BR,0.0088,
utility,IN,0.0017,
utility,IN,0.0015,201
utility,DE,0.0605,
utility,GB,0.0242,
utility,AR,0.0289,
authentication,*,0.0150,
authentication,US,0.0044,
authentication,US,0.0040,501
authentication,BR,0.0088,
authentication,IN,0.0017,
authentication,DE,0.0605,
authentication,GB,0.0242,
authentication,AR,0.0289,
authentication_international,IN,0.0280,
authentication_international,BR,0.0315,
service,*,0,
`;

const MARKETS = ['US', 'US', 'US', 'BR', 'BR', 'IN', 'IN', 'IN', 'DE', 'GB', 'AR', 'ZZ'];
const CATEGORIES = [
  'marketing',
  'marketing',
  'utility',
  'utility',
  'utility',
  'authentication',
  'service',
] as const;
const SOURCES = ['api', 'agent', 'automation', 'broadcast'] as const;
const COUNTRIES = ['US', 'BR', 'IN', 'DE', 'GB', null];

/** A deterministic generator, so runs are comparable. */
function random(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function runBilling(options: BillingBenchOptions) {
  const { dataDir, events = 1_000_000, businesses = 1000, pageSize = 10_000, transfers = 200_000 } = options;
  // Time runs at its own pace from 31 October 2026 (the rate card must start in the future).
  let shift = Date.UTC(2026, 9, 31) - Date.now();
  const clock = { now: () => Date.now() + shift };
  const db = openDb({ dataDir: path.join(dataDir, 'billing'), databaseUrl: options.databaseUrl });
  const extra: Record<string, unknown> = {};
  try {
    await migrateToLatest(db);
    const ids = createIds(clock);
    const ledger = createLedger({ db, clock, ids });
    const billing = createBillingModule({
      db,
      ledger,
      clock,
      ids,
      defaults: { currency: 'USD', creditLimitMinor: 0n },
      operatorName: 'Benchmark operator',
    });

    if (options.pricingModel) await billing.pricingModels.set(options.pricingModel, FROM);
    const card = await billing.rateCards.importCsv(RATE_CARD, {
      currency: 'USD',
      effectiveFrom: FROM,
      name: 'Benchmark card',
    });
    extra.rate_card_rows = card.prices.length;

    const business = (i: number) => `biz_bench_${String(i).padStart(5, '0')}`;
    for (let i = 0; i < businesses; i++) {
      await billing.accounts.configure('business', business(i), {
        mode: 'credit',
        creditLimitMinor: 100_000_000n,
        country: COUNTRIES[i % COUNTRIES.length] ?? null,
      });
    }

    // The month's deliveries: two numbers per business, recipients drawn from a pool per
    // business (so CBP-style conversations and service windows recur), a mix of categories,
    // markets, open windows and free entry points.
    const rnd = random(6);
    const started = performance.now();
    const ROWS = 1000;
    let n = 0;
    while (n < events) {
      await db.kysely.transaction().execute(async (tx) => {
        for (let batch = 0; batch < 100 && n < events; batch++) {
          const rows = [];
          for (let j = 0; j < ROWS && n < events; j++, n++) {
            const b = Math.floor(rnd() * businesses);
            const category = CATEGORIES[Math.floor(rnd() * CATEGORIES.length)] ?? 'utility';
            const market = MARKETS[Math.floor(rnd() * MARKETS.length)] ?? 'US';
            const windowOpen = category === 'service' || rnd() < 0.3 ? 1 : 0;
            const messageId = `msg_bench_${String(n).padStart(8, '0')}`;
            rows.push({
              event_key: `delivered:${messageId}`,
              kind: 'delivered' as const,
              business_id: business(b),
              phone_number_id: `pn_bench_${b}_${Math.floor(rnd() * 2)}`,
              message_id: messageId,
              category,
              market,
              window_open: windowOpen,
              entry_point: windowOpen === 1 && rnd() < 0.05 ? 'ctwa' : null,
              source: SOURCES[Math.floor(rnd() * SOURCES.length)] ?? 'api',
              // Message ids are time-sortable, as Parley's are: later ids are delivered later.
              occurred_at: FROM + Math.floor(((n + rnd()) * (TO - FROM)) / events),
              recipient: `+1555${String(Math.floor(rnd() * 200)).padStart(4, '0')}${String(b).padStart(4, '0')}`,
            });
          }
          await tx.insertInto('message_events').values(rows).execute();
        }
      });
    }
    extra.insert_s = Math.round(performance.now() - started) / 1000;
    process.stderr.write(`inserted ${events} events in ${extra.insert_s} s\n`);

    // Metering, as deliveries are recorded: after the month, so every event is in the past.
    shift = TO + 60_000 - Date.now();
    const timings = new Map<string, number>();
    if (process.env.BENCH_TIMINGS) {
      for (const [label, obj] of [
        ['repo', billing.repo],
        ['ledger', ledger],
      ] as const) {
        const o = obj as unknown as Record<string, unknown>;
        for (const k of Object.keys(o)) {
          const f = o[k];
          if (typeof f !== 'function') continue;
          o[k] = async (...a: unknown[]) => {
            const t = performance.now();
            try {
              return await (f as (...x: unknown[]) => Promise<unknown>)(...a);
            } finally {
              timings.set(`${label}.${k}`, (timings.get(`${label}.${k}`) ?? 0) + performance.now() - t);
            }
          };
        }
      }
    }
    const meterStarted = performance.now();
    let cursor: { at: number; key: string } | undefined;
    let charged = 0;
    let pages = 0;
    for (;;) {
      const page = await db.kysely.transaction().execute(async (tx) => {
        const rows = await billing.repo.events(tx, FROM, TO, cursor, pageSize);
        if (rows.length > 0) charged += await billing.metering.meter(tx, rows);
        return rows;
      });
      if (page.length === 0) break;
      pages++;
      const last = page[page.length - 1];
      if (last) cursor = { at: Number(last.occurred_at), key: last.event_key };
    }
    const meterSeconds = (performance.now() - meterStarted) / 1000;
    if (timings.size > 0)
      process.stderr.write(
        `${JSON.stringify(Object.fromEntries([...timings].map(([k, v]) => [k, Math.round(v)])))}\n`,
      );
    extra.charges = charged;
    extra.page_size = pageSize;
    extra.pages = pages;
    process.stderr.write(`metered ${charged} events in ${meterSeconds.toFixed(1)} s\n`);

    const invoiceStarted = performance.now();
    const closed = await billing.invoices.closePeriod(PERIOD);
    const invoiceMs = Math.round(performance.now() - invoiceStarted);
    extra.invoices = closed.invoices;

    const reconcileStarted = performance.now();
    const report = await billing.reconciler.reconcile(PERIOD);
    const reconcileMs = Math.round(performance.now() - reconcileStarted);
    if (report.differences > 0) extra.reconcile_details = report.details.slice(0, 5);

    const check = await ledger.check();
    extra.ledger_check_ok = check.ok;
    const sums = await db.kysely
      .selectFrom('invoices')
      .select((eb) => [eb.fn.sum<number | string>('total_minor').as('total')])
      .where('period', '=', PERIOD)
      .executeTakeFirst();
    extra.invoiced_minor = String(sums?.total ?? 0);
    await db.close().catch(() => {});

    process.stderr.write('ledger transfers…\n');
    const callers = options.callers ?? 64;
    const transfersResult = await runLedgerTransfers({
      dataDir: path.join(dataDir, 'ledger'),
      transfers,
      callers,
    });
    extra.ledger_callers = callers;
    extra.ledger_refused = transfersResult.refused;
    extra.ledger_transfers_check_ok = transfersResult.check_ok;

    return {
      result: {
        bench: 'billing',
        events,
        metered_per_s: Math.round(charged / meterSeconds),
        invoice_ms: invoiceMs,
        reconcile_ms: reconcileMs,
        differences: report.differences,
        ledger_transfers_per_s: transfersResult.ledger_transfers_per_s,
      },
      extra,
    };
  } finally {
    await db.close().catch(() => {});
  }
}
