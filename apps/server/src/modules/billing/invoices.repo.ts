/** SQL of invoices, their lines, credit notes and the gapless number counters. */
import { type Insertable, type Selectable, sql, type Updateable } from 'kysely';
import type { Executor } from '../../platform/db.js';
import type {
  BillingAccountsTable,
  CreditApplicationsTable,
  CreditNotesTable,
  InvoiceLinesTable,
  InvoicesTable,
} from '../../platform/schema.js';

export type InvoiceRow = Selectable<InvoicesTable>;
export type InvoiceLineRow = Selectable<InvoiceLinesTable>;
export type CreditNoteRow = Selectable<CreditNotesTable>;
export type BillingAccountRow = Selectable<BillingAccountsTable>;

/** One future invoice line: the period's charges of one account with the same price. */
export interface ChargeGroup {
  billing_account_id: string;
  stream: string;
  category: string | null;
  market: string | null;
  /** What the customer pays per unit: the operator's unit price plus the partner's markup. */
  unit_micros: number | string | bigint;
  rounding: string;
  description: string | null;
  currency: string;
  quantity: number | string | bigint;
  amount_micros: number | string | bigint;
}

// Rows per multi-row INSERT: well below SQLite's and PostgreSQL's bound-parameter limits.
const CHUNK = 1000;

function chunks<T>(rows: T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
}

export function createInvoicesRepo(db: Executor) {
  return {
    /**
     * The period's charges grouped into lines, for every account (or those given) in one
     * query. Usage lines group by category × market × unit price; other streams also by
     * description (a plan's name). The markup per unit is the charge's markup over its quantity.
     */
    async chargeGroups(tx: Executor, period: string, accountIds?: string[]): Promise<ChargeGroup[]> {
      if (accountIds && accountIds.length === 0) return [];
      const unit = sql<number>`unit_price_micros + case when quantity > 0 then partner_markup_micros / quantity else 0 end`;
      const description = sql<
        string | null
      >`case when stream = 'api_messages' then null else description end`;
      let q = tx
        .selectFrom('billing_charges')
        .select([
          'billing_account_id',
          'stream',
          'category',
          'market',
          unit.as('unit_micros'),
          'rounding',
          description.as('description'),
          'currency',
          sql<number>`sum(quantity)`.as('quantity'),
          sql<number>`sum(amount_micros + partner_markup_micros)`.as('amount_micros'),
        ])
        .where('period', '=', period);
      if (accountIds) q = q.where('billing_account_id', 'in', accountIds);
      return q
        .groupBy([
          'billing_account_id',
          'stream',
          'category',
          'market',
          unit,
          'rounding',
          description,
          'currency',
        ])
        .execute();
    },

    async accounts(tx: Executor, ids: string[]): Promise<BillingAccountRow[]> {
      const out: BillingAccountRow[] = [];
      for (const part of chunks(ids)) {
        out.push(...(await tx.selectFrom('billing_accounts').selectAll().where('id', 'in', part).execute()));
      }
      return out;
    },

    async accountOfOwner(
      tx: Executor,
      ownerType: 'business' | 'person',
      ownerId: string,
    ): Promise<BillingAccountRow | undefined> {
      return tx
        .selectFrom('billing_accounts')
        .selectAll()
        .where('owner_type', '=', ownerType)
        .where('owner_id', '=', ownerId)
        .executeTakeFirst();
    },

    async businessName(tx: Executor, businessId: string): Promise<string | undefined> {
      const row = await tx
        .selectFrom('businesses')
        .select('name')
        .where('id', '=', businessId)
        .executeTakeFirst();
      return row?.name;
    },

    async ofPeriod(tx: Executor, period: string, accountIds?: string[]): Promise<InvoiceRow[]> {
      if (!accountIds) return tx.selectFrom('invoices').selectAll().where('period', '=', period).execute();
      const out: InvoiceRow[] = [];
      for (const part of chunks(accountIds)) {
        out.push(
          ...(await tx
            .selectFrom('invoices')
            .selectAll()
            .where('period', '=', period)
            .where('billing_account_id', 'in', part)
            .execute()),
        );
      }
      return out;
    },

    async find(id: string, tx: Executor = db): Promise<InvoiceRow | undefined> {
      return tx.selectFrom('invoices').selectAll().where('id', '=', id).executeTakeFirst();
    },

    /** Takes the invoice's row lock (PostgreSQL) for the rest of the transaction. */
    async lock(tx: Executor, id: string): Promise<InvoiceRow | undefined> {
      return tx
        .updateTable('invoices')
        .set((eb) => ({ status: eb.ref('status') }))
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();
    },

    async lines(invoiceId: string, tx: Executor = db): Promise<InvoiceLineRow[]> {
      return tx
        .selectFrom('invoice_lines')
        .selectAll()
        .where('invoice_id', '=', invoiceId)
        .orderBy('position')
        .execute();
    },

    async list(
      filter: { businessId?: string; period?: string; status?: string; limit: number },
      tx: Executor = db,
    ): Promise<InvoiceRow[]> {
      let q = tx.selectFrom('invoices').selectAll();
      if (filter.businessId !== undefined) q = q.where('business_id', '=', filter.businessId);
      if (filter.period !== undefined) q = q.where('period', '=', filter.period);
      if (filter.status !== undefined) q = q.where('status', '=', filter.status as InvoiceRow['status']);
      return q.orderBy('period', 'desc').orderBy('id', 'desc').limit(filter.limit).execute();
    },

    async insertInvoices(tx: Executor, rows: Insertable<InvoicesTable>[]): Promise<void> {
      for (const part of chunks(rows, 200)) await tx.insertInto('invoices').values(part).execute();
    },

    async update(tx: Executor, id: string, patch: Updateable<InvoicesTable>): Promise<void> {
      await tx.updateTable('invoices').set(patch).where('id', '=', id).execute();
    },

    async deleteLines(tx: Executor, invoiceIds: string[]): Promise<void> {
      for (const part of chunks(invoiceIds)) {
        await tx.deleteFrom('invoice_lines').where('invoice_id', 'in', part).execute();
      }
    },

    async insertLines(tx: Executor, rows: Insertable<InvoiceLinesTable>[]): Promise<void> {
      for (const part of chunks(rows)) await tx.insertInto('invoice_lines').values(part).execute();
    },

    /**
     * Reserves `count` consecutive numbers of a series and returns the first. The counter row
     * is updated in the caller's transaction (and locked by it on PostgreSQL), so numbers are
     * used in order and a rolled-back finalization gives its numbers back: no gaps.
     */
    async reserveNumbers(tx: Executor, series: string, count: number): Promise<bigint> {
      const row = await tx
        .insertInto('billing_number_counters')
        .values({ series, last: count })
        .onConflict((oc) =>
          oc.column('series').doUpdateSet({ last: sql`billing_number_counters.last + ${count}` }),
        )
        .returning('last')
        .executeTakeFirstOrThrow();
      return BigInt(row.last) - BigInt(count) + 1n;
    },

    /** Credit notes of these accounts not yet used up, oldest first. */
    async openCreditNotes(tx: Executor, accountIds: string[]): Promise<CreditNoteRow[]> {
      const out: CreditNoteRow[] = [];
      for (const part of chunks(accountIds)) {
        out.push(
          ...(await tx
            .selectFrom('credit_notes')
            .selectAll()
            .where('billing_account_id', 'in', part)
            .where('applied_invoice_id', 'is', null)
            .orderBy('created_at')
            .orderBy('id')
            .execute()),
        );
      }
      return out;
    },

    /** How much of each note invoices that are not void have used. */
    async usedCredit(tx: Executor, noteIds: string[]): Promise<Map<string, bigint>> {
      const used = new Map<string, bigint>();
      for (const part of chunks(noteIds)) {
        const rows = await tx
          .selectFrom('credit_applications as a')
          .innerJoin('invoices as i', 'i.id', 'a.invoice_id')
          .select(['a.credit_note_id', 'a.amount_minor'])
          .where('a.credit_note_id', 'in', part)
          .where('i.status', '!=', 'void')
          .execute();
        for (const r of rows) {
          used.set(r.credit_note_id, (used.get(r.credit_note_id) ?? 0n) + BigInt(r.amount_minor));
        }
      }
      return used;
    },

    async insertApplications(tx: Executor, rows: Insertable<CreditApplicationsTable>[]): Promise<void> {
      for (const part of chunks(rows)) await tx.insertInto('credit_applications').values(part).execute();
    },

    async markNotesUsed(tx: Executor, invoiceId: string, noteIds: string[]): Promise<void> {
      for (const part of chunks(noteIds)) {
        await tx
          .updateTable('credit_notes')
          .set({ applied_invoice_id: invoiceId })
          .where('id', 'in', part)
          .execute();
      }
    },

    /** A voided invoice's credits become available again. */
    async releaseNotes(tx: Executor, invoiceId: string): Promise<void> {
      await tx
        .updateTable('credit_notes')
        .set({ applied_invoice_id: null })
        .where('id', 'in', (eb) =>
          eb.selectFrom('credit_applications').select('credit_note_id').where('invoice_id', '=', invoiceId),
        )
        .execute();
    },

    async insertCreditNote(tx: Executor, row: CreditNoteRow): Promise<void> {
      await tx.insertInto('credit_notes').values(row).execute();
    },

    async creditNotes(billingAccountId: string, tx: Executor = db): Promise<CreditNoteRow[]> {
      return tx
        .selectFrom('credit_notes')
        .selectAll()
        .where('billing_account_id', '=', billingAccountId)
        .orderBy('created_at')
        .orderBy('id')
        .execute();
    },
  };
}

export type InvoicesRepo = ReturnType<typeof createInvoicesRepo>;
