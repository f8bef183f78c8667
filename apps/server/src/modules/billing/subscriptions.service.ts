/**
 * Business premium plans, billed per UTC calendar month (subscriptions.proration.ts).
 *
 * Model: a business has at most one live subscription (active or past_due). Subscribing
 * charges the prorated rest of the current month; changing plan credits the unused part of the
 * old plan and charges the rest of the new one; at month end the worker charges the next month.
 * Every fee is a charge on the business's billing account (stream `premium_plan`) under the key
 * `sub:<id>:<YYYY-MM>:<n>`, `n` counting the subscription's fees, so a retried attempt reuses
 * its key and is never charged twice. With a payment provider set, each fee is first collected
 * through it and booked as a top-up; otherwise the balance (or credit line) pays.
 *
 * Dunning: a renewal the ledger refuses or the provider fails makes the subscription past_due.
 * The plan's features stay during the grace period (default 14 days from the period end); the
 * worker retries after 1, 3 and 7 days (operator setting), with a notice after each failure,
 * and once more when grace ends; still unpaid, the business is downgraded to `free` and the
 * subscription canceled. A successful retry (after a top-up) makes it active again.
 *
 * A user-initiated subscribe or change that cannot be paid is refused (the ledger's
 * LEDGER_INSUFFICIENT_FUNDS or BILLING_PAYMENT_FAILED) and changes nothing.
 *
 * `parley business plan` stays an operator override: it sets the business's plan without any
 * charge and without a subscription. A live subscription sets the plan again at its next change
 * (renewal keeps it, cancellation and downgrade set `free`).
 *
 * Concurrency: the worker locks each due subscription (FOR UPDATE SKIP LOCKED on PostgreSQL,
 * the single writer on SQLite) and re-checks it before acting; failures are recorded only if
 * the row is unchanged since the attempt read it.
 */
import { AppError, isAppError } from '../../errors.js';
import type { Clock } from '../../platform/clock.js';
import type { Db, Executor } from '../../platform/db.js';
import type { Ids } from '../../platform/ids.js';
import type { PlanRow } from '../plans/plans.repo.js';
import type { NoticesService } from './notices.service.js';
import type { Payments } from './payment-provider.service.js';
import type { BillingAccountsPort } from './subscriptions.ports.js';
import { type Period, periodAt, prorate } from './subscriptions.proration.js';
import type { SubscriptionRow, SubscriptionsRepo } from './subscriptions.repo.js';

const DAY = 86_400_000;
export const FREE_PLAN = 'free';

export interface DunningSettings {
  /** Days after the failed renewal (the period end) at which payment is retried. */
  retry_days: number[];
  /** Days after the period end during which the plan's features stay. */
  grace_days: number;
}

export const DEFAULT_DUNNING: DunningSettings = { retry_days: [1, 3, 7], grace_days: 14 };

export interface SubscriptionView {
  subscription_id: string;
  business_id: string;
  plan_id: string;
  status: 'active' | 'past_due' | 'canceled';
  current_period_start: number;
  current_period_end: number;
  cancel_at_period_end: boolean;
  payment_provider: string | null;
  dunning_step: number;
  next_attempt_at: number | null;
  grace_until: number | null;
  canceled_at: number | null;
}

const num = (v: number | string | bigint | null): number | null => (v === null ? null : Number(v));

export function presentSubscription(row: SubscriptionRow): SubscriptionView {
  return {
    subscription_id: row.id,
    business_id: row.business_id,
    plan_id: row.plan_id,
    status: row.status,
    current_period_start: Number(row.current_period_start),
    current_period_end: Number(row.current_period_end),
    cancel_at_period_end: row.cancel_at_period_end === 1,
    payment_provider: row.payment_provider,
    dunning_step: row.dunning_step,
    next_attempt_at: num(row.next_attempt_at),
    grace_until: num(row.grace_until),
    canceled_at: num(row.canceled_at),
  };
}

/** Errors that mean "the payment did not happen" (not a bug): they start or continue dunning. */
const PAYMENT_FAILURES: readonly string[] = ['LEDGER_INSUFFICIENT_FUNDS', 'BILLING_PAYMENT_FAILED'];
const isPaymentFailure = (e: unknown): e is AppError => isAppError(e) && PAYMENT_FAILURES.includes(e.code);

export interface SubscriptionsDeps {
  db: Pick<Db, 'kysely'>;
  repo: SubscriptionsRepo;
  accounts: Pick<BillingAccountsPort, 'ensure' | 'charge'>;
  payments: Pick<Payments, 'pay' | 'requireProvider'>;
  notices: Pick<NoticesService, 'add'>;
  plans: { find(id: string, tx?: Executor): Promise<PlanRow | undefined> };
  /** Writes `businesses.plan_id` in `tx` (the business repo's update). */
  setBusinessPlan(tx: Executor, businessId: string, planId: string): Promise<void>;
  clock: Clock;
  ids: Ids;
}

export function createSubscriptions(deps: SubscriptionsDeps) {
  const { db, repo, accounts, notices, clock, ids } = deps;

  async function dunning(tx?: Executor): Promise<DunningSettings> {
    const raw = await repo.setting('dunning', tx);
    return raw ? { ...DEFAULT_DUNNING, ...(JSON.parse(raw) as Partial<DunningSettings>) } : DEFAULT_DUNNING;
  }

  async function planRow(tx: Executor, planId: string): Promise<PlanRow> {
    const plan = await deps.plans.find(planId, tx);
    if (!plan) throw new AppError('PLAN_NOT_FOUND', `No plan "${planId}".`);
    return plan;
  }

  async function accountFor(tx: Executor, businessId: string, plan: PlanRow) {
    const account = await accounts.ensure(tx, {
      ownerType: 'business',
      ownerId: businessId,
      currency: plan.currency,
    });
    if (account.currency !== plan.currency) {
      throw new AppError(
        'BILLING_PLAN_CURRENCY_MISMATCH',
        `The ${plan.name} plan is priced in ${plan.currency}; the business is billed in ${account.currency}.`,
        { plan_currency: plan.currency, account_currency: account.currency },
      );
    }
    return account;
  }

  async function fee(
    tx: Executor,
    sub: Pick<SubscriptionRow, 'id' | 'business_id'>,
    accountId: string,
    input: { period: Period; n: number; amount: bigint; description: string },
  ): Promise<void> {
    if (input.amount === 0n) return;
    await accounts.charge(tx, {
      billingAccountId: accountId,
      key: `sub:${sub.id}:${input.period.label}:${input.n}`,
      stream: 'premium_plan',
      amountMinor: input.amount,
      description: input.description,
      occurredAt: clock.now(),
      businessId: sub.business_id,
    });
  }

  /** Collects `amount` through the subscription's provider before it is charged (no-op without one). */
  async function collect(
    businessId: string,
    provider: string | null,
    plan: PlanRow,
    amount: bigint,
    key: string,
  ): Promise<void> {
    if (!provider || amount <= 0n) return;
    const account = await db.kysely.transaction().execute((tx) => accountFor(tx, businessId, plan));
    await deps.payments.pay({
      billingAccountId: account.id,
      amountMinor: amount,
      currency: plan.currency,
      key,
      provider,
      description: `${plan.name} plan`,
    });
  }

  async function view(businessId: string, tx?: Executor): Promise<SubscriptionView | null> {
    const row = await repo.live(businessId, tx);
    return row ? presentSubscription(row) : null;
  }

  /** Cancels at period end (idempotent); the plan stays until then. */
  async function cancel(businessId: string): Promise<SubscriptionView> {
    return db.kysely.transaction().execute(async (tx) => {
      const sub = await repo.live(businessId, tx);
      if (!sub)
        throw new AppError('BILLING_SUBSCRIPTION_NOT_FOUND', `Business ${businessId} has no subscription.`);
      if (sub.cancel_at_period_end === 0) {
        await repo.update(tx, sub.id, { cancel_at_period_end: 1, updated_at: clock.now() });
        await notices.add(tx, {
          ownerType: 'business',
          ownerId: businessId,
          kind: 'subscription_canceled',
          title: 'Subscription canceled',
          body: `Your plan stays until ${new Date(Number(sub.current_period_end)).toISOString().slice(0, 10)}, then the business moves to the free plan.`,
          data: { subscription_id: sub.id, ends_at: Number(sub.current_period_end) },
        });
      }
      return presentSubscription({ ...sub, cancel_at_period_end: 1 });
    });
  }

  /**
   * Subscribes the business to `planId`, or changes its plan now with proration. `free`
   * cancels at period end. Throws (and changes nothing) when the fee cannot be paid.
   */
  async function subscribe(
    businessId: string,
    planId: string,
    opts: { provider?: string | null } = {},
  ): Promise<SubscriptionView> {
    if (planId === FREE_PLAN) {
      const live = await repo.live(businessId);
      if (!live) {
        await db.kysely.transaction().execute(async (tx) => {
          if (!(await repo.lockBusiness(tx, businessId)))
            throw new AppError('BUSINESS_NOT_FOUND', `No business ${businessId}.`);
        });
        throw new AppError('BILLING_SUBSCRIPTION_NOT_FOUND', `Business ${businessId} has no subscription.`);
      }
      return cancel(businessId);
    }
    const now = clock.now();
    const period = periodAt(now);
    // What is due now, estimated outside the transaction for the provider (it may call out);
    // the transaction recomputes it and charges exactly its own figure from the balance.
    const before = await repo.live(businessId);
    const provider = opts.provider !== undefined ? opts.provider : (before?.payment_provider ?? null);
    // Checked here, not only when something is due now: a downgrade collects nothing, and an
    // unknown provider stored on the subscription would fail every renewal.
    if (provider) deps.payments.requireProvider(provider);
    const plan = await planRow(db.kysely, planId);
    if (before?.status === 'past_due') {
      throw new AppError(
        'BILLING_PAYMENT_FAILED',
        'The subscription is past due: top up the balance; the next retry charges it and the plan can then be changed.',
        { status: 'past_due', next_attempt_at: num(before.next_attempt_at) },
      );
    }
    if (before?.plan_id !== planId) {
      const credit = before
        ? prorate(BigInt((await planRow(db.kysely, before.plan_id)).price_minor), period, now).rest
        : 0n;
      const due = prorate(BigInt(plan.price_minor), period, now).rest - credit;
      await collect(
        businessId,
        provider,
        plan,
        due,
        `sub-pay:${businessId}:${planId}:${period.label}:${before?.charge_seq ?? 0}`,
      );
    }
    return db.kysely.transaction().execute(async (tx) => {
      if (!(await repo.lockBusiness(tx, businessId)))
        throw new AppError('BUSINESS_NOT_FOUND', `No business ${businessId}.`);
      const account = await accountFor(tx, businessId, plan);
      const sub = await repo.live(businessId, tx);
      if (!sub) {
        const row: SubscriptionRow = {
          id: ids.newId('sub'),
          business_id: businessId,
          plan_id: planId,
          status: 'active',
          current_period_start: period.start,
          current_period_end: period.end,
          cancel_at_period_end: 0,
          payment_provider: provider,
          charge_seq: 1,
          dunning_step: 0,
          next_attempt_at: null,
          grace_until: null,
          canceled_at: null,
          created_at: now,
          updated_at: now,
        };
        await repo.insert(tx, row);
        await fee(tx, row, account.id, {
          period,
          n: 1,
          amount: prorate(BigInt(plan.price_minor), period, now).rest,
          description: `${plan.name} plan, ${period.label} (from ${new Date(now).toISOString().slice(0, 10)})`,
        });
        await deps.setBusinessPlan(tx, businessId, planId);
        return presentSubscription(row);
      }
      if (sub.plan_id === planId) {
        const patch = { cancel_at_period_end: 0, payment_provider: provider, updated_at: now };
        await repo.update(tx, sub.id, patch);
        return presentSubscription({ ...sub, ...patch });
      }
      const old = await planRow(tx, sub.plan_id);
      const current = { start: Number(sub.current_period_start), end: Number(sub.current_period_end) };
      const p = { ...current, label: periodAt(current.start).label };
      await fee(tx, sub, account.id, {
        period: p,
        n: sub.charge_seq + 1,
        amount: -prorate(BigInt(old.price_minor), current, now).rest,
        description: `Unused ${old.name} plan, ${p.label}`,
      });
      await fee(tx, sub, account.id, {
        period: p,
        n: sub.charge_seq + 2,
        amount: prorate(BigInt(plan.price_minor), current, now).rest,
        description: `${plan.name} plan, ${p.label} (from ${new Date(now).toISOString().slice(0, 10)})`,
      });
      const patch = {
        plan_id: planId,
        charge_seq: sub.charge_seq + 2,
        cancel_at_period_end: 0,
        payment_provider: provider,
        updated_at: now,
      };
      await repo.update(tx, sub.id, patch);
      await deps.setBusinessPlan(tx, businessId, planId);
      return presentSubscription({ ...sub, ...patch });
    });
  }

  /** What the worker's decision depends on: the row changed under it when this differs. */
  const version = (s: SubscriptionRow) =>
    `${s.status}:${s.plan_id}:${s.charge_seq}:${s.dunning_step}:${s.cancel_at_period_end}`;

  type Outcome = 'skipped' | 'renewed' | 'recovered' | 'failed' | 'canceled' | 'downgraded';

  const isDue = (s: SubscriptionRow, now: number) =>
    (s.status === 'active' && Number(s.current_period_end) <= now) ||
    (s.status === 'past_due' &&
      ((s.next_attempt_at !== null && Number(s.next_attempt_at) <= now) ||
        (s.grace_until !== null && Number(s.grace_until) <= now)));

  async function endSubscription(
    tx: Executor,
    sub: SubscriptionRow,
    at: number,
    notice: { kind: string; title: string; body: string },
  ): Promise<void> {
    await repo.update(tx, sub.id, {
      status: 'canceled',
      canceled_at: at,
      next_attempt_at: null,
      updated_at: clock.now(),
    });
    await deps.setBusinessPlan(tx, sub.business_id, FREE_PLAN);
    await notices.add(tx, {
      ownerType: 'business',
      ownerId: sub.business_id,
      ...notice,
      data: { subscription_id: sub.id, plan_id: sub.plan_id },
      dedupeKey: `sub:${sub.id}:${notice.kind}`,
    });
  }

  /** One due subscription: cancel at period end, renew, retry, or downgrade after grace. */
  async function processOne(id: string, now: number): Promise<Outcome> {
    const seen = await repo.find(id);
    if (!seen || !isDue(seen, now)) return 'skipped';
    if (seen.status === 'active' && seen.cancel_at_period_end === 1) {
      return db.kysely.transaction().execute(async (tx) => {
        const sub = await repo.lock(tx, id, true);
        if (!sub || version(sub) !== version(seen)) return 'skipped';
        await endSubscription(tx, sub, Number(sub.current_period_end), {
          kind: 'subscription_ended',
          title: 'Subscription ended',
          body: 'The business is now on the free plan.',
        });
        return 'canceled';
      });
    }
    // The period being paid for: the one starting where the current one ends.
    const next = periodAt(Number(seen.current_period_end));
    const plan = await planRow(db.kysely, seen.plan_id);
    const price = BigInt(plan.price_minor);
    let failure: AppError | undefined;
    try {
      await collect(
        seen.business_id,
        seen.payment_provider,
        plan,
        price,
        `sub-pay:${seen.id}:${next.label}:${seen.charge_seq + 1}:${seen.dunning_step}`,
      );
      const done = await db.kysely.transaction().execute(async (tx) => {
        const sub = await repo.lock(tx, id, true);
        if (!sub || version(sub) !== version(seen)) return false;
        const account = await accountFor(tx, sub.business_id, plan);
        await fee(tx, sub, account.id, {
          period: next,
          n: sub.charge_seq + 1,
          amount: price,
          description: `${plan.name} plan, ${next.label}`,
        });
        await repo.update(tx, sub.id, {
          status: 'active',
          current_period_start: next.start,
          current_period_end: next.end,
          charge_seq: sub.charge_seq + 1,
          dunning_step: 0,
          next_attempt_at: null,
          grace_until: null,
          updated_at: clock.now(),
        });
        if (sub.status === 'past_due') {
          await deps.setBusinessPlan(tx, sub.business_id, sub.plan_id);
          await notices.add(tx, {
            ownerType: 'business',
            ownerId: sub.business_id,
            kind: 'payment_succeeded',
            title: 'Payment received',
            body: `The ${plan.name} plan is paid for ${next.label}.`,
            data: { subscription_id: sub.id, period: next.label },
            dedupeKey: `sub:${sub.id}:${next.label}:paid`,
          });
        }
        return true;
      });
      if (!done) return 'skipped';
      return seen.status === 'past_due' ? 'recovered' : 'renewed';
    } catch (e: unknown) {
      if (!isPaymentFailure(e)) throw e;
      failure = e;
    }
    return db.kysely.transaction().execute(async (tx) => {
      const sub = await repo.lock(tx, id, true);
      if (!sub || version(sub) !== version(seen)) return 'skipped';
      const settings = await dunning(tx);
      const failedAt = Number(sub.current_period_end);
      const graceUntil =
        sub.grace_until === null ? failedAt + settings.grace_days * DAY : Number(sub.grace_until);
      if (now >= graceUntil) {
        await endSubscription(tx, sub, now, {
          kind: 'subscription_downgraded',
          title: 'Moved to the free plan',
          body: `The ${plan.name} plan could not be paid before the grace period ended; the business is now on the free plan with its limits.`,
        });
        return 'downgraded';
      }
      const step = sub.dunning_step + 1;
      const retry = settings.retry_days[step - 1];
      const nextAttempt = retry === undefined ? null : failedAt + retry * DAY;
      await repo.update(tx, sub.id, {
        status: 'past_due',
        dunning_step: step,
        next_attempt_at: nextAttempt,
        grace_until: graceUntil,
        updated_at: clock.now(),
      });
      await notices.add(tx, {
        ownerType: 'business',
        ownerId: sub.business_id,
        kind: 'payment_failed',
        title: 'Payment failed',
        body:
          `The ${plan.name} plan for ${next.label} could not be paid (${failure?.message ?? 'declined'}). ` +
          (nextAttempt === null
            ? 'No further retry is scheduled'
            : `We retry on ${new Date(nextAttempt).toISOString().slice(0, 10)}`) +
          `; the plan stays until ${new Date(graceUntil).toISOString().slice(0, 10)}.`,
        data: {
          subscription_id: sub.id,
          period: next.label,
          attempt: step,
          reason: failure?.code ?? null,
          next_attempt_at: nextAttempt,
          grace_until: graceUntil,
        },
        dedupeKey: `sub:${sub.id}:${next.label}:failed:${step}`,
      });
      return 'failed';
    });
  }

  return {
    view,
    subscribe,
    cancel,
    dunning: () => dunning(),

    async setDunning(patch: Partial<DunningSettings>): Promise<DunningSettings> {
      const merged = { ...(await dunning()), ...patch };
      if (
        !merged.retry_days.every((d) => Number.isInteger(d) && d > 0) ||
        !Number.isInteger(merged.grace_days) ||
        merged.grace_days < 0
      ) {
        throw new AppError(
          'VALIDATION_FAILED',
          'Retry days are whole days > 0; grace days a whole number ≥ 0.',
        );
      }
      merged.retry_days = [...merged.retry_days].sort((a, b) => a - b);
      await db.kysely
        .transaction()
        .execute((tx) => repo.putSetting(tx, 'dunning', JSON.stringify(merged), clock.now()));
      return merged;
    },

    /**
     * Worker task: renewals at period end, retries, cancellations and downgrades due at `now`.
     * Idempotent and safe on several workers. Returns how many subscriptions had each outcome.
     */
    async tick(now = clock.now()): Promise<Record<Outcome, number>> {
      const counts: Record<Outcome, number> = {
        skipped: 0,
        renewed: 0,
        recovered: 0,
        failed: 0,
        canceled: 0,
        downgraded: 0,
      };
      // A renewal may leave the subscription due again (a month missed entirely): loop a little.
      for (let round = 0; round < 3; round++) {
        const due = await repo.due(now, 500);
        if (due.length === 0) break;
        let acted = 0;
        for (const id of due) {
          const outcome = await processOne(id, now);
          counts[outcome]++;
          if (outcome !== 'skipped' && outcome !== 'failed') acted++;
        }
        if (acted === 0) break;
      }
      return counts;
    },
  };
}

export type Subscriptions = ReturnType<typeof createSubscriptions>;
