import { type Kysely, sql } from 'kysely';
import type { DbCaps } from '../platform/db.js';

/**
 * Broadcast lists of a business and the broadcasts sent to them, plus an index for the
 * statistics of chats started per day.
 *
 * A broadcast is delivered as one 1:1 message per member through `business_outbox`; the
 * `broadcasts` row is written in the same transaction as those outbox rows, so it records
 * exactly what was queued (and whom it skipped), whatever crashes afterwards.
 */
export async function up(db: Kysely<unknown>, caps: DbCaps): Promise<void> {
  const strict = <T extends { modifyEnd(s: ReturnType<typeof sql>): T }>(t: T): T =>
    caps.strictTables ? t.modifyEnd(sql`strict`) : t;
  const int64 = caps.int64;

  await strict(
    db.schema
      .createTable('broadcast_lists')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('business_id', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('created_at', int64, (c) => c.notNull())
      .addColumn('updated_at', int64, (c) => c.notNull()),
  ).execute();
  await db.schema
    .createIndex('broadcast_lists_business_idx')
    .on('broadcast_lists')
    .columns(['business_id', 'created_at'])
    .execute();

  await strict(
    db.schema
      .createTable('broadcast_list_members')
      .addColumn('list_id', 'text', (c) => c.notNull())
      // A person's account (never a business number).
      .addColumn('account_id', 'text', (c) => c.notNull())
      .addColumn('added_at', int64, (c) => c.notNull())
      .addPrimaryKeyConstraint('broadcast_list_members_pk', ['list_id', 'account_id']),
  ).execute();

  await strict(
    db.schema
      .createTable('broadcasts')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('list_id', 'text', (c) => c.notNull())
      .addColumn('business_id', 'text', (c) => c.notNull())
      .addColumn('phone_number_id', 'text', (c) => c.notNull())
      // The agent (owner or admin) who sent it.
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('text', 'text', (c) => c.notNull())
      .addColumn('created_at', int64, (c) => c.notNull())
      // How many members it was queued for.
      .addColumn('recipients', 'integer', (c) => c.notNull())
      // JSON: [{ account_id, reason: 'blocked' | 'not_opted_in' }], members it was not sent to.
      .addColumn('skipped', 'text', (c) => c.notNull()),
  ).execute();
  await db.schema
    .createIndex('broadcasts_list_idx')
    .on('broadcasts')
    .columns(['list_id', 'created_at'])
    .execute();

  // Chats started per day: a range scan of one business's conversations by creation time.
  await db.schema
    .createIndex('conversations_business_created_idx')
    .on('conversations')
    .columns(['business_id', 'created_at'])
    .execute();
}
