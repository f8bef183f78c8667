import { type Kysely, sql } from 'kysely';
import type { DbCaps } from '../platform/db.js';

/**
 * Labels of a business (applied to conversations and to single messages of its inbox), short
 * links with their QR codes, and the record of people opening them (`link_opens`), which the
 * inbox consults when a person starts a conversation to credit the link that brought them.
 */
export async function up(db: Kysely<unknown>, caps: DbCaps): Promise<void> {
  const strict = <T extends { modifyEnd(s: ReturnType<typeof sql>): T }>(t: T): T =>
    caps.strictTables ? t.modifyEnd(sql`strict`) : t;
  const int64 = caps.int64;

  await strict(
    db.schema
      .createTable('labels')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('business_id', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      // The name as compared (lower case, NFC): uniqueness per business ignores case.
      .addColumn('name_key', 'text', (c) => c.notNull())
      // A palette name or #RRGGBB.
      .addColumn('color', 'text', (c) => c.notNull())
      .addColumn('created_at', int64, (c) => c.notNull())
      .addColumn('updated_at', int64, (c) => c.notNull())
      .addUniqueConstraint('labels_name_uq', ['business_id', 'name_key']),
  ).execute();

  await strict(
    db.schema
      .createTable('conversation_labels')
      .addColumn('conversation_id', 'text', (c) => c.notNull())
      .addColumn('label_id', 'text', (c) => c.notNull())
      .addColumn('business_id', 'text', (c) => c.notNull())
      .addColumn('created_at', int64, (c) => c.notNull())
      .addPrimaryKeyConstraint('conversation_labels_pk', ['conversation_id', 'label_id']),
  ).execute();
  await db.schema
    .createIndex('conversation_labels_label_idx')
    .on('conversation_labels')
    .column('label_id')
    .execute();

  await strict(
    db.schema
      .createTable('message_labels')
      .addColumn('message_id', 'text', (c) => c.notNull())
      .addColumn('label_id', 'text', (c) => c.notNull())
      .addColumn('conversation_id', 'text', (c) => c.notNull())
      .addColumn('business_id', 'text', (c) => c.notNull())
      .addColumn('created_at', int64, (c) => c.notNull())
      .addPrimaryKeyConstraint('message_labels_pk', ['message_id', 'label_id']),
  ).execute();
  await db.schema.createIndex('message_labels_label_idx').on('message_labels').column('label_id').execute();

  await strict(
    db.schema
      .createTable('short_links')
      // Global: the code is the path of a public URL. A deleted link keeps its row (deleted_at)
      // so its code, possibly printed on paper, never leads to another business.
      .addColumn('code', 'text', (c) => c.primaryKey())
      .addColumn('business_id', 'text', (c) => c.notNull())
      .addColumn('phone_number_id', 'text', (c) => c.notNull())
      .addColumn('text', 'text', (c) => c.notNull())
      // 1 for a code the business chose (a plan feature), 0 for a generated one.
      .addColumn('custom', 'integer', (c) => c.notNull())
      .addColumn('created_at', int64, (c) => c.notNull())
      .addColumn('updated_at', int64, (c) => c.notNull())
      .addColumn('deleted_at', int64),
  ).execute();
  await db.schema
    .createIndex('short_links_business_idx')
    .on('short_links')
    .columns(['business_id', 'created_at'])
    .execute();

  await strict(
    db.schema
      .createTable('link_opens')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('code', 'text', (c) => c.notNull())
      .addColumn('account_id', 'text', (c) => c.notNull())
      // link or qr: how the person reached the code.
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('opened_at', int64, (c) => c.notNull()),
  ).execute();
  await db.schema
    .createIndex('link_opens_account_idx')
    .on('link_opens')
    .columns(['account_id', 'opened_at'])
    .execute();

  // chats_started of a link counts conversations by the code that started them.
  await db.schema
    .createIndex('conversations_started_ref_idx')
    .on('conversations')
    .column('started_ref')
    .execute();
}
