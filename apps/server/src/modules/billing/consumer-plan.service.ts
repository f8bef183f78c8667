/**
 * The consumer plan (off by default). When the operator turns it on, a person's first
 * `free_days` from sign-up are free; then an annual fee covers a year at a time. Reminders go
 * out `reminder_days` before the coverage ends; after it ends a grace period of `grace_days`
 * follows, and then sending is paused until renewal. Receiving is never paused, and business
 * numbers are never subject to it.
 *
 * The setting is cached (refreshed at most every `cacheMs`), so with the plan off a send runs
 * no SQL for it at all. Renewal collects the fee through a payment provider (booked as a
 * top-up of the person's billing account), charges it (stream `consumer_plan`, key
 * `cp:<account>:<coverage end>`, so a repeated renewal of the same year charges once) and
 * extends the coverage by a year from its end (or from now, when it already ended).
 */
import { AppError } from '../../errors.js';
import type { Clock } from '../../platform/clock.js';
import type { Db, Executor } from '../../platform/db.js';
import type { ConsumerPlanRepo } from './consumer-plan.repo.js';
import { assertCurrency } from './money.js';
import type { NoticesService } from './notices.service.js';
import type { Payments } from './payment-provider.service.js';
import type { BillingAccountsPort } from './subscriptions.ports.js';
import type { SubscriptionsRepo } from './subscriptions.repo.js';

const DAY = 86_400_000;
const YEAR_DAYS = 365;

export interface ConsumerPlanSettings {
  enabled: boolean;
  /** Minor units of `currency`, as a string. */
  annual_fee_minor: string;
  currency: string;
  free_days: number;
  reminder_days: number[];
  grace_days: number;
}

export const DEFAULT_CONSUMER_PLAN: ConsumerPlanSettings = {
  enabled: false,
  annual_fee_minor: '99',
  currency: 'USD',
  free_days: 365,
  reminder_days: [30, 7, 1],
  grace_days: 30,
};

export interface ConsumerPlanStatus {
  enabled: boolean;
  expires_at: number | null;
  grace_until: number | null;
  can_send: boolean;
  annual_fee_minor: string;
  currency: string;
}

export interface ConsumerPlanDeps {
  db: Pick<Db, 'kysely'>;
  repo: ConsumerPlanRepo;
  settingsRepo: Pick<SubscriptionsRepo, 'setting' | 'putSetting'>;
  accounts: Pick<BillingAccountsPort, 'ensure' | 'charge'>;
  payments: Pick<Payments, 'pay' | 'requireProvider'>;
  notices: Pick<NoticesService, 'add'>;
  clock: Clock;
  /** How long the setting is cached (ms); other nodes see a change within this time. */
  cacheMs?: number;
}

export function createConsumerPlan(deps: ConsumerPlanDeps) {
  const { db, repo, clock } = deps;
  const cacheMs = deps.cacheMs ?? 30_000;
  let cache: { settings: ConsumerPlanSettings; at: number } | undefined;

  async function settings(): Promise<ConsumerPlanSettings> {
    const now = clock.now();
    if (cache && now - cache.at < cacheMs && now >= cache.at) return cache.settings;
    const raw = await deps.settingsRepo.setting('consumer_plan');
    const s = raw
      ? { ...DEFAULT_CONSUMER_PLAN, ...(JSON.parse(raw) as Partial<ConsumerPlanSettings>) }
      : DEFAULT_CONSUMER_PLAN;
    cache = { settings: s, at: now };
    return s;
  }

  async function status(tx: Executor, accountId: string, now: number): Promise<ConsumerPlanStatus> {
    const s = await settings();
    const base = { enabled: s.enabled, annual_fee_minor: s.annual_fee_minor, currency: s.currency };
    if (!s.enabled) return { ...base, expires_at: null, grace_until: null, can_send: true };
    const cov = await repo.coverage(tx, accountId, s.free_days * DAY);
    if (!cov) return { ...base, expires_at: null, grace_until: null, can_send: true };
    const graceUntil = cov.expires_at + s.grace_days * DAY;
    return { ...base, expires_at: cov.expires_at, grace_until: graceUntil, can_send: now < graceUntil };
  }

  async function canSend(tx: Executor, accountId: string, now: number): Promise<boolean> {
    if (!(await settings()).enabled) return true;
    return (await status(tx, accountId, now)).can_send;
  }

  return {
    settings,
    canSend,
    status: (accountId: string) => status(db.kysely, accountId, clock.now()),

    /**
     * The delivery send path's check: throws BILLING_CONSUMER_PLAN_EXPIRED when the person's
     * sending is paused. Business numbers (hosted devices) always send.
     */
    async requireCanSend(actor: { accountId: string; role: string }): Promise<void> {
      if (actor.role === 'hosted') return;
      if (!(await settings()).enabled) return;
      const st = await status(db.kysely, actor.accountId, clock.now());
      if (!st.can_send) {
        throw new AppError(
          'BILLING_CONSUMER_PLAN_EXPIRED',
          'Sending is paused until the consumer plan is renewed; receiving still works.',
          { expired_at: st.expires_at, grace_until: st.grace_until },
        );
      }
    },

    /** Operator: edits the setting (unset fields keep their value). */
    async set(patch: Partial<ConsumerPlanSettings>): Promise<ConsumerPlanSettings> {
      const current = await settings();
      const next = {
        ...current,
        ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)),
      };
      if (!/^[0-9]{1,18}$/.test(next.annual_fee_minor)) {
        throw new AppError('BILLING_INVALID_AMOUNT', 'The annual fee is a whole number of minor units ≥ 0.');
      }
      // A known ISO 4217 code (BILLING_UNKNOWN_CURRENCY, as docs/billing.md says): three capital
      // letters alone let "XYZ" through, and every renewal in it would then fail.
      assertCurrency(next.currency);
      const days = [next.free_days, next.grace_days, ...next.reminder_days];
      if (!days.every((d) => Number.isInteger(d) && d >= 0)) {
        throw new AppError('VALIDATION_FAILED', 'Free, grace and reminder days are whole numbers ≥ 0.');
      }
      next.reminder_days = [...new Set(next.reminder_days)].sort((a, b) => b - a);
      await db.kysely
        .transaction()
        .execute((tx) =>
          deps.settingsRepo.putSetting(tx, 'consumer_plan', JSON.stringify(next), clock.now()),
        );
      cache = { settings: next, at: clock.now() };
      return next;
    },

    /** Pays the annual fee through `provider` and extends the coverage by a year. */
    async renew(accountId: string, opts: { provider: string }): Promise<ConsumerPlanStatus> {
      const s = await settings();
      if (!s.enabled)
        throw new AppError('VALIDATION_FAILED', 'The consumer plan is off: there is nothing to renew.');
      // Before the person's billing account is opened: a refused renewal changes nothing.
      deps.payments.requireProvider(opts.provider);
      const now = clock.now();
      const before = await repo.coverage(db.kysely, accountId, s.free_days * DAY);
      if (!before) throw new AppError('VALIDATION_FAILED', 'Only a person’s account has a consumer plan.');
      const fee = BigInt(s.annual_fee_minor);
      const key = `cp:${accountId}:${before.expires_at}`;
      const account = await db.kysely
        .transaction()
        .execute((tx) =>
          deps.accounts.ensure(tx, { ownerType: 'person', ownerId: accountId, currency: s.currency }),
        );
      if (fee > 0n) {
        await deps.payments.pay({
          billingAccountId: account.id,
          amountMinor: fee,
          currency: account.currency,
          key: `${key}:pay`,
          provider: opts.provider,
          description: 'Consumer plan, one year',
        });
      }
      await db.kysely.transaction().execute(async (tx) => {
        const cov = await repo.coverage(tx, accountId, s.free_days * DAY);
        // Renewed meanwhile (a concurrent request): this payment stays as balance.
        if (!cov || cov.expires_at !== before.expires_at) return;
        if (fee > 0n) {
          await deps.accounts.charge(tx, {
            billingAccountId: account.id,
            key,
            stream: 'consumer_plan',
            amountMinor: fee,
            description: 'Consumer plan, one year',
            occurredAt: now,
            personAccountId: accountId,
          });
        }
        await repo.extend(tx, accountId, Math.max(cov.expires_at, now) + YEAR_DAYS * DAY, now);
        await deps.notices.add(tx, {
          ownerType: 'person',
          ownerId: accountId,
          kind: 'consumer_plan_renewed',
          title: 'Plan renewed',
          body: 'Thank you: your plan is renewed for a year.',
          data: { previous_expires_at: cov.expires_at },
          dedupeKey: `${key}:renewed`,
        });
      });
      return status(db.kysely, accountId, clock.now());
    },

    /**
     * Worker task: reminders before coverage ends, a notice when it ends (grace starts) and
     * when sending is paused. Idempotent (dedupe keys); does nothing while the plan is off.
     */
    async tick(now = clock.now()): Promise<{ reminders: number; expired: number; paused: number }> {
      const s = await settings();
      const out = { reminders: 0, expired: 0, paused: 0 };
      if (!s.enabled) return out;
      const freeMs = s.free_days * DAY;
      const graceMs = s.grace_days * DAY;
      const maxReminder = Math.max(0, ...s.reminder_days) * DAY;
      const soon = await repo.expiringBetween(now, now + maxReminder, freeMs, 10_000);
      const ended = await repo.expiringBetween(now - graceMs, now, freeMs, 10_000);
      const paused = await repo.expiringBetween(now - graceMs - 30 * DAY, now - graceMs, freeMs, 10_000);
      const day = (t: number) => new Date(t).toISOString().slice(0, 10);
      await db.kysely.transaction().execute(async (tx) => {
        for (const p of soon) {
          // The nearest reminder point already reached: one notice per point, none skipped ahead.
          const left = p.expires_at - now;
          const d = [...s.reminder_days].sort((a, b) => a - b).find((x) => left <= x * DAY);
          if (d === undefined) continue;
          const added = await deps.notices.add(tx, {
            ownerType: 'person',
            ownerId: p.account_id,
            kind: 'consumer_plan_reminder',
            title: 'Your plan ends soon',
            body: `Your plan ends on ${day(p.expires_at)}. Renew it to keep sending messages.`,
            data: { expires_at: p.expires_at, days_before: d },
            dedupeKey: `cp:${p.account_id}:${p.expires_at}:reminder:${d}`,
          });
          if (added) out.reminders++;
        }
        for (const p of ended) {
          const added = await deps.notices.add(tx, {
            ownerType: 'person',
            ownerId: p.account_id,
            kind: 'consumer_plan_expired',
            title: 'Your plan has ended',
            body: `Renew by ${day(p.expires_at + graceMs)} to keep sending messages. You still receive messages.`,
            data: { expires_at: p.expires_at, grace_until: p.expires_at + graceMs },
            dedupeKey: `cp:${p.account_id}:${p.expires_at}:expired`,
          });
          if (added) out.expired++;
        }
        for (const p of paused) {
          const added = await deps.notices.add(tx, {
            ownerType: 'person',
            ownerId: p.account_id,
            kind: 'consumer_plan_paused',
            title: 'Sending is paused',
            body: 'Renew your plan to send messages again. You still receive messages.',
            data: { expires_at: p.expires_at },
            dedupeKey: `cp:${p.account_id}:${p.expires_at}:paused`,
          });
          if (added) out.paused++;
        }
      });
      return out;
    },
  };
}

export type ConsumerPlan = ReturnType<typeof createConsumerPlan>;
