/**
 * Ledger throughput: `callers` concurrent loops post transfers between random accounts through
 * `ledger.execute` (which groups concurrent callers into one transaction) on the embedded
 * database, opened with the server's own code. Accounts are funded first from an external
 * account; every tenth has a credit line. Refused transfers (insufficient funds) count
 * separately; the conservation check runs at the end.
 */
import { performance } from 'node:perf_hooks';
import { createIds, createLedger, migrateToLatest, openDb, systemClock } from '@parley/server';

export interface LedgerBenchOptions {
  dataDir: string;
  accounts?: number;
  transfers?: number;
  callers?: number;
  /** SQLite durability; the server's default is full (each commit reaches the disk). */
  sqliteSync?: 'full' | 'normal';
}

export interface LedgerBenchResult {
  ledger_transfers_per_s: number;
  refused: number;
  check_ok: boolean;
}

export async function runLedgerTransfers(options: LedgerBenchOptions): Promise<LedgerBenchResult> {
  const { dataDir, accounts = 10_000, transfers = 200_000, callers = 64, sqliteSync = 'full' } = options;
  const db = openDb({ dataDir, sqliteSync });
  try {
    await migrateToLatest(db);
    const ids = createIds(systemClock);
    const ledger = createLedger({ db, clock: systemClock, ids });

    const ids_: string[] = [];
    const world = await db.kysely.transaction().execute(async (tx) => {
      const w = await ledger.openAccount(tx, {
        code: 'external:bench',
        currency: 'USD',
        kind: 'external',
        overdraftLimit: null,
      });
      for (let i = 0; i < accounts; i++) {
        const a = await ledger.openAccount(tx, {
          code: `business:bench_${i}`,
          currency: 'USD',
          kind: 'business',
          overdraftLimit: i % 10 === 0 ? 10_000n : 0n,
        });
        ids_.push(a.id);
      }
      return w;
    });
    for (let i = 0; i < ids_.length; i += 1000) {
      const part = ids_.slice(i, i + 1000);
      await db.kysely.transaction().execute((tx) =>
        ledger.apply(
          tx,
          part.map((id) => ({
            type: 'transfer' as const,
            key: `fund:${id}`,
            debitAccountId: world.id,
            creditAccountId: id,
            amount: 100_000n,
            currency: 'USD',
            kind: 'topup',
          })),
        ),
      );
    }

    let issued = 0;
    let refused = 0;
    const pick = () => ids_[Math.floor(Math.random() * ids_.length)] ?? '';
    async function caller(c: number): Promise<void> {
      let n = 0;
      while (issued < transfers) {
        issued++;
        const debit = pick();
        let credit = pick();
        while (credit === debit) credit = pick();
        try {
          await ledger.execute({
            type: 'transfer',
            key: `bench:${c}:${n++}`,
            debitAccountId: debit,
            creditAccountId: credit,
            amount: BigInt(1 + Math.floor(Math.random() * 2000)),
            currency: 'USD',
            kind: 'bench',
          });
        } catch (e: unknown) {
          if ((e as { code?: string }).code !== 'LEDGER_INSUFFICIENT_FUNDS') throw e;
          refused++;
        }
      }
    }
    const started = performance.now();
    await Promise.all(Array.from({ length: callers }, (_, c) => caller(c)));
    const seconds = (performance.now() - started) / 1000;
    const check = await ledger.check();
    return {
      ledger_transfers_per_s: Math.round(transfers / seconds),
      refused,
      check_ok: check.ok,
    };
  } finally {
    await db.close();
  }
}
