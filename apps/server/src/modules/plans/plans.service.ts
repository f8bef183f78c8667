/**
 * Plans and the limits they set. Every limit is enforced by the server at the change that
 * would pass it, inside that change's transaction, with PLAN_LIMIT_REACHED naming the limit,
 * the business's plan and the lowest plan that lifts it. Plans are data the operator edits
 * (`parley plan set`); a plan change for a business is an operator action until billing
 * takes subscriptions.
 */
import {
  PLAN_FEATURES,
  PLAN_LIMITS,
  type PlanFeature,
  type PlanLimit,
  type PlanView,
} from '@parley/protocol';
import { AppError } from '../../errors.js';
import type { Clock } from '../../platform/clock.js';
import type { Db, Executor } from '../../platform/db.js';
import type { PlanRow, PlansRepo } from './plans.repo.js';

export interface PlansServiceDeps {
  db: Pick<Db, 'kysely'>;
  repo: PlansRepo;
  clock: Clock;
}

export function presentPlan(row: PlanRow): PlanView {
  const limits = JSON.parse(row.limits) as Partial<Record<PlanLimit, number>>;
  const features = JSON.parse(row.features) as Partial<Record<PlanFeature, boolean>>;
  return {
    plan_id: row.id,
    name: row.name,
    price_minor: Number(row.price_minor),
    currency: row.currency,
    limits: Object.fromEntries(PLAN_LIMITS.map((k) => [k, limits[k] ?? 0])) as Record<PlanLimit, number>,
    features: Object.fromEntries(PLAN_FEATURES.map((k) => [k, features[k] === true])) as Record<
      PlanFeature,
      boolean
    >,
  };
}

export function createPlansService(deps: PlansServiceDeps) {
  const { db, repo, clock } = deps;

  async function planOf(tx: Executor, businessId: string): Promise<PlanView> {
    const row = await repo.ofBusiness(businessId, tx);
    if (!row) throw new AppError('BUSINESS_NOT_FOUND', `No business ${businessId}.`);
    return presentPlan(row);
  }

  async function lifting(tx: Executor, allows: (p: PlanView) => boolean): Promise<PlanView | undefined> {
    return (await repo.all(tx)).map(presentPlan).find(allows);
  }

  return {
    planOf,

    async list(): Promise<PlanView[]> {
      return (await repo.all()).map(presentPlan);
    },

    /**
     * Takes the business's row lock for the rest of the transaction. Call it before counting
     * what a limit counts: two concurrent changes (two agents added at once) are then counted
     * one after the other on PostgreSQL, as SQLite's single writer already does.
     */
    async lock(tx: Executor, businessId: string): Promise<void> {
      await repo.lockBusiness(businessId, tx);
    },

    /** Refuses a change that would take `limit` to `wanted` beyond the business's plan. */
    async check(tx: Executor, businessId: string, limit: PlanLimit, wanted: number): Promise<void> {
      const plan = await planOf(tx, businessId);
      const max = plan.limits[limit];
      if (wanted <= max) return;
      const upgrade = await lifting(tx, (p) => p.limits[limit] >= wanted);
      throw new AppError(
        'PLAN_LIMIT_REACHED',
        `The ${plan.name} plan allows ${max} ${limit.replaceAll('_', ' ')}` +
          (upgrade ? `; the ${upgrade.name} plan allows ${upgrade.limits[limit]}.` : '.'),
        { limit, plan: plan.plan_id, max, wanted, upgrade_to: upgrade?.plan_id ?? null },
      );
    },

    /** Refuses a feature the business's plan does not include. */
    async requireFeature(tx: Executor, businessId: string, feature: PlanFeature): Promise<void> {
      const plan = await planOf(tx, businessId);
      if (plan.features[feature]) return;
      const upgrade = await lifting(tx, (p) => p.features[feature]);
      throw new AppError(
        'PLAN_LIMIT_REACHED',
        `The ${plan.name} plan does not include ${feature.replaceAll('_', ' ')}` +
          (upgrade ? `; the ${upgrade.name} plan does.` : '.'),
        { feature, plan: plan.plan_id, upgrade_to: upgrade?.plan_id ?? null },
      );
    },

    async requireExists(tx: Executor, planId: string): Promise<void> {
      if (!(await repo.find(planId, tx))) throw new AppError('PLAN_NOT_FOUND', `No plan "${planId}".`);
    },

    /** Operator action: creates or edits a plan (unset fields keep their value). */
    async set(
      planId: string,
      patch: {
        name?: string | undefined;
        price_minor?: number | undefined;
        currency?: string | undefined;
        limits?: Partial<Record<PlanLimit, number>> | undefined;
        features?: Partial<Record<PlanFeature, boolean>> | undefined;
        rank?: number | undefined;
      },
    ): Promise<PlanView> {
      if (!/^[a-z0-9_-]{1,32}$/.test(planId)) {
        throw new AppError('VALIDATION_FAILED', 'A plan id is 1 to 32 of a-z 0-9 _ -.');
      }
      const unknown = [
        ...Object.keys(patch.limits ?? {}).filter((k) => !(PLAN_LIMITS as readonly string[]).includes(k)),
        ...Object.keys(patch.features ?? {}).filter((k) => !(PLAN_FEATURES as readonly string[]).includes(k)),
      ];
      if (unknown.length > 0) {
        throw new AppError('VALIDATION_FAILED', `Unknown limits or features: ${unknown.join(', ')}.`, {
          known: [...PLAN_LIMITS, ...PLAN_FEATURES],
        });
      }
      return db.kysely.transaction().execute(async (tx) => {
        const before = await repo.find(planId, tx);
        const current = before ? presentPlan(before) : undefined;
        const limits = { ...(current?.limits ?? {}), ...patch.limits };
        for (const [k, v] of Object.entries(limits)) {
          if (!Number.isInteger(v) || v < 0)
            throw new AppError('VALIDATION_FAILED', `Limit ${k} must be a whole number ≥ 0.`);
        }
        const price = patch.price_minor ?? current?.price_minor ?? 0;
        if (!Number.isInteger(price) || price < 0) {
          throw new AppError('VALIDATION_FAILED', 'A price is a whole number of minor units ≥ 0.');
        }
        const currency = patch.currency ?? current?.currency ?? 'USD';
        if (!/^[A-Z]{3}$/.test(currency))
          throw new AppError('VALIDATION_FAILED', 'A currency is an ISO 4217 code.');
        const row: PlanRow = {
          id: planId,
          name: patch.name ?? current?.name ?? planId,
          price_minor: price,
          currency,
          limits: JSON.stringify(limits),
          features: JSON.stringify({ ...(current?.features ?? {}), ...patch.features }),
          rank: patch.rank ?? before?.rank ?? (await repo.all(tx)).length,
          updated_at: clock.now(),
        };
        await repo.upsert(tx, row);
        return presentPlan(row);
      });
    },
  };
}

export type PlansService = ReturnType<typeof createPlansService>;
