/**
 * The rules Meta enforces on Cloud API sends, enforced here (issue 5, build point 7).
 *
 * `check` runs before the send pipeline accepts an API message, at up to thousands of
 * messages per second, so it reads little: one statement for the person (conversation,
 * block, opt-out; three index probes) and, at most every CACHE_MS per number, the number's
 * throughput, quality and its business's tier. Everything else lives in this process:
 *
 * - Throughput per number and the pair rate per (number, person) are token buckets in
 *   memory. In cluster mode each node enforces them separately (there is no Redis client in
 *   the codebase yet), so N nodes behind a balancer let up to N× through.
 * - The people a business reached in the rolling 24 h (its messaging limit) are kept in
 *   memory per business, loaded from `api_messages` on first use and merged with it again
 *   every REACH_REFRESH_MS, which is how other nodes' sends become visible here.
 *
 * A refusal is a GraphError; `error.async` says Meta would accept the send and report the
 * error in a failed status webhook instead of answering it (the pipeline does that).
 * Sync refusals consume nothing; an async one has been "accepted", so it counts against
 * throughput and the pair rate as Meta's do.
 *
 * Tiers and quality are evaluated on a schedule (`evaluate`, a worker task) and stored.
 */
import { AppError } from '../../../errors.js';
import type { Clock } from '../../../platform/clock.js';
import type { Db, Executor } from '../../../platform/db.js';
import type { Logger } from '../../../platform/logger.js';
import { graphErrors } from '../graph-error.js';
import {
  type Bucket,
  DAY,
  DEFAULT_MPS,
  EVALUATION_EVERY_MS,
  freeEntryPoint,
  initialTier,
  isFull,
  MAX_MPS,
  optOutKeyword,
  PAIR_RULE,
  parseTier,
  QUALITY_MS,
  type Quality,
  qualityRating,
  SCALING_PATH_MS,
  type Tier,
  take,
  throughputRule,
  tierLimit,
  UPGRADE_USAGE_MS,
  upgradedTier,
  windowOpen,
  wireTier,
} from './limits.policy.js';
import type { LimitsRepo } from './limits.repo.js';
import { createReachWindow, type ReachWindow } from './reach-window.js';

/** How long a number's throughput, quality and tier are trusted before they are read again. */
export const CACHE_MS = 30_000;
/** How often a business's reach is merged again with what storage holds (other nodes' sends). */
export const REACH_REFRESH_MS = 60_000;
/** Pair buckets are swept (full ones forgotten) this often. */
const PAIR_SWEEP_MS = 60_000;

export interface LimitsServiceDeps {
  db: Pick<Db, 'kysely'>;
  repo: LimitsRepo;
  clock: Clock;
  logger?: Pick<Logger, 'info'>;
}

export type TemplateCategory = 'marketing' | 'utility' | 'authentication';

export interface CheckInput {
  business: { id: string; name_verified: number };
  number: { phone_number_id: string; account_id: string };
  /** The person's account; undefined when the number is not on Parley. */
  personAccountId: string | undefined;
  /** The recipient in E.164 (as `api_messages.to_phone` stores it): the messaging limit counts these. */
  toPhone: string;
  kind: 'template' | 'free_form';
  /** The template's category (templates only). */
  category?: TemplateCategory | undefined;
  /** Defaults to the clock. */
  now?: number;
}

export interface CheckResult {
  /** The person's 24-hour customer-service window was open (billing; api_messages.window_open). */
  windowOpen: boolean;
  /** The free entry point (`link` or `qr`) the conversation is in, if any (api_messages.entry_point). */
  entryPoint: string | null;
}

export interface NumberStatus {
  quality_rating: Quality;
  messaging_limit_tier: string;
  throughput: { level: 'STANDARD' | 'HIGH' };
  status: 'CONNECTED' | 'FLAGGED';
}

interface NumberCache {
  mps: number;
  quality: Quality;
  tier: Tier | null;
  loadedAt: number;
}

interface Reach {
  window: ReachWindow;
  loadedAt: number;
}

const TIER_RANK: Record<Tier, number> = {
  TIER_250: 0,
  TIER_2K: 1,
  TIER_10K: 2,
  TIER_100K: 3,
  TIER_UNLIMITED: 4,
};

/** The tier in force: the stored one, and at least 2,000 once the business is verified. */
function effectiveTier(stored: Tier | null, verified: boolean): Tier {
  const start = initialTier(verified);
  if (!stored) return start;
  return TIER_RANK[stored] >= TIER_RANK[start] ? stored : start;
}

export function createLimitsService(deps: LimitsServiceDeps) {
  const { repo, clock } = deps;
  const numbers = new Map<string, NumberCache>();
  const loadingNumbers = new Map<string, Promise<NumberCache>>();
  const reaches = new Map<string, Reach>();
  const loadingReaches = new Map<string, Promise<Reach>>();
  const throughput = new Map<string, Bucket>();
  const pairs = new Map<string, Bucket>();
  let pairSweptAt = 0;

  const stale = (loadedAt: number, now: number, ttl: number) => now - loadedAt >= ttl || now < loadedAt;

  async function numberCache(phoneNumberId: string, now: number): Promise<NumberCache> {
    const cached = numbers.get(phoneNumberId);
    if (cached && !stale(cached.loadedAt, now, CACHE_MS)) return cached;
    let loading = loadingNumbers.get(phoneNumberId);
    if (!loading) {
      loading = (async () => {
        try {
          const row = await repo.numberSettings(phoneNumberId);
          const entry: NumberCache = {
            mps: row?.throughput_mps ?? DEFAULT_MPS,
            quality: row?.quality_rating ?? 'GREEN',
            tier: row?.tier ?? null,
            loadedAt: now,
          };
          numbers.set(phoneNumberId, entry);
          return entry;
        } finally {
          loadingNumbers.delete(phoneNumberId);
        }
      })();
      loadingNumbers.set(phoneNumberId, loading);
    }
    return loading;
  }

  async function reachOf(businessId: string, now: number): Promise<Reach> {
    const current = reaches.get(businessId);
    if (current && !stale(current.loadedAt, now, REACH_REFRESH_MS)) return current;
    let loading = loadingReaches.get(businessId);
    if (!loading) {
      loading = (async () => {
        try {
          const rows = await repo.reachedSince(businessId, now - DAY);
          // Merged, not replaced: this node's sends of the last moments may not be stored yet.
          const reach = current ?? { window: createReachWindow(), loadedAt: now };
          reach.window.merge(rows);
          reach.loadedAt = now;
          reaches.set(businessId, reach);
          return reach;
        } finally {
          loadingReaches.delete(businessId);
        }
      })();
      loadingReaches.set(businessId, loading);
    }
    return loading;
  }

  function sweepPairs(now: number): void {
    if (now - pairSweptAt < PAIR_SWEEP_MS && now >= pairSweptAt) return;
    pairSweptAt = now;
    for (const [key, bucket] of pairs) if (isFull(PAIR_RULE, bucket, now)) pairs.delete(key);
  }

  /** A tier or throughput change takes effect at once in this process (others: within CACHE_MS). */
  function forgetNumbers(numberIds: string[]): void {
    for (const id of numberIds) numbers.delete(id);
  }

  return {
    /**
     * Whether an API message may be accepted: throws a GraphError when not (see the header
     * for `async`), else tells the window state and free entry point for billing. Call it
     * last, right before accepting: a message it lets through counts against the limits.
     */
    async check(input: CheckInput): Promise<CheckResult> {
      const now = input.now ?? clock.now();
      const { business, number } = input;
      const [settings, person] = await Promise.all([
        numberCache(number.phone_number_id, now),
        input.personAccountId
          ? repo.recipientState(number.phone_number_id, number.account_id, input.personAccountId)
          : undefined,
      ]);
      const open = windowOpen(person?.last_inbound_at, now);
      const entryPoint =
        person?.started_via && person.conversation_at !== null
          ? freeEntryPoint({ started_via: person.started_via, created_at: person.conversation_at }, now)
          : null;
      const businessInitiated = input.kind === 'template' && !open;
      const tier = effectiveTier(settings.tier, business.name_verified === 1);
      const limit = tierLimit(tier);
      const reach =
        businessInitiated && limit !== Number.POSITIVE_INFINITY ? await reachOf(business.id, now) : undefined;

      // From here on nothing awaits: the buckets and the reach change atomically.
      const pairKey = `${number.phone_number_id}:${input.toPhone}`;
      const nextThroughput = take(throughputRule(settings.mps), throughput.get(number.phone_number_id), now);
      if (!nextThroughput) throw graphErrors.rateLimitHit();
      const nextPair = take(PAIR_RULE, pairs.get(pairKey), now);
      if (!nextPair) throw graphErrors.pairRateLimitHit();
      throughput.set(number.phone_number_id, nextThroughput);
      pairs.set(pairKey, nextPair);
      sweepPairs(now);

      if (person?.blocked) throw graphErrors.blockedByRecipient();
      if (input.kind === 'free_form' && !open) throw graphErrors.reengagement();
      if (input.kind === 'template' && input.category === 'marketing' && person?.opted_out) {
        throw graphErrors.marketingOptOut();
      }
      if (reach) {
        // Someone reached in the last 24 h counts once; this message keeps them counted.
        const counted = reach.window.has(input.toPhone, now);
        if (!counted && reach.window.count(now) >= limit) throw graphErrors.messagingLimitHit(limit);
        reach.window.add(input.toPhone, now);
      }
      return { windowOpen: open, entryPoint };
    },

    /** The quality, tier, throughput and status of a number, as the phone-number views show them. */
    async numberStatus(number: { phone_number_id: string }, verified: boolean): Promise<NumberStatus> {
      const settings = await numberCache(number.phone_number_id, clock.now());
      return {
        quality_rating: settings.quality,
        messaging_limit_tier: wireTier(effectiveTier(settings.tier, verified)),
        throughput: { level: settings.mps > DEFAULT_MPS ? 'HIGH' : 'STANDARD' },
        status: settings.quality === 'RED' ? 'FLAGGED' : 'CONNECTED',
      };
    },

    /**
     * Records opt-outs from a person's inbound message, in the inbox's ingest transaction:
     * STOP or UNSUBSCRIBE (the whole message, any case) opts out of the number's marketing
     * templates, START opts back in. Any other text writes nothing.
     */
    async recordInbound(
      tx: Executor,
      m: {
        businessId: string;
        phoneNumberId: string;
        personAccountId: string;
        text: string | null;
        at: number;
      },
    ): Promise<void> {
      const keyword = optOutKeyword(m.text);
      if (keyword === 'stop') {
        await repo.optOut(tx, {
          phone_number_id: m.phoneNumberId,
          person_account_id: m.personAccountId,
          business_id: m.businessId,
          opted_out_at: m.at,
        });
      } else if (keyword === 'start') {
        await repo.optIn(tx, m.phoneNumberId, m.personAccountId);
      }
    },

    /** Operator: a number's throughput in messages per second (`parley business throughput`). */
    async setThroughput(phoneNumberId: string, mps: number): Promise<void> {
      if (!Number.isInteger(mps) || mps < 1 || mps > MAX_MPS) {
        throw new AppError('VALIDATION_FAILED', `Throughput must be a whole number from 1 to ${MAX_MPS}.`);
      }
      const settings = await repo.numberSettings(phoneNumberId);
      if (!settings) throw new AppError('BUSINESS_NOT_FOUND', `No business number ${phoneNumberId}.`);
      await repo.setThroughput(deps.db.kysely, {
        phone_number_id: phoneNumberId,
        business_id: settings.business_id,
        throughput_mps: mps,
        at: clock.now(),
      });
      numbers.delete(phoneNumberId);
      throughput.delete(phoneNumberId);
    },

    /** Operator: a business's messaging-limit tier (`parley business tier`). Returns the tier set. */
    async setTier(businessId: string, input: string): Promise<Tier> {
      const tier = parseTier(input);
      if (!tier) {
        throw new AppError(
          'VALIDATION_FAILED',
          `Unknown tier "${input}": use TIER_250, TIER_2K, TIER_10K, TIER_100K or TIER_UNLIMITED.`,
        );
      }
      const row = await repo.businessLimits(businessId);
      if (!row) throw new AppError('BUSINESS_NOT_FOUND', `No business ${businessId}.`);
      await repo.setTier(deps.db.kysely, {
        business_id: businessId,
        tier,
        tier_changed_at: clock.now(),
        tier_changed_by: 'operator',
        evaluated_at: row.evaluated_at ?? null,
      });
      forgetNumbers((await repo.numbersOf(businessId)).map((n) => n.phone_number_id));
      return tier;
    },

    /** A business's tier as stored and in force (operator views, tests). */
    async tierOf(businessId: string) {
      const row = await repo.businessLimits(businessId);
      if (!row) throw new AppError('BUSINESS_NOT_FOUND', `No business ${businessId}.`);
      return {
        tier: effectiveTier(row.tier ?? null, row.name_verified === 1),
        changed_at: row.tier_changed_at ?? null,
        changed_by: row.tier_changed_by ?? null,
        evaluated_at: row.evaluated_at ?? null,
      };
    },

    /**
     * The scheduled evaluation (a worker task; each business at most every 6 h): each
     * number's quality from the last 7 days' blocks and reports, then the business's tier
     * upgrade (see upgradedTier). Safe on several nodes at once: both write what they read.
     */
    async evaluate(): Promise<{ evaluated: number; upgraded: number; qualityChanged: number }> {
      const now = clock.now();
      let evaluated = 0;
      let upgraded = 0;
      let qualityChanged = 0;
      for (;;) {
        const due = await repo.dueBusinesses(now - EVALUATION_EVERY_MS, 100);
        for (const b of due) {
          const nums = await repo.numbersOf(b.id);
          let anyRed = false;
          for (const n of nums) {
            const messaged = await repo.messagedPeople(b.id, n.phone_number_id, now - QUALITY_MS);
            const negative = await repo.negativePeople(n.phone_number_id, n.account_id, now - QUALITY_MS);
            const rating = qualityRating(messaged, negative);
            if (rating === 'RED') anyRed = true;
            if (rating !== (n.quality_rating ?? 'GREEN') || n.quality_rating === null) {
              await repo.setQuality(deps.db.kysely, {
                phone_number_id: n.phone_number_id,
                business_id: b.id,
                quality_rating: rating,
                quality_changed_at: now,
              });
              if (rating !== (n.quality_rating ?? 'GREEN')) qualityChanged++;
            }
          }
          const verified = b.name_verified === 1;
          const tier = effectiveTier(b.tier, verified);
          const next = upgradedTier({
            tier,
            verified,
            anyRed,
            reached7d: tier === 'TIER_250' ? 0 : await repo.uniqueReached(b.id, now - UPGRADE_USAGE_MS),
            delivered30d:
              tier === 'TIER_250' && !verified ? await repo.uniqueDelivered(b.id, now - SCALING_PATH_MS) : 0,
          });
          // Stored: an upgrade (automatic), a first evaluation or a verification since the last
          // one (the tier in force becomes the stored one), or else what was there.
          const same = next === b.tier && b.tier_changed_at !== null && b.tier_changed_by !== null;
          await repo.setTier(deps.db.kysely, {
            business_id: b.id,
            tier: next,
            tier_changed_at: same ? (b.tier_changed_at ?? now) : now,
            tier_changed_by: same
              ? (b.tier_changed_by ?? 'initial')
              : b.tier === null && next === tier
                ? 'initial'
                : 'automatic',
            evaluated_at: now,
          });
          if (next !== tier) {
            upgraded++;
            deps.logger?.info({ business: b.id, from: tier, to: next }, 'messaging limit upgraded');
          }
          forgetNumbers(nums.map((n) => n.phone_number_id));
          evaluated++;
        }
        if (due.length < 100) break;
      }
      return { evaluated, upgraded, qualityChanged };
    },
  };
}

export type LimitsService = ReturnType<typeof createLimitsService>;
