/**
 * REST edge of partners. The operator (admin token) manages partners under
 * `/api/v1/admin/partners`; a partner's members (device tokens) read their partner, its clients
 * and their usage under `/api/v1/partners`, where anyone else gets 404 as for a missing partner.
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponse } from '../../http/schemas.js';
import type { RouteAuth } from '../../http/server.js';
import type { PartnersService } from './partners.service.js';
import { sendCsv, toCsv, wantsCsv } from './revenue.csv.js';

const markupView = { markup_bps: z.number(), markup_micros: z.string() };
const partnerView = z.object({
  partner_id: z.string(),
  name: z.string(),
  ...markupView,
  markups: z.array(z.object({ category: z.string(), ...markupView })),
  clients: z.array(z.object({ business_id: z.string(), name: z.string().nullable(), since: z.string() })),
  members: z.array(
    z.object({
      account_id: z.string(),
      phone: z.string().nullable(),
      name: z.string().nullable(),
      role: z.enum(['admin', 'viewer']),
    }),
  ),
  created_at: z.string(),
});
const usageAmounts = {
  currency: z.string(),
  count: z.number(),
  billable: z.number(),
  operator_minor: z.string(),
  partner_minor: z.string(),
  operator_micros: z.string(),
  partner_micros: z.string(),
};
const usageView = z.object({
  partner_id: z.string(),
  period: z.string(),
  lines: z.array(
    z.object({
      business_id: z.string(),
      business_name: z.string().nullable(),
      category: z.string().nullable(),
      ...usageAmounts,
    }),
  ),
  totals: z.array(z.object(usageAmounts)),
});
const partnerParams = z.object({ partner_id: z.string().min(1).max(64) });
// Numbers or digit strings; the service says what is wrong with BILLING_PARTNER_INVALID.
const amount = z.union([z.number(), z.string().max(32)]);
const errors = { 400: errorResponse, 401: errorResponse, 404: errorResponse };

export async function partnersRoutes(
  app: FastifyInstance,
  auth: RouteAuth,
  deps: { partners: PartnersService },
): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { partners } = deps;
  const admin = { tags: ['admin'], security: [{ operator: [] }] };
  const member = { tags: ['partners'], security: [{ bearer: [] }] };

  r.get(
    '/api/v1/admin/partners',
    {
      schema: {
        ...admin,
        summary: 'Partners',
        response: { 200: z.object({ partners: z.array(partnerView) }), ...errors },
      },
    },
    async (request) => {
      await auth.authenticateOperator(request);
      return { partners: await partners.list() };
    },
  );

  r.post(
    '/api/v1/admin/partners',
    {
      schema: {
        ...admin,
        summary:
          'Create a partner with its default markup (basis points of the unit price plus micros per unit)',
        body: z.object({
          name: z.string().max(200),
          markup_bps: amount.optional(),
          markup_micros: amount.optional(),
        }),
        response: { 201: partnerView, ...errors },
      },
    },
    async (request, reply) => {
      await auth.authenticateOperator(request);
      const { name, markup_bps, markup_micros } = request.body;
      return reply
        .code(201)
        .send(await partners.create({ name, markupBps: markup_bps, markupMicros: markup_micros }));
    },
  );

  r.get(
    '/api/v1/admin/partners/:partner_id',
    {
      schema: {
        ...admin,
        summary: 'A partner',
        params: partnerParams,
        response: { 200: partnerView, ...errors },
      },
    },
    async (request) => {
      await auth.authenticateOperator(request);
      return partners.get(request.params.partner_id);
    },
  );

  r.put(
    '/api/v1/admin/partners/:partner_id/markup',
    {
      schema: {
        ...admin,
        summary: 'Set the partner’s default markup, or with `category` that category’s',
        params: partnerParams,
        body: z.object({
          category: z.string().max(64).optional(),
          markup_bps: amount,
          markup_micros: amount.optional(),
        }),
        response: { 200: partnerView, ...errors },
      },
    },
    async (request) => {
      await auth.authenticateOperator(request);
      const { category, markup_bps, markup_micros } = request.body;
      return partners.setMarkup(request.params.partner_id, {
        category,
        bps: markup_bps,
        micros: markup_micros,
      });
    },
  );

  const clientParams = partnerParams.extend({ business_id: z.string().min(1).max(64) });
  r.put(
    '/api/v1/admin/partners/:partner_id/clients/:business_id',
    {
      schema: {
        ...admin,
        summary: 'Make the business a client of the partner (moving it from another partner)',
        params: clientParams,
        response: { 200: partnerView, ...errors },
      },
    },
    async (request) => {
      await auth.authenticateOperator(request);
      return partners.attach(request.params.partner_id, request.params.business_id);
    },
  );

  r.delete(
    '/api/v1/admin/partners/:partner_id/clients/:business_id',
    {
      schema: {
        ...admin,
        summary: 'Take the business from the partner',
        params: clientParams,
        response: { 200: z.object({ business_id: z.string(), partner_id: z.string() }), ...errors },
      },
    },
    async (request) => {
      await auth.authenticateOperator(request);
      return partners.detach(request.params.business_id, request.params.partner_id);
    },
  );

  r.put(
    '/api/v1/admin/partners/:partner_id/members',
    {
      schema: {
        ...admin,
        summary: 'Add a person (E.164 phone or account id) as a member, or change their role',
        params: partnerParams,
        body: z.object({ member: z.string().min(1).max(64), role: z.string().max(16).optional() }),
        response: { 200: partnerView, ...errors },
      },
    },
    async (request) => {
      await auth.authenticateOperator(request);
      return partners.addMember(request.params.partner_id, request.body.member, request.body.role);
    },
  );

  r.delete(
    '/api/v1/admin/partners/:partner_id/members/:account_id',
    {
      schema: {
        ...admin,
        summary: 'Remove a member',
        params: partnerParams.extend({ account_id: z.string().min(1).max(64) }),
        response: { 200: partnerView, ...errors },
      },
    },
    async (request) => {
      await auth.authenticateOperator(request);
      return partners.removeMember(request.params.partner_id, request.params.account_id);
    },
  );

  r.get(
    '/api/v1/partners',
    {
      schema: {
        ...member,
        summary: 'The partners you are a member of',
        response: {
          200: z.object({
            partners: z.array(
              z.object({ partner_id: z.string(), name: z.string(), role: z.enum(['admin', 'viewer']) }),
            ),
          }),
          401: errorResponse,
        },
      },
    },
    async (request) => ({ partners: await partners.mine(await auth.authenticate(request)) }),
  );

  r.get(
    '/api/v1/partners/:partner_id',
    {
      schema: {
        ...member,
        summary: 'Your partner and its clients (members listed for its admins)',
        params: partnerParams,
        response: { 200: partnerView.extend({ role: z.enum(['admin', 'viewer']) }), ...errors },
      },
    },
    async (request) => partners.forMember(await auth.authenticate(request), request.params.partner_id),
  );

  r.get(
    '/api/v1/partners/:partner_id/usage',
    {
      schema: {
        ...member,
        summary:
          'A month’s usage of your clients: per client × category × currency, messages, the operator’s amount and your markup',
        params: partnerParams,
        querystring: z.object({ period: z.string().max(32), format: z.enum(['json', 'csv']).optional() }),
        response: {
          200: usageView.or(z.string().describe('CSV (text/csv), with `Accept: text/csv` or `?format=csv`')),
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const view = await partners.usage(
        await auth.authenticate(request),
        request.params.partner_id,
        request.query.period,
      );
      if (!wantsCsv(request, request.query.format)) return view;
      return sendCsv(
        reply,
        `usage-${view.partner_id}-${view.period}.csv`,
        toCsv(view.lines, [
          'business_id',
          'business_name',
          'category',
          'currency',
          'count',
          'billable',
          'operator_minor',
          'partner_minor',
          'operator_micros',
          'partner_micros',
        ]),
      );
    },
  );
}
