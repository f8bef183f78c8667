import { type Kysely, sql } from 'kysely';
import type { DbCaps } from '../platform/db.js';

/**
 * Business accounts, hosted on the platform. A business number is an ordinary account (so
 * people message it like anyone) with `accounts.business_id` set and one `hosted` device whose
 * queue the server itself consumes: that is the business's endpoint. Conversations and their
 * messages are the shared inbox agents work (plaintext: hosted chats are the one place the
 * server reads messages, and it says so). `business_outbox` holds automated replies decided
 * in the same transaction as the message that caused them, so a crash never loses or repeats
 * one.
 */
export async function up(db: Kysely<unknown>, caps: DbCaps): Promise<void> {
  const strict = <T extends { modifyEnd(s: ReturnType<typeof sql>): T }>(t: T): T =>
    caps.strictTables ? t.modifyEnd(sql`strict`) : t;
  const int64 = caps.int64;

  await db.schema.alterTable('accounts').addColumn('business_id', 'text').execute();

  await strict(
    db.schema
      .createTable('businesses')
      .addColumn('id', 'text', (c) => c.primaryKey())
      // Cloud API style numeric-string id of the business's WhatsApp Business Account.
      .addColumn('waba_id', 'text', (c) => c.notNull().unique())
      .addColumn('name', 'text', (c) => c.notNull())
      // 1 once the operator verified the name (the verified badge).
      .addColumn('name_verified', 'integer', (c) => c.notNull().defaultTo(0))
      // JSON of the profile (about, description, address, email, websites, vertical, hours, photo).
      .addColumn('profile', 'text', (c) => c.notNull())
      .addColumn('plan_id', 'text', (c) => c.notNull())
      // How long the inbox keeps messages, in days.
      .addColumn('retention_days', 'integer', (c) => c.notNull())
      // Signs webhook payloads (Business Messaging API); shown once at creation.
      .addColumn('app_secret', 'text', (c) => c.notNull())
      .addColumn('created_at', int64, (c) => c.notNull()),
  ).execute();

  await strict(
    db.schema
      .createTable('business_numbers')
      // Cloud API style numeric-string id of the phone number.
      .addColumn('phone_number_id', 'text', (c) => c.primaryKey())
      .addColumn('business_id', 'text', (c) => c.notNull())
      .addColumn('account_id', 'text', (c) => c.notNull().unique())
      .addColumn('device_id', 'text', (c) => c.notNull().unique())
      .addColumn('phone', 'text', (c) => c.notNull().unique())
      .addColumn('created_at', int64, (c) => c.notNull()),
  ).execute();
  await db.schema
    .createIndex('business_numbers_business_idx')
    .on('business_numbers')
    .column('business_id')
    .execute();

  await strict(
    db.schema
      .createTable('business_agents')
      .addColumn('business_id', 'text', (c) => c.notNull())
      .addColumn('account_id', 'text', (c) => c.notNull())
      .addColumn('role', 'text', (c) => c.notNull())
      .addColumn('created_at', int64, (c) => c.notNull())
      .addPrimaryKeyConstraint('business_agents_pk', ['business_id', 'account_id']),
  ).execute();
  await db.schema
    .createIndex('business_agents_account_idx')
    .on('business_agents')
    .column('account_id')
    .execute();

  await strict(
    db.schema
      .createTable('business_tokens')
      .addColumn('token_hash', 'text', (c) => c.primaryKey())
      .addColumn('business_id', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('created_at', int64, (c) => c.notNull())
      .addColumn('revoked_at', int64),
  ).execute();

  await strict(
    db.schema
      .createTable('conversations')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('business_id', 'text', (c) => c.notNull())
      .addColumn('phone_number_id', 'text', (c) => c.notNull())
      .addColumn('person_account_id', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('assignee', 'text')
      .addColumn('unread', 'integer', (c) => c.notNull())
      // How the chat started: direct, link, qr, catalog, broadcast; and the link's code.
      .addColumn('started_via', 'text', (c) => c.notNull())
      .addColumn('started_ref', 'text')
      .addColumn('created_at', int64, (c) => c.notNull())
      .addColumn('last_message_at', int64, (c) => c.notNull())
      .addColumn('last_inbound_at', int64)
      .addUniqueConstraint('conversations_person_uq', ['phone_number_id', 'person_account_id']),
  ).execute();
  await db.schema
    .createIndex('conversations_business_idx')
    .on('conversations')
    .columns(['business_id', 'last_message_at'])
    .execute();

  await strict(
    db.schema
      .createTable('business_messages')
      .addColumn('message_id', 'text', (c) => c.primaryKey())
      .addColumn('conversation_id', 'text', (c) => c.notNull())
      .addColumn('business_id', 'text', (c) => c.notNull())
      // in (from the person) or out (from the business).
      .addColumn('direction', 'text', (c) => c.notNull())
      // The person, the agent who wrote it, or `automation:<kind>`.
      .addColumn('author', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('text', 'text')
      .addColumn('created_at', int64, (c) => c.notNull())
      .addColumn('delivered_at', int64)
      .addColumn('read_at', int64),
  ).execute();
  await db.schema
    .createIndex('business_messages_conversation_idx')
    .on('business_messages')
    .columns(['conversation_id', 'created_at'])
    .execute();
  await db.schema
    .createIndex('business_messages_business_idx')
    .on('business_messages')
    .columns(['business_id', 'created_at'])
    .execute();

  await strict(
    db.schema
      .createTable('conversation_notes')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('conversation_id', 'text', (c) => c.notNull())
      .addColumn('business_id', 'text', (c) => c.notNull())
      .addColumn('author', 'text', (c) => c.notNull())
      .addColumn('text', 'text', (c) => c.notNull())
      .addColumn('created_at', int64, (c) => c.notNull()),
  ).execute();
  await db.schema
    .createIndex('conversation_notes_conversation_idx')
    .on('conversation_notes')
    .column('conversation_id')
    .execute();

  await strict(
    db.schema
      .createTable('business_outbox')
      // The client id of the send: deterministic, so a resend after a crash is deduplicated.
      .addColumn('client_id', 'text', (c) => c.primaryKey())
      .addColumn('phone_number_id', 'text', (c) => c.notNull())
      .addColumn('to_account', 'text', (c) => c.notNull())
      .addColumn('author', 'text', (c) => c.notNull())
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('created_at', int64, (c) => c.notNull()),
  ).execute();
}
