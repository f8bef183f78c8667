/**
 * What a business message is, for billing and for the `pricing` object of status webhooks,
 * under Meta's per-message pricing (PMP): templates are charged by category, free-form
 * (service) messages and utility templates inside the customer-service window are free, and
 * everything is free for 72 h after a free entry point. The rate itself comes from the
 * billing issue's rate card; this only classifies.
 */
import { parsePhoneNumberFromString } from 'libphonenumber-js';

export type MessageCategory = 'marketing' | 'utility' | 'authentication' | 'service';

export interface Pricing {
  billable: boolean;
  pricing_model: 'PMP';
  category: MessageCategory | 'referral_conversion';
  type: 'regular' | 'free_customer_service' | 'free_entry_point';
}

/** How long after a free entry point every message is free. */
export const FREE_ENTRY_POINT_MS = 72 * 3600_000;

export function classify(input: {
  category: MessageCategory;
  windowOpen: boolean;
  /** The conversation came through a free entry point still in its 72 h. */
  freeEntryPoint: boolean;
}): Pricing {
  if (input.freeEntryPoint) {
    return {
      billable: false,
      pricing_model: 'PMP',
      category: 'referral_conversion',
      type: 'free_entry_point',
    };
  }
  if (input.category === 'service' || (input.category === 'utility' && input.windowOpen)) {
    return { billable: false, pricing_model: 'PMP', category: input.category, type: 'free_customer_service' };
  }
  return { billable: true, pricing_model: 'PMP', category: input.category, type: 'regular' };
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
