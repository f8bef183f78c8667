import { type Kysely, sql } from 'kysely';
import type { DbCaps } from '../platform/db.js';

/** Accounts, devices, one-time codes, per-device envelope queues and send idempotency keys. */
export async function up(db: Kysely<unknown>, caps: DbCaps): Promise<void> {
  const strict = <T extends { modifyEnd(s: ReturnType<typeof sql>): T }>(t: T): T =>
    caps.strictTables ? t.modifyEnd(sql`strict`) : t;
  const int64 = caps.int64;

  await strict(
    db.schema
      .createTable('accounts')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('phone', 'text', (c) => c.notNull().unique())
      .addColumn('display_name', 'text', (c) => c.notNull())
      .addColumn('about', 'text', (c) => c.notNull())
      .addColumn('created_at', int64, (c) => c.notNull()),
  ).execute();

  await strict(
    db.schema
      .createTable('devices')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('token_hash', 'text', (c) => c.notNull().unique())
      .addColumn('created_at', int64, (c) => c.notNull())
      .addColumn('last_seen_at', int64)
      .addColumn('last_seq', int64, (c) => c.notNull().defaultTo(0)),
  ).execute();
  await db.schema.createIndex('devices_account_idx').on('devices').column('account_id').execute();

  await strict(
    db.schema
      .createTable('verification_codes')
      .addColumn('phone', 'text', (c) => c.primaryKey())
      .addColumn('code_hash', 'text', (c) => c.notNull())
      .addColumn('expires_at', int64, (c) => c.notNull())
      .addColumn('attempts_left', 'integer', (c) => c.notNull())
      .addColumn('created_at', int64, (c) => c.notNull()),
  ).execute();

  // The queue: one row per (device, seq). Deleted on ack or expiry. No foreign key to devices:
  // a logout deletes the device's envelopes explicitly, and skipping the FK check keeps the
  // hot insert path cheap.
  await strict(
    db.schema
      .createTable('envelopes')
      .addColumn('device_id', 'text', (c) => c.notNull())
      .addColumn('seq', int64, (c) => c.notNull())
      .addColumn('message_id', 'text', (c) => c.notNull())
      .addColumn('sender_account', 'text', (c) => c.notNull())
      .addColumn('sender_device', 'text', (c) => c.notNull())
      .addColumn('sender_phone', 'text', (c) => c.notNull())
      .addColumn('sent_at', int64, (c) => c.notNull())
      .addColumn('expires_at', int64, (c) => c.notNull())
      .addColumn('payload', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('envelopes_pk', ['device_id', 'seq']),
  ).execute();
  await db.schema.createIndex('envelopes_expiry_idx').on('envelopes').column('expires_at').execute();

  await strict(
    db.schema
      .createTable('sends')
      .addColumn('sender_device', 'text', (c) => c.notNull())
      .addColumn('client_id', 'text', (c) => c.notNull())
      .addColumn('message_id', 'text', (c) => c.notNull())
      .addColumn('sent_at', int64, (c) => c.notNull())
      .addPrimaryKeyConstraint('sends_pk', ['sender_device', 'client_id']),
  ).execute();
  await db.schema.createIndex('sends_sent_at_idx').on('sends').column('sent_at').execute();
}
