import { type Kysely, sql } from 'kysely';
import type { DbCaps } from '../platform/db.js';

/**
 * Message features and media, all from metadata so they keep working once bodies are
 * end-to-end encrypted:
 * - message_meta learns each message's kind (message, reaction, edit, delete), the message it
 *   acts on (ref_id), what it replies to, how many forwarding hops it carries, whether it is
 *   view-once, and tombstones (edited_at, deleted_at) on the original.
 * - envelopes.extra holds the frame fields beyond the basic ones (ref, reply_to, forwarded,
 *   media, view_once, disappears_at) as JSON; null for a plain message, so the hot path is
 *   unchanged.
 * - reactions keeps each person's current reaction per message (one, changeable, removable).
 * - chat_timers holds the disappearing-messages timer of each chat (1:1 key or group id).
 * - media and message_media: uploads stored by content hash, and which messages use them
 *   (the right to download follows the right to see a message that references the media).
 */
export async function up(db: Kysely<unknown>, caps: DbCaps): Promise<void> {
  const strict = <T extends { modifyEnd(s: ReturnType<typeof sql>): T }>(t: T): T =>
    caps.strictTables ? t.modifyEnd(sql`strict`) : t;
  const int64 = caps.int64;

  const meta = db.schema.alterTable('message_meta');
  await meta.addColumn('kind', 'text', (c) => c.notNull().defaultTo('message')).execute();
  await meta.addColumn('ref_id', 'text').execute();
  await meta.addColumn('reply_to', 'text').execute();
  await meta.addColumn('forward_hops', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await meta.addColumn('view_once', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await meta.addColumn('edited_at', int64).execute();
  await meta.addColumn('deleted_at', int64).execute();

  // A delete for everyone also removes the undelivered edits of the message.
  await db.schema.createIndex('message_meta_ref_idx').on('message_meta').column('ref_id').execute();

  await db.schema.alterTable('envelopes').addColumn('extra', 'text').execute();
  // Deleting a message for everyone removes its undelivered envelopes.
  await db.schema.createIndex('envelopes_message_idx').on('envelopes').column('message_id').execute();

  await strict(
    db.schema
      .createTable('reactions')
      .addColumn('message_id', 'text', (c) => c.notNull())
      .addColumn('account_id', 'text', (c) => c.notNull())
      // The reaction message (its payload, opaque to the server, holds the emoji).
      .addColumn('reaction_id', 'text', (c) => c.notNull())
      .addColumn('reacted_at', int64, (c) => c.notNull())
      .addColumn('expires_at', int64, (c) => c.notNull())
      .addPrimaryKeyConstraint('reactions_pk', ['message_id', 'account_id']),
  ).execute();
  await db.schema.createIndex('reactions_expiry_idx').on('reactions').column('expires_at').execute();

  await strict(
    db.schema
      .createTable('chat_timers')
      // A 1:1 chat's key is its two account ids, sorted, joined by ':'; a group's is its id.
      .addColumn('chat_key', 'text', (c) => c.primaryKey())
      .addColumn('timer_ms', int64, (c) => c.notNull())
      .addColumn('set_by', 'text', (c) => c.notNull())
      .addColumn('set_at', int64, (c) => c.notNull()),
  ).execute();

  await strict(
    db.schema
      .createTable('media')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('owner_account', 'text', (c) => c.notNull())
      // Hex SHA-256 of the content: the file name in the data folder's media store.
      .addColumn('sha256', 'text', (c) => c.notNull())
      .addColumn('size', int64, (c) => c.notNull())
      // Detected from the content, not taken from the upload's declared type.
      .addColumn('content_type', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('width', 'integer')
      .addColumn('height', 'integer')
      .addColumn('thumbnail_sha256', 'text')
      .addColumn('created_at', int64, (c) => c.notNull())
      // Until a message references it: an upload no message uses is deleted after this.
      .addColumn('expires_at', int64),
  ).execute();
  await db.schema.createIndex('media_sha256_idx').on('media').column('sha256').execute();
  await db.schema.createIndex('media_expiry_idx').on('media').column('expires_at').execute();

  await strict(
    db.schema
      .createTable('message_media')
      .addColumn('message_id', 'text', (c) => c.notNull())
      .addColumn('media_id', 'text', (c) => c.notNull())
      .addColumn('expires_at', int64, (c) => c.notNull())
      .addPrimaryKeyConstraint('message_media_pk', ['message_id', 'media_id']),
  ).execute();
  await db.schema.createIndex('message_media_media_idx').on('message_media').column('media_id').execute();
  await db.schema.createIndex('message_media_expiry_idx').on('message_media').column('expires_at').execute();
}
