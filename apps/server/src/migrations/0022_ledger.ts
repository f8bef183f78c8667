import { type Kysely, sql } from 'kysely';
import type { DbCaps } from '../platform/db.js';

/**
 * The ledger (modules/ledger): double-entry and append-only.
 *
 * `ledger_accounts`: one per (code, currency). The four sums are a cache of the account's
 * transfers, updated in the same transaction as each transfer; `parley ledger check` proves
 * them equal. `overdraft_limit` is how far below zero the balance (credits − debits) may go;
 * null means no limit (the outside world).
 *
 * `ledger_transfers`: never updated or deleted. A hold is a `pending` transfer; it is resolved
 * at most once (the unique index on `pending_id`) by a `post` (≤ the held amount, the rest is
 * released) or a `void`. Amounts are minor units, int64.
 */
export async function up(db: Kysely<unknown>, caps: DbCaps): Promise<void> {
  const strict = <T extends { modifyEnd(s: ReturnType<typeof sql>): T }>(t: T): T =>
    caps.strictTables ? t.modifyEnd(sql`strict`) : t;
  const int64 = caps.int64;

  await strict(
    db.schema
      .createTable('ledger_accounts')
      .addColumn('id', 'text', (c) => c.primaryKey())
      // 'business:biz_1', 'revenue:api_messages', 'tax:DE', 'external:manual', …
      .addColumn('code', 'text', (c) => c.notNull())
      .addColumn('currency', 'text', (c) => c.notNull())
      // business | person | revenue | tax | partner | external
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('overdraft_limit', int64)
      .addColumn('debits_posted', int64, (c) => c.notNull())
      .addColumn('credits_posted', int64, (c) => c.notNull())
      .addColumn('debits_pending', int64, (c) => c.notNull())
      .addColumn('credits_pending', int64, (c) => c.notNull())
      .addColumn('created_at', int64, (c) => c.notNull())
      .addUniqueConstraint('ledger_accounts_code_key', ['code', 'currency']),
  ).execute();

  await strict(
    db.schema
      .createTable('ledger_transfers')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('idempotency_key', 'text', (c) => c.notNull().unique())
      .addColumn('debit_account_id', 'text', (c) => c.notNull())
      .addColumn('credit_account_id', 'text', (c) => c.notNull())
      .addColumn('amount', int64, (c) => c.notNull())
      .addColumn('currency', 'text', (c) => c.notNull())
      // What the money moved for: 'topup', 'usage', 'fee', 'refund', …
      .addColumn('kind', 'text', (c) => c.notNull())
      // The business object behind it (a charge, an invoice, a receipt), if any.
      .addColumn('ref', 'text')
      // single | pending | post | void
      .addColumn('flag', 'text', (c) => c.notNull())
      // The hold a post or void resolves.
      .addColumn('pending_id', 'text')
      // A hold's expiry (epoch ms).
      .addColumn('expires_at', int64)
      .addColumn('created_at', int64, (c) => c.notNull()),
  ).execute();
  await db.schema
    .createIndex('ledger_transfers_pending_key')
    .on('ledger_transfers')
    .column('pending_id')
    .unique()
    .where(sql.ref('pending_id'), 'is not', null)
    .execute();
  await db.schema
    .createIndex('ledger_transfers_debit_idx')
    .on('ledger_transfers')
    .columns(['debit_account_id', 'created_at'])
    .execute();
  await db.schema
    .createIndex('ledger_transfers_credit_idx')
    .on('ledger_transfers')
    .columns(['credit_account_id', 'created_at'])
    .execute();
  // Open holds by expiry, for the worker's expireHolds.
  await db.schema
    .createIndex('ledger_transfers_expiry_idx')
    .on('ledger_transfers')
    .column('expires_at')
    .where(sql.ref('flag'), '=', 'pending')
    .execute();
}
