/**
 * The ledger: double-entry, append-only, per currency. Every transfer debits one account and
 * credits another by the same amount (balance = credits − debits), so the balances of each
 * currency sum to zero. Holds are two-phase (pending → post ≤ held, or void; expiry voids
 * them). The ledger itself enforces each account's overdraft limit. Every op carries an
 * idempotency key, unique among transfers, checked in the same transaction as its effect.
 *
 * apply() is set-based: one batch loads the holds, accounts (locked on PostgreSQL) and keys it
 * names with a few IN (…) selects, applies the ops in memory in order (ledger.engine.ts), then
 * writes the new transfers with multi-row inserts and the account sums with one statement.
 * Account sums are a cache of the transfers, kept in the same transaction; check() proves it.
 *
 * execute() groups concurrent callers: ops queue while a batch runs and the next transaction
 * takes everything queued (up to MAX_BATCH), so one commit serves many callers.
 */
import { AppError } from '../../errors.js';
import type { Clock } from '../../platform/clock.js';
import type { Db, Executor } from '../../platform/db.js';
import type { Ids } from '../../platform/ids.js';
import { applyOps, batchNeeds } from './ledger.engine.js';
import { createLedgerRepo } from './ledger.repo.js';
import type {
  Balance,
  LedgerAccount,
  LedgerCheck,
  LedgerOp,
  LedgerResult,
  LedgerTransfer,
  OpenAccountSpec,
} from './ledger.types.js';

export interface LedgerDeps {
  db: Pick<Db, 'kysely' | 'caps'>;
  clock: Clock;
  ids: Ids;
  /** Most ops one execute() transaction applies. */
  maxBatch?: number;
}

const EXPIRE_BATCH = 500;

interface Waiting {
  op: LedgerOp;
  resolve(value: { transfer: LedgerTransfer; replayed: boolean }): void;
  reject(error: unknown): void;
}

/** A unique index refused a row another transaction committed meanwhile (PostgreSQL). */
function isUniqueViolation(e: unknown): boolean {
  return typeof e === 'object' && e !== null && 'code' in e && (e as { code: unknown }).code === '23505';
}

export function createLedger(deps: LedgerDeps) {
  const { db, clock, ids } = deps;
  const repo = createLedgerRepo(db.kysely, db.caps);
  const maxBatch = deps.maxBatch ?? 1000;

  function apply(tx: Executor, ops: LedgerOp[]): Promise<LedgerResult[]> {
    return applyBatch(tx, ops, false);
  }

  /** `expiring`: the expiry task voiding holds past their expiry, which callers may not. */
  async function applyBatch(tx: Executor, ops: LedgerOp[], expiring: boolean): Promise<LedgerResult[]> {
    if (ops.length === 0) return [];
    const needs = batchNeeds(ops);
    const now = clock.now();
    // Holds first (immutable rows): their accounts must be locked with the others.
    const holds = needs.pendingIds.size > 0 ? await repo.transfersByIds(tx, [...needs.pendingIds]) : [];
    for (const h of holds) {
      needs.accountIds.add(h.debitAccountId);
      needs.accountIds.add(h.creditAccountId);
    }
    const accounts = await repo.accounts(tx, [...needs.accountIds], true);
    // Keys and resolutions are read after the locks: a batch that committed meanwhile on the
    // same accounts is seen, so a replay is recognised rather than inserted twice.
    const existing = needs.keys.size > 0 ? await repo.transfersByKeys(tx, [...needs.keys]) : [];
    const resolutions =
      holds.length > 0
        ? await repo.resolutionsOf(
            tx,
            holds.map((h) => h.id),
          )
        : [];

    const outcome = applyOps(
      {
        accounts: new Map(accounts.map((a) => [a.id, a])),
        byKey: new Map(existing.map((t) => [t.key, t])),
        holds: new Map(holds.map((h) => [h.id, h])),
        resolutions: new Map(resolutions.flatMap((r) => (r.pendingId ? [[r.pendingId, r] as const] : []))),
      },
      ops,
      { now, newId: () => ids.newId('txn'), expiring },
    );
    if (outcome.created.length > 0) {
      await repo.insertTransfers(tx, outcome.created);
      await repo.addToAccounts(tx, outcome.deltas);
    }
    return outcome.results;
  }

  // execute(): group commit.
  let queue: Waiting[] = [];
  let running = false;

  async function runBatch(batch: Waiting[]): Promise<void> {
    let results: LedgerResult[] | undefined;
    for (let attempt = 0; ; attempt++) {
      try {
        results = await db.kysely.transaction().execute((tx) =>
          apply(
            tx,
            batch.map((w) => w.op),
          ),
        );
        break;
      } catch (e: unknown) {
        // Another transaction committed one of our keys or resolved one of our holds between
        // our reads and our insert (possible only on PostgreSQL, for ops on other accounts):
        // the retry reads it and answers replay or conflict.
        if (isUniqueViolation(e) && attempt < 3) continue;
        for (const w of batch) w.reject(e);
        return;
      }
    }
    batch.forEach((w, i) => {
      const r = results?.[i];
      if (!r) w.reject(new Error('ledger batch returned no result'));
      else if (r.ok) w.resolve({ transfer: r.transfer, replayed: r.replayed });
      else w.reject(r.error);
    });
  }

  async function drain(): Promise<void> {
    try {
      while (queue.length > 0) {
        const batch = queue.length <= maxBatch ? queue : queue.slice(0, maxBatch);
        queue = queue.length <= maxBatch ? [] : queue.slice(maxBatch);
        await runBatch(batch);
      }
    } finally {
      running = false;
    }
  }

  function execute(op: LedgerOp): Promise<{ transfer: LedgerTransfer; replayed: boolean }> {
    return new Promise((resolve, reject) => {
      queue.push({ op, resolve, reject });
      if (!running) {
        running = true;
        // The next turn: callers of this one join the batch.
        setImmediate(() => void drain());
      }
    });
  }

  async function openAccount(tx: Executor, spec: OpenAccountSpec): Promise<LedgerAccount> {
    if (
      spec.overdraftLimit !== null &&
      (typeof spec.overdraftLimit !== 'bigint' || spec.overdraftLimit < 0n)
    ) {
      throw new AppError(
        'LEDGER_INVALID_AMOUNT',
        'An overdraft limit is a whole number of minor units, zero or more.',
        {
          amount: String(spec.overdraftLimit),
        },
      );
    }
    await repo.insertAccount(tx, {
      id: ids.newId('lac'),
      code: spec.code,
      currency: spec.currency,
      kind: spec.kind,
      overdraftLimit: spec.overdraftLimit,
      createdAt: clock.now(),
    });
    const account = await repo.accountByCode(tx, spec.code, spec.currency);
    if (!account) throw new Error(`ledger account ${spec.code} ${spec.currency} vanished after insert`);
    return account;
  }

  async function accountOrThrow(tx: Executor, id: string): Promise<LedgerAccount> {
    const [account] = await repo.accounts(tx, [id], false);
    if (!account)
      throw new AppError('LEDGER_ACCOUNT_NOT_FOUND', 'No such ledger account.', { account_id: id });
    return account;
  }

  return {
    openAccount,
    async findAccount(
      tx: Executor | undefined,
      code: string,
      currency: string,
    ): Promise<LedgerAccount | undefined> {
      return repo.accountByCode(tx ?? db.kysely, code, currency);
    },
    /** Transfers by idempotency key (a send's hold is `hold:<message id>`). */
    async byKeys(tx: Executor, keys: readonly string[]): Promise<Map<string, LedgerTransfer>> {
      const found = await repo.transfersByKeys(tx, keys);
      return new Map(found.map((t) => [t.key, t]));
    },
    /** Per account, the sum of its posted debits of these kinds (reconciliation of usage). */
    async debitedByKinds(
      tx: Executor,
      accountIds: readonly string[],
      kinds: readonly string[],
    ): Promise<Map<string, bigint>> {
      return repo.debitedByKinds(tx, accountIds, kinds);
    },
    async getAccount(tx: Executor | undefined, id: string): Promise<LedgerAccount | undefined> {
      const [account] = await repo.accounts(tx ?? db.kysely, [id], false);
      return account;
    },
    async setOverdraftLimit(tx: Executor, accountId: string, limit: bigint | null): Promise<void> {
      if (limit !== null && (typeof limit !== 'bigint' || limit < 0n)) {
        throw new AppError(
          'LEDGER_INVALID_AMOUNT',
          'An overdraft limit is a whole number of minor units, zero or more.',
          {
            amount: String(limit),
          },
        );
      }
      const changed = await repo.setOverdraftLimit(tx, accountId, limit);
      if (changed === 0) {
        throw new AppError('LEDGER_ACCOUNT_NOT_FOUND', 'No such ledger account.', { account_id: accountId });
      }
    },
    apply,
    execute,

    /**
     * Without `at`: from the account's stored sums. With `at`: from its transfers created at or
     * before `at` — posted as of then, and the holds not yet posted or voided as of then (a
     * hold past its expiry counts as held until the expiry task voids it, as it did then).
     */
    async balance(accountId: string, at?: number, tx?: Executor): Promise<Balance> {
      const ex = tx ?? db.kysely;
      const account = await accountOrThrow(ex, accountId);
      const a = at === undefined ? account : await repo.sumsAt(ex, accountId, at);
      const posted = a.creditsPosted - a.debitsPosted;
      return {
        posted,
        pendingDebits: a.debitsPending,
        pendingCredits: a.creditsPending,
        available: posted - a.debitsPending,
      };
    },

    /** The account's transfers (debits and credits), oldest first. */
    async transfers(
      accountId: string,
      opts: { from?: number; to?: number; limit?: number },
      tx?: Executor,
    ): Promise<LedgerTransfer[]> {
      const limit = Math.max(1, Math.min(opts.limit ?? 100, 10_000));
      return repo.transfersOf(tx ?? db.kysely, accountId, { from: opts.from, to: opts.to, limit });
    },

    /**
     * Voids the holds whose expiry has passed (worker task), in batches, with the key
     * `expire:<hold id>` so two workers racing void each hold once. Returns how many it voided.
     */
    async expireHolds(now?: number): Promise<number> {
      const cutoff = now ?? clock.now();
      let voided = 0;
      for (;;) {
        const due = await repo.expiredHolds(db.kysely, cutoff, EXPIRE_BATCH);
        if (due.length === 0) return voided;
        const ops: LedgerOp[] = due.map((h) => ({ type: 'void', key: `expire:${h.id}`, pendingId: h.id }));
        const results = await db.kysely.transaction().execute((tx) => applyBatch(tx, ops, true));
        const done = results.filter((r) => r.ok && !r.replayed).length;
        voided += done;
        // Another worker voided them first: stop rather than spin.
        if (done === 0) return voided;
      }
    },

    /** Conservation: per currency all balances sum to zero; every account's sums equal its transfers'. */
    async check(): Promise<LedgerCheck> {
      return db.kysely.transaction().execute(async (tx) => {
        const accounts = await repo.allAccounts(tx);
        const fromTransfers = await repo.sumsFromTransfers(tx);
        const computed = new Map<string, { dp: bigint; cp: bigint; dpe: bigint; cpe: bigint }>();
        for (const r of fromTransfers) {
          const c = computed.get(r.account_id) ?? { dp: 0n, cp: 0n, dpe: 0n, cpe: 0n };
          if (r.side === 'debit') {
            c.dp += BigInt(r.posted);
            c.dpe += BigInt(r.pending);
          } else {
            c.cp += BigInt(r.posted);
            c.cpe += BigInt(r.pending);
          }
          computed.set(r.account_id, c);
        }
        const known = new Set(accounts.map((a) => a.id));
        const mismatches: LedgerCheck['mismatches'] = [];
        const sums = new Map<string, { posted: bigint; pending: bigint; accounts: number }>();
        const fmt = (dp: bigint, cp: bigint, dpe: bigint, cpe: bigint) =>
          `debits_posted=${dp} credits_posted=${cp} debits_pending=${dpe} credits_pending=${cpe}`;
        for (const a of accounts) {
          const c = computed.get(a.id) ?? { dp: 0n, cp: 0n, dpe: 0n, cpe: 0n };
          if (
            c.dp !== a.debitsPosted ||
            c.cp !== a.creditsPosted ||
            c.dpe !== a.debitsPending ||
            c.cpe !== a.creditsPending
          ) {
            mismatches.push({
              accountId: a.id,
              code: a.code,
              stored: fmt(a.debitsPosted, a.creditsPosted, a.debitsPending, a.creditsPending),
              fromTransfers: fmt(c.dp, c.cp, c.dpe, c.cpe),
            });
          }
          const s = sums.get(a.currency) ?? { posted: 0n, pending: 0n, accounts: 0 };
          s.posted += a.creditsPosted - a.debitsPosted;
          s.pending += a.creditsPending - a.debitsPending;
          s.accounts++;
          sums.set(a.currency, s);
        }
        // Transfers naming an account that does not exist: money with nowhere to be.
        for (const [id, c] of computed) {
          if (!known.has(id)) {
            mismatches.push({
              accountId: id,
              code: '(missing)',
              stored: 'none',
              fromTransfers: fmt(c.dp, c.cp, c.dpe, c.cpe),
            });
          }
        }
        const currencies = [...sums.entries()]
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([currency, s]) => ({ currency, sum: s.posted.toString(), accounts: s.accounts }));
        const balanced = [...sums.values()].every((s) => s.posted === 0n && s.pending === 0n);
        const ok = balanced && mismatches.length === 0;
        return { ok, currencies, mismatches };
      });
    },
  };
}

export type Ledger = ReturnType<typeof createLedger>;
