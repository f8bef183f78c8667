import { type Kysely, sql } from 'kysely';
import type { DbCaps } from '../platform/db.js';

/**
 * Media ids of the Business Messaging API. The Cloud API names media by numeric strings that
 * belong to one business: each row maps one to a Parley media (`med_…`) of that business,
 * uploaded through `POST /{phone-number-id}/media` (kept 30 days) or received by one of its
 * numbers from a person (7 days), as Meta keeps them. One id per (business, media), so a
 * medium a person sends twice keeps its id.
 */
export async function up(db: Kysely<unknown>, caps: DbCaps): Promise<void> {
  const strict = <T extends { modifyEnd(s: ReturnType<typeof sql>): T }>(t: T): T =>
    caps.strictTables ? t.modifyEnd(sql`strict`) : t;
  const int64 = caps.int64;

  await strict(
    db.schema
      .createTable('graph_media')
      .addColumn('graph_id', 'text', (c) => c.primaryKey())
      .addColumn('business_id', 'text', (c) => c.notNull())
      .addColumn('media_id', 'text', (c) => c.notNull())
      // The number it was uploaded through or received by (`?phone_number_id=` checks it).
      .addColumn('phone_number_id', 'text', (c) => c.notNull())
      // upload | received
      .addColumn('origin', 'text', (c) => c.notNull())
      .addColumn('created_at', int64, (c) => c.notNull())
      .addColumn('expires_at', int64, (c) => c.notNull()),
  ).execute();
  await db.schema
    .createIndex('graph_media_media_idx')
    .on('graph_media')
    .columns(['business_id', 'media_id'])
    .unique()
    .execute();
  await db.schema.createIndex('graph_media_expiry_idx').on('graph_media').column('expires_at').execute();
}
