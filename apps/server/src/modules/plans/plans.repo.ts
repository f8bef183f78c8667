/** SQL of plans. */
import type { Selectable } from 'kysely';
import type { Executor } from '../../platform/db.js';
import type { PlansTable } from '../../platform/schema.js';

export type PlanRow = Selectable<PlansTable>;

export function createPlansRepo(db: Executor) {
  return {
    async all(tx: Executor = db): Promise<PlanRow[]> {
      return tx.selectFrom('plans').selectAll().orderBy('rank').execute();
    },
    async find(id: string, tx: Executor = db): Promise<PlanRow | undefined> {
      return tx.selectFrom('plans').selectAll().where('id', '=', id).executeTakeFirst();
    },
    /**
     * Takes the business's row lock for the rest of the transaction, so two changes counting
     * against the same limit (two agents added at once) are checked one after the other.
     */
    async lockBusiness(businessId: string, tx: Executor): Promise<void> {
      await tx
        .updateTable('businesses')
        .set((eb) => ({ plan_id: eb.ref('plan_id') }))
        .where('id', '=', businessId)
        .execute();
    },
    async ofBusiness(businessId: string, tx: Executor = db): Promise<PlanRow | undefined> {
      return tx
        .selectFrom('businesses')
        .innerJoin('plans', 'plans.id', 'businesses.plan_id')
        .selectAll('plans')
        .where('businesses.id', '=', businessId)
        .executeTakeFirst();
    },
    async upsert(tx: Executor, row: PlanRow): Promise<void> {
      await tx
        .insertInto('plans')
        .values(row)
        .onConflict((oc) =>
          oc.column('id').doUpdateSet({
            name: row.name,
            price_minor: row.price_minor,
            currency: row.currency,
            limits: row.limits,
            features: row.features,
            rank: row.rank,
            updated_at: row.updated_at,
          }),
        )
        .execute();
    },
  };
}

export type PlansRepo = ReturnType<typeof createPlansRepo>;
