/** SQL of the consumer plan: per person, until when sending is covered. */
import type { Executor } from '../../platform/db.js';

export interface CoverageRow {
  account_id: string;
  /** Until when sending is covered: the stored paid date, or sign-up + the free days. */
  expires_at: number;
}

export function createConsumerPlanRepo(db: Executor) {
  return {
    /** The person's coverage; undefined for an unknown account or a business number. */
    async coverage(tx: Executor, accountId: string, freeMs: number): Promise<CoverageRow | undefined> {
      const row = await tx
        .selectFrom('accounts')
        .leftJoin('consumer_plans', 'consumer_plans.account_id', 'accounts.id')
        .select(['accounts.id', 'accounts.created_at', 'accounts.business_id', 'consumer_plans.expires_at'])
        .where('accounts.id', '=', accountId)
        .executeTakeFirst();
      if (!row || row.business_id !== null) return undefined;
      return {
        account_id: row.id,
        expires_at: row.expires_at === null ? Number(row.created_at) + freeMs : Number(row.expires_at),
      };
    },
    /** People whose coverage ends in (from, to] (sign-up + free days when never renewed). */
    async expiringBetween(from: number, to: number, freeMs: number, limit: number): Promise<CoverageRow[]> {
      const rows = await db
        .selectFrom('accounts')
        .leftJoin('consumer_plans', 'consumer_plans.account_id', 'accounts.id')
        .select(['accounts.id', 'accounts.created_at', 'consumer_plans.expires_at'])
        .where('accounts.business_id', 'is', null)
        .where((eb) =>
          eb.or([
            eb.and([
              eb('consumer_plans.expires_at', 'is', null),
              eb('accounts.created_at', '>', from - freeMs),
              eb('accounts.created_at', '<=', to - freeMs),
            ]),
            eb.and([eb('consumer_plans.expires_at', '>', from), eb('consumer_plans.expires_at', '<=', to)]),
          ]),
        )
        .limit(limit)
        .execute();
      return rows.map((r) => ({
        account_id: r.id,
        expires_at: r.expires_at === null ? Number(r.created_at) + freeMs : Number(r.expires_at),
      }));
    },
    async extend(tx: Executor, accountId: string, expiresAt: number, now: number): Promise<void> {
      await tx
        .insertInto('consumer_plans')
        .values({ account_id: accountId, expires_at: expiresAt, renewed_at: now, updated_at: now })
        .onConflict((oc) =>
          oc.column('account_id').doUpdateSet({ expires_at: expiresAt, renewed_at: now, updated_at: now }),
        )
        .execute();
    },
  };
}

export type ConsumerPlanRepo = ReturnType<typeof createConsumerPlanRepo>;
