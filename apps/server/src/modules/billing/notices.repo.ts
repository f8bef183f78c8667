/** SQL of billing notices. */
import type { Insertable, Selectable } from 'kysely';
import type { Executor } from '../../platform/db.js';
import type { BillingNoticesTable } from '../../platform/schema.js';

export type NoticeRow = Selectable<BillingNoticesTable>;

export function createNoticesRepo(db: Executor) {
  return {
    /** Inserts unless a notice with the same dedupe key exists; true when it was inserted. */
    async insert(tx: Executor, row: Insertable<BillingNoticesTable>): Promise<boolean> {
      const q = tx.insertInto('billing_notices').values(row);
      const done = await (row.dedupe_key ? q.onConflict((oc) => oc.column('dedupe_key').doNothing()) : q)
        .returning('id')
        .executeTakeFirst();
      return done !== undefined;
    },
    async list(
      ownerType: 'business' | 'person',
      ownerId: string,
      limit: number,
      tx: Executor = db,
    ): Promise<NoticeRow[]> {
      return tx
        .selectFrom('billing_notices')
        .selectAll()
        .where('owner_type', '=', ownerType)
        .where('owner_id', '=', ownerId)
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(limit)
        .execute();
    },
    async markRead(ownerType: 'business' | 'person', ownerId: string, now: number): Promise<void> {
      await db
        .updateTable('billing_notices')
        .set({ read_at: now })
        .where('owner_type', '=', ownerType)
        .where('owner_id', '=', ownerId)
        .where('read_at', 'is', null)
        .execute();
    },
  };
}

export type NoticesRepo = ReturnType<typeof createNoticesRepo>;
