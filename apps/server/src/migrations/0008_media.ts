import { type Kysely, sql } from 'kysely';
import type { DbCaps } from '../platform/db.js';

/**
 * Media, beyond what 0006 created:
 * - media_views records, per view-once message, media and recipient account, the one download
 *   allowed; its primary key makes the record-and-serve race-safe (the insert that wins serves).
 *   Rows live as long as the message's metadata.
 * - an index on media.thumbnail_sha256: before a stored file is unlinked, expiry asks whether any
 *   row still uses its hash as content or as thumbnail.
 */
export async function up(db: Kysely<unknown>, caps: DbCaps): Promise<void> {
  const strict = <T extends { modifyEnd(s: ReturnType<typeof sql>): T }>(t: T): T =>
    caps.strictTables ? t.modifyEnd(sql`strict`) : t;

  await strict(
    db.schema
      .createTable('media_views')
      .addColumn('message_id', 'text', (c) => c.notNull())
      .addColumn('media_id', 'text', (c) => c.notNull())
      .addColumn('account_id', 'text', (c) => c.notNull())
      .addColumn('viewed_at', caps.int64, (c) => c.notNull())
      .addColumn('expires_at', caps.int64, (c) => c.notNull())
      .addPrimaryKeyConstraint('media_views_pk', ['message_id', 'media_id', 'account_id']),
  ).execute();
  await db.schema.createIndex('media_views_expiry_idx').on('media_views').column('expires_at').execute();

  await db.schema.createIndex('media_thumbnail_idx').on('media').column('thumbnail_sha256').execute();
}
