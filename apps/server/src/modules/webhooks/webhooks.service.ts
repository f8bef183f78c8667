/**
 * Webhooks of the Business Messaging API: the subscription of a WhatsApp Business Account
 * (`/{waba-id}/subscribed_apps`, verified by the hub.challenge handshake as Meta does before
 * it accepts a callback URL), the port through which the other parts queue changes inside
 * their transactions, and the dead-letter view and replay for the business's managers.
 * Sending is the dispatcher's (webhooks.dispatcher.ts).
 */
import type { Clock } from '../../platform/clock.js';
import type { Db } from '../../platform/db.js';
import { type HttpClient, OutboundHttpError } from '../../platform/http-client.js';
import type { Ids } from '../../platform/ids.js';
import type { WebhookDeliveryState } from '../../platform/schema.js';
import type { DeviceActor } from '../accounts/index.js';
import type { BusinessRepo, BusinessService } from '../business/index.js';
import { graphErrors } from '../cloud-api/graph-error.js';
import type { WebhookChange, WebhookPort } from '../cloud-api/webhook-port.js';
import { envelopeOf, serializeWebhookBody } from './webhook-body.js';
import { callbackUrlProblem } from './webhooks.policy.js';
import type { DeliveryRow, NewDelivery, WebhooksRepo } from './webhooks.repo.js';

/** How long the callback has to answer the verification request. */
export const HANDSHAKE_TIMEOUT_MS = 5_000;
/** Delivered rows are kept this long for the business to look at, then removed. */
export const DELIVERED_RETENTION_MS = 7 * 24 * 60 * 60_000;
/** Dead letters are kept this long for replay, then removed. */
export const DEAD_LETTER_RETENTION_MS = 30 * 24 * 60 * 60_000;
export const MAX_VERIFY_TOKEN = 512;

export interface WebhooksServiceDeps {
  db: Pick<Db, 'kysely'>;
  repo: WebhooksRepo;
  businessRepo: Pick<BusinessRepo, 'find'>;
  business: Pick<BusinessService, 'requireManager'>;
  http: Pick<HttpClient, 'request'>;
  clock: Clock;
  ids: Pick<Ids, 'newCode'>;
  /** Base URL of this server, shown as the subscribed app's link. */
  publicUrl(): string;
  /** Called after rows were queued, so a dispatcher in this process looks at once. */
  onQueued?(): void;
}

export interface SubscribeInput {
  override_callback_uri?: unknown;
  verify_token?: unknown;
}

export interface DeliveryView {
  id: string;
  field: string;
  state: WebhookDeliveryState;
  attempts: number;
  last_status: number | null;
  last_error: string | null;
  created_at: string;
  next_attempt_at: string | null;
  delivered_at: string | null;
  failed_at: string | null;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function presentDelivery(row: DeliveryRow): DeliveryView {
  return {
    id: String(row.id),
    field: row.field,
    state: row.state,
    attempts: row.attempts,
    last_status: row.last_status,
    last_error: row.last_error,
    created_at: new Date(row.created_at).toISOString(),
    next_attempt_at: row.state === 'pending' ? iso(row.next_attempt_at) : null,
    delivered_at: iso(row.delivered_at),
    failed_at: iso(row.failed_at),
  };
}

export function createWebhooksService(deps: WebhooksServiceDeps) {
  const { repo, clock } = deps;

  /** The caller's own WABA, or Graph's answer for an object it cannot see. */
  async function requireWaba(businessId: string, wabaId: string, method: 'get' | 'post') {
    const business = await deps.businessRepo.find(businessId);
    if (!business) throw graphErrors.invalidToken();
    if (business.waba_id !== wabaId) throw graphErrors.unknownObject(wabaId, method);
    return business;
  }

  /**
   * Meta's handshake: `GET <url>?hub.mode=subscribe&hub.challenge=…&hub.verify_token=…`
   * answered by 200 and exactly the challenge. The challenge is digits, as Meta's is, since
   * some receivers parse it as a number before echoing it.
   */
  async function verifyCallback(callbackUrl: string, verifyToken: string): Promise<void> {
    const challenge = deps.ids.newCode(1, '123456789') + deps.ids.newCode(9);
    const url = new URL(callbackUrl);
    url.searchParams.set('hub.mode', 'subscribe');
    url.searchParams.set('hub.challenge', challenge);
    url.searchParams.set('hub.verify_token', verifyToken);
    let answer: { status: number; body: string };
    try {
      answer = await deps.http.request({
        method: 'GET',
        url: url.toString(),
        timeoutMs: HANDSHAKE_TIMEOUT_MS,
        maxResponseBytes: 1024,
      });
    } catch (e: unknown) {
      if (!(e instanceof OutboundHttpError)) throw e;
      throw graphErrors.invalidParameter(
        `Callback verification failed: the callback URL could not be reached (${e.message}).`,
      );
    }
    if (answer.status !== 200) {
      throw graphErrors.invalidParameter(
        `Callback verification failed: the callback URL answered HTTP ${answer.status}; it must answer 200 with the hub.challenge value.`,
      );
    }
    if (answer.body !== challenge) {
      throw graphErrors.invalidParameter(
        'Callback verification failed: the response body must be exactly the hub.challenge value.',
      );
    }
  }

  const port: WebhookPort = {
    /**
     * One indexed read (which of the businesses are subscribed) and one insert. The body is
     * serialised now, so what is signed later is exactly what was queued.
     */
    async enqueue(tx, changes: WebhookChange[]) {
      if (changes.length === 0) return;
      const wabas = await repo.subscribedWabas(tx, [...new Set(changes.map((c) => c.businessId))]);
      if (wabas.size === 0) return;
      const now = clock.now();
      const rows: NewDelivery[] = [];
      for (const change of changes) {
        const waba = wabas.get(change.businessId);
        if (waba === undefined) continue;
        rows.push({
          business_id: change.businessId,
          field: change.field,
          order_key: change.orderKey ?? null,
          body: serializeWebhookBody(envelopeOf(waba, change.field, change.value, now)),
        });
      }
      await repo.insertDeliveries(tx, rows, now);
      if (rows.length > 0) deps.onQueued?.();
    },
  };

  return {
    port,

    /** POST /{v}/{waba-id}/subscribed_apps. Nothing changes unless the handshake succeeds. */
    async subscribe(businessId: string, wabaId: string, input: SubscribeInput): Promise<{ success: true }> {
      await requireWaba(businessId, wabaId, 'post');
      const { override_callback_uri: uri, verify_token: token } = input;
      if (uri === undefined || uri === '') {
        // Parley has no app dashboard holding a default callback URL: a subscription is its
        // override URL. Subscribing again without one keeps the URL already verified.
        if (await repo.subscription(businessId)) return { success: true };
        throw graphErrors.invalidParameter(
          'override_callback_uri is required: Parley has no app-level callback URL to fall back to.',
        );
      }
      if (typeof uri !== 'string')
        throw graphErrors.invalidParameter('override_callback_uri must be a string.');
      const problem = callbackUrlProblem(uri);
      if (problem) throw graphErrors.invalidParameter(problem);
      if (typeof token !== 'string' || token === '') {
        throw graphErrors.invalidParameter('verify_token is required with override_callback_uri.');
      }
      if (token.length > MAX_VERIFY_TOKEN) {
        throw graphErrors.invalidParameter(`verify_token is longer than ${MAX_VERIFY_TOKEN} characters.`);
      }
      await verifyCallback(uri, token);
      const now = clock.now();
      const existing = await repo.subscription(businessId);
      await repo.upsertSubscription(deps.db.kysely, {
        business_id: businessId,
        app_id: existing?.app_id ?? deps.ids.newCode(1, '123456789') + deps.ids.newCode(15),
        callback_url: uri,
        created_at: existing?.created_at ?? now,
        updated_at: now,
      });
      // Deliveries queued while unsubscribed or failing may go to the new URL now.
      deps.onQueued?.();
      return { success: true };
    },

    /** GET /{v}/{waba-id}/subscribed_apps, in the shape Meta answers. */
    async subscribedApps(businessId: string, wabaId: string) {
      const business = await requireWaba(businessId, wabaId, 'get');
      const sub = await repo.subscription(businessId);
      if (!sub) return { data: [] };
      return {
        data: [
          {
            whatsapp_business_api_data: {
              id: sub.app_id,
              link: deps.publicUrl(),
              name: `${business.name} (Parley)`,
            },
            override_callback_uri: sub.callback_url,
          },
        ],
      };
    },

    /** DELETE /{v}/{waba-id}/subscribed_apps: deliveries stop; queued ones stay for later. */
    async unsubscribe(businessId: string, wabaId: string): Promise<{ success: true }> {
      await requireWaba(businessId, wabaId, 'post');
      await repo.deleteSubscription(deps.db.kysely, businessId);
      return { success: true };
    },

    /** The business's deliveries, newest first: what went out, what waits, what was given up. */
    async deliveries(
      actor: DeviceActor,
      businessId: string,
      filter: {
        state?: WebhookDeliveryState | undefined;
        limit?: number | undefined;
        before?: string | undefined;
      },
    ): Promise<{ deliveries: DeliveryView[]; next_before: string | null }> {
      await deps.business.requireManager(actor, businessId);
      const limit = Math.min(Math.max(filter.limit ?? 50, 1), 200);
      const before = filter.before === undefined ? undefined : Number(filter.before);
      const rows = await repo.list(businessId, {
        state: filter.state,
        limit,
        before: before !== undefined && Number.isSafeInteger(before) ? before : undefined,
      });
      const last = rows.at(-1);
      return {
        deliveries: rows.map(presentDelivery),
        next_before: rows.length === limit && last ? String(last.id) : null,
      };
    },

    /** Queues deliveries again: the given ones, or every dead letter of the business. */
    async replay(actor: DeviceActor, businessId: string, ids?: string[]): Promise<{ queued: number }> {
      await deps.business.requireManager(actor, businessId);
      const numeric = ids?.map(Number).filter((n) => Number.isSafeInteger(n));
      const queued = await repo.replay(businessId, numeric, clock.now());
      if (queued > 0) deps.onQueued?.();
      return { queued };
    },

    /** Worker task: drops delivered rows after 7 days and dead letters after 30. */
    async purge() {
      const now = clock.now();
      return repo.purge(now - DELIVERED_RETENTION_MS, now - DEAD_LETTER_RETENTION_MS);
    },
  };
}

export type WebhooksService = ReturnType<typeof createWebhooksService>;
