import { createHash } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import type { DbCaps } from '../platform/db.js';

/**
 * Contacts and privacy: blocks, the contacts each account discovered (matches only: the server
 * never stores an address book), spam reports, and per-account privacy settings.
 * accounts.phone_hash (SHA-256 of the E.164 number, base64url) answers contact discovery.
 */
export async function up(db: Kysely<unknown>, caps: DbCaps): Promise<void> {
  const strict = <T extends { modifyEnd(s: ReturnType<typeof sql>): T }>(t: T): T =>
    caps.strictTables ? t.modifyEnd(sql`strict`) : t;

  await db.schema.alterTable('accounts').addColumn('phone_hash', 'text').execute();
  for (const column of ['privacy_last_seen', 'privacy_online', 'privacy_photo', 'privacy_about']) {
    await db.schema
      .alterTable('accounts')
      .addColumn(column, 'text', (c) => c.notNull().defaultTo('everyone'))
      .execute();
  }
  await db.schema
    .alterTable('accounts')
    .addColumn('read_receipts', 'integer', (c) => c.notNull().defaultTo(1))
    .execute();
  await db.schema.createIndex('accounts_phone_hash_idx').on('accounts').column('phone_hash').execute();
  // Existing accounts get their hash here (SQLite has no SHA-256 function).
  const existing = await sql<{ id: string; phone: string }>`select id, phone from accounts`.execute(db);
  for (const row of existing.rows) {
    await sql`update accounts set phone_hash = ${phoneHash(row.phone)} where id = ${row.id}`.execute(db);
  }

  await strict(
    db.schema
      .createTable('blocks')
      .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
      .addColumn('blocked_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
      .addColumn('created_at', caps.int64, (c) => c.notNull())
      .addPrimaryKeyConstraint('blocks_pk', ['account_id', 'blocked_id']),
  ).execute();

  await strict(
    db.schema
      .createTable('contacts')
      .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
      .addColumn('contact_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
      .addColumn('created_at', caps.int64, (c) => c.notNull())
      .addPrimaryKeyConstraint('contacts_pk', ['account_id', 'contact_id']),
  ).execute();

  await strict(
    db.schema
      .createTable('reports')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('reporter_id', 'text', (c) => c.notNull())
      .addColumn('reported_id', 'text', (c) => c.notNull())
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('created_at', caps.int64, (c) => c.notNull()),
  ).execute();
}

/** The discovery hash of an E.164 number; clients compute the same (see docs/protocol.md). */
function phoneHash(phone: string): string {
  return createHash('sha256').update(phone).digest('base64url');
}
