/**
 * REST edge of rate cards, pricing models and the price preview.
 * Operator: `/api/v1/admin/billing/rate-cards` (CSV or JSON rows in, JSON or CSV out) and
 * `/api/v1/admin/billing/pricing-models`. Businesses: `/api/v1/businesses/:businessId/billing/price-preview`.
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../errors.js';
import { errorResponse } from '../../http/schemas.js';
import type { RouteAuth } from '../../http/server.js';
import { BILLING_CATEGORIES, PRICING_MODELS } from './pricing-models.js';
import type { PricingModelsService } from './pricing-models.service.js';
import type { PricePreview } from './rate-cards.preview.js';
import type { RateCardsService } from './rate-cards.service.js';

export interface RateCardsRoutesDeps {
  rateCards: RateCardsService;
  pricingModels: PricingModelsService;
  preview: PricePreview;
}

const instant = z
  .string()
  .refine((s) => !Number.isNaN(Date.parse(s)), 'an ISO 8601 date-time such as 2026-12-01T00:00:00Z')
  .transform((s) => Date.parse(s));

const versionView = z.object({
  id: z.string(),
  currency: z.string(),
  name: z.string().nullable(),
  effective_from: z.string(),
  effective_to: z.string().nullable(),
  status: z.enum(['scheduled', 'in_force', 'ended']),
  superseded_by: z.string().nullable(),
  rows: z.number(),
  created_at: z.string(),
});
const rowView = z.object({
  category: z.string(),
  market: z.string(),
  from_count: z.number(),
  unit_price: z.string(),
  unit_price_micros: z.string(),
});
const cardView = versionView.extend({ prices: z.array(rowView) });
const modelView = z.object({
  model: z.enum(PRICING_MODELS as [string, ...string[]]),
  effective_from: z.string(),
  status: z.enum(['scheduled', 'in_force', 'ended']),
});

const createQuery = z.object({
  currency: z.string().optional(),
  effective_from: instant.optional(),
  effective_to: instant.optional(),
  name: z.string().max(200).optional(),
  supersede: z.enum(['true', 'false']).optional(),
});
const jsonBody = z.object({
  currency: z.string().optional(),
  effective_from: instant.optional(),
  effective_to: instant.optional(),
  name: z.string().max(200).optional(),
  supersede: z.boolean().optional(),
  rows: z
    .array(
      z.object({
        category: z.string(),
        market: z.string(),
        unit_price: z.string(),
        from_count: z.union([z.number(), z.string()]).optional(),
      }),
    )
    .max(100_000),
});

const errors = { 400: errorResponse, 401: errorResponse, 404: errorResponse, 409: errorResponse };

export async function rateCardsRoutes(app: FastifyInstance, auth: RouteAuth, deps: RateCardsRoutesDeps) {
  // Encapsulated so the text/csv body parser and the operator hook stay within these routes.
  await app.register(async (scope) => {
    scope.addContentTypeParser(
      'text/csv',
      { parseAs: 'string', bodyLimit: 16 * 1024 * 1024 },
      (_req, body, done) => done(null, body),
    );
    scope.addHook('onRequest', async (request) => {
      if (request.url.startsWith('/api/v1/admin/')) await auth.authenticateOperator(request);
    });
    const r = scope.withTypeProvider<ZodTypeProvider>();

    r.post(
      '/api/v1/admin/billing/rate-cards',
      {
        schema: {
          tags: ['billing'],
          security: [{ operator: [] }],
          summary:
            'Add a rate-card version: CSV (content-type text/csv, settings in the query) or JSON rows; refused when it overlaps another version unless supersede',
          querystring: createQuery,
          body: z.union([z.string(), jsonBody]),
          response: { 201: cardView, ...errors },
        },
      },
      async (request, reply) => {
        const q = request.query;
        const body = request.body;
        let created: Awaited<ReturnType<RateCardsService['create']>>;
        if (typeof body === 'string') {
          if (!q.currency) {
            throw new AppError('VALIDATION_FAILED', 'A CSV rate card needs ?currency=.', {
              issues: [{ path: 'currency', message: 'required' }],
            });
          }
          created = await deps.rateCards.importCsv(body, {
            currency: q.currency,
            effectiveFrom: q.effective_from,
            effectiveTo: q.effective_to,
            name: q.name,
            supersede: q.supersede === 'true',
          });
        } else {
          const currency = body.currency ?? q.currency;
          if (!currency) {
            throw new AppError('VALIDATION_FAILED', 'A rate card needs a currency.', {
              issues: [{ path: 'currency', message: 'required' }],
            });
          }
          created = await deps.rateCards.create({
            currency,
            effectiveFrom: body.effective_from ?? q.effective_from,
            effectiveTo: body.effective_to ?? q.effective_to,
            name: body.name ?? q.name,
            supersede: body.supersede ?? q.supersede === 'true',
            rows: body.rows.map((row, i) => ({ ...row, line: i + 1 })),
          });
        }
        return reply.code(201).send(created);
      },
    );

    r.get(
      '/api/v1/admin/billing/rate-cards',
      {
        schema: {
          tags: ['billing'],
          security: [{ operator: [] }],
          summary: 'Rate-card versions, oldest first per currency',
          querystring: z.object({ currency: z.string().optional() }),
          response: { 200: z.object({ rate_cards: z.array(versionView) }), ...errors },
        },
      },
      async (request) => ({ rate_cards: await deps.rateCards.list(request.query.currency) }),
    );

    r.get(
      '/api/v1/admin/billing/rate-cards/:id',
      {
        schema: {
          tags: ['billing'],
          security: [{ operator: [] }],
          summary: 'One rate-card version with its prices (JSON, or the CSV format with Accept: text/csv)',
          params: z.object({ id: z.string().min(1).max(64) }),
          response: { 200: z.union([cardView, z.string()]), ...errors },
        },
      },
      async (request, reply) => {
        if ((request.headers.accept ?? '').includes('text/csv')) {
          const csv = await deps.rateCards.exportCsv(request.params.id);
          return reply.header('content-type', 'text/csv; charset=utf-8').send(csv);
        }
        return deps.rateCards.get(request.params.id);
      },
    );

    r.delete(
      '/api/v1/admin/billing/rate-cards/:id',
      {
        schema: {
          tags: ['billing'],
          security: [{ operator: [] }],
          summary: 'Delete a version that has not started (one it superseded reopens)',
          params: z.object({ id: z.string().min(1).max(64) }),
          response: { 204: z.null(), ...errors },
        },
      },
      async (request, reply) => {
        await deps.rateCards.remove(request.params.id);
        return reply.code(204).send(null);
      },
    );

    r.get(
      '/api/v1/admin/billing/pricing-models',
      {
        schema: {
          tags: ['billing'],
          security: [{ operator: [] }],
          summary: 'The pricing-model switches (PMP before the first one)',
          response: { 200: z.object({ pricing_models: z.array(modelView) }), ...errors },
        },
      },
      async () => ({ pricing_models: await deps.pricingModels.list() }),
    );

    r.post(
      '/api/v1/admin/billing/pricing-models',
      {
        schema: {
          tags: ['billing'],
          security: [{ operator: [] }],
          summary: 'Switch the pricing model from a date (default now; never in the past)',
          body: z.object({ model: z.string(), effective_from: instant.optional() }),
          response: { 200: z.object({ pricing_models: z.array(modelView) }), ...errors },
        },
      },
      async (request) => ({
        pricing_models: await deps.pricingModels.set(request.body.model, request.body.effective_from),
      }),
    );

    r.get(
      '/api/v1/businesses/:businessId/billing/price-preview',
      {
        schema: {
          tags: ['billing'],
          security: [{ bearer: [] }],
          summary:
            'What one message to this number would cost now, under the pricing model and rate card in force',
          params: z.object({ businessId: z.string().min(5).max(64) }),
          querystring: z.object({
            to: z.string().min(4).max(32),
            category: z.enum(BILLING_CATEGORIES as [string, ...string[]]),
            window_open: z.enum(['true', 'false']).default('false'),
            free_entry_point: z.enum(['true', 'false']).default('false'),
          }),
          response: {
            200: z.object({
              currency: z.string(),
              market: z.string(),
              pricing_model: z.enum(['PMP', 'CBP']),
              billable: z.boolean(),
              category: z.string(),
              type: z.string(),
              unit_price_micros: z.string(),
              unit_price: z.string(),
              rate_card_version_id: z.string().nullable(),
              no_price: z.enum(['no_rate_card', 'no_price_for_market']).optional(),
            }),
            ...errors,
            403: errorResponse,
          },
        },
      },
      async (request) => {
        const q = request.query;
        return deps.preview.forBusiness(await auth.authenticate(request), request.params.businessId, {
          to: q.to,
          category: q.category as (typeof BILLING_CATEGORIES)[number],
          windowOpen: q.window_open === 'true',
          freeEntryPoint: q.free_entry_point === 'true',
        });
      },
    );
  });
}
