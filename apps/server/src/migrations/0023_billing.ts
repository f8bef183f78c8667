import { type Kysely, sql } from 'kysely';
import type { DbCaps } from '../platform/db.js';

/**
 * Billing accounts and metered charges.
 *
 * `billing_accounts`: one per business (and per person once the consumer plan is on), in one
 * currency, prepaid or on a credit line; its money sits in a ledger account (modules/ledger).
 * `carry_micros` is the part of usage below one minor unit not yet posted to the ledger, so
 * sub-cent prices add up exactly instead of rounding each message.
 *
 * `billing_charges`: immutable, one row per priced billable event or fee, under a unique
 * idempotency key written in the same transaction as the event's effect; corrections are
 * credit notes, never edits. Prices are in micros (millionths of the major unit).
 *
 * `billing_usage_counters`: per account, month, category and market, how many billable
 * messages were metered (volume tiers) and per number how many service messages (the 2026
 * variant's free 1,000). `billing_conversations`: the 24-hour conversations of the older
 * conversation-based model.
 *
 * `message_events.recipient`: the person's E.164 number, which conversation pricing needs.
 */
export async function up(db: Kysely<unknown>, caps: DbCaps): Promise<void> {
  const strict = <T extends { modifyEnd(s: ReturnType<typeof sql>): T }>(t: T): T =>
    caps.strictTables ? t.modifyEnd(sql`strict`) : t;
  const int64 = caps.int64;

  await db.schema.alterTable('message_events').addColumn('recipient', 'text').execute();
  // Reconciliation reads a month of events in metering order.
  await db.schema
    .createIndex('message_events_time_idx')
    .on('message_events')
    .columns(['occurred_at', 'event_key'])
    .execute();

  await strict(
    db.schema
      .createTable('billing_accounts')
      .addColumn('id', 'text', (c) => c.primaryKey())
      // business | person
      .addColumn('owner_type', 'text', (c) => c.notNull())
      .addColumn('owner_id', 'text', (c) => c.notNull())
      .addColumn('currency', 'text', (c) => c.notNull())
      // ISO 3166 alpha-2 country, for tax; null: no tax.
      .addColumn('country', 'text')
      // prepaid | credit
      .addColumn('mode', 'text', (c) => c.notNull())
      .addColumn('credit_limit_minor', int64, (c) => c.notNull())
      .addColumn('ledger_account_id', 'text', (c) => c.notNull())
      .addColumn('partner_id', 'text')
      .addColumn('low_balance_minor', int64)
      .addColumn('low_balance_alerted_at', int64)
      .addColumn('carry_micros', int64, (c) => c.notNull())
      .addColumn('created_at', int64, (c) => c.notNull())
      .addColumn('updated_at', int64, (c) => c.notNull())
      .addUniqueConstraint('billing_accounts_owner_key', ['owner_type', 'owner_id']),
  ).execute();

  await strict(
    db.schema
      .createTable('billing_charges')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('idempotency_key', 'text', (c) => c.notNull().unique())
      .addColumn('billing_account_id', 'text', (c) => c.notNull())
      .addColumn('business_id', 'text')
      .addColumn('person_account_id', 'text')
      // api_messages | premium_plan | consumer_plan | payment_commission | adjustment
      .addColumn('stream', 'text', (c) => c.notNull())
      .addColumn('category', 'text')
      .addColumn('market', 'text')
      .addColumn('pricing_model', 'text')
      .addColumn('pricing_type', 'text')
      .addColumn('billable', 'integer', (c) => c.notNull())
      .addColumn('quantity', 'integer', (c) => c.notNull())
      .addColumn('unit_price_micros', int64, (c) => c.notNull())
      .addColumn('amount_micros', int64, (c) => c.notNull())
      .addColumn('partner_id', 'text')
      .addColumn('partner_markup_micros', int64, (c) => c.notNull())
      .addColumn('currency', 'text', (c) => c.notNull())
      .addColumn('rate_card_version_id', 'text')
      .addColumn('rounding', 'text', (c) => c.notNull())
      // YYYY-MM, the UTC month of occurred_at.
      .addColumn('period', 'text', (c) => c.notNull())
      .addColumn('occurred_at', int64, (c) => c.notNull())
      .addColumn('created_at', int64, (c) => c.notNull())
      .addColumn('description', 'text')
      .addColumn('ledger_transfer_id', 'text'),
  ).execute();
  await db.schema
    .createIndex('billing_charges_account_period_idx')
    .on('billing_charges')
    .columns(['billing_account_id', 'period'])
    .execute();
  await db.schema
    .createIndex('billing_charges_period_idx')
    .on('billing_charges')
    .columns(['period', 'stream'])
    .execute();

  await strict(
    db.schema
      .createTable('billing_usage_counters')
      // `<billing account>:<period>:<category>:<market>` or `<phone number id>:<period>:service`.
      .addColumn('counter_key', 'text', (c) => c.primaryKey())
      .addColumn('count', int64, (c) => c.notNull()),
  ).execute();

  await strict(
    db.schema
      .createTable('billing_conversations')
      // `<phone number id>:<recipient>:<category>`: the open conversation, if any.
      .addColumn('conversation_key', 'text', (c) => c.primaryKey())
      .addColumn('opened_at', int64, (c) => c.notNull())
      .addColumn('expires_at', int64, (c) => c.notNull()),
  ).execute();
}
