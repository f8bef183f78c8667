import type { Kysely } from 'kysely';
import type { DbCaps } from '../platform/db.js';

/**
 * Profile and group photos: an image upload (media id) named by the account or the group. A
 * photo in use keeps its upload from expiring, and whoever may see the photo may download it
 * (the owner's photo privacy setting; a group's members).
 */
export async function up(db: Kysely<unknown>, _caps: DbCaps): Promise<void> {
  await db.schema.alterTable('accounts').addColumn('photo_media_id', 'text').execute();
  await db.schema.alterTable('groups').addColumn('photo_media_id', 'text').execute();
  await db.schema.createIndex('accounts_photo_idx').on('accounts').column('photo_media_id').execute();
  await db.schema.createIndex('groups_photo_idx').on('groups').column('photo_media_id').execute();
}
