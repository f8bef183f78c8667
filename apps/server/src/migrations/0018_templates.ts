import { type Kysely, sql } from 'kysely';
import type { DbCaps } from '../platform/db.js';

/**
 * Message templates of the Business Messaging API, the operator's review rules, and the
 * negative feedback that drives template quality and pausing.
 *
 * `templates` holds one row per name + language of a business (the Cloud API's unit: a
 * template id is one language's content). `components` is the validated JSON as the business
 * sent it; `edit_times` the JSON list of the edits to an approved template in the last 30
 * days (Meta allows one a day and ten a month).
 *
 * `template_review_rules` is one row the operator edits (`parley template rules`); without
 * it the built-in defaults apply.
 *
 * `template_feedback` has one row per template message whose recipient blocked or reported
 * the business within 7 days of receiving it; keyed by the message so a block and a report
 * of the same message count once.
 */
export async function up(db: Kysely<unknown>, caps: DbCaps): Promise<void> {
  const strict = <T extends { modifyEnd(s: ReturnType<typeof sql>): T }>(t: T): T =>
    caps.strictTables ? t.modifyEnd(sql`strict`) : t;
  const int64 = caps.int64;

  await strict(
    db.schema
      .createTable('templates')
      // Numeric string, as Meta's template ids are.
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('business_id', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('language', 'text', (c) => c.notNull())
      // MARKETING | UTILITY | AUTHENTICATION
      .addColumn('category', 'text', (c) => c.notNull())
      .addColumn('previous_category', 'text')
      // POSITIONAL | NAMED
      .addColumn('parameter_format', 'text', (c) => c.notNull())
      .addColumn('components', 'text', (c) => c.notNull())
      .addColumn('allow_category_change', 'integer', (c) => c.notNull())
      // PENDING | APPROVED | REJECTED | PAUSED | DISABLED
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('rejected_reason', 'text')
      .addColumn('rejection_info', 'text')
      // GREEN | YELLOW | RED | UNKNOWN
      .addColumn('quality_score', 'text', (c) => c.notNull())
      // How many times quality paused it (the third pause disables it).
      .addColumn('pause_count', 'integer', (c) => c.notNull())
      .addColumn('paused_until', int64)
      .addColumn('edit_times', 'text', (c) => c.notNull())
      .addColumn('created_at', int64, (c) => c.notNull())
      .addColumn('updated_at', int64, (c) => c.notNull()),
  ).execute();
  await db.schema
    .createIndex('templates_name_language_idx')
    .on('templates')
    .columns(['business_id', 'name', 'language'])
    .unique()
    .execute();
  await db.schema
    .createIndex('templates_status_idx')
    .on('templates')
    .columns(['status', 'paused_until'])
    .execute();

  await strict(
    db.schema
      .createTable('template_review_rules')
      .addColumn('id', 'text', (c) => c.primaryKey())
      // JSON of ReviewRules.
      .addColumn('rules', 'text', (c) => c.notNull())
      .addColumn('updated_at', int64, (c) => c.notNull()),
  ).execute();

  await strict(
    db.schema
      .createTable('template_feedback')
      .addColumn('message_id', 'text', (c) => c.primaryKey())
      .addColumn('template_id', 'text', (c) => c.notNull())
      .addColumn('business_id', 'text', (c) => c.notNull())
      .addColumn('at', int64, (c) => c.notNull()),
  ).execute();
  await db.schema
    .createIndex('template_feedback_template_idx')
    .on('template_feedback')
    .columns(['template_id', 'at'])
    .execute();
  // Quality counts a template's delivered sends over a recent window.
  await db.schema
    .createIndex('api_messages_template_idx')
    .on('api_messages')
    .columns(['template_id', 'created_at'])
    .execute();
}
