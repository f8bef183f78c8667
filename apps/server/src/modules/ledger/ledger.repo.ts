/**
 * SQL of the ledger. Money columns are read as text (`cast(… as text)`) and parsed to bigint:
 * PostgreSQL's int8 would otherwise pass through a JS number. Batches name their rows with
 * `IN (…)` lists of at most CHUNK values, and write with multi-row statements.
 */
import { CompiledQuery, sql } from 'kysely';
import type { DbCaps, Executor } from '../../platform/db.js';
import type { AccountDelta } from './ledger.engine.js';
import type { LedgerAccount, LedgerAccountKind, LedgerFlag, LedgerTransfer } from './ledger.types.js';

const CHUNK = 500;
const INSERT_CHUNK = 200;

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

interface AccountRow {
  id: string;
  code: string;
  currency: string;
  kind: string;
  overdraft_limit: string | null;
  debits_posted: string;
  credits_posted: string;
  debits_pending: string;
  credits_pending: string;
}

interface TransferRow {
  id: string;
  idempotency_key: string;
  debit_account_id: string;
  credit_account_id: string;
  amount: string;
  currency: string;
  kind: string;
  ref: string | null;
  flag: string;
  pending_id: string | null;
  expires_at: number | string | null;
  created_at: number | string;
}

const accountColumns = sql`id, code, currency, kind, cast(overdraft_limit as text) as overdraft_limit,
  cast(debits_posted as text) as debits_posted, cast(credits_posted as text) as credits_posted,
  cast(debits_pending as text) as debits_pending, cast(credits_pending as text) as credits_pending`;

const transferColumns = sql`id, idempotency_key, debit_account_id, credit_account_id,
  cast(amount as text) as amount, currency, kind, ref, flag, pending_id, expires_at, created_at`;

export function toAccount(r: AccountRow): LedgerAccount {
  return {
    id: r.id,
    code: r.code,
    currency: r.currency,
    kind: r.kind as LedgerAccountKind,
    overdraftLimit: r.overdraft_limit === null ? null : BigInt(r.overdraft_limit),
    debitsPosted: BigInt(r.debits_posted),
    creditsPosted: BigInt(r.credits_posted),
    debitsPending: BigInt(r.debits_pending),
    creditsPending: BigInt(r.credits_pending),
  };
}

export function toTransfer(r: TransferRow): LedgerTransfer {
  return {
    id: r.id,
    key: r.idempotency_key,
    debitAccountId: r.debit_account_id,
    creditAccountId: r.credit_account_id,
    amount: BigInt(r.amount),
    currency: r.currency,
    kind: r.kind,
    ref: r.ref,
    flag: r.flag as LedgerFlag,
    pendingId: r.pending_id,
    expiresAt: r.expires_at === null ? null : Number(r.expires_at),
    createdAt: Number(r.created_at),
  };
}

export function createLedgerRepo(db: Executor, caps: Pick<DbCaps, 'dialect' | 'rowLocks' | 'int64'>) {
  const list = (values: readonly string[]) => sql.join(values.map((v) => sql`${v}`));
  /**
   * The hot statements of a batch (read accounts, insert transfers, add to sums) are written as
   * SQL text with placeholders: building them through Kysely's query tree cost more than
   * running them, per row.
   */
  const placeholders = (
    count: number,
    width: number,
    wrap?: (p: string, column: number) => string,
  ): string => {
    const rows: string[] = [];
    let n = 0;
    for (let r = 0; r < count; r++) {
      const cells: string[] = [];
      for (let c = 0; c < width; c++) {
        const p = caps.dialect === 'postgres' ? `$${++n}` : '?';
        cells.push(wrap ? wrap(p, c) : p);
      }
      rows.push(width === 1 ? (cells[0] ?? '') : `(${cells.join(', ')})`);
    }
    return rows.join(', ');
  };
  const run = <R>(tx: Executor, text: string, params: readonly unknown[]) =>
    tx.executeQuery<R>(CompiledQuery.raw(text, [...params]));
  const accountSelect = `select id, code, currency, kind, cast(overdraft_limit as text) as overdraft_limit,
  cast(debits_posted as text) as debits_posted, cast(credits_posted as text) as credits_posted,
  cast(debits_pending as text) as debits_pending, cast(credits_pending as text) as credits_pending
  from ledger_accounts`;

  return {
    /**
     * The accounts with these ids. With `lock` on PostgreSQL they stay locked (FOR UPDATE)
     * until the transaction ends, taken in id order so two batches never wait on each other
     * in a cycle. SQLite serialises writers already.
     */
    async accounts(tx: Executor, ids: readonly string[], lock: boolean): Promise<LedgerAccount[]> {
      const sorted = [...ids].sort();
      const out: LedgerAccount[] = [];
      const forUpdate = lock && caps.rowLocks ? ' for update' : '';
      for (const part of chunks(sorted, CHUNK)) {
        const { rows } = await run<AccountRow>(
          tx,
          `${accountSelect} where id in (${placeholders(part.length, 1)}) order by id${forUpdate}`,
          part,
        );
        for (const r of rows) out.push(toAccount(r));
      }
      return out;
    },

    async accountByCode(tx: Executor, code: string, currency: string): Promise<LedgerAccount | undefined> {
      const { rows } = await sql<AccountRow>`select ${accountColumns} from ledger_accounts
        where code = ${code} and currency = ${currency}`.execute(tx);
      return rows[0] ? toAccount(rows[0]) : undefined;
    },

    async allAccounts(tx: Executor = db): Promise<LedgerAccount[]> {
      const { rows } =
        await sql<AccountRow>`select ${accountColumns} from ledger_accounts order by id`.execute(tx);
      return rows.map(toAccount);
    },

    /** Inserts the account unless (code, currency) exists; the caller reads it back. */
    async insertAccount(
      tx: Executor,
      row: {
        id: string;
        code: string;
        currency: string;
        kind: string;
        overdraftLimit: bigint | null;
        createdAt: number;
      },
    ): Promise<void> {
      await sql`insert into ledger_accounts
        (id, code, currency, kind, overdraft_limit, debits_posted, credits_posted, debits_pending, credits_pending, created_at)
        values (${row.id}, ${row.code}, ${row.currency}, ${row.kind}, ${row.overdraftLimit}, 0, 0, 0, 0, ${row.createdAt})
        on conflict (code, currency) do nothing`.execute(tx);
    },

    async setOverdraftLimit(tx: Executor, id: string, limit: bigint | null): Promise<number> {
      const result =
        await sql`update ledger_accounts set overdraft_limit = ${limit} where id = ${id}`.execute(tx);
      return Number(result.numAffectedRows ?? 0n);
    },

    async transfersByKeys(tx: Executor, keys: readonly string[]): Promise<LedgerTransfer[]> {
      const out: LedgerTransfer[] = [];
      for (const part of chunks(keys, CHUNK)) {
        const { rows } = await sql<TransferRow>`select ${transferColumns} from ledger_transfers
          where idempotency_key in (${list(part)})`.execute(tx);
        for (const r of rows) out.push(toTransfer(r));
      }
      return out;
    },

    /** Per account, the sum of its posted debits of these kinds (accounts with none are absent). */
    async debitedByKinds(
      tx: Executor,
      accountIds: readonly string[],
      kinds: readonly string[],
    ): Promise<Map<string, bigint>> {
      const out = new Map<string, bigint>();
      if (kinds.length === 0) return out;
      for (const part of chunks(accountIds, CHUNK)) {
        const { rows } = await sql<{ account_id: string; total: string | number | null }>`
          select debit_account_id as account_id, cast(sum(amount) as text) as total
          from ledger_transfers where debit_account_id in (${list(part)}) and kind in (${list(kinds)})
            and flag in ('single', 'post')
          group by debit_account_id`.execute(tx);
        for (const r of rows) out.set(r.account_id, BigInt(r.total ?? 0));
      }
      return out;
    },

    async transfersByIds(tx: Executor, ids: readonly string[]): Promise<LedgerTransfer[]> {
      const out: LedgerTransfer[] = [];
      for (const part of chunks(ids, CHUNK)) {
        const { rows } = await sql<TransferRow>`select ${transferColumns} from ledger_transfers
          where id in (${list(part)})`.execute(tx);
        for (const r of rows) out.push(toTransfer(r));
      }
      return out;
    },

    /** The posts and voids resolving these holds. */
    async resolutionsOf(tx: Executor, pendingIds: readonly string[]): Promise<LedgerTransfer[]> {
      const out: LedgerTransfer[] = [];
      for (const part of chunks(pendingIds, CHUNK)) {
        const { rows } = await sql<TransferRow>`select ${transferColumns} from ledger_transfers
          where pending_id in (${list(part)})`.execute(tx);
        for (const r of rows) out.push(toTransfer(r));
      }
      return out;
    },

    async insertTransfers(tx: Executor, transfers: readonly LedgerTransfer[]): Promise<void> {
      for (const part of chunks(transfers, INSERT_CHUNK)) {
        const params: unknown[] = [];
        for (const t of part) {
          params.push(t.id, t.key, t.debitAccountId, t.creditAccountId, t.amount, t.currency, t.kind, t.ref);
          params.push(t.flag, t.pendingId, t.expiresAt, t.createdAt);
        }
        await run(
          tx,
          `insert into ledger_transfers (id, idempotency_key, debit_account_id, credit_account_id, amount,
          currency, kind, ref, flag, pending_id, expires_at, created_at) values ${placeholders(part.length, 12)}`,
          params,
        );
      }
    },

    /** Adds each delta to its account's stored sums: one statement per chunk of accounts. */
    async addToAccounts(tx: Executor, deltas: ReadonlyMap<string, AccountDelta>): Promise<void> {
      const entries = [...deltas.entries()].filter(
        ([, d]) =>
          d.debitsPosted !== 0n ||
          d.creditsPosted !== 0n ||
          d.debitsPending !== 0n ||
          d.creditsPending !== 0n,
      );
      for (const part of chunks(entries, INSERT_CHUNK)) {
        const params: unknown[] = [];
        for (const [id, d] of part)
          params.push(id, d.debitsPosted, d.creditsPosted, d.debitsPending, d.creditsPending);
        const values = placeholders(part.length, 5, (p, c) => (c === 0 ? p : `cast(${p} as ${caps.int64})`));
        await run(
          tx,
          `with v(id, dp, cp, dpe, cpe) as (values ${values})
          update ledger_accounts set
            debits_posted = ledger_accounts.debits_posted + v.dp,
            credits_posted = ledger_accounts.credits_posted + v.cp,
            debits_pending = ledger_accounts.debits_pending + v.dpe,
            credits_pending = ledger_accounts.credits_pending + v.cpe
          from v where ledger_accounts.id = v.id`,
          params,
        );
      }
    },

    /**
     * Sums of the account's transfers created at or before `at`: posted (singles and posts)
     * and the holds still unresolved as of then.
     */
    async sumsAt(tx: Executor, accountId: string, at: number) {
      const { rows } = await sql<{ side: string; posted: string | null; pending: string | null }>`
        select 'debit' as side,
          cast(coalesce(sum(case when flag in ('single', 'post') then amount else 0 end), 0) as text) as posted,
          cast(coalesce(sum(case when flag = 'pending' and not exists (select 1 from ledger_transfers r
            where r.pending_id = t.id and r.created_at <= ${at}) then amount else 0 end), 0) as text) as pending
        from ledger_transfers t where debit_account_id = ${accountId} and created_at <= ${at}
        union all
        select 'credit' as side,
          cast(coalesce(sum(case when flag in ('single', 'post') then amount else 0 end), 0) as text) as posted,
          cast(coalesce(sum(case when flag = 'pending' and not exists (select 1 from ledger_transfers r
            where r.pending_id = t.id and r.created_at <= ${at}) then amount else 0 end), 0) as text) as pending
        from ledger_transfers t where credit_account_id = ${accountId} and created_at <= ${at}`.execute(tx);
      const debit = rows.find((r) => r.side === 'debit');
      const credit = rows.find((r) => r.side === 'credit');
      return {
        debitsPosted: BigInt(debit?.posted ?? 0),
        debitsPending: BigInt(debit?.pending ?? 0),
        creditsPosted: BigInt(credit?.posted ?? 0),
        creditsPending: BigInt(credit?.pending ?? 0),
      };
    },

    /** The account's transfers (either side), oldest first, created within [from, to]. */
    async transfersOf(
      tx: Executor,
      accountId: string,
      opts: { from?: number | undefined; to?: number | undefined; limit: number },
    ): Promise<LedgerTransfer[]> {
      const from = opts.from ?? 0;
      const to = opts.to ?? Number.MAX_SAFE_INTEGER;
      // Two index range scans (one per side) rather than an OR the planner may not split.
      const { rows } = await sql<TransferRow>`select * from (
          select ${transferColumns} from ledger_transfers
            where debit_account_id = ${accountId} and created_at >= ${from} and created_at <= ${to}
          union all
          select ${transferColumns} from ledger_transfers
            where credit_account_id = ${accountId} and created_at >= ${from} and created_at <= ${to}
        ) x order by created_at, id limit ${opts.limit}`.execute(tx);
      return rows.map(toTransfer);
    },

    /** Holds past their expiry with no post or void, oldest expiry first. */
    async expiredHolds(tx: Executor, now: number, limit: number): Promise<{ id: string }[]> {
      const { rows } = await sql<{ id: string }>`select t.id from ledger_transfers t
        where t.flag = 'pending' and t.expires_at <= ${now}
          and not exists (select 1 from ledger_transfers r where r.pending_id = t.id)
        order by t.expires_at, t.id limit ${limit}`.execute(tx);
      return rows;
    },

    /** Per account and side, the sums its transfers give (for check()). */
    async sumsFromTransfers(tx: Executor = db) {
      const { rows } = await sql<{ account_id: string; side: string; posted: string; pending: string }>`
        select debit_account_id as account_id, 'debit' as side,
          cast(sum(case when flag in ('single', 'post') then amount else 0 end) as text) as posted,
          cast(sum(case when flag = 'pending' and not exists (select 1 from ledger_transfers r
            where r.pending_id = t.id) then amount else 0 end) as text) as pending
        from ledger_transfers t group by debit_account_id
        union all
        select credit_account_id as account_id, 'credit' as side,
          cast(sum(case when flag in ('single', 'post') then amount else 0 end) as text) as posted,
          cast(sum(case when flag = 'pending' and not exists (select 1 from ledger_transfers r
            where r.pending_id = t.id) then amount else 0 end) as text) as pending
        from ledger_transfers t group by credit_account_id`.execute(tx);
      return rows;
    },
  };
}

export type LedgerRepo = ReturnType<typeof createLedgerRepo>;
