/**
 * Webhook deliveries of a business over REST, for its owners and admins
 * (`client.business.webhooks.*`): what went out, what waits for a retry, the dead letters, and
 * replay. Subscribing is done on the Cloud API paths with the business's access token.
 */
import type { Http } from './http.js';

export type WebhookDeliveryState = 'pending' | 'delivered' | 'failed';

export interface WebhookDeliveryView {
  id: string;
  /** The Cloud API `changes[].field`: messages, message_template_status_update, … */
  field: string;
  /** `failed`: dead-lettered after 7 days of failed attempts. */
  state: WebhookDeliveryState;
  attempts: number;
  last_status: number | null;
  last_error: string | null;
  created_at: string;
  next_attempt_at: string | null;
  delivered_at: string | null;
  failed_at: string | null;
}

export interface WebhookDeliveriesPage {
  deliveries: WebhookDeliveryView[];
  /** Pass as `before` for the next (older) page; null on the last one. */
  next_before: string | null;
}

export function createWebhooksApi(http: Pick<Http, 'request'>) {
  const base = (id: string) => `/businesses/${encodeURIComponent(id)}/webhooks/deliveries`;
  return {
    /** Newest first. */
    deliveries(
      businessId: string,
      filter: { state?: WebhookDeliveryState; limit?: number; before?: string } = {},
    ): Promise<WebhookDeliveriesPage> {
      const query = new URLSearchParams();
      if (filter.state !== undefined) query.set('state', filter.state);
      if (filter.limit !== undefined) query.set('limit', String(filter.limit));
      if (filter.before !== undefined) query.set('before', filter.before);
      const q = query.toString();
      return http.request('GET', q ? `${base(businessId)}?${q}` : base(businessId));
    },
    /** Queues the given deliveries again, or without ids every dead letter. */
    replay(businessId: string, ids?: string[]): Promise<{ queued: number }> {
      return http.request('POST', `${base(businessId)}/replay`, ids === undefined ? {} : { ids });
    },
  };
}

export type WebhooksApi = ReturnType<typeof createWebhooksApi>;
