import { type Kysely, sql } from 'kysely';
import type { DbCaps } from '../platform/db.js';

/**
 * What the Business Messaging API's limits must remember (the rules Meta enforces):
 *
 * - `business_limits`: a business's messaging-limit tier (unique people reached by
 *   business-initiated messages in a rolling 24 h), when it last changed and who changed it,
 *   and when upgrades were last evaluated. No row: the starting tier (250, or 2,000 when the
 *   business is verified), never evaluated.
 * - `number_limits`: a business number's throughput set by the operator (null: the default
 *   80 messages/s) and its quality rating from people's blocks and reports.
 * - `marketing_opt_outs`: people who sent STOP (or UNSUBSCRIBE) to a number and get no
 *   marketing templates from it until they send START.
 *
 * Quality is computed from blocks and reports of a number's account: both get an index by
 * the account blocked or reported (they had none), so the evaluation reads a range.
 */
export async function up(db: Kysely<unknown>, caps: DbCaps): Promise<void> {
  const strict = <T extends { modifyEnd(s: ReturnType<typeof sql>): T }>(t: T): T =>
    caps.strictTables ? t.modifyEnd(sql`strict`) : t;
  const int64 = caps.int64;

  await strict(
    db.schema
      .createTable('business_limits')
      .addColumn('business_id', 'text', (c) => c.primaryKey())
      // TIER_250 | TIER_2K | TIER_10K | TIER_100K | TIER_UNLIMITED
      .addColumn('tier', 'text', (c) => c.notNull())
      .addColumn('tier_changed_at', int64, (c) => c.notNull())
      // initial | automatic | operator
      .addColumn('tier_changed_by', 'text', (c) => c.notNull())
      .addColumn('evaluated_at', int64),
  ).execute();

  await strict(
    db.schema
      .createTable('number_limits')
      .addColumn('phone_number_id', 'text', (c) => c.primaryKey())
      .addColumn('business_id', 'text', (c) => c.notNull())
      // Messages per second; null: the default.
      .addColumn('throughput_mps', 'integer')
      // GREEN | YELLOW | RED
      .addColumn('quality_rating', 'text', (c) => c.notNull())
      .addColumn('quality_changed_at', int64, (c) => c.notNull()),
  ).execute();

  await strict(
    db.schema
      .createTable('marketing_opt_outs')
      .addColumn('phone_number_id', 'text', (c) => c.notNull())
      .addColumn('person_account_id', 'text', (c) => c.notNull())
      .addColumn('business_id', 'text', (c) => c.notNull())
      .addColumn('opted_out_at', int64, (c) => c.notNull())
      .addPrimaryKeyConstraint('marketing_opt_outs_pk', ['phone_number_id', 'person_account_id']),
  ).execute();

  await db.schema
    .createIndex('blocks_blocked_idx')
    .on('blocks')
    .columns(['blocked_id', 'created_at'])
    .execute();
  await db.schema
    .createIndex('reports_reported_idx')
    .on('reports')
    .columns(['reported_id', 'created_at'])
    .execute();
}
