/**
 * The rules Meta enforces on the Cloud API, as pure functions: rate buckets, the 24-hour
 * customer-service window, the free entry point, messaging-limit tiers and their upgrades,
 * the quality rating, and the STOP/START keywords. No I/O: the service feeds them rows and
 * the clock.
 */

export const SECOND = 1000;
export const HOUR = 60 * 60 * SECOND;
export const DAY = 24 * HOUR;

// ---------------------------------------------------------------------------------------
// Rate buckets.
//
// A token bucket in exact integer units, so the arithmetic never drifts: a bucket that
// allows `perWindow` messages per `windowMs` fills by `perWindow` units per millisecond, a
// message costs `windowMs` units, and it holds at most `burst × windowMs` units. Over any
// span of `t` ms it therefore lets through at most `burst + perWindow × t / windowMs`
// messages (the property the tests check), and a full bucket is the same as no bucket.
// ---------------------------------------------------------------------------------------

export interface RateRule {
  /** Sustained rate: `perWindow` messages per `windowMs`. */
  perWindow: number;
  windowMs: number;
  /** Messages that may go at once from a full bucket. */
  burst: number;
}

export interface Bucket {
  /** Units in the bucket at `at`. */
  level: number;
  at: number;
}

/** A bucket's level at `now`: refilled since `at`, capped at its capacity. */
export function levelAt(rule: RateRule, bucket: Bucket | undefined, now: number): number {
  const capacity = rule.burst * rule.windowMs;
  if (!bucket) return capacity;
  // A clock that steps back (another node's time, a test) refills nothing.
  const elapsed = Math.max(0, now - bucket.at);
  return Math.min(capacity, bucket.level + elapsed * rule.perWindow);
}

/** The bucket after one more message at `now`, or undefined when it has no room for one. */
export function take(rule: RateRule, bucket: Bucket | undefined, now: number): Bucket | undefined {
  const level = levelAt(rule, bucket, now);
  if (level < rule.windowMs) return undefined;
  return { level: level - rule.windowMs, at: Math.max(now, bucket?.at ?? now) };
}

/** Whether the bucket is full at `now` (so it can be forgotten). */
export function isFull(rule: RateRule, bucket: Bucket, now: number): boolean {
  return levelAt(rule, bucket, now) >= rule.burst * rule.windowMs;
}

/** Meta's default throughput per business number, messages per second. */
export const DEFAULT_MPS = 80;
/** What an operator may set (Meta raises numbers to 1,000 and, on request, beyond). */
export const MAX_MPS = 100_000;

/** Per-number throughput: `mps` per second, with a burst of one second's worth. */
export function throughputRule(mps: number): RateRule {
  return { perWindow: mps, windowMs: SECOND, burst: mps };
}

/**
 * The pair rate limit of one business number and one person: one message per 6 s sustained,
 * bursts of up to 45 borrowed from what follows (reference §5: after a burst of 20, about
 * two minutes before the next).
 */
export const PAIR_RULE: RateRule = { perWindow: 1, windowMs: 6 * SECOND, burst: 45 };

// ---------------------------------------------------------------------------------------
// Customer-service window and free entry point.
// ---------------------------------------------------------------------------------------

/** The customer-service window lasts 24 h from the person's last message to the number. */
export const WINDOW_MS = DAY;
/** A conversation started from a click-to-chat link or QR code is a free entry point for 72 h. */
export const FREE_ENTRY_MS = 3 * DAY;

export function windowOpen(lastInboundAt: number | null | undefined, now: number): boolean {
  return lastInboundAt !== null && lastInboundAt !== undefined && now - lastInboundAt < WINDOW_MS;
}

/**
 * The free entry point a message falls in: the conversation's entry (`link` or `qr`, the
 * click-to-chat analogues here) while the conversation is less than 72 h old; else null.
 */
export function freeEntryPoint(
  conversation: { started_via: string; created_at: number } | undefined,
  now: number,
): string | null {
  if (!conversation) return null;
  if (conversation.started_via !== 'link' && conversation.started_via !== 'qr') return null;
  return now - conversation.created_at < FREE_ENTRY_MS ? conversation.started_via : null;
}

// ---------------------------------------------------------------------------------------
// Opt-out keywords.
// ---------------------------------------------------------------------------------------

/** STOP or UNSUBSCRIBE (any case, the whole message) opts out of marketing; START opts back in. */
export function optOutKeyword(text: string | null | undefined): 'stop' | 'start' | undefined {
  if (!text) return undefined;
  const word = text.trim().toUpperCase();
  if (word === 'STOP' || word === 'UNSUBSCRIBE') return 'stop';
  if (word === 'START') return 'start';
  return undefined;
}

// ---------------------------------------------------------------------------------------
// Messaging-limit tiers (per business, rolling 24 h, unique people reached by
// business-initiated messages: templates sent while the person's window was closed).
// ---------------------------------------------------------------------------------------

export const TIERS = ['TIER_250', 'TIER_2K', 'TIER_10K', 'TIER_100K', 'TIER_UNLIMITED'] as const;
export type Tier = (typeof TIERS)[number];

const LIMITS: Record<Tier, number> = {
  TIER_250: 250,
  TIER_2K: 2_000,
  TIER_10K: 10_000,
  TIER_100K: 100_000,
  TIER_UNLIMITED: Number.POSITIVE_INFINITY,
};

export function tierLimit(tier: Tier): number {
  return LIMITS[tier];
}

export function nextTier(tier: Tier): Tier | undefined {
  return TIERS[TIERS.indexOf(tier) + 1];
}

/** Where a business starts: 2,000 once verified (Meta's first scaling path), else 250. */
export function initialTier(verified: boolean): Tier {
  return verified ? 'TIER_2K' : 'TIER_250';
}

/**
 * The tier as `messaging_limit_tier` shows it. Meta's OpenAPI enum stops at
 * TIER_50/250/1K/10K/100K/UNLIMITED (it predates the 2,000 step of October 2025), so 2,000
 * shows as TIER_1K, the value clients validating against that enum accept.
 */
export function wireTier(tier: Tier): string {
  return tier === 'TIER_2K' ? 'TIER_1K' : tier;
}

/** An operator's tier: a name (TIER_2K; TIER_1K as on the wire) or a number (2000, 2k, unlimited). */
export function parseTier(input: string): Tier | undefined {
  const v = input
    .trim()
    .toUpperCase()
    .replace(/^TIER_/, '')
    .replace(/,/g, '');
  switch (v) {
    case '250':
      return 'TIER_250';
    case '1K':
    case '2K':
    case '2000':
      return 'TIER_2K';
    case '10K':
    case '10000':
      return 'TIER_10K';
    case '100K':
    case '100000':
      return 'TIER_100K';
    case 'UNLIMITED':
      return 'TIER_UNLIMITED';
    default:
      return undefined;
  }
}

export function isTier(value: string): value is Tier {
  return (TIERS as readonly string[]).includes(value);
}

/** Unique people a business at 250 must reach with delivered templates in 30 days to reach 2,000. */
export const SCALING_PATH_REACH = 2_000;
export const SCALING_PATH_MS = 30 * DAY;
/** Automatic upgrades look at the last 7 days and need half the current limit used. */
export const UPGRADE_USAGE_MS = 7 * DAY;
/** How often a business's tier and its numbers' quality are evaluated. */
export const EVALUATION_EVERY_MS = 6 * HOUR;

export interface TierFacts {
  tier: Tier;
  verified: boolean;
  /** Any of the business's numbers is RED. */
  anyRed: boolean;
  /** Unique people reached by business-initiated messages over the last 7 days. */
  reached7d: number;
  /** Unique people who got a delivered business-initiated template over the last 30 days. */
  delivered30d: number;
}

/**
 * The tier after an evaluation (Meta's rules since 7 Oct 2025): 250 → 2,000 by a scaling path
 * (verification, or 2,000 unique people reached with delivered templates in 30 days); from
 * 2,000 up, one step when at least half the current limit was used over the last 7 days.
 * A RED number anywhere in the business stops upgrades; nothing here ever lowers a tier.
 */
export function upgradedTier(f: TierFacts): Tier {
  if (f.anyRed) return f.tier;
  if (f.tier === 'TIER_250') {
    return f.verified || f.delivered30d >= SCALING_PATH_REACH ? 'TIER_2K' : f.tier;
  }
  const next = nextTier(f.tier);
  if (!next) return f.tier;
  return f.reached7d * 2 >= tierLimit(f.tier) ? next : f.tier;
}

// ---------------------------------------------------------------------------------------
// Quality rating.
// ---------------------------------------------------------------------------------------

export type Quality = 'GREEN' | 'YELLOW' | 'RED';

/** Quality looks at people messaged in the last 7 days and their blocks and reports since. */
export const QUALITY_MS = 7 * DAY;
/**
 * Thresholds on the share of people messaged who then blocked or reported the number.
 * Meta publishes none; these follow the BSP guidance that a few percent is already poor.
 * A minimum count keeps one unhappy person from turning a small number RED.
 */
export const YELLOW_SHARE = 0.02;
export const RED_SHARE = 0.05;
export const YELLOW_MIN = 2;
export const RED_MIN = 3;

export function qualityRating(messaged: number, negative: number): Quality {
  if (messaged <= 0 || negative <= 0) return 'GREEN';
  const share = negative / messaged;
  if (negative >= RED_MIN && share >= RED_SHARE) return 'RED';
  if (negative >= YELLOW_MIN && share >= YELLOW_SHARE) return 'YELLOW';
  return 'GREEN';
}
