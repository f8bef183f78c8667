import type { Kysely } from 'kysely';
import type { DbCaps } from '../platform/db.js';

/**
 * Broadcast sends can carry the client's idempotency key: a retried request (its answer was
 * lost) finds the broadcast it already made instead of making a second one.
 */
export async function up(db: Kysely<unknown>, _caps: DbCaps): Promise<void> {
  await db.schema.alterTable('broadcasts').addColumn('client_key', 'text').execute();
  await db.schema
    .createIndex('broadcasts_client_key_uq')
    .unique()
    .on('broadcasts')
    .columns(['list_id', 'client_key'])
    .execute();
}
