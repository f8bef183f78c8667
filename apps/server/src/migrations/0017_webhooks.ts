import { type Kysely, sql } from 'kysely';
import type { DbCaps } from '../platform/db.js';

/**
 * Webhooks of the Business Messaging API: one subscription per business (its callback URL,
 * checked by the hub.challenge handshake) and the durable outbox of deliveries.
 *
 * `webhook_deliveries.id` is a database sequence: deliveries sharing an `order_key` go out in
 * id order, so the id must follow insertion order (a time-sortable id with random low bits
 * would not, within one millisecond). `body` is the exact ASCII JSON that is signed and sent.
 * `next_attempt_at` is when a pending delivery is due; once delivered or dead-lettered it
 * holds that moment instead, so one index serves both the claim and the cleanup.
 * `locked_until` is the lease of the worker sending it (0: free).
 */
export async function up(db: Kysely<unknown>, caps: DbCaps): Promise<void> {
  const strict = <T extends { modifyEnd(s: ReturnType<typeof sql>): T }>(t: T): T =>
    caps.strictTables ? t.modifyEnd(sql`strict`) : t;
  const int64 = caps.int64;

  await strict(
    db.schema
      .createTable('webhook_subscriptions')
      .addColumn('business_id', 'text', (c) => c.primaryKey())
      // The numeric id shown as the subscribed app's id.
      .addColumn('app_id', 'text', (c) => c.notNull())
      .addColumn('callback_url', 'text', (c) => c.notNull())
      .addColumn('created_at', int64, (c) => c.notNull())
      .addColumn('updated_at', int64, (c) => c.notNull()),
  ).execute();

  // SQLite's rowid alias and PostgreSQL's bigserial are the two spellings of one sequence.
  const table = db.schema.createTable('webhook_deliveries');
  await strict(
    (caps.dialect === 'postgres'
      ? table.addColumn('id', 'bigserial', (c) => c.primaryKey())
      : table.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    )
      .addColumn('business_id', 'text', (c) => c.notNull())
      .addColumn('field', 'text', (c) => c.notNull())
      .addColumn('body', 'text', (c) => c.notNull())
      .addColumn('order_key', 'text')
      // pending | delivered | failed (dead letter)
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull())
      .addColumn('next_attempt_at', int64, (c) => c.notNull())
      .addColumn('locked_until', int64, (c) => c.notNull())
      .addColumn('first_attempt_at', int64)
      .addColumn('last_status', 'integer')
      .addColumn('last_error', 'text')
      .addColumn('created_at', int64, (c) => c.notNull())
      .addColumn('delivered_at', int64)
      .addColumn('failed_at', int64),
  ).execute();
  await db.schema
    .createIndex('webhook_deliveries_due_idx')
    .on('webhook_deliveries')
    .columns(['state', 'next_attempt_at'])
    .execute();
  await db.schema
    .createIndex('webhook_deliveries_order_idx')
    .on('webhook_deliveries')
    .columns(['order_key', 'state', 'id'])
    .execute();
  await db.schema
    .createIndex('webhook_deliveries_business_idx')
    .on('webhook_deliveries')
    .columns(['business_id', 'state', 'id'])
    .execute();
}
