import { type Kysely, sql } from 'kysely';
import type { DbCaps } from '../platform/db.js';

/**
 * Linked devices: each account has one primary device and up to 4 companions, linked by
 * short-lived codes. Envelopes name their chat from the receiving device's point of view, so
 * a sender's other devices file their own copy under the right conversation.
 */
export async function up(db: Kysely<unknown>, caps: DbCaps): Promise<void> {
  await db.schema
    .alterTable('devices')
    .addColumn('role', 'text', (c) => c.notNull().defaultTo('companion'))
    .execute();
  // The oldest device of each account (ids sort by creation time) becomes its primary.
  await sql`update devices set role = 'primary'
    where id in (select min(id) from devices group by account_id)`.execute(db);

  const table = db.schema
    .createTable('link_codes')
    .addColumn('code_hash', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('expires_at', caps.int64, (c) => c.notNull())
    .addColumn('created_at', caps.int64, (c) => c.notNull());
  await (caps.strictTables ? table.modifyEnd(sql`strict`) : table).execute();

  await db.schema
    .alterTable('envelopes')
    .addColumn('chat_id', 'text', (c) => c.notNull().defaultTo(''))
    .execute();
}
