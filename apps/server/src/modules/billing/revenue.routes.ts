/** Admin REST edge of revenue reporting (operator token): JSON, or CSV when asked. */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponse } from '../../http/schemas.js';
import type { RouteAuth } from '../../http/server.js';
import { sendCsv, toCsv, wantsCsv } from './revenue.csv.js';
import type { RevenueService } from './revenue.service.js';

const amounts = {
  count: z.number(),
  operator_minor: z.string(),
  partner_minor: z.string(),
  total_minor: z.string(),
  operator_micros: z.string(),
  partner_micros: z.string(),
};
const format = z.enum(['json', 'csv']).optional();
const csvText = z.string().describe('CSV (text/csv), with `Accept: text/csv` or `?format=csv`');
const errors = { 400: errorResponse, 401: errorResponse };
const AMOUNT_COLUMNS = [
  'count',
  'operator_minor',
  'partner_minor',
  'total_minor',
  'operator_micros',
  'partner_micros',
] as const;

export async function revenueRoutes(
  app: FastifyInstance,
  auth: RouteAuth,
  deps: { revenue: RevenueService },
): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { revenue } = deps;
  const secured = { tags: ['admin'], security: [{ operator: [] }] };

  r.get(
    '/api/v1/admin/billing/revenue',
    {
      schema: {
        ...secured,
        summary:
          'Revenue per UTC day or month × stream × category × market × currency (from/to YYYY-MM-DD, or period YYYY-MM), ' +
          'the operator’s amount and partners’ markups apart, each rounded once from micros',
        querystring: z.object({
          from: z.string().max(32).optional(),
          to: z.string().max(32).optional(),
          period: z.string().max(32).optional(),
          granularity: z.string().max(16).optional(),
          format,
        }),
        response: {
          200: z
            .object({
              from: z.string(),
              to: z.string(),
              granularity: z.enum(['day', 'month']),
              rows: z.array(
                z.object({
                  bucket: z.string(),
                  stream: z.string(),
                  category: z.string().nullable(),
                  market: z.string().nullable(),
                  currency: z.string(),
                  ...amounts,
                }),
              ),
              totals: z.array(z.object({ stream: z.string(), currency: z.string().nullable(), ...amounts })),
            })
            .or(csvText),
          ...errors,
        },
      },
    },
    async (request, reply) => {
      await auth.authenticateOperator(request);
      const { format: f, ...query } = request.query;
      const view = await revenue.report(query);
      if (!wantsCsv(request, f)) return view;
      return sendCsv(
        reply,
        `revenue-${view.from}-${view.to}.csv`,
        toCsv(view.rows, ['bucket', 'stream', 'category', 'market', 'currency', ...AMOUNT_COLUMNS]),
      );
    },
  );

  r.get(
    '/api/v1/admin/billing/revenue/top-businesses',
    {
      schema: {
        ...secured,
        summary: 'The businesses that paid most in a month (operator’s price plus partner markup)',
        querystring: z.object({
          period: z.string().max(32),
          limit: z.coerce.number().int().optional(),
          currency: z.string().max(8).optional(),
          format,
        }),
        response: {
          200: z
            .object({
              period: z.string(),
              rows: z.array(
                z.object({
                  business_id: z.string(),
                  name: z.string().nullable(),
                  currency: z.string(),
                  ...amounts,
                }),
              ),
            })
            .or(csvText),
          ...errors,
        },
      },
    },
    async (request, reply) => {
      await auth.authenticateOperator(request);
      const { format: f, ...query } = request.query;
      const view = await revenue.topBusinesses(query);
      if (!wantsCsv(request, f)) return view;
      return sendCsv(
        reply,
        `top-businesses-${view.period}.csv`,
        toCsv(view.rows, ['business_id', 'name', 'currency', ...AMOUNT_COLUMNS]),
      );
    },
  );

  r.get(
    '/api/v1/admin/billing/revenue/partners',
    {
      schema: {
        ...secured,
        summary:
          'A month’s revenue per partner (null: businesses without one): the operator’s share and the partner’s share',
        querystring: z.object({ period: z.string().max(32), format }),
        response: {
          200: z
            .object({
              period: z.string(),
              rows: z.array(
                z.object({
                  partner_id: z.string().nullable(),
                  name: z.string().nullable(),
                  currency: z.string(),
                  clients: z.number(),
                  ...amounts,
                }),
              ),
            })
            .or(csvText),
          ...errors,
        },
      },
    },
    async (request, reply) => {
      await auth.authenticateOperator(request);
      const view = await revenue.partners(request.query);
      if (!wantsCsv(request, request.query.format)) return view;
      return sendCsv(
        reply,
        `partners-${view.period}.csv`,
        toCsv(view.rows, ['partner_id', 'name', 'currency', 'clients', ...AMOUNT_COLUMNS]),
      );
    },
  );

  r.get(
    '/api/v1/admin/billing/outstanding',
    {
      schema: {
        ...secured,
        summary: 'Balances businesses owe, per business and currency (minor units; negative: owed)',
        querystring: z.object({ format }),
        response: {
          200: z
            .object({
              rows: z.array(
                z.object({ business_id: z.string(), currency: z.string(), balance_minor: z.string() }),
              ),
            })
            .or(csvText),
          401: errorResponse,
        },
      },
    },
    async (request, reply) => {
      await auth.authenticateOperator(request);
      const view = await revenue.outstanding();
      if (!wantsCsv(request, request.query.format)) return view;
      return sendCsv(
        reply,
        'outstanding.csv',
        toCsv(view.rows, ['business_id', 'currency', 'balance_minor']),
      );
    },
  );
}
