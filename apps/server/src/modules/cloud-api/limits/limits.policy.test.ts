import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Bucket,
  DAY,
  freeEntryPoint,
  HOUR,
  optOutKeyword,
  PAIR_RULE,
  parseTier,
  qualityRating,
  type RateRule,
  SECOND,
  type Tier,
  take,
  throughputRule,
  upgradedTier,
  windowOpen,
  wireTier,
} from './limits.policy.js';
import { createReachWindow } from './reach-window.js';

/** Runs messages at the given times through a bucket; returns the times that were let through. */
function run(rule: RateRule, times: number[]): number[] {
  let bucket: Bucket | undefined;
  const passed: number[] = [];
  for (const t of times) {
    const next = take(rule, bucket, t);
    if (next) {
      bucket = next;
      passed.push(t);
    }
  }
  return passed;
}

const sortedTimes = (maxSpan: number, maxLength: number) =>
  fc
    .array(fc.integer({ min: 0, max: maxSpan }), { minLength: 1, maxLength })
    .map((ts) => [...ts].sort((a, b) => a - b));

describe('throughput', () => {
  it('lets 80 messages through in one instant, refuses the 81st, and takes 80 more a second later', () => {
    const rule = throughputRule(80);
    const t0 = Date.UTC(2026, 0, 1);
    const passed = run(
      rule,
      Array.from({ length: 81 }, () => t0),
    );
    expect(passed).toHaveLength(80);
    expect(
      run(rule, [...Array.from({ length: 80 }, () => t0), ...Array.from({ length: 81 }, () => t0 + SECOND)]),
    ).toHaveLength(160);
  });

  it('refills in proportion: half a second after a full burst, 40 more', () => {
    const rule = throughputRule(80);
    const times = [...Array.from({ length: 80 }, () => 0), ...Array.from({ length: 50 }, () => 500)];
    expect(run(rule, times)).toHaveLength(120);
  });

  it('never lets more than burst + rate × span through, for any rate and any arrival times', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2000 }), sortedTimes(5 * SECOND, 400), (mps, times) => {
        const rule = throughputRule(mps);
        const passed = run(rule, times);
        // Every window [a, b] of passed messages respects the bound.
        for (let i = 0; i < passed.length; i++) {
          for (let j = i; j < passed.length; j += Math.max(1, Math.floor(passed.length / 20))) {
            const span = (passed[j] ?? 0) - (passed[i] ?? 0);
            expect(j - i + 1).toBeLessThanOrEqual(mps + Math.floor((mps * span) / SECOND));
          }
        }
      }),
    );
  });

  it('refuses nothing while messages come no faster than the rate', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: 300 }), (mps, n) => {
        const gap = Math.ceil(SECOND / mps);
        const times = Array.from({ length: n }, (_, i) => i * gap);
        expect(run(throughputRule(mps), times)).toHaveLength(n);
      }),
    );
  });
});

describe('pair rate', () => {
  it('allows a burst of 45, then one per 6 seconds', () => {
    const burst = Array.from({ length: 46 }, () => 0);
    expect(run(PAIR_RULE, burst)).toHaveLength(45);
    // After the burst the bucket is empty: the next message may go 6 s later, not 5.
    expect(run(PAIR_RULE, [...Array.from({ length: 45 }, () => 0), 5 * SECOND])).toHaveLength(45);
    expect(run(PAIR_RULE, [...Array.from({ length: 45 }, () => 0), 6 * SECOND])).toHaveLength(46);
  });

  it('borrows: after a burst of 20, the bucket is back to 45 only 2 minutes later', () => {
    const after = (ms: number) =>
      run(PAIR_RULE, [...Array.from({ length: 20 }, () => 0), ...Array.from({ length: 45 }, () => ms)]);
    expect(after(119 * SECOND)).toHaveLength(20 + 44);
    expect(after(120 * SECOND)).toHaveLength(20 + 45);
  });

  it('sustains exactly the rate over long spans', () => {
    fc.assert(
      fc.property(sortedTimes(10 * 60 * SECOND, 300), (times) => {
        const passed = run(PAIR_RULE, times);
        const first = passed[0] ?? 0;
        const last = passed[passed.length - 1] ?? 0;
        expect(passed.length).toBeLessThanOrEqual(45 + Math.floor((last - first) / (6 * SECOND)));
      }),
    );
  });
});

describe('the customer-service window and the free entry point', () => {
  const t = Date.UTC(2026, 0, 10);
  it('is open for 24 hours after the person’s last message, and never without one', () => {
    expect(windowOpen(t, t)).toBe(true);
    expect(windowOpen(t, t + DAY - 1)).toBe(true);
    expect(windowOpen(t, t + DAY)).toBe(false);
    expect(windowOpen(null, t)).toBe(false);
    expect(windowOpen(undefined, t)).toBe(false);
  });

  it('gives a free entry point to conversations from a link or QR code for 72 hours', () => {
    expect(freeEntryPoint({ started_via: 'link', created_at: t }, t + 72 * HOUR - 1)).toBe('link');
    expect(freeEntryPoint({ started_via: 'qr', created_at: t }, t)).toBe('qr');
    expect(freeEntryPoint({ started_via: 'link', created_at: t }, t + 72 * HOUR)).toBeNull();
    expect(freeEntryPoint({ started_via: 'direct', created_at: t }, t)).toBeNull();
    expect(freeEntryPoint(undefined, t)).toBeNull();
  });
});

describe('opt-out keywords', () => {
  it('takes STOP, UNSUBSCRIBE and START in any case as the whole message only', () => {
    expect(optOutKeyword('STOP')).toBe('stop');
    expect(optOutKeyword(' stop\n')).toBe('stop');
    expect(optOutKeyword('Unsubscribe')).toBe('stop');
    expect(optOutKeyword('start')).toBe('start');
    expect(optOutKeyword('please stop')).toBeUndefined();
    expect(optOutKeyword('STOP!')).toBeUndefined();
    expect(optOutKeyword('')).toBeUndefined();
    expect(optOutKeyword(null)).toBeUndefined();
  });
});

describe('tiers', () => {
  const facts = { verified: false, anyRed: false, reached7d: 0, delivered30d: 0 };
  it('reaches 2,000 by verification or by 2,000 delivered unique people in 30 days', () => {
    expect(upgradedTier({ ...facts, tier: 'TIER_250' })).toBe('TIER_250');
    expect(upgradedTier({ ...facts, tier: 'TIER_250', verified: true })).toBe('TIER_2K');
    expect(upgradedTier({ ...facts, tier: 'TIER_250', delivered30d: 1999 })).toBe('TIER_250');
    expect(upgradedTier({ ...facts, tier: 'TIER_250', delivered30d: 2000 })).toBe('TIER_2K');
  });

  it('steps up one tier when half the limit was used in 7 days, unless a number is RED', () => {
    expect(upgradedTier({ ...facts, tier: 'TIER_2K', reached7d: 999 })).toBe('TIER_2K');
    expect(upgradedTier({ ...facts, tier: 'TIER_2K', reached7d: 1000 })).toBe('TIER_10K');
    expect(upgradedTier({ ...facts, tier: 'TIER_10K', reached7d: 5000 })).toBe('TIER_100K');
    expect(upgradedTier({ ...facts, tier: 'TIER_100K', reached7d: 50_000 })).toBe('TIER_UNLIMITED');
    expect(upgradedTier({ ...facts, tier: 'TIER_UNLIMITED', reached7d: 10 ** 9 })).toBe('TIER_UNLIMITED');
    expect(upgradedTier({ ...facts, tier: 'TIER_2K', reached7d: 2000, anyRed: true })).toBe('TIER_2K');
    expect(upgradedTier({ ...facts, tier: 'TIER_250', verified: true, anyRed: true })).toBe('TIER_250');
  });

  it('never lowers a tier', () => {
    const tiers: Tier[] = ['TIER_250', 'TIER_2K', 'TIER_10K', 'TIER_100K', 'TIER_UNLIMITED'];
    fc.assert(
      fc.property(
        fc.constantFrom(...tiers),
        fc.boolean(),
        fc.boolean(),
        fc.nat(),
        fc.nat(),
        (tier, verified, anyRed, reached7d, delivered30d) => {
          const after = upgradedTier({ tier, verified, anyRed, reached7d, delivered30d });
          expect(tiers.indexOf(after)).toBeGreaterThanOrEqual(tiers.indexOf(tier));
          expect(tiers.indexOf(after)).toBeLessThanOrEqual(tiers.indexOf(tier) + 1);
        },
      ),
    );
  });

  it('shows 2,000 as TIER_1K (Meta’s enum has no TIER_2K) and parses operators’ spellings', () => {
    expect(wireTier('TIER_2K')).toBe('TIER_1K');
    expect(wireTier('TIER_250')).toBe('TIER_250');
    expect(parseTier('TIER_2K')).toBe('TIER_2K');
    expect(parseTier('tier_1k')).toBe('TIER_2K');
    expect(parseTier('2,000')).toBe('TIER_2K');
    expect(parseTier('100k')).toBe('TIER_100K');
    expect(parseTier('unlimited')).toBe('TIER_UNLIMITED');
    expect(parseTier('TIER_50')).toBeUndefined();
    expect(parseTier('3000')).toBeUndefined();
  });
});

describe('quality rating', () => {
  it('turns YELLOW and RED by the share of people who blocked or reported, with a minimum count', () => {
    expect(qualityRating(0, 0)).toBe('GREEN');
    expect(qualityRating(100, 1)).toBe('GREEN');
    expect(qualityRating(100, 2)).toBe('YELLOW');
    expect(qualityRating(100, 4)).toBe('YELLOW');
    expect(qualityRating(100, 5)).toBe('RED');
    // One or two unhappy people out of a handful do not make a number RED.
    expect(qualityRating(2, 1)).toBe('GREEN');
    expect(qualityRating(3, 2)).toBe('YELLOW');
    expect(qualityRating(3, 3)).toBe('RED');
    expect(qualityRating(1000, 49)).toBe('YELLOW');
  });

  it('only gets worse as more people complain', () => {
    const rank = { GREEN: 0, YELLOW: 1, RED: 2 };
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), fc.nat({ max: 10_000 }), (messaged, negative) => {
        const a = qualityRating(messaged, Math.min(negative, messaged));
        const b = qualityRating(messaged, Math.min(negative + 1, messaged));
        expect(rank[b]).toBeGreaterThanOrEqual(rank[a]);
      }),
    );
  });
});

describe('the reach window', () => {
  it('counts unique people over the rolling 24 hours, once each', () => {
    const w = createReachWindow();
    w.add('a', 0);
    w.add('b', 10);
    w.add('a', 20);
    expect(w.count(20)).toBe(2);
    // b's only message is 24 h old; a's latest is not.
    expect(w.count(DAY + 10)).toBe(1);
    expect(w.has('a', DAY + 10)).toBe(true);
    expect(w.has('b', DAY + 10)).toBe(false);
    expect(w.count(DAY + 20)).toBe(0);
  });

  it('agrees with counting from scratch for any sequence of messages and reloads', () => {
    const op = fc.record({
      person: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f'),
      dt: fc.integer({ min: 0, max: 6 * HOUR }),
      // Sometimes a reload brings a row from another node, up to an hour in the past.
      merged: fc.boolean(),
      back: fc.integer({ min: 0, max: HOUR }),
    });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 120 }), (ops) => {
        const w = createReachWindow();
        const sent: { person: string; at: number }[] = [];
        let now = 0;
        for (const o of ops) {
          now += o.dt;
          const at = o.merged ? now - o.back : now;
          if (o.merged) w.merge([{ person: o.person, at }]);
          else w.add(o.person, at);
          sent.push({ person: o.person, at });
          const truth = new Set(sent.filter((s) => now - s.at < DAY && s.at <= now).map((s) => s.person));
          expect(w.count(now)).toBe(truth.size);
          for (const p of ['a', 'b', 'c']) expect(w.has(p, now)).toBe(truth.has(p));
        }
      }),
    );
  });
});
