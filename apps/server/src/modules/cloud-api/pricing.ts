/**
 * What a business message is, for billing and for the `pricing` object of status webhooks.
 * The rules of each pricing model live with billing (billing/pricing-models.ts); this keeps
 * the Cloud API's names for them. The rate itself comes from the rate card.
 */
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import {
  type Classification,
  classify as classifyBy,
  FREE_ENTRY_POINT_MS,
  type PricingModel,
} from '../billing/pricing-models.js';

export type MessageCategory = 'marketing' | 'utility' | 'authentication' | 'service';

export type Pricing = Classification;

export { FREE_ENTRY_POINT_MS, type PricingModel };

/**
 * The status webhook's classification under `model` (PMP when not said). The per-number
 * quota of PMP_2026 and the open conversations of CBP are billing's state: without them a
 * 2026 service message reads as within its free tier and a CBP message as opening a
 * conversation; metering decides with the real counts.
 */
export function classify(
  input: {
    category: MessageCategory;
    windowOpen: boolean;
    /** The conversation came through a free entry point still in its 72 h. */
    freeEntryPoint: boolean;
    serviceCountThisMonth?: number;
    conversationOpen?: boolean;
  },
  model: PricingModel = 'PMP',
): Pricing {
  return classifyBy(model, input);
}

/**
 * The recipient's market: the ISO 3166 country of their number; for a number no country
 * claims (a test range, say), the main country of its calling code (US for +1, GB for +44);
 * `ZZ` when even that is unknown.
 */
export function marketOf(phone: string): string {
  const number = parsePhoneNumberFromString(phone);
  return number?.country ?? number?.getPossibleCountries()[0] ?? 'ZZ';
}
