/**
 * REST edge of subscriptions, top-ups, receipts, notices and the consumer plan. Business
 * routes need an owner or admin of the business (the business module's rule); `/me` routes
 * any signed-in device of the person; admin routes the operator token.
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { RouteAuth } from '../../http/server.js';
import type { BusinessService } from '../business/index.js';
import type { ConsumerPlan } from './consumer-plan.service.js';
import { parseAmountMinor } from './money.js';
import type { NoticesService } from './notices.service.js';
import type { Payments } from './payment-provider.service.js';
import type { BillingAccountsPort } from './subscriptions.ports.js';
import type { Subscriptions } from './subscriptions.service.js';

const PREFIX = '/api/v1';

export interface SubscriptionRoutesDeps {
  business: Pick<BusinessService, 'requireManager'>;
  subscriptions: Subscriptions;
  payments: Payments;
  notices: NoticesService;
  consumerPlan: ConsumerPlan;
  accounts: Pick<BillingAccountsPort, 'get'>;
  db: { kysely: Parameters<BillingAccountsPort['get']>[0] };
}

const businessParams = z.object({ businessId: z.string() });

export async function subscriptionRoutes(
  app: FastifyInstance,
  auth: RouteAuth,
  deps: SubscriptionRoutesDeps,
) {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get(
    `${PREFIX}/businesses/:businessId/billing/subscription`,
    {
      schema: {
        tags: ['billing'],
        security: [{ bearer: [] }],
        summary: "The business's subscription",
        params: businessParams,
      },
    },
    async (request) => {
      const actor = await auth.authenticate(request);
      await deps.business.requireManager(actor, request.params.businessId);
      return { subscription: await deps.subscriptions.view(request.params.businessId) };
    },
  );

  r.put(
    `${PREFIX}/businesses/:businessId/billing/subscription`,
    {
      schema: {
        tags: ['billing'],
        security: [{ bearer: [] }],
        summary: 'Subscribe, change plan now (prorated), or `free` to cancel at period end',
        params: businessParams,
        body: z.object({ plan_id: z.string().min(1), payment_provider: z.string().nullable().optional() }),
      },
    },
    async (request) => {
      const actor = await auth.authenticate(request);
      await deps.business.requireManager(actor, request.params.businessId);
      const opts =
        request.body.payment_provider === undefined ? {} : { provider: request.body.payment_provider };
      return {
        subscription: await deps.subscriptions.subscribe(
          request.params.businessId,
          request.body.plan_id,
          opts,
        ),
      };
    },
  );

  r.get(
    `${PREFIX}/businesses/:businessId/billing/receipts`,
    {
      schema: {
        tags: ['billing'],
        security: [{ bearer: [] }],
        summary: "The business's top-up receipts",
        params: businessParams,
      },
    },
    async (request) => {
      const actor = await auth.authenticate(request);
      await deps.business.requireManager(actor, request.params.businessId);
      const account = await deps.accounts.get(deps.db.kysely, 'business', request.params.businessId);
      return { receipts: account ? await deps.payments.receipts(account.id) : [] };
    },
  );

  r.get(
    `${PREFIX}/businesses/:businessId/billing/notices`,
    {
      schema: {
        tags: ['billing'],
        security: [{ bearer: [] }],
        summary: "The business's billing notices",
        params: businessParams,
      },
    },
    async (request) => {
      const actor = await auth.authenticate(request);
      await deps.business.requireManager(actor, request.params.businessId);
      return { notices: await deps.notices.list('business', request.params.businessId) };
    },
  );

  r.get(
    `${PREFIX}/me/billing/notices`,
    { schema: { tags: ['billing'], security: [{ bearer: [] }], summary: 'My billing notices' } },
    async (request) => {
      const actor = await auth.authenticate(request);
      return { notices: await deps.notices.list('person', actor.accountId) };
    },
  );

  r.get(
    `${PREFIX}/me/billing/consumer-plan`,
    {
      schema: {
        tags: ['billing'],
        security: [{ bearer: [] }],
        summary: 'My consumer plan: until when sending is covered',
      },
    },
    async (request) => {
      const actor = await auth.authenticate(request);
      return await deps.consumerPlan.status(actor.accountId);
    },
  );

  r.post(
    `${PREFIX}/me/billing/consumer-plan/renew`,
    {
      schema: {
        tags: ['billing'],
        security: [{ bearer: [] }],
        summary: 'Pay the annual fee and extend the consumer plan by a year',
        body: z.object({ payment_provider: z.string().min(1) }),
      },
    },
    async (request) => {
      const actor = await auth.authenticate(request);
      return await deps.consumerPlan.renew(actor.accountId, { provider: request.body.payment_provider });
    },
  );

  r.post(
    `${PREFIX}/admin/billing/accounts/:businessId/top-ups`,
    {
      schema: {
        tags: ['admin'],
        security: [{ operator: [] }],
        summary: 'Operator: record money received for a business (a receipt; idempotent by key)',
        params: businessParams,
        body: z.object({
          amount_minor: z.union([z.string(), z.number()]),
          key: z.string().min(1).max(200),
          reference: z.string().max(200).nullable().optional(),
          provider: z.string().optional(),
        }),
      },
    },
    async (request) => {
      await auth.authenticateOperator(request);
      const { amount_minor, key, reference, provider } = request.body;
      return await deps.payments.topUpBusiness(request.params.businessId, {
        amountMinor: amount_minor,
        key,
        reference: reference ?? null,
        ...(provider === undefined ? {} : { provider }),
      });
    },
  );

  r.get(
    `${PREFIX}/admin/billing/consumer-plan`,
    {
      schema: {
        tags: ['admin'],
        security: [{ operator: [] }],
        summary: 'Operator: the consumer plan setting',
      },
    },
    async (request) => {
      await auth.authenticateOperator(request);
      return await deps.consumerPlan.settings();
    },
  );

  r.put(
    `${PREFIX}/admin/billing/consumer-plan`,
    {
      schema: {
        tags: ['admin'],
        security: [{ operator: [] }],
        summary: 'Operator: edit the consumer plan setting',
        body: z.object({
          enabled: z.boolean().optional(),
          // A string or a safe integer, as every amount sent to the API (docs/billing.md).
          annual_fee_minor: z.union([z.string(), z.number()]).optional(),
          currency: z.string().optional(),
          free_days: z.number().int().optional(),
          reminder_days: z.array(z.number().int()).optional(),
          grace_days: z.number().int().optional(),
        }),
      },
    },
    async (request) => {
      await auth.authenticateOperator(request);
      const { annual_fee_minor, ...rest } = request.body;
      const patch = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
      return await deps.consumerPlan.set({
        ...patch,
        // BILLING_INVALID_AMOUNT for a negative, fractional or non-numeric fee.
        ...(annual_fee_minor === undefined
          ? {}
          : { annual_fee_minor: parseAmountMinor(annual_fee_minor).toString() }),
      });
    },
  );
}
