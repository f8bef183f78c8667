/**
 * REST edge of invoices, tax rates and credit notes. A business's owners and admins read its
 * invoices (JSON and PDF); the operator (admin token) lists, closes, finalizes, pays and voids
 * them, sets tax rates and issues credit notes.
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponse } from '../../http/schemas.js';
import type { RouteAuth } from '../../http/server.js';
import type { DeviceActor } from '../accounts/index.js';
import { renderInvoicePdf } from './invoice-pdf.js';
import type { InvoiceView } from './invoices.present.js';
import type { InvoicesService } from './invoices.service.js';
import type { TaxService } from './tax.service.js';

const money = z.string().regex(/^-?\d+$/);
const iso = z.string().nullable();
const invoiceSummary = z.object({
  invoice_id: z.string(),
  number: z.string().nullable(),
  status: z.enum(['draft', 'finalized', 'paid', 'void']),
  period: z.string(),
  currency: z.string(),
  billing_account_id: z.string(),
  business_id: z.string().nullable(),
  person_account_id: z.string().nullable(),
  issued_at: iso,
  due_at: iso,
  paid_at: iso,
  voided_at: iso,
  void_reason: z.string().nullable(),
  payment: z.object({ provider: z.string(), reference: z.string().nullable() }).nullable(),
  tax: z
    .object({ country: z.string(), rate_bps: z.number(), name: z.string(), posted: z.boolean() })
    .nullable(),
  subtotal_minor: money,
  tax_minor: money,
  credits_minor: money,
  total_minor: money,
  formatted: z.object({ subtotal: z.string(), tax: z.string(), credits: z.string(), total: z.string() }),
});
const invoiceView = invoiceSummary.extend({
  lines: z.array(
    z.object({
      position: z.number(),
      kind: z.string(),
      stream: z.string(),
      category: z.string().nullable(),
      market: z.string().nullable(),
      quantity: z.number(),
      unit_price_micros: money,
      unit_price: z.string(),
      amount_minor: money,
      amount: z.string(),
      description: z.string(),
    }),
  ),
});
const taxRate = z.object({
  country: z.string(),
  rate_bps: z.number(),
  name: z.string(),
  effective_from: z.string(),
});
const creditNote = z.object({
  credit_note_id: z.string(),
  number: z.string(),
  billing_account_id: z.string(),
  invoice_id: z.string().nullable(),
  stream: z.string(),
  currency: z.string(),
  amount_minor: money,
  amount: z.string(),
  reason: z.string(),
  applied_invoice_id: z.string().nullable(),
  created_at: z.string(),
});
const errors = {
  400: errorResponse,
  401: errorResponse,
  403: errorResponse,
  404: errorResponse,
  409: errorResponse,
};
const businessParams = z.object({ businessId: z.string().min(1).max(64) });
const invoiceParams = z.object({ invoiceId: z.string().min(1).max(64) });
const period = z.string().regex(/^\d{4}-\d{2}$/, 'YYYY-MM');

export interface InvoicesRoutesDeps {
  invoices: InvoicesService;
  tax: Pick<TaxService, 'list' | 'set'>;
  /** The business module's rule: only a business's owners and admins see its billing. */
  requireManager(actor: DeviceActor, businessId: string): Promise<unknown>;
  /** Shown at the top of PDFs (default "Parley"). */
  operatorName?: string | undefined;
}

export async function invoicesRoutes(
  app: FastifyInstance,
  auth: RouteAuth,
  deps: InvoicesRoutesDeps,
): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { invoices } = deps;
  const pdf = async (view: InvoiceView) =>
    renderInvoicePdf(view, {
      operatorName: deps.operatorName,
      customerName: view.business_id ? await invoices.businessName(view.business_id) : undefined,
    });

  // Business-facing.
  r.get(
    '/api/v1/businesses/:businessId/billing/invoices',
    {
      schema: {
        tags: ['billing'],
        security: [{ bearer: [] }],
        summary: 'The business’s invoices, newest period first (drafts included)',
        params: businessParams,
        response: { 200: z.object({ invoices: z.array(invoiceSummary) }), ...errors },
      },
    },
    async (request) => {
      await deps.requireManager(await auth.authenticate(request), request.params.businessId);
      return { invoices: await invoices.list({ businessId: request.params.businessId }) };
    },
  );
  r.get(
    '/api/v1/businesses/:businessId/billing/invoices/:invoiceId',
    {
      schema: {
        tags: ['billing'],
        security: [{ bearer: [] }],
        summary: 'An invoice as JSON: lines, subtotal, tax, credits and total (minor units and formatted)',
        params: businessParams.merge(invoiceParams),
        response: { 200: invoiceView, ...errors },
      },
    },
    async (request) => {
      await deps.requireManager(await auth.authenticate(request), request.params.businessId);
      return invoices.getForBusiness(request.params.businessId, request.params.invoiceId);
    },
  );
  r.get(
    '/api/v1/businesses/:businessId/billing/invoices/:invoiceId/pdf',
    {
      schema: {
        tags: ['billing'],
        security: [{ bearer: [] }],
        summary: 'An invoice as a PDF',
        params: businessParams.merge(invoiceParams),
      },
    },
    async (request, reply) => {
      await deps.requireManager(await auth.authenticate(request), request.params.businessId);
      const view = await invoices.getForBusiness(request.params.businessId, request.params.invoiceId);
      return reply
        .header('content-type', 'application/pdf')
        .header('content-disposition', `inline; filename="${view.number ?? view.invoice_id}.pdf"`)
        .send(await pdf(view));
    },
  );

  // Operator.
  r.get(
    '/api/v1/admin/billing/invoices',
    {
      schema: {
        tags: ['admin'],
        security: [{ operator: [] }],
        summary: 'Operator: invoices by period, status or business',
        querystring: z.object({
          period: period.optional(),
          status: z.enum(['draft', 'finalized', 'paid', 'void']).optional(),
          business_id: z.string().max(64).optional(),
          limit: z.coerce.number().int().min(1).max(1000).optional(),
        }),
        response: { 200: z.object({ invoices: z.array(invoiceSummary) }), ...errors },
      },
    },
    async (request) => {
      await auth.authenticateOperator(request);
      const q = request.query;
      return {
        invoices: await invoices.list({
          period: q.period,
          status: q.status,
          businessId: q.business_id,
          limit: q.limit,
        }),
      };
    },
  );
  r.post(
    '/api/v1/admin/billing/invoices/close',
    {
      schema: {
        tags: ['admin'],
        security: [{ operator: [] }],
        summary: 'Operator: draft and finalize the period’s invoices of every account with charges',
        body: z.object({ period }),
        response: {
          200: z.object({ period: z.string(), finalized: z.number(), invoices: z.number() }),
          ...errors,
        },
      },
    },
    async (request) => {
      await auth.authenticateOperator(request);
      return invoices.closePeriod(request.body.period);
    },
  );
  r.get(
    '/api/v1/admin/billing/invoices/:invoiceId',
    {
      schema: {
        tags: ['admin'],
        security: [{ operator: [] }],
        summary: 'Operator: an invoice as JSON',
        params: invoiceParams,
        response: { 200: invoiceView, ...errors },
      },
    },
    async (request) => {
      await auth.authenticateOperator(request);
      return invoices.get(request.params.invoiceId);
    },
  );
  r.get(
    '/api/v1/admin/billing/invoices/:invoiceId/pdf',
    {
      schema: {
        tags: ['admin'],
        security: [{ operator: [] }],
        summary: 'Operator: an invoice as a PDF',
        params: invoiceParams,
      },
    },
    async (request, reply) => {
      await auth.authenticateOperator(request);
      const view = await invoices.get(request.params.invoiceId);
      return reply.header('content-type', 'application/pdf').send(await pdf(view));
    },
  );
  r.post(
    '/api/v1/admin/billing/invoices/:invoiceId/finalize',
    {
      schema: {
        tags: ['admin'],
        security: [{ operator: [] }],
        summary: 'Operator: finalize a draft (next number, tax posted)',
        params: invoiceParams,
        response: { 200: invoiceView, ...errors },
      },
    },
    async (request) => {
      await auth.authenticateOperator(request);
      return invoices.finalize(request.params.invoiceId);
    },
  );
  r.post(
    '/api/v1/admin/billing/invoices/:invoiceId/pay',
    {
      schema: {
        tags: ['admin'],
        security: [{ operator: [] }],
        summary: 'Operator: mark a finalized invoice paid (manual provider)',
        params: invoiceParams,
        // nullish, not optional: a POST without a body reaches the validator as null, and
        // paying needs no body (was a 400 VALIDATION_FAILED).
        body: z
          .object({
            provider: z.string().min(1).max(32).optional(),
            reference: z.string().max(200).optional(),
          })
          .nullish(),
        response: { 200: invoiceView, ...errors },
      },
    },
    async (request) => {
      await auth.authenticateOperator(request);
      return invoices.markPaid(request.params.invoiceId, request.body ?? {});
    },
  );
  r.post(
    '/api/v1/admin/billing/invoices/:invoiceId/void',
    {
      schema: {
        tags: ['admin'],
        security: [{ operator: [] }],
        summary: 'Operator: void a finalized invoice (keeps its number, reverses its tax)',
        params: invoiceParams,
        body: z.object({ reason: z.string().min(1).max(500) }),
        response: { 200: invoiceView, ...errors },
      },
    },
    async (request) => {
      await auth.authenticateOperator(request);
      return invoices.void(request.params.invoiceId, request.body.reason);
    },
  );
  r.get(
    '/api/v1/admin/billing/tax-rates',
    {
      schema: {
        tags: ['admin'],
        security: [{ operator: [] }],
        summary: 'Operator: tax rates per country and their effective dates',
        response: { 200: z.object({ tax_rates: z.array(taxRate) }), ...errors },
      },
    },
    async (request) => {
      await auth.authenticateOperator(request);
      return { tax_rates: await deps.tax.list() };
    },
  );
  r.put(
    '/api/v1/admin/billing/tax-rates',
    {
      schema: {
        tags: ['admin'],
        security: [{ operator: [] }],
        summary: 'Operator: set a country’s tax rate (basis points; 0 = none) from a date on',
        body: z.object({
          country: z.string().max(8),
          rate_bps: z.number(),
          name: z.string().max(64).optional(),
          from: z.string().max(40).optional(),
        }),
        response: { 200: taxRate, ...errors },
      },
    },
    async (request) => {
      await auth.authenticateOperator(request);
      return deps.tax.set(request.body);
    },
  );
  r.post(
    '/api/v1/admin/billing/credit-notes',
    {
      schema: {
        tags: ['admin'],
        security: [{ operator: [] }],
        summary: 'Operator: issue a credit note (credited now, taken off the next invoices)',
        body: z.object({
          business_id: z.string().min(1).max(64),
          amount_minor: z.union([z.string(), z.number()]),
          reason: z.string().max(500),
          invoice_id: z.string().max(64).optional(),
          stream: z.string().max(32).optional(),
        }),
        response: { 200: creditNote, ...errors },
      },
    },
    async (request) => {
      await auth.authenticateOperator(request);
      const b = request.body;
      return invoices.issueCredit({
        businessId: b.business_id,
        amountMinor: b.amount_minor,
        reason: b.reason,
        invoiceId: b.invoice_id,
        stream: b.stream,
      });
    },
  );
}
