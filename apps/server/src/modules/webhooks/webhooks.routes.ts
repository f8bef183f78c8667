/**
 * Edges of webhooks: the Graph paths `/{v}/{waba-id}/subscribed_apps` (Cloud API clients), and
 * REST under /api/v1 for the business's managers to see deliveries and replay dead letters.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponse } from '../../http/schemas.js';
import type { DeviceActor } from '../accounts/index.js';
import { businessParams } from '../business/index.js';
import type { GraphRoutes } from '../cloud-api/graph-routes.js';
import type { WebhooksService } from './webhooks.service.js';

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Graph takes the parameters as JSON or in the query string; the body wins. */
function params(request: FastifyRequest): Record<string, unknown> {
  return {
    ...(isRecord(request.query) ? request.query : {}),
    ...(isRecord(request.body) ? request.body : {}),
  };
}

export function webhooksGraphRoutes(webhooks: WebhooksService): GraphRoutes {
  return (app, ctx) => {
    const path = '/:version/:waba_id/subscribed_apps';
    const wabaOf = (request: FastifyRequest) => (request.params as { waba_id: string }).waba_id;
    app.get(path, ctx.schema('The apps subscribed to the account’s webhooks'), async (request, reply) => {
      const caller = await ctx.caller(request);
      if (!caller) return reply.callNotFound();
      return webhooks.subscribedApps(caller.businessId, wabaOf(request));
    });
    app.post(
      path,
      ctx.schema('Subscribe to the account’s webhooks (override_callback_uri, verify_token)'),
      async (request, reply) => {
        const caller = await ctx.caller(request);
        if (!caller) return reply.callNotFound();
        return webhooks.subscribe(caller.businessId, wabaOf(request), params(request));
      },
    );
    app.delete(path, ctx.schema('Unsubscribe from the account’s webhooks'), async (request, reply) => {
      const caller = await ctx.caller(request);
      if (!caller) return reply.callNotFound();
      return webhooks.unsubscribe(caller.businessId, wabaOf(request));
    });
  };
}

const errors = { 400: errorResponse, 401: errorResponse, 403: errorResponse, 404: errorResponse };
const state = z.enum(['pending', 'delivered', 'failed']);
const deliveryView = z.object({
  id: z.string(),
  field: z.string(),
  state,
  attempts: z.number(),
  last_status: z.number().nullable(),
  last_error: z.string().nullable(),
  created_at: z.string(),
  next_attempt_at: z.string().nullable(),
  delivered_at: z.string().nullable(),
  failed_at: z.string().nullable(),
});

export interface WebhooksRoutesDeps {
  webhooks: WebhooksService;
  authenticate(request: FastifyRequest): Promise<DeviceActor>;
}

export async function webhooksRoutes(app: FastifyInstance, deps: WebhooksRoutesDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { webhooks, authenticate } = deps;
  const secured = { tags: ['business'], security: [{ bearer: [] }] };
  const base = '/api/v1/businesses/:business_id/webhooks/deliveries';

  r.get(
    base,
    {
      schema: {
        ...secured,
        summary: 'Webhook deliveries of the business, newest first (failed: the dead letters)',
        params: businessParams,
        querystring: z.object({
          state: state.optional(),
          limit: z.coerce.number().int().min(1).max(200).optional(),
          before: z
            .string()
            .regex(/^\d{1,19}$/)
            .optional(),
        }),
        response: {
          200: z.object({ deliveries: z.array(deliveryView), next_before: z.string().nullable() }),
          ...errors,
        },
      },
    },
    async (request) =>
      webhooks.deliveries(await authenticate(request), request.params.business_id, request.query),
  );
  r.post(
    `${base}/replay`,
    {
      schema: {
        ...secured,
        summary: 'Queue deliveries again: the given ones, or every dead letter',
        params: businessParams,
        body: z
          .object({
            ids: z
              .array(z.string().regex(/^\d{1,19}$/))
              .max(1000)
              .optional(),
          })
          .strict()
          .optional(),
        response: { 200: z.object({ queued: z.number() }), ...errors },
      },
    },
    async (request) =>
      webhooks.replay(await authenticate(request), request.params.business_id, request.body?.ids),
  );
}
