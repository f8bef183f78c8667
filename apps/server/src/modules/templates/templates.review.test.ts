import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RULES,
  decideReview,
  editRefusal,
  mergeRules,
  pauseStep,
  promotionalWords,
  qualityScore,
} from './templates.review.js';
import type { TemplateComponent } from './templates.validate.js';

const body = (text: string): TemplateComponent[] => [{ type: 'BODY', text }];
const DAY = 86_400_000;

describe('review rules', () => {
  it('approves utility and authentication text without promotional words, queues marketing', () => {
    expect(
      decideReview(
        { category: 'UTILITY', components: body('Your order shipped.'), allow_category_change: false },
        DEFAULT_RULES,
      ),
    ).toEqual({
      decision: 'approve',
      category: 'UTILITY',
    });
    const auth: TemplateComponent[] = [
      { type: 'BODY', add_security_recommendation: true },
      { type: 'BUTTONS', buttons: [{ type: 'OTP', text: 'Copy code', otp_type: 'COPY_CODE' }] },
    ];
    expect(
      decideReview(
        { category: 'AUTHENTICATION', components: auth, allow_category_change: false },
        DEFAULT_RULES,
      ).decision,
    ).toBe('approve');
    expect(
      decideReview(
        { category: 'MARKETING', components: body('New arrivals.'), allow_category_change: false },
        DEFAULT_RULES,
      ),
    ).toEqual({
      decision: 'queue',
    });
  });

  it('rejects promotional utility as PROMOTIONAL, or re-categorises it when the business allowed it', () => {
    const promo = body('Your order shipped. Get 20% off your next one!');
    const rejected = decideReview(
      { category: 'UTILITY', components: promo, allow_category_change: false },
      DEFAULT_RULES,
    );
    expect(rejected).toMatchObject({ decision: 'reject', reason: 'PROMOTIONAL' });
    expect(rejected.decision === 'reject' && rejected.recommendation).toMatch(/% off/);
    expect(
      decideReview({ category: 'UTILITY', components: promo, allow_category_change: true }, DEFAULT_RULES),
    ).toEqual({
      decision: 'approve',
      category: 'MARKETING',
      previous_category: 'UTILITY',
    });
    const lenient = mergeRules(DEFAULT_RULES, { reject_promotional_utility: false });
    expect(
      decideReview({ category: 'UTILITY', components: promo, allow_category_change: false }, lenient),
    ).toEqual({ decision: 'queue' });
  });

  it('follows the operator’s edits of the rules', () => {
    const rules = mergeRules(DEFAULT_RULES, {
      auto_approve_categories: ['MARKETING'],
      promotional_words: ['Widget'],
    });
    expect(
      decideReview(
        { category: 'MARKETING', components: body('New arrivals.'), allow_category_change: false },
        rules,
      ).decision,
    ).toBe('approve');
    expect(
      decideReview(
        { category: 'UTILITY', components: body('Sale today.'), allow_category_change: false },
        rules,
      ).decision,
    ).toBe('queue');
    expect(
      decideReview(
        { category: 'UTILITY', components: body('Your widget shipped.'), allow_category_change: false },
        rules,
      ).decision,
    ).toBe('reject');
    expect(() => mergeRules(DEFAULT_RULES, { promotional: [] })).toThrow(/Unknown rule keys: promotional/);
    expect(() => mergeRules(DEFAULT_RULES, { auto_approve_categories: ['SPAM'] })).toThrow(RangeError);
    expect(() => mergeRules(DEFAULT_RULES, { quality: { red_rate: 0.01 } })).toThrow(/yellow_rate/);
  });

  it('matches words as whole words and symbol phrases anywhere', () => {
    expect(promotionalWords('Our SALE starts', ['sale'])).toEqual(['sale']);
    expect(promotionalWords('Wholesale prices', ['sale'])).toEqual([]);
    expect(promotionalWords('Save 10%off today', ['% off', '%off'])).toEqual(['%off']);
    expect(promotionalWords('Freedom', ['free'])).toEqual([]);
  });
});

describe('quality and pausing', () => {
  const q = DEFAULT_RULES.quality;
  it('scores from negative feedback over delivered sends, with a floor on the sample', () => {
    expect(qualityScore(0, 0, q)).toBe('UNKNOWN');
    expect(qualityScore(0, 500, q)).toBe('GREEN');
    expect(qualityScore(1, 1, q)).toBe('YELLOW');
    expect(qualityScore(2, 1, q)).toBe('RED');
    expect(qualityScore(10, 1000, q)).toBe('GREEN');
    expect(qualityScore(40, 1000, q)).toBe('YELLOW');
    expect(qualityScore(80, 1000, q)).toBe('RED');
  });

  it('never improves with more feedback on the same sends', () => {
    const rank = { UNKNOWN: 0, GREEN: 1, YELLOW: 2, RED: 3 } as const;
    fc.assert(
      fc.property(fc.nat(200), fc.nat(5000), (n, d) => {
        expect(rank[qualityScore(n + 1, d, q)]).toBeGreaterThanOrEqual(rank[qualityScore(n, d, q)]);
      }),
    );
  });

  it('pauses 3 h, then 6 h, then disables', () => {
    expect(pauseStep(0)).toEqual({ status: 'PAUSED', title: 'FIRST_PAUSE', forMs: 3 * 3_600_000 });
    expect(pauseStep(1)).toEqual({ status: 'PAUSED', title: 'SECOND_PAUSE', forMs: 6 * 3_600_000 });
    expect(pauseStep(2)).toEqual({ status: 'DISABLED', title: 'DISABLED' });
  });

  it('limits edits of approved templates to one a day and ten in 30 days', () => {
    const now = 100 * DAY;
    expect(editRefusal([], now)).toBeUndefined();
    expect(editRefusal([now - DAY + 1], now)).toMatch(/once in 24 hours/);
    expect(editRefusal([now - DAY], now)).toBeUndefined();
    const ten = Array.from({ length: 10 }, (_, i) => now - (i + 2) * DAY);
    expect(editRefusal(ten, now)).toMatch(/10 times in 30 days/);
    expect(editRefusal(ten.slice(1), now)).toBeUndefined();
  });
});
