import { type Kysely, sql } from 'kysely';
import type { DbCaps } from '../platform/db.js';

/**
 * Partners (business solution providers) who manage client businesses and add their own
 * markup on top of the operator's rate card.
 *
 * `partners`: the default markup (basis points of the unit price plus fixed micros per
 * unit); `partner_markups`: per-category overrides. `partner_clients`: which partner manages
 * a business (at most one). `partner_members`: the people who may see a partner's clients
 * and their usage. `partner_revision`: one row counting writes to these tables, so a process
 * that caches markups notices another process's writes with one cheap read.
 *
 * `billing_charges_partner_idx`: a partner's usage by month reads only its own charges
 * (partial: charges without a partner, the most frequent, cost nothing to index).
 */
export async function up(db: Kysely<unknown>, caps: DbCaps): Promise<void> {
  const strict = <T extends { modifyEnd(s: ReturnType<typeof sql>): T }>(t: T): T =>
    caps.strictTables ? t.modifyEnd(sql`strict`) : t;
  const int64 = caps.int64;

  await strict(
    db.schema
      .createTable('partners')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('markup_bps', 'integer', (c) => c.notNull())
      .addColumn('markup_micros', int64, (c) => c.notNull())
      .addColumn('created_at', int64, (c) => c.notNull())
      .addColumn('updated_at', int64, (c) => c.notNull()),
  ).execute();

  await strict(
    db.schema
      .createTable('partner_markups')
      .addColumn('partner_id', 'text', (c) => c.notNull())
      .addColumn('category', 'text', (c) => c.notNull())
      .addColumn('markup_bps', 'integer', (c) => c.notNull())
      .addColumn('markup_micros', int64, (c) => c.notNull())
      .addColumn('updated_at', int64, (c) => c.notNull())
      .addPrimaryKeyConstraint('partner_markups_pk', ['partner_id', 'category']),
  ).execute();

  await strict(
    db.schema
      .createTable('partner_clients')
      .addColumn('business_id', 'text', (c) => c.primaryKey())
      .addColumn('partner_id', 'text', (c) => c.notNull())
      .addColumn('since', int64, (c) => c.notNull()),
  ).execute();
  await db.schema
    .createIndex('partner_clients_partner_idx')
    .on('partner_clients')
    .columns(['partner_id', 'business_id'])
    .execute();

  await strict(
    db.schema
      .createTable('partner_members')
      .addColumn('partner_id', 'text', (c) => c.notNull())
      .addColumn('account_id', 'text', (c) => c.notNull())
      // admin | viewer
      .addColumn('role', 'text', (c) => c.notNull())
      .addColumn('created_at', int64, (c) => c.notNull())
      .addPrimaryKeyConstraint('partner_members_pk', ['partner_id', 'account_id']),
  ).execute();
  await db.schema
    .createIndex('partner_members_account_idx')
    .on('partner_members')
    .columns(['account_id', 'partner_id'])
    .execute();

  await strict(
    db.schema
      .createTable('partner_revision')
      .addColumn('id', 'integer', (c) => c.primaryKey())
      .addColumn('revision', int64, (c) => c.notNull()),
  ).execute();
  await sql`insert into partner_revision (id, revision) values (1, 0)`.execute(db);

  await db.schema
    .createIndex('billing_charges_partner_idx')
    .on('billing_charges')
    .columns(['partner_id', 'period'])
    .where(sql.ref('partner_id'), 'is not', null)
    .execute();
}
