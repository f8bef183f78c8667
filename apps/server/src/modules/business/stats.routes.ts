/** REST edge of business statistics (agents of the business, with their device tokens). */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponse } from '../../http/schemas.js';
import type { DeviceActor } from '../accounts/index.js';
import { businessParams } from './business.schemas.js';
import type { StatsService } from './stats.service.js';

const entryPoints = z.object({
  direct: z.number(),
  link: z.number(),
  qr: z.number(),
  catalog: z.number(),
  broadcast: z.number(),
});
const counts = z.object({
  sent: z.number(),
  delivered: z.number(),
  read: z.number(),
  received: z.number(),
  chats_started: entryPoints,
  response_time: z.object({
    count: z.number(),
    median_seconds: z.number().nullable(),
    p90_seconds: z.number().nullable(),
  }),
});
export const statsView = z.object({
  business_id: z.string(),
  from: z.string(),
  to: z.string(),
  tz: z.string(),
  retained_since: z.string(),
  days: z.array(counts.extend({ date: z.string(), start: z.string(), end: z.string() })),
  totals: counts,
});

export interface StatsRoutesDeps {
  stats: StatsService;
  authenticate(request: FastifyRequest): Promise<DeviceActor>;
}

export async function statsRoutes(app: FastifyInstance, deps: StatsRoutesDeps): Promise<void> {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/api/v1/businesses/:business_id/stats',
    {
      schema: {
        tags: ['business'],
        security: [{ bearer: [] }],
        summary:
          'Messages sent, delivered, read and received, chats started per entry point and response ' +
          'time, per local day of `tz` (default UTC) from `from` to `to` (YYYY-MM-DD, at most 366 days)',
        params: businessParams,
        querystring: z.object({
          from: z.string().min(1).max(32),
          to: z.string().min(1).max(32),
          tz: z.string().min(1).max(64).optional(),
        }),
        response: { 200: statsView, 400: errorResponse, 401: errorResponse, 404: errorResponse },
      },
    },
    async (request) =>
      deps.stats.stats(await deps.authenticate(request), request.params.business_id, request.query),
  );
}
