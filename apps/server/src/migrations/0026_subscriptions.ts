import { type Kysely, sql } from 'kysely';
import type { DbCaps } from '../platform/db.js';

/**
 * Subscriptions, the consumer plan, top-up receipts and billing notices.
 *
 * `subscriptions`: a business's paid plan, billed per calendar month (UTC). At most one live
 * (not canceled) row per business, enforced by a partial unique index; canceled rows stay as
 * history. `charge_seq` numbers the fees charged for the subscription so each gets the
 * idempotency key `sub:<id>:<period>:<n>` and a retried attempt reuses its key. Dunning:
 * `dunning_step` counts failed attempts since the last payment, `next_attempt_at` is when the
 * worker tries again, `grace_until` when the business is downgraded if still unpaid.
 *
 * `consumer_plans`: per person, until when sending is paid (or free); no row: the free first
 * year counted from the account's creation. `billing_settings`: operator settings as JSON by
 * key (the consumer plan, dunning).
 *
 * `billing_receipts`: one per top-up, numbered without gaps, unique by idempotency key.
 * `billing_notices`: in-app alerts; `dedupe_key` makes a notice the worker may repeat
 * (a reminder, a dunning step) appear once.
 */
export async function up(db: Kysely<unknown>, caps: DbCaps): Promise<void> {
  const strict = <T extends { modifyEnd(s: ReturnType<typeof sql>): T }>(t: T): T =>
    caps.strictTables ? t.modifyEnd(sql`strict`) : t;
  const int64 = caps.int64;

  await strict(
    db.schema
      .createTable('subscriptions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('business_id', 'text', (c) => c.notNull())
      .addColumn('plan_id', 'text', (c) => c.notNull())
      // active | past_due | canceled
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('current_period_start', int64, (c) => c.notNull())
      .addColumn('current_period_end', int64, (c) => c.notNull())
      .addColumn('cancel_at_period_end', 'integer', (c) => c.notNull())
      // The provider each fee is collected through before it is charged; null: the balance pays.
      .addColumn('payment_provider', 'text')
      .addColumn('charge_seq', 'integer', (c) => c.notNull())
      .addColumn('dunning_step', 'integer', (c) => c.notNull())
      .addColumn('next_attempt_at', int64)
      .addColumn('grace_until', int64)
      .addColumn('canceled_at', int64)
      .addColumn('created_at', int64, (c) => c.notNull())
      .addColumn('updated_at', int64, (c) => c.notNull()),
  ).execute();
  await sql`create unique index subscriptions_live_business_key on subscriptions (business_id)
    where status <> 'canceled'`.execute(db);
  await db.schema
    .createIndex('subscriptions_due_idx')
    .on('subscriptions')
    .columns(['status', 'current_period_end'])
    .execute();

  await strict(
    db.schema
      .createTable('consumer_plans')
      .addColumn('account_id', 'text', (c) => c.primaryKey())
      .addColumn('expires_at', int64, (c) => c.notNull())
      .addColumn('renewed_at', int64)
      .addColumn('updated_at', int64, (c) => c.notNull()),
  ).execute();

  await strict(
    db.schema
      .createTable('billing_settings')
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('value', 'text', (c) => c.notNull())
      .addColumn('updated_at', int64, (c) => c.notNull()),
  ).execute();

  await strict(
    db.schema
      .createTable('billing_receipts')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('number', int64, (c) => c.notNull().unique())
      .addColumn('idempotency_key', 'text', (c) => c.notNull().unique())
      .addColumn('billing_account_id', 'text', (c) => c.notNull())
      .addColumn('amount_minor', int64, (c) => c.notNull())
      .addColumn('currency', 'text', (c) => c.notNull())
      .addColumn('provider', 'text', (c) => c.notNull())
      .addColumn('reference', 'text')
      .addColumn('ledger_transfer_id', 'text', (c) => c.notNull())
      .addColumn('created_at', int64, (c) => c.notNull()),
  ).execute();
  await db.schema
    .createIndex('billing_receipts_account_idx')
    .on('billing_receipts')
    .columns(['billing_account_id', 'created_at'])
    .execute();

  await strict(
    db.schema
      .createTable('billing_notices')
      .addColumn('id', 'text', (c) => c.primaryKey())
      // business | person
      .addColumn('owner_type', 'text', (c) => c.notNull())
      .addColumn('owner_id', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('title', 'text', (c) => c.notNull())
      .addColumn('body', 'text', (c) => c.notNull())
      .addColumn('data', 'text', (c) => c.notNull())
      .addColumn('dedupe_key', 'text', (c) => c.unique())
      .addColumn('created_at', int64, (c) => c.notNull())
      .addColumn('read_at', int64),
  ).execute();
  await db.schema
    .createIndex('billing_notices_owner_idx')
    .on('billing_notices')
    .columns(['owner_type', 'owner_id', 'created_at'])
    .execute();
}
