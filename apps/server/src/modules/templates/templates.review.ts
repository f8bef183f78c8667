/**
 * The review of templates and their quality, as pure rules over data the operator edits.
 *
 * Review: a new or edited template is PENDING; the automatic rules either decide it (approve,
 * approve re-categorised as MARKETING, or reject as PROMOTIONAL) or leave it for the
 * operator's manual queue (`parley template list --status PENDING`). Malformed templates
 * never get here: validation refuses them at create.
 *
 * Quality: negative feedback (a recipient blocked or reported the business within 7 days of
 * receiving the template) relative to delivered sends in a recent window. A template that
 * reaches RED is paused for 3 hours, then 6, and the third time disabled (Meta's pausing).
 */
import { type Category, type TemplateDefinition, visibleText } from './templates.validate.js';

export const REJECTION_REASONS = [
  'ABUSIVE_CONTENT',
  'INVALID_FORMAT',
  'PROMOTIONAL',
  'TAG_CONTENT_MISMATCH',
  'SCAM',
  'INCORRECT_CATEGORY',
  'NONE',
] as const;
export type RejectionReason = (typeof REJECTION_REASONS)[number];

export type Quality = 'GREEN' | 'YELLOW' | 'RED' | 'UNKNOWN';

export interface QualityRules {
  /** Sends and feedback older than this many days no longer count. */
  window_days: number;
  /** The rate is taken over at least this many sends, so one early block is no verdict. */
  min_sends: number;
  /** Negative feedback per delivered send at or above which quality is YELLOW… */
  yellow_rate: number;
  /** …and RED (the template is paused). */
  red_rate: number;
}

export interface ReviewRules {
  /** Categories approved at once when their text has none of the promotional words. */
  auto_approve_categories: Category[];
  /** Words and phrases (case-insensitive) that make a text promotional. */
  promotional_words: string[];
  /**
   * A UTILITY template with promotional words is rejected as PROMOTIONAL (unless the business
   * allowed a category change: then it is approved as MARKETING). When false it waits for
   * the operator instead.
   */
  reject_promotional_utility: boolean;
  quality: QualityRules;
}

export const DEFAULT_RULES: ReviewRules = {
  auto_approve_categories: ['UTILITY', 'AUTHENTICATION'],
  promotional_words: ['sale', 'discount', '% off', 'offer', 'buy now', 'free', 'deal', 'promo', 'coupon'],
  reject_promotional_utility: true,
  quality: { window_days: 7, min_sends: 20, yellow_rate: 0.03, red_rate: 0.08 },
};

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Merges a patch into rules, refusing anything malformed; the message says which key and
 * why (the CLI prints it).
 */
export function mergeRules(base: ReviewRules, patch: unknown): ReviewRules {
  if (!isRecord(patch)) throw new RangeError('Rules are a JSON object.');
  const known = new Set(Object.keys(DEFAULT_RULES));
  const unknown = Object.keys(patch).filter((k) => !known.has(k));
  if (unknown.length > 0)
    throw new RangeError(`Unknown rule keys: ${unknown.join(', ')}; known: ${[...known].join(', ')}.`);
  const out: ReviewRules = { ...base, quality: { ...base.quality } };
  if (patch.auto_approve_categories !== undefined) {
    const list = patch.auto_approve_categories;
    if (
      !Array.isArray(list) ||
      !list.every((c) => c === 'MARKETING' || c === 'UTILITY' || c === 'AUTHENTICATION')
    ) {
      throw new RangeError('auto_approve_categories lists MARKETING, UTILITY or AUTHENTICATION.');
    }
    out.auto_approve_categories = [...new Set(list as Category[])];
  }
  if (patch.promotional_words !== undefined) {
    const list = patch.promotional_words;
    if (!Array.isArray(list) || !list.every((w) => typeof w === 'string' && w.trim())) {
      throw new RangeError('promotional_words is a list of non-empty words or phrases.');
    }
    out.promotional_words = [...new Set((list as string[]).map((w) => w.trim().toLowerCase()))];
  }
  if (patch.reject_promotional_utility !== undefined) {
    if (typeof patch.reject_promotional_utility !== 'boolean') {
      throw new RangeError('reject_promotional_utility is true or false.');
    }
    out.reject_promotional_utility = patch.reject_promotional_utility;
  }
  if (patch.quality !== undefined) {
    if (!isRecord(patch.quality)) throw new RangeError('quality is an object.');
    for (const [k, v] of Object.entries(patch.quality)) {
      if (!(k in out.quality)) throw new RangeError(`Unknown quality key ${k}.`);
      if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)
        throw new RangeError(`quality.${k} must be a number > 0.`);
      out.quality[k as keyof QualityRules] = v;
    }
    if (out.quality.yellow_rate > out.quality.red_rate)
      throw new RangeError('quality.yellow_rate may not exceed red_rate.');
  }
  return out;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The promotional words found in a text. Words match whole words; phrases with symbols match anywhere. */
export function promotionalWords(text: string, words: readonly string[]): string[] {
  const lower = text.toLowerCase();
  return words.filter((w) => {
    const word = w.toLowerCase();
    const pattern = /^[a-z0-9 ]+$/.test(word)
      ? new RegExp(`(^|[^a-z0-9])${escapeRegExp(word)}($|[^a-z0-9])`)
      : undefined;
    return pattern ? pattern.test(lower) : lower.includes(word);
  });
}

export type ReviewDecision =
  | { decision: 'approve'; category: Category; previous_category?: Category }
  | { decision: 'reject'; reason: RejectionReason; recommendation: string }
  | { decision: 'queue' };

/** What the automatic rules decide for a PENDING template. */
export function decideReview(
  def: Pick<TemplateDefinition, 'category' | 'components' | 'allow_category_change'>,
  rules: ReviewRules,
): ReviewDecision {
  const found = promotionalWords(visibleText(def), rules.promotional_words);
  if (found.length === 0) {
    return rules.auto_approve_categories.includes(def.category)
      ? { decision: 'approve', category: def.category }
      : { decision: 'queue' };
  }
  if (def.category === 'UTILITY') {
    if (def.allow_category_change) {
      return { decision: 'approve', category: 'MARKETING', previous_category: 'UTILITY' };
    }
    if (rules.reject_promotional_utility) {
      return {
        decision: 'reject',
        reason: 'PROMOTIONAL',
        recommendation: `The text is promotional (${found.map((w) => `"${w}"`).join(', ')}): submit it as MARKETING, or set allow_category_change.`,
      };
    }
  }
  return { decision: 'queue' };
}

/** Quality from negative feedback and delivered sends in the window. */
export function qualityScore(negatives: number, delivered: number, rules: QualityRules): Quality {
  if (negatives === 0 && delivered === 0) return 'UNKNOWN';
  const rate = negatives / Math.max(delivered, rules.min_sends);
  if (rate >= rules.red_rate) return 'RED';
  if (rate >= rules.yellow_rate) return 'YELLOW';
  return 'GREEN';
}

const HOUR = 3_600_000;

export type PauseStep =
  | { status: 'PAUSED'; title: 'FIRST_PAUSE' | 'SECOND_PAUSE'; forMs: number }
  | { status: 'DISABLED'; title: 'DISABLED' };

/** What reaching RED does to a template already paused `pauseCount` times. */
export function pauseStep(pauseCount: number): PauseStep {
  if (pauseCount <= 0) return { status: 'PAUSED', title: 'FIRST_PAUSE', forMs: 3 * HOUR };
  if (pauseCount === 1) return { status: 'PAUSED', title: 'SECOND_PAUSE', forMs: 6 * HOUR };
  return { status: 'DISABLED', title: 'DISABLED' };
}

const DAY = 24 * HOUR;
export const EDIT_LIMITS = { perDay: 1, perMonth: 10 } as const;

/**
 * Whether an approved template may be edited now, given the times of its earlier edits:
 * Meta allows one edit in 24 hours and ten in 30 days. Answers the reason when not.
 */
export function editRefusal(editTimes: readonly number[], now: number): string | undefined {
  const lastDay = editTimes.filter((t) => t > now - DAY).length;
  const lastMonth = editTimes.filter((t) => t > now - 30 * DAY).length;
  if (lastDay >= EDIT_LIMITS.perDay)
    return 'An approved template can be edited once in 24 hours; try again later.';
  if (lastMonth >= EDIT_LIMITS.perMonth)
    return 'An approved template can be edited 10 times in 30 days; try again later.';
  return undefined;
}
