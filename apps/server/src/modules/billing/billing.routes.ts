/**
 * REST edge of billing accounts and metering: a business's account, usage and charges (its
 * owners and admins), and the operator's account settings and reconciliation.
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponse } from '../../http/schemas.js';
import type { RouteAuth } from '../../http/server.js';
import type { DeviceActor } from '../accounts/index.js';
import type { BillingAccounts } from './billing-accounts.service.js';
import type { Reconciler } from './reconcile.js';
import type { UsageService } from './usage.service.js';

const businessParams = z.object({ business_id: z.string().min(5).max(64) });
const minor = z.string().regex(/^-?\d+$/);
const accountView = z.object({
  billing_account_id: z.string(),
  owner_type: z.enum(['business', 'person']),
  owner_id: z.string(),
  currency: z.string(),
  country: z.string().nullable(),
  mode: z.enum(['prepaid', 'credit']),
  credit_limit_minor: minor,
  balance_minor: minor,
  held_minor: minor,
  available_minor: minor,
  balance: z.string(),
  low_balance_minor: minor.nullable(),
});
const usageView = z.object({
  business_id: z.string(),
  period: z.string(),
  currency: z.string().nullable(),
  lines: z.array(
    z.object({
      category: z.string().nullable(),
      market: z.string().nullable(),
      messages: z.number(),
      billable: z.number(),
      amount_micros: minor,
      amount_minor: minor,
    }),
  ),
  total_minor: minor,
});
const chargeView = z.object({
  charge_id: z.string(),
  stream: z.string(),
  category: z.string().nullable(),
  market: z.string().nullable(),
  pricing_model: z.string().nullable(),
  pricing_type: z.string().nullable(),
  billable: z.boolean(),
  quantity: z.number(),
  unit_price_micros: minor,
  amount_micros: minor,
  currency: z.string(),
  rate_card_version_id: z.string().nullable(),
  rounding: z.string(),
  occurred_at: z.string(),
  description: z.string().nullable(),
});
const reconcileView = z.object({
  period: z.string(),
  events: z.number(),
  charges: z.number(),
  differences: z.number(),
  missing_charges: z.number(),
  extra_charges: z.number(),
  line_differences: z.number(),
  ledger_differences: z.number(),
  invoice_differences: z.number(),
  invoices_checked: z.number(),
  details: z.array(z.string()),
});
/** Whole minor units as a string or a safe integer, ≥ 0 (the error names the field). */
const amountField = z.union([
  z.string().regex(/^\d{1,18}$/),
  z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
]);
const period = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'a month written YYYY-MM');

export interface BillingRoutesDeps {
  accounts: BillingAccounts;
  usage: UsageService;
  reconciler: Reconciler;
  business: {
    requireManager(actor: DeviceActor, businessId: string): Promise<unknown>;
  };
}

export async function billingRoutes(
  app: FastifyInstance,
  auth: RouteAuth,
  deps: BillingRoutesDeps,
): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const manager = async (request: Parameters<RouteAuth['authenticate']>[0], businessId: string) =>
    deps.business.requireManager(await auth.authenticate(request), businessId);

  r.get(
    '/api/v1/businesses/:business_id/billing/account',
    {
      schema: {
        tags: ['billing'],
        security: [{ bearer: [] }],
        summary:
          'The business’s billing account: currency, prepaid or credit line, balance, held and available',
        params: businessParams,
        response: { 200: accountView, 401: errorResponse, 404: errorResponse },
      },
    },
    async (request) => {
      await manager(request, request.params.business_id);
      return deps.accounts.viewOf('business', request.params.business_id);
    },
  );

  r.patch(
    '/api/v1/businesses/:business_id/billing/account',
    {
      schema: {
        tags: ['billing'],
        security: [{ bearer: [] }],
        summary: 'Set (or clear with null) the low-balance alert threshold, in minor units',
        params: businessParams,
        body: z.object({ low_balance_minor: amountField.nullable() }).strict(),
        response: { 200: accountView, 400: errorResponse, 401: errorResponse, 404: errorResponse },
      },
    },
    async (request) => {
      await manager(request, request.params.business_id);
      const v = request.body.low_balance_minor;
      return deps.accounts.configure('business', request.params.business_id, {
        lowBalanceMinor: v === null ? null : BigInt(v),
      });
    },
  );

  r.get(
    '/api/v1/businesses/:business_id/billing/usage',
    {
      schema: {
        tags: ['billing'],
        security: [{ bearer: [] }],
        summary: 'Messages metered in a month, per category and market: counts, billable counts and amounts',
        params: businessParams,
        querystring: z.object({ period }),
        response: { 200: usageView, 400: errorResponse, 401: errorResponse, 404: errorResponse },
      },
    },
    async (request) => {
      await manager(request, request.params.business_id);
      return deps.usage.usage(request.params.business_id, request.query.period);
    },
  );

  r.get(
    '/api/v1/businesses/:business_id/billing/charges',
    {
      schema: {
        tags: ['billing'],
        security: [{ bearer: [] }],
        summary: 'The charges of a month, newest first, a page at a time (`after` = the last id seen)',
        params: businessParams,
        querystring: z.object({
          period,
          limit: z.coerce.number().int().min(1).max(500).default(100),
          after: z.string().max(64).optional(),
        }),
        response: {
          200: z.object({ data: z.array(chargeView), next: z.string().nullable() }),
          400: errorResponse,
          401: errorResponse,
          404: errorResponse,
        },
      },
    },
    async (request) => {
      await manager(request, request.params.business_id);
      return deps.usage.charges(request.params.business_id, request.query);
    },
  );

  r.get(
    '/api/v1/admin/billing/accounts/:business_id',
    {
      schema: {
        tags: ['admin'],
        security: [{ operator: [] }],
        summary: 'Operator: a business’s billing account',
        params: businessParams,
        response: { 200: accountView, 401: errorResponse },
      },
    },
    async (request) => {
      await auth.authenticateOperator(request);
      return deps.accounts.viewOf('business', request.params.business_id);
    },
  );

  r.patch(
    '/api/v1/admin/billing/accounts/:business_id',
    {
      schema: {
        tags: ['admin'],
        security: [{ operator: [] }],
        summary:
          'Operator: currency (while the account is empty), prepaid or credit line and its limit, tax country, low-balance threshold',
        params: businessParams,
        body: z
          .object({
            currency: z.string().optional(),
            mode: z.enum(['prepaid', 'credit']).optional(),
            credit_limit_minor: amountField.optional(),
            country: z.string().nullable().optional(),
            low_balance_minor: amountField.nullable().optional(),
          })
          .strict(),
        response: { 200: accountView, 400: errorResponse, 401: errorResponse, 409: errorResponse },
      },
    },
    async (request) => {
      await auth.authenticateOperator(request);
      const b = request.body;
      return deps.accounts.configure('business', request.params.business_id, {
        currency: b.currency,
        mode: b.mode,
        creditLimitMinor: b.credit_limit_minor === undefined ? undefined : BigInt(b.credit_limit_minor),
        country: b.country,
        lowBalanceMinor:
          b.low_balance_minor === undefined
            ? undefined
            : b.low_balance_minor === null
              ? null
              : BigInt(b.low_balance_minor),
      });
    },
  );

  r.post(
    '/api/v1/admin/billing/reconcile',
    {
      schema: {
        tags: ['admin'],
        security: [{ operator: [] }],
        summary:
          'Operator: recompute a month from the raw delivery events and compare with charges, ledger and invoices',
        querystring: z.object({ period }),
        response: { 200: reconcileView, 400: errorResponse, 401: errorResponse },
      },
    },
    async (request) => {
      await auth.authenticateOperator(request);
      return deps.reconciler.reconcile(request.query.period);
    },
  );
}
