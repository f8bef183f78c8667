import { type Kysely, sql } from 'kysely';
import type { DbCaps } from '../platform/db.js';

/**
 * Messages sent through the Business Messaging API, and the immutable record of what billing
 * needs to price each business message.
 *
 * `api_messages` follows a message from accepted to sent, delivered, read or failed: status
 * webhooks, the 24-hour window, messaging limits and pair rates are read from it. Its
 * `message_id` is assigned when the message is accepted (the wamid the client gets is made
 * from it), before delivery commits it.
 *
 * `message_events` rows are written in the same transaction as the outcome they record
 * (a delivered receipt, say) under a unique key, so a redelivered receipt records nothing
 * twice; billing prices each exactly once.
 *
 * `business_outbox.fields` carries what a send needs besides its payload (kind, reference,
 * reply, media, the preassigned message id), as JSON.
 */
export async function up(db: Kysely<unknown>, caps: DbCaps): Promise<void> {
  const strict = <T extends { modifyEnd(s: ReturnType<typeof sql>): T }>(t: T): T =>
    caps.strictTables ? t.modifyEnd(sql`strict`) : t;
  const int64 = caps.int64;

  await db.schema.alterTable('business_outbox').addColumn('fields', 'text').execute();

  await strict(
    db.schema
      .createTable('api_messages')
      .addColumn('message_id', 'text', (c) => c.primaryKey())
      .addColumn('business_id', 'text', (c) => c.notNull())
      .addColumn('phone_number_id', 'text', (c) => c.notNull())
      // E.164 of the recipient, and their account when they have one.
      .addColumn('to_phone', 'text', (c) => c.notNull())
      .addColumn('to_account', 'text')
      // The Cloud API message type (text, image, template, …).
      .addColumn('type', 'text', (c) => c.notNull())
      // Template category (marketing, utility, authentication); null for a free-form message.
      .addColumn('category', 'text')
      .addColumn('template_id', 'text')
      .addColumn('callback_data', 'text')
      // Whether the person's 24-hour customer-service window was open when it was accepted.
      .addColumn('window_open', 'integer', (c) => c.notNull())
      // A free entry point (click-to-chat link) the conversation came through, if any.
      .addColumn('entry_point', 'text')
      // accepted | sent | delivered | read | failed
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('error_code', 'integer')
      .addColumn('error_details', 'text')
      .addColumn('created_at', int64, (c) => c.notNull())
      .addColumn('sent_at', int64)
      .addColumn('delivered_at', int64)
      .addColumn('read_at', int64),
  ).execute();
  await db.schema
    .createIndex('api_messages_business_idx')
    .on('api_messages')
    .columns(['business_id', 'created_at'])
    .execute();
  await db.schema
    .createIndex('api_messages_pair_idx')
    .on('api_messages')
    .columns(['phone_number_id', 'to_phone', 'created_at'])
    .execute();

  await strict(
    db.schema
      .createTable('message_events')
      // One per outcome: `<kind>:<message id>`.
      .addColumn('event_key', 'text', (c) => c.primaryKey())
      // delivered (a business message reached the person)
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('business_id', 'text', (c) => c.notNull())
      .addColumn('phone_number_id', 'text', (c) => c.notNull())
      .addColumn('message_id', 'text', (c) => c.notNull())
      // marketing | utility | authentication | service
      .addColumn('category', 'text', (c) => c.notNull())
      // The recipient's market: ISO 3166 alpha-2 country of their number (or ZZ).
      .addColumn('market', 'text', (c) => c.notNull())
      .addColumn('window_open', 'integer', (c) => c.notNull())
      .addColumn('entry_point', 'text')
      // api | agent | automation | broadcast
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('occurred_at', int64, (c) => c.notNull()),
  ).execute();
  await db.schema
    .createIndex('message_events_business_idx')
    .on('message_events')
    .columns(['business_id', 'occurred_at'])
    .execute();
}
