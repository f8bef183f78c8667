import { type Kysely, sql } from 'kysely';
import type { DbCaps } from '../platform/db.js';

/**
 * Invoices, tax rates and credit notes.
 *
 * `invoices`: one per billing account and month (`period`, UTC), drafted from the month's
 * `billing_charges` and then finalized, paid or voided. A number is assigned at finalization
 * from `billing_number_counters` in the same transaction, so numbers have no gaps; a void keeps
 * its number. Totals are minor units: total = subtotal (Σ lines) + tax − credits, never negative.
 *
 * `invoice_lines`: the lines of an invoice (usage per stream × category × market × unit price,
 * subscriptions, fees); a draft's lines are replaced each time it is refreshed.
 *
 * `tax_rates`: the operator's rate per country in basis points from a date on (0 = none).
 *
 * `credit_notes`: corrections (never edits), with their own gapless numbers; each is credited
 * to the business's ledger account when issued and taken off the account's next invoices
 * (`credit_applications`: how much of which note a finalized invoice used).
 */
export async function up(db: Kysely<unknown>, caps: DbCaps): Promise<void> {
  const strict = <T extends { modifyEnd(s: ReturnType<typeof sql>): T }>(t: T): T =>
    caps.strictTables ? t.modifyEnd(sql`strict`) : t;
  const int64 = caps.int64;

  await strict(
    db.schema
      .createTable('invoices')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('billing_account_id', 'text', (c) => c.notNull())
      .addColumn('business_id', 'text')
      .addColumn('person_account_id', 'text')
      // YYYY-MM, UTC.
      .addColumn('period', 'text', (c) => c.notNull())
      .addColumn('currency', 'text', (c) => c.notNull())
      // draft | finalized | paid | void
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('number', 'text', (c) => c.unique())
      .addColumn('subtotal_minor', int64, (c) => c.notNull())
      .addColumn('tax_minor', int64, (c) => c.notNull())
      .addColumn('credits_minor', int64, (c) => c.notNull())
      .addColumn('total_minor', int64, (c) => c.notNull())
      .addColumn('tax_country', 'text')
      .addColumn('tax_rate_bps', 'integer')
      .addColumn('tax_name', 'text')
      // The ledger transfer of the tax; null while not posted (none, or refused at finalization).
      .addColumn('tax_transfer_id', 'text')
      .addColumn('issued_at', int64)
      .addColumn('due_at', int64)
      .addColumn('paid_at', int64)
      .addColumn('paid_provider', 'text')
      .addColumn('paid_reference', 'text')
      .addColumn('voided_at', int64)
      .addColumn('void_reason', 'text')
      .addColumn('created_at', int64, (c) => c.notNull())
      .addColumn('updated_at', int64, (c) => c.notNull())
      .addUniqueConstraint('invoices_account_period_key', ['billing_account_id', 'period']),
  ).execute();
  await db.schema.createIndex('invoices_period_idx').on('invoices').columns(['period', 'status']).execute();
  await db.schema
    .createIndex('invoices_business_idx')
    .on('invoices')
    .columns(['business_id', 'period'])
    .execute();

  await strict(
    db.schema
      .createTable('invoice_lines')
      .addColumn('invoice_id', 'text', (c) => c.notNull())
      .addColumn('position', 'integer', (c) => c.notNull())
      // usage | subscription | fee | credit
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('stream', 'text', (c) => c.notNull())
      .addColumn('category', 'text')
      .addColumn('market', 'text')
      .addColumn('quantity', int64, (c) => c.notNull())
      .addColumn('unit_price_micros', int64, (c) => c.notNull())
      // Σ (amount + partner markup) of the line's charges, exact; amount_minor rounds it once.
      .addColumn('amount_micros', int64, (c) => c.notNull())
      .addColumn('amount_minor', int64, (c) => c.notNull())
      .addColumn('description', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('invoice_lines_pkey', ['invoice_id', 'position']),
  ).execute();

  await strict(
    db.schema
      .createTable('tax_rates')
      // ISO 3166 alpha-2.
      .addColumn('country', 'text', (c) => c.notNull())
      .addColumn('effective_from', int64, (c) => c.notNull())
      .addColumn('rate_bps', 'integer', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('created_at', int64, (c) => c.notNull())
      .addPrimaryKeyConstraint('tax_rates_pkey', ['country', 'effective_from']),
  ).execute();

  await strict(
    db.schema
      .createTable('credit_notes')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('number', 'text', (c) => c.notNull().unique())
      .addColumn('billing_account_id', 'text', (c) => c.notNull())
      .addColumn('invoice_id', 'text')
      .addColumn('stream', 'text', (c) => c.notNull())
      .addColumn('currency', 'text', (c) => c.notNull())
      .addColumn('amount_minor', int64, (c) => c.notNull())
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('ledger_transfer_id', 'text')
      // The finalized invoice that used the last of it; null while some is left.
      .addColumn('applied_invoice_id', 'text')
      .addColumn('created_at', int64, (c) => c.notNull()),
  ).execute();
  await db.schema
    .createIndex('credit_notes_account_idx')
    .on('credit_notes')
    .columns(['billing_account_id', 'created_at'])
    .execute();

  await strict(
    db.schema
      .createTable('credit_applications')
      .addColumn('invoice_id', 'text', (c) => c.notNull())
      .addColumn('credit_note_id', 'text', (c) => c.notNull())
      .addColumn('amount_minor', int64, (c) => c.notNull())
      .addColumn('created_at', int64, (c) => c.notNull())
      .addPrimaryKeyConstraint('credit_applications_pkey', ['invoice_id', 'credit_note_id']),
  ).execute();
  await db.schema
    .createIndex('credit_applications_note_idx')
    .on('credit_applications')
    .column('credit_note_id')
    .execute();

  await strict(
    db.schema
      .createTable('billing_number_counters')
      // e.g. `PAR-2026`, `PAR-CN-2026`: one gapless sequence per series and year.
      .addColumn('series', 'text', (c) => c.primaryKey())
      .addColumn('last', int64, (c) => c.notNull()),
  ).execute();
}
