import { type Kysely, sql } from 'kysely';
import type { DbCaps } from '../platform/db.js';

/**
 * Rate cards and the pricing model in force.
 *
 * `billing_rate_card_versions`: one per imported card, in one currency, in force over
 * [effective_from, effective_to) (null: open-ended). Versions of a currency never overlap, so
 * at most one is in force at any instant; a version that has been in force is never changed
 * (charges name it), except that an open-ended one may be closed at a future date when a new
 * version supersedes it (`superseded_by`, undone if that future version is deleted).
 *
 * `billing_rate_card_prices`: the version's unit prices in micros (millionths of the major
 * unit) per category × market (ISO 3166 alpha-2 or `*` for every other market); `from_count`
 * 0 is the base price, a higher one a monthly volume tier (utility and authentication only).
 *
 * `billing_pricing_models`: the deployment's pricing model from each date on.
 */
export async function up(db: Kysely<unknown>, caps: DbCaps): Promise<void> {
  const strict = <T extends { modifyEnd(s: ReturnType<typeof sql>): T }>(t: T): T =>
    caps.strictTables ? t.modifyEnd(sql`strict`) : t;
  const int64 = caps.int64;

  await strict(
    db.schema
      .createTable('billing_rate_card_versions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('currency', 'text', (c) => c.notNull())
      .addColumn('effective_from', int64, (c) => c.notNull())
      .addColumn('effective_to', int64)
      .addColumn('name', 'text')
      .addColumn('superseded_by', 'text')
      .addColumn('created_at', int64, (c) => c.notNull())
      .addColumn('updated_at', int64, (c) => c.notNull()),
  ).execute();
  await db.schema
    .createIndex('billing_rate_card_versions_currency_idx')
    .on('billing_rate_card_versions')
    .columns(['currency', 'effective_from'])
    .execute();

  await strict(
    db.schema
      .createTable('billing_rate_card_prices')
      .addColumn('version_id', 'text', (c) => c.notNull())
      .addColumn('category', 'text', (c) => c.notNull())
      .addColumn('market', 'text', (c) => c.notNull())
      .addColumn('from_count', int64, (c) => c.notNull())
      .addColumn('unit_price_micros', int64, (c) => c.notNull())
      .addPrimaryKeyConstraint('billing_rate_card_prices_pk', [
        'version_id',
        'category',
        'market',
        'from_count',
      ]),
  ).execute();

  await strict(
    db.schema
      .createTable('billing_pricing_models')
      .addColumn('effective_from', int64, (c) => c.primaryKey())
      // PMP | CBP | PMP_2026
      .addColumn('model', 'text', (c) => c.notNull())
      .addColumn('created_at', int64, (c) => c.notNull()),
  ).execute();
}
