/**
 * Pricing models: which delivered business messages are charged, and how the status webhooks'
 * `pricing` object (`billable`, `pricing_model`, `category`, `type`) describes them. Pure; the
 * price itself comes from the rate card (rate-cards.service.ts).
 *
 * - `PMP` (per-message, Meta from July 2025): delivered templates are charged by category;
 *   service (free-form) messages are free; utility templates inside an open customer-service
 *   window are free; everything is free for 72 h after a free entry point.
 * - `PMP_2026`: as PMP, except that service messages are charged at the market's *utility*
 *   rate beyond 1,000 free delivered service messages per number per month (the free ones
 *   have type `free_tier`), and utility templates inside the window are charged too.
 * - `CBP` (conversation-based, Meta until June 2025): one charge per 24-hour conversation per
 *   category and (number, person), opened by the first delivered business message of that
 *   category while none is open. Later messages of an open conversation are `billable: false`
 *   with type `regular`: they cost nothing by themselves (the conversation was charged once,
 *   on its first message). Service conversations are free (as Meta made them from Nov 2024),
 *   utility templates inside the customer-service window are free, free entry points free
 *   everything for 72 h.
 *
 * On the wire `pricing_model` is `PMP` for both per-message variants and `CBP` for
 * conversations; a free entry point reports category `referral_conversion`.
 */
export type PricingModel = 'PMP' | 'CBP' | 'PMP_2026';
export const PRICING_MODELS: readonly PricingModel[] = ['PMP', 'CBP', 'PMP_2026'];
export const DEFAULT_PRICING_MODEL: PricingModel = 'PMP';

export type BillingCategory =
  | 'marketing'
  | 'utility'
  | 'authentication'
  | 'authentication_international'
  | 'service';
export const BILLING_CATEGORIES: readonly BillingCategory[] = [
  'marketing',
  'utility',
  'authentication',
  'authentication_international',
  'service',
];

export type PricingType = 'regular' | 'free_customer_service' | 'free_entry_point' | 'free_tier';

export interface Classification {
  billable: boolean;
  pricing_model: 'PMP' | 'CBP';
  category: BillingCategory | 'referral_conversion';
  type: PricingType;
}

export interface ClassifyInput {
  category: BillingCategory;
  /** A customer-service window (24 h from the person's last message) is open. */
  windowOpen: boolean;
  /** The conversation came through a free entry point still in its 72 h. */
  freeEntryPoint: boolean;
  /** PMP_2026: delivered service messages of this number this month before this one. */
  serviceCountThisMonth?: number | undefined;
  /** CBP: a conversation of this category is already open for this (number, person). */
  conversationOpen?: boolean | undefined;
}

/** How long after a free entry point every message is free. */
export const FREE_ENTRY_POINT_MS = 72 * 3600_000;
/** CBP: how long a conversation stays open after its first message. */
export const CONVERSATION_MS = 24 * 3600_000;
/** PMP_2026: free delivered service messages per number per month. */
export const FREE_SERVICE_PER_MONTH = 1000;

export function wireModel(model: PricingModel): 'PMP' | 'CBP' {
  return model === 'CBP' ? 'CBP' : 'PMP';
}

export function classify(model: PricingModel, input: ClassifyInput): Classification {
  const pricing_model = wireModel(model);
  const { category } = input;
  if (input.freeEntryPoint) {
    return { billable: false, pricing_model, category: 'referral_conversion', type: 'free_entry_point' };
  }
  const free = (type: PricingType): Classification => ({ billable: false, pricing_model, category, type });
  const charged: Classification = { billable: true, pricing_model, category, type: 'regular' };
  switch (model) {
    case 'PMP':
      if (category === 'service' || (category === 'utility' && input.windowOpen)) {
        return free('free_customer_service');
      }
      return charged;
    case 'PMP_2026':
      if (category === 'service') {
        return (input.serviceCountThisMonth ?? 0) < FREE_SERVICE_PER_MONTH ? free('free_tier') : charged;
      }
      return charged;
    case 'CBP':
      if (category === 'service' || (category === 'utility' && input.windowOpen)) {
        return free('free_customer_service');
      }
      return input.conversationOpen ? free('regular') : charged;
  }
}

/**
 * The rate-card category a charged message is priced at: under PMP_2026 service messages cost
 * the market's utility rate; otherwise the message's own category.
 */
export function rateCategory(model: PricingModel, category: BillingCategory): BillingCategory {
  return model === 'PMP_2026' && category === 'service' ? 'utility' : category;
}

export function isPricingModel(value: unknown): value is PricingModel {
  return typeof value === 'string' && (PRICING_MODELS as readonly string[]).includes(value);
}
