/** SQL of webhooks: subscriptions per business and the outbox of deliveries. */
import type { Insertable, Selectable } from 'kysely';
import type { Db, Executor } from '../../platform/db.js';
import type {
  WebhookDeliveriesTable,
  WebhookDeliveryState,
  WebhookSubscriptionsTable,
} from '../../platform/schema.js';

export type SubscriptionRow = WebhookSubscriptionsTable;
export type DeliveryRow = Selectable<WebhookDeliveriesTable>;
export type NewDelivery = Pick<
  Insertable<WebhookDeliveriesTable>,
  'business_id' | 'field' | 'body' | 'order_key'
>;

/** A delivery claimed for sending, with where it goes and how it is signed. */
export interface ClaimedDelivery {
  id: number;
  business_id: string;
  body: string;
  order_key: string | null;
  attempts: number;
  first_attempt_at: number | null;
  callback_url: string;
  app_secret: string;
}

export interface DeliveryFailure {
  id: number;
  attempts: number;
  firstAttemptAt: number;
  state: Exclude<WebhookDeliveryState, 'delivered'>;
  nextAttemptAt: number;
  status: number | null;
  error: string;
}

export function createWebhooksRepo(db: Pick<Db, 'kysely'>) {
  const k = db.kysely;
  return {
    async subscription(businessId: string, tx: Executor = k): Promise<SubscriptionRow | undefined> {
      return tx
        .selectFrom('webhook_subscriptions')
        .selectAll()
        .where('business_id', '=', businessId)
        .executeTakeFirst();
    },
    async upsertSubscription(tx: Executor, row: SubscriptionRow): Promise<void> {
      await tx
        .insertInto('webhook_subscriptions')
        .values(row)
        .onConflict((oc) =>
          oc
            .column('business_id')
            .doUpdateSet({ callback_url: row.callback_url, updated_at: row.updated_at }),
        )
        .execute();
    },
    async deleteSubscription(tx: Executor, businessId: string): Promise<boolean> {
      const result = await tx
        .deleteFrom('webhook_subscriptions')
        .where('business_id', '=', businessId)
        .executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },

    /** The WABA ids of those of these businesses that have a subscription: one indexed read. */
    async subscribedWabas(tx: Executor, businessIds: string[]): Promise<Map<string, string>> {
      if (businessIds.length === 0) return new Map();
      const rows = await tx
        .selectFrom('webhook_subscriptions as s')
        .innerJoin('businesses as b', 'b.id', 's.business_id')
        .select(['s.business_id', 'b.waba_id'])
        .where('s.business_id', 'in', businessIds)
        .execute();
      return new Map(rows.map((r) => [r.business_id, r.waba_id]));
    },

    async insertDeliveries(tx: Executor, rows: NewDelivery[], now: number): Promise<void> {
      if (rows.length === 0) return;
      await tx
        .insertInto('webhook_deliveries')
        .values(
          rows.map((r) => ({
            ...r,
            state: 'pending' as const,
            attempts: 0,
            next_attempt_at: now,
            locked_until: 0,
            created_at: now,
          })),
        )
        .execute();
    },

    /**
     * Leases up to `limit` due deliveries of subscribed businesses until `now + leaseMs`,
     * except those of `skipBusinesses` (whose endpoints this worker has enough for).
     * Of the pending deliveries sharing an order key only the earliest can be claimed, so a
     * later one never overtakes one that is in flight or waiting for a retry. The lease is
     * taken by a conditional update: of two workers that picked the same row, one updates it
     * and the other sees it leased and skips it (PostgreSQL re-checks the WHERE clause on the
     * row it waited for; SQLite runs one writer at a time).
     */
    async claim(
      now: number,
      limit: number,
      leaseMs: number,
      skipBusinesses: string[] = [],
    ): Promise<ClaimedDelivery[]> {
      let query = k
        .selectFrom('webhook_deliveries as d')
        .innerJoin('webhook_subscriptions as s', 's.business_id', 'd.business_id')
        .innerJoin('businesses as b', 'b.id', 'd.business_id')
        .select([
          'd.id',
          'd.business_id',
          'd.body',
          'd.order_key',
          'd.attempts',
          'd.first_attempt_at',
          's.callback_url',
          'b.app_secret',
        ])
        .where('d.state', '=', 'pending')
        .where('d.next_attempt_at', '<=', now)
        .where('d.locked_until', '<=', now)
        .where((eb) =>
          eb.or([
            eb('d.order_key', 'is', null),
            eb.not(
              eb.exists(
                eb
                  .selectFrom('webhook_deliveries as e')
                  .select('e.id')
                  .whereRef('e.order_key', '=', 'd.order_key')
                  .where('e.state', '=', 'pending')
                  .whereRef('e.id', '<', 'd.id'),
              ),
            ),
          ]),
        )
        .orderBy('d.next_attempt_at')
        .orderBy('d.id')
        .limit(limit);
      if (skipBusinesses.length > 0) query = query.where('d.business_id', 'not in', skipBusinesses);
      const candidates = await query.execute();
      if (candidates.length === 0) return [];
      const leased = await k
        .updateTable('webhook_deliveries')
        .set({ locked_until: now + leaseMs })
        .where(
          'id',
          'in',
          candidates.map((c) => c.id),
        )
        .where('state', '=', 'pending')
        .where('locked_until', '<=', now)
        .returning('id')
        .execute();
      const got = new Set(leased.map((r) => Number(r.id)));
      return candidates.filter((c) => got.has(Number(c.id))).map((c) => ({ ...c, id: Number(c.id) }));
    },

    /** Gives claimed deliveries back without an attempt, claimable again from `until`. */
    async release(ids: number[], until: number): Promise<void> {
      if (ids.length === 0) return;
      await k.updateTable('webhook_deliveries').set({ locked_until: until }).where('id', 'in', ids).execute();
    },

    async markDelivered(items: { id: number; status: number }[], now: number): Promise<void> {
      const byStatus = new Map<number, number[]>();
      for (const i of items) byStatus.set(i.status, [...(byStatus.get(i.status) ?? []), i.id]);
      for (const [status, ids] of byStatus) {
        await k
          .updateTable('webhook_deliveries')
          .set((eb) => ({
            state: 'delivered',
            attempts: eb('attempts', '+', 1),
            first_attempt_at: eb.fn.coalesce('first_attempt_at', eb.val(now)),
            delivered_at: now,
            next_attempt_at: now,
            locked_until: 0,
            last_status: status,
            last_error: null,
          }))
          .where('id', 'in', ids)
          .where('state', '=', 'pending')
          .execute();
      }
    },

    async markFailed(f: DeliveryFailure, now: number): Promise<void> {
      await k
        .updateTable('webhook_deliveries')
        .set({
          state: f.state,
          attempts: f.attempts,
          first_attempt_at: f.firstAttemptAt,
          next_attempt_at: f.nextAttemptAt,
          locked_until: 0,
          last_status: f.status,
          last_error: f.error.slice(0, 500),
          failed_at: f.state === 'failed' ? now : null,
        })
        .where('id', '=', f.id)
        .where('state', '=', 'pending')
        .execute();
    },

    async list(
      businessId: string,
      filter: { state?: WebhookDeliveryState | undefined; limit: number; before?: number | undefined },
    ): Promise<DeliveryRow[]> {
      let q = k.selectFrom('webhook_deliveries').selectAll().where('business_id', '=', businessId);
      if (filter.state) q = q.where('state', '=', filter.state);
      if (filter.before !== undefined) q = q.where('id', '<', filter.before);
      const rows = await q.orderBy('id', 'desc').limit(filter.limit).execute();
      return rows.map((r) => ({ ...r, id: Number(r.id) }));
    },

    /**
     * Queues deliveries of the business again from scratch: the given ones (dead letters or
     * delivered), or without ids every dead letter. Pending ones are left as they are.
     */
    async replay(businessId: string, ids: number[] | undefined, now: number): Promise<number> {
      if (ids && ids.length === 0) return 0;
      let q = k
        .updateTable('webhook_deliveries')
        .set({
          state: 'pending',
          attempts: 0,
          first_attempt_at: null,
          next_attempt_at: now,
          locked_until: 0,
          failed_at: null,
          delivered_at: null,
        })
        .where('business_id', '=', businessId);
      q = ids ? q.where('id', 'in', ids).where('state', '!=', 'pending') : q.where('state', '=', 'failed');
      const result = await q.executeTakeFirst();
      return Number(result.numUpdatedRows);
    },

    /** Deletes delivered rows older than `deliveredBefore` and dead letters older than `failedBefore`. */
    async purge(
      deliveredBefore: number,
      failedBefore: number,
    ): Promise<{ delivered: number; failed: number }> {
      const delivered = await k
        .deleteFrom('webhook_deliveries')
        .where('state', '=', 'delivered')
        .where('next_attempt_at', '<', deliveredBefore)
        .executeTakeFirst();
      const failed = await k
        .deleteFrom('webhook_deliveries')
        .where('state', '=', 'failed')
        .where('next_attempt_at', '<', failedBefore)
        .executeTakeFirst();
      return { delivered: Number(delivered.numDeletedRows), failed: Number(failed.numDeletedRows) };
    },
  };
}

export type WebhooksRepo = ReturnType<typeof createWebhooksRepo>;
