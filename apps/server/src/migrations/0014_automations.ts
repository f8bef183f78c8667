import { type Kysely, sql } from 'kysely';
import type { DbCaps } from '../platform/db.js';

/**
 * Business automations: greeting and away messages (JSON settings per business), keyword
 * rules in order, quick replies by shortcut, and when each automated kind last answered a
 * conversation (so an away message is not repeated to every message of one conversation).
 */
export async function up(db: Kysely<unknown>, caps: DbCaps): Promise<void> {
  const strict = <T extends { modifyEnd(s: ReturnType<typeof sql>): T }>(t: T): T =>
    caps.strictTables ? t.modifyEnd(sql`strict`) : t;
  const int64 = caps.int64;
  await strict(
    db.schema
      .createTable('business_automations')
      .addColumn('business_id', 'text', (c) => c.primaryKey())
      .addColumn('greeting', 'text', (c) => c.notNull())
      .addColumn('away', 'text', (c) => c.notNull())
      .addColumn('updated_at', int64, (c) => c.notNull()),
  ).execute();
  await strict(
    db.schema
      .createTable('keyword_rules')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('business_id', 'text', (c) => c.notNull())
      .addColumn('position', 'integer', (c) => c.notNull())
      .addColumn('rule', 'text', (c) => c.notNull())
      .addColumn('created_at', int64, (c) => c.notNull()),
  ).execute();
  await db.schema
    .createIndex('keyword_rules_business_idx')
    .on('keyword_rules')
    .column('business_id')
    .execute();
  await strict(
    db.schema
      .createTable('quick_replies')
      .addColumn('business_id', 'text', (c) => c.notNull())
      .addColumn('shortcut', 'text', (c) => c.notNull())
      .addColumn('text', 'text', (c) => c.notNull())
      .addColumn('media_id', 'text')
      .addColumn('created_at', int64, (c) => c.notNull())
      .addPrimaryKeyConstraint('quick_replies_pk', ['business_id', 'shortcut']),
  ).execute();
  await strict(
    db.schema
      .createTable('automation_sends')
      .addColumn('conversation_id', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('last_at', int64, (c) => c.notNull())
      .addPrimaryKeyConstraint('automation_sends_pk', ['conversation_id', 'kind']),
  ).execute();
}
