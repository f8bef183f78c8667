/**
 * How one delivered business message is priced: the pricing model in force when it was
 * delivered decides whether it is billable, and the rate card decides the price.
 *
 * Model, per Meta's published rules (docs/billing.md):
 * - PMP: templates are charged by category; free-form (service) messages are free; utility
 *   templates inside an open customer-service window are free; everything is free for 72 h
 *   after a free entry point.
 * - PMP_2026: as PMP, but service messages beyond 1,000 delivered per number per month are
 *   charged at the market's utility rate, and utility templates in the window are charged.
 * - CBP: a 24-hour conversation per (number, person, category) is charged when the first
 *   message of that category is delivered with none open; service conversations and free
 *   entry points are free.
 *
 * The decision depends on state earlier events left (counters, open conversations), so
 * metering and reconciliation both walk events in the same order (occurred_at, event_key)
 * through this one function.
 */
import type { BillingCategory, PricingModel } from './billing.ports.js';

/** Service messages per number per month that stay free under PMP_2026. */
export const FREE_SERVICE_PER_MONTH = 1000;
/** How long a CBP conversation lasts. */
export const CONVERSATION_MS = 24 * 3600_000;

export interface PricingEvent {
  event_key: string;
  business_id: string;
  phone_number_id: string;
  category: 'marketing' | 'utility' | 'authentication' | 'service';
  market: string;
  window_open: number;
  entry_point: string | null;
  recipient: string | null;
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
  type: 'regular' | 'free_customer_service' | 'free_entry_point' | 'free_tier';
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
  const free = (type: Decision['type']): Decision => ({ billable: false, type, priceCategory: e.category });
  const billable = (category: BillingCategory): Decision => {
    const volumeKey = `${billingAccountId}:${period}:${category}:${e.market}`;
    return { billable: true, type: 'regular', priceCategory: category, volumeKey };
  };

  if (model === 'CBP') {
    if (e.entry_point !== null) return free('free_entry_point');
    if (e.category === 'service') return free('free_customer_service');
    const key = `${e.phone_number_id}:${e.recipient ?? e.event_key}:${e.category}`;
    if (state.conversationOpen(key, e.occurred_at)) return { ...free('regular') };
    state.openConversation(key, e.occurred_at);
    return billable(e.category);
  }

  if (model === 'PMP_2026' && e.category === 'service') {
    // Counted whether or not a free entry point makes it free: the quota is of deliveries.
    const key = `${e.phone_number_id}:${period}:service`;
    const n = state.count(key);
    state.bump(key);
    if (e.entry_point !== null) return free('free_entry_point');
    if (n < FREE_SERVICE_PER_MONTH) return free('free_tier');
    return billable('utility');
  }
  if (e.entry_point !== null) return free('free_entry_point');
  if (e.category === 'service') return free('free_customer_service');
  if (model === 'PMP' && e.category === 'utility' && e.window_open === 1)
    return free('free_customer_service');
  return billable(e.category);
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
