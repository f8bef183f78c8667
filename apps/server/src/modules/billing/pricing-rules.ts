/**
 * How one delivered business message is priced, in order: the pricing model in force when it
 * was delivered classifies it (pricing-models.ts, the same rules the status webhooks'
 * `pricing` object shows), and this adds the state that classification reads and leaves:
 * PMP_2026's count of service messages per number and month, CBP's open conversations, and
 * the monthly volume counters of rate-card tiers.
 *
 * That state depends on the events before, so live metering and reconciliation walk events
 * in the same order (occurred_at, event_key) through this one function.
 */
import {
  type BillingCategory,
  CONVERSATION_MS,
  classify,
  type PricingModel,
  type PricingType,
  rateCategory,
} from './pricing-models.js';

export { CONVERSATION_MS };

export interface PricingEvent {
  event_key: string;
  business_id: string;
  phone_number_id: string;
  category: 'marketing' | 'utility' | 'authentication' | 'service';
  market: string;
  window_open: number;
  entry_point?: string | null | undefined;
  recipient?: string | null | undefined;
  occurred_at: number;
}

/** The state a decision reads and leaves; live metering loads it, reconciliation rebuilds it. */
export interface PricingState {
  count(key: string): number;
  bump(key: string): void;
  conversationOpen(key: string, at: number): boolean;
  openConversation(key: string, at: number): void;
}

export interface Decision {
  billable: boolean;
  type: PricingType;
  /** The rate-card category the price comes from (when billable). */
  priceCategory: BillingCategory;
  /** Key of the volume-tier counter (billable only). */
  volumeKey?: string;
}

export const periodOf = (at: number): string => new Date(at).toISOString().slice(0, 7);

/** Decides, and records in `state` what the decision consumed (a free message, a conversation). */
export function decide(
  model: PricingModel,
  e: PricingEvent,
  billingAccountId: string,
  state: PricingState,
): Decision {
  const period = periodOf(e.occurred_at);
  const serviceKey = `${e.phone_number_id}:${period}:service`;
  const conversationKey = `${e.phone_number_id}:${e.recipient ?? e.event_key}:${e.category}`;
  const c = classify(model, {
    category: e.category,
    windowOpen: e.window_open === 1,
    freeEntryPoint: e.entry_point != null,
    serviceCountThisMonth: state.count(serviceKey),
    conversationOpen: model === 'CBP' && state.conversationOpen(conversationKey, e.occurred_at),
  });
  // The free quota counts deliveries, whether or not something else made them free.
  if (model === 'PMP_2026' && e.category === 'service') state.bump(serviceKey);
  const priceCategory = rateCategory(model, e.category);
  if (!c.billable) return { billable: false, type: c.type, priceCategory };
  if (model === 'CBP') state.openConversation(conversationKey, e.occurred_at);
  return {
    billable: true,
    type: c.type,
    priceCategory,
    volumeKey: `${billingAccountId}:${period}:${priceCategory}:${e.market}`,
  };
}

/** An in-memory state (reconciliation, tests). */
export function memoryState(): PricingState & { counters: Map<string, number> } {
  const counters = new Map<string, number>();
  const conversations = new Map<string, number>();
  return {
    counters,
    count: (k) => counters.get(k) ?? 0,
    bump: (k) => counters.set(k, (counters.get(k) ?? 0) + 1),
    conversationOpen: (k, at) => (conversations.get(k) ?? -1) > at,
    openConversation: (k, at) => conversations.set(k, at + CONVERSATION_MS),
  };
}
