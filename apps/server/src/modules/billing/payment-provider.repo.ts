/** SQL of top-up receipts. */
import type { Insertable, Selectable } from 'kysely';
import type { Executor } from '../../platform/db.js';
import type { BillingReceiptsTable } from '../../platform/schema.js';

export type ReceiptRow = Selectable<BillingReceiptsTable>;

export function createReceiptsRepo(db: Executor) {
  return {
    async billingAccount(tx: Executor, id: string) {
      return tx.selectFrom('billing_accounts').selectAll().where('id', '=', id).executeTakeFirst();
    },
    async businessExists(tx: Executor, id: string): Promise<boolean> {
      return (
        (await tx.selectFrom('businesses').select('id').where('id', '=', id).executeTakeFirst()) !== undefined
      );
    },
    async byKey(key: string, tx: Executor = db): Promise<ReceiptRow | undefined> {
      return tx
        .selectFrom('billing_receipts')
        .selectAll()
        .where('idempotency_key', '=', key)
        .executeTakeFirst();
    },
    /**
     * The next receipt number. Numbers have no gaps: the counter row's lock (PostgreSQL; SQLite
     * has one writer) orders concurrent top-ups, and a rolled-back top-up frees its number.
     */
    async nextNumber(tx: Executor, now: number): Promise<number> {
      await tx
        .insertInto('billing_settings')
        .values({ key: 'receipts.lock', value: '{}', updated_at: now })
        .onConflict((oc) => oc.column('key').doNothing())
        .execute();
      await tx
        .updateTable('billing_settings')
        .set({ updated_at: now })
        .where('key', '=', 'receipts.lock')
        .execute();
      const row = await tx
        .selectFrom('billing_receipts')
        .select((eb) => eb.fn.max('number').as('max'))
        .executeTakeFirst();
      return Number(row?.max ?? 0) + 1;
    },
    async insert(tx: Executor, row: Insertable<BillingReceiptsTable>): Promise<void> {
      await tx.insertInto('billing_receipts').values(row).execute();
    },
    async ofAccount(billingAccountId: string, limit: number, tx: Executor = db): Promise<ReceiptRow[]> {
      return tx
        .selectFrom('billing_receipts')
        .selectAll()
        .where('billing_account_id', '=', billingAccountId)
        .orderBy('number', 'desc')
        .limit(limit)
        .execute();
    },
  };
}

export type ReceiptsRepo = ReturnType<typeof createReceiptsRepo>;
