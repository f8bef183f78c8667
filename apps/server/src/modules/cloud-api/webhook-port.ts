/**
 * How parts of the Business Messaging API hand a webhook to the webhooks module: inside the
 * transaction of the change it reports, so a committed change always has its webhook queued
 * and a rolled-back one never does.
 */
import type { Executor } from '../../platform/db.js';

export interface WebhookChange {
  businessId: string;
  /** The Cloud API `changes[].field`: messages, message_template_status_update, … */
  field: string;
  /** The change's `value`, exactly as the Cloud API puts it in `entry[].changes[].value`. */
  value: Record<string, unknown>;
  /**
   * Deliveries sharing a key go out in the order they were queued (statuses and messages of
   * one person: `<phone_number_id>:<wa_id>`); without one, in any order.
   */
  orderKey?: string;
}

export interface WebhookPort {
  /** Queues the changes for the business's subscribed endpoint; nothing when it has none. */
  enqueue(tx: Executor, changes: WebhookChange[]): Promise<void>;
}

/** Queues nothing (module tests that have no webhooks). */
export const NO_WEBHOOKS: WebhookPort = {
  async enqueue() {},
};
