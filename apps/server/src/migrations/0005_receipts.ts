import { type Kysely, sql } from 'kysely';
import type { DbCaps } from '../platform/db.js';

/**
 * Receipts. message_meta keeps who sent each message to which chat for as long as its envelopes
 * may live (30 days), so receipts can be checked and aggregated after the envelopes were acked
 * and deleted. receipts holds, per message and recipient account, when it was delivered and read.
 */
export async function up(db: Kysely<unknown>, caps: DbCaps): Promise<void> {
  const strict = <T extends { modifyEnd(s: ReturnType<typeof sql>): T }>(t: T): T =>
    caps.strictTables ? t.modifyEnd(sql`strict`) : t;

  await strict(
    db.schema
      .createTable('message_meta')
      .addColumn('message_id', 'text', (c) => c.primaryKey())
      .addColumn('sender_account', 'text', (c) => c.notNull())
      // The addressed account (1:1) or the group.
      .addColumn('to_id', 'text', (c) => c.notNull())
      .addColumn('sent_at', caps.int64, (c) => c.notNull())
      .addColumn('expires_at', caps.int64, (c) => c.notNull()),
  ).execute();
  await db.schema.createIndex('message_meta_expiry_idx').on('message_meta').column('expires_at').execute();

  await strict(
    db.schema
      .createTable('receipts')
      .addColumn('message_id', 'text', (c) => c.notNull())
      .addColumn('account_id', 'text', (c) => c.notNull())
      .addColumn('delivered_at', caps.int64, (c) => c.notNull())
      .addColumn('read_at', caps.int64)
      .addPrimaryKeyConstraint('receipts_pk', ['message_id', 'account_id']),
  ).execute();
}
