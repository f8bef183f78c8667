/** SQL of subscriptions and of the operator's billing settings. */
import type { Insertable, Selectable, Updateable } from 'kysely';
import type { Executor } from '../../platform/db.js';
import type { SubscriptionsTable } from '../../platform/schema.js';

export type SubscriptionRow = Selectable<SubscriptionsTable>;

export function createSubscriptionsRepo(db: Executor, rowLocks: boolean) {
  return {
    async live(businessId: string, tx: Executor = db): Promise<SubscriptionRow | undefined> {
      return tx
        .selectFrom('subscriptions')
        .selectAll()
        .where('business_id', '=', businessId)
        .where('status', '<>', 'canceled')
        .executeTakeFirst();
    },
    async find(id: string, tx: Executor = db): Promise<SubscriptionRow | undefined> {
      return tx.selectFrom('subscriptions').selectAll().where('id', '=', id).executeTakeFirst();
    },
    /**
     * The subscription with its row lock for the rest of the transaction (PostgreSQL; SQLite
     * has one writer). `skipLocked`: undefined when another worker holds it, instead of waiting.
     */
    async lock(tx: Executor, id: string, skipLocked: boolean): Promise<SubscriptionRow | undefined> {
      const q = tx.selectFrom('subscriptions').selectAll().where('id', '=', id);
      if (!rowLocks) return q.executeTakeFirst();
      return (skipLocked ? q.forUpdate().skipLocked() : q.forUpdate()).executeTakeFirst();
    },
    /** Ids of live subscriptions the worker has something to do for at `now`. */
    async due(now: number, limit: number): Promise<string[]> {
      const rows = await db
        .selectFrom('subscriptions')
        .select('id')
        .where((eb) =>
          eb.or([
            eb.and([eb('status', '=', 'active'), eb('current_period_end', '<=', now)]),
            eb.and([
              eb('status', '=', 'past_due'),
              eb.or([eb('next_attempt_at', '<=', now), eb('grace_until', '<=', now)]),
            ]),
          ]),
        )
        .orderBy('current_period_end')
        .limit(limit)
        .execute();
      return rows.map((r) => r.id);
    },
    async insert(tx: Executor, row: Insertable<SubscriptionsTable>): Promise<void> {
      await tx.insertInto('subscriptions').values(row).execute();
    },
    async update(tx: Executor, id: string, patch: Updateable<SubscriptionsTable>): Promise<void> {
      await tx.updateTable('subscriptions').set(patch).where('id', '=', id).execute();
    },
    /** Takes the business's row lock (two subscribes at once run one after the other). */
    async lockBusiness(tx: Executor, businessId: string): Promise<boolean> {
      const r = await tx
        .updateTable('businesses')
        .set((eb) => ({ plan_id: eb.ref('plan_id') }))
        .where('id', '=', businessId)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },
    async setting(key: string, tx: Executor = db): Promise<string | undefined> {
      const row = await tx
        .selectFrom('billing_settings')
        .select('value')
        .where('key', '=', key)
        .executeTakeFirst();
      return row?.value;
    },
    async putSetting(tx: Executor, key: string, value: string, now: number): Promise<void> {
      await tx
        .insertInto('billing_settings')
        .values({ key, value, updated_at: now })
        .onConflict((oc) => oc.column('key').doUpdateSet({ value, updated_at: now }))
        .execute();
    },
  };
}

export type SubscriptionsRepo = ReturnType<typeof createSubscriptionsRepo>;
