/**
 * The invoice, tax-rate and credit-note routes over real HTTP, on SQLite and PostgreSQL.
 *
 * A month of usage is metered through the billing services for three businesses (a prepaid
 * one with German VAT, one on a credit line without a tax country, and a second prepaid German
 * one); then the operator finalizes, closes the month, pays, voids and credits over the admin
 * API, and the businesses read their invoices as JSON and PDF. Every refused request (no
 * token, a wrong token, another business, bad input, an invoice past draft) answers its
 * documented code and changes nothing: the invoice, its number counter and the ledger
 * balances are checked after each refusal.
 */
import { inflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/platform/clock.js';
import { newPhone } from '../harness/builders.js';
import { type Answer, apiCaller } from '../harness/http.js';
import { startTestServer, type TestServer } from '../harness/server.js';
import { PG_AVAILABLE } from '../harness/storage.js';

const CARD =
  'category,market,unit_price,from_count\nmarketing,*,0.05,\nmarketing,US,0.0275,\nutility,*,0.0044,\n';
const NOV = Date.parse('2026-11-02T09:00:00Z');
const DEC = Date.parse('2026-12-01T10:00:00Z');
const DAY = 86_400_000;

/** The text runs of a pdfkit PDF (its content streams inflated, TJ hex strings decoded). */
function pdfText(pdf: Buffer): string {
  const latin = pdf.toString('latin1');
  const out: string[] = [];
  for (const m of latin.matchAll(/stream\r?\n/g)) {
    const start = (m.index ?? 0) + m[0].length;
    const end = latin.indexOf('endstream', start);
    let content: string;
    try {
      content = inflateSync(pdf.subarray(start, end)).toString('latin1');
    } catch {
      continue;
    }
    for (const run of content.matchAll(/\[([^\]]*)\] TJ/g)) {
      out.push(
        [...(run[1] ?? '').matchAll(/<([0-9a-f]*)>/g)]
          .map((h) => Buffer.from(h[1] ?? '', 'hex').toString('latin1'))
          .join(''),
      );
    }
  }
  return out.join('\n');
}

for (const dialect of ['sqlite', 'postgres'] as const)
  (dialect === 'postgres' && !PG_AVAILABLE ? describe.skip : describe)(
    `invoice, tax-rate and credit-note routes [${dialect}]`,
    () => {
      const clock = createManualClock(NOV);
      let server: TestServer;
      let op: string;
      beforeAll(async () => {
        // The api role only: the worker's month closing must not race the operator's.
        server = await startTestServer({ dialect, clock, env: { PARLEY_ROLES: 'api' } });
        const token = server.platform.secrets.operator_token;
        if (!token) throw new Error('the data folder has no operator token');
        op = token;
      });
      afterAll(async () => {
        await server?.close();
      });

      const call = apiCaller(() => server.url);
      const refused = (a: Answer) => [a.status, a.body?.error?.code];

      it('serves invoices, tax rates and credit notes with exact amounts; refusals change nothing', async () => {
        const { billing, business, ledger, accounts } = server.modules;
        const db = server.platform.db.kysely;
        await billing.rateCards.importCsv(CARD, { currency: 'USD', name: 'routes' });

        // --- Tax rates -------------------------------------------------------------------
        const taxPath = '/api/v1/admin/billing/tax-rates';
        for (const token of [undefined, 'not-the-operator-token']) {
          expect(refused(await call('GET', taxPath, token))).toEqual([401, 'OPERATOR_UNAUTHENTICATED']);
          expect(
            refused(await call('PUT', taxPath, token, { country: 'DE', rate_bps: 1900, name: 'VAT' })),
          ).toEqual([401, 'OPERATOR_UNAUTHENTICATED']);
        }
        const vat = await call('PUT', taxPath, op, {
          country: 'de',
          rate_bps: 1900,
          name: 'VAT',
          from: '2026-01-01',
        });
        expect(vat.status).toBe(200);
        expect(vat.body).toEqual({
          country: 'DE',
          rate_bps: 1900,
          name: 'VAT',
          effective_from: '2026-01-01T00:00:00.000Z',
        });
        for (const bad of [
          { country: 'DE', rate_bps: 10_001 },
          { country: 'DE', rate_bps: 19.5 },
          { country: 'DE', rate_bps: -1 },
          { country: 'DEU', rate_bps: 1900 },
          { country: 'DE', rate_bps: 1900, name: '  ' },
          { country: 'DE', rate_bps: 1900, from: 'next tuesday' },
        ]) {
          expect(refused(await call('PUT', taxPath, op, bad)), JSON.stringify(bad)).toEqual([
            400,
            'BILLING_TAX_RATE_INVALID',
          ]);
        }
        expect(refused(await call('PUT', taxPath, op, { country: 'DE' }))).toEqual([
          400,
          'VALIDATION_FAILED',
        ]);
        expect((await call('GET', taxPath, op)).body).toEqual({
          tax_rates: [
            { country: 'DE', rate_bps: 1900, name: 'VAT', effective_from: '2026-01-01T00:00:00.000Z' },
          ],
        });

        // --- Three businesses and a month of usage ----------------------------------------
        const owner = await server.newPerson('Olga');
        const agent = await server.newPerson('Andy');
        const stranger = await server.newPerson('Sam');
        const a = await business.create({ name: 'Alpha GmbH', phone: newPhone(), owner: owner.account_id });
        const b = await business.create({ name: 'Beta Ltd', phone: newPhone() });
        const c = await business.create({ name: 'Gamma GmbH', phone: newPhone() });
        // Premium lets the owner add a second agent; the agent is not a manager.
        await business.setPlan(a.business_id, 'premium');
        await business.addAgent(
          await accounts.authenticate(owner.token),
          a.business_id,
          agent.phone,
          'agent',
        );

        await billing.accounts.configure('business', a.business_id, { country: 'DE' });
        await billing.accounts.configure('business', b.business_id, {
          mode: 'credit',
          creditLimitMinor: 50_000n,
        });
        await billing.accounts.configure('business', c.business_id, { country: 'DE' });
        await billing.payments.topUpBusiness(a.business_id, { amountMinor: 10_000n, key: 'inv-a-1' });
        await billing.payments.topUpBusiness(c.business_id, { amountMinor: 1_000n, key: 'inv-c-1' });

        let n = 0;
        const events = (
          biz: { business_id: string; phone_number_id: string },
          count: number,
          category: 'marketing' | 'utility',
          market: string,
          windowOpen = false,
        ) =>
          Array.from({ length: count }, () => {
            n++;
            return {
              event_key: `delivered:wamid.routes.${n}`,
              business_id: biz.business_id,
              phone_number_id: biz.phone_number_id,
              category,
              market,
              window_open: windowOpen ? 1 : 0,
              recipient: `4917600000${String(n).padStart(3, '0')}`,
              occurred_at: NOV + 3_600_000 + n * 1000,
            };
          });
        const usage = [
          ...events(a, 30, 'marketing', 'US'),
          ...events(a, 5, 'marketing', 'DE'),
          ...events(a, 5, 'utility', 'BR'),
          ...events(a, 2, 'utility', 'US', true),
          ...events(b, 4, 'marketing', 'US'),
          ...events(c, 2, 'marketing', 'DE'),
        ];
        clock.set(NOV + DAY);
        expect(await db.transaction().execute((tx) => billing.metering.meter(tx, usage))).toBe(48);

        const ledgerAccount = async (bizId: string) => {
          const account = await billing.accounts.get('business', bizId);
          if (!account) throw new Error(`no billing account for ${bizId}`);
          return account;
        };
        const balance = async (bizId: string) =>
          (await ledger.balance((await ledgerAccount(bizId)).ledger_account_id)).posted;
        // Usage posts whole cents (the sub-cent rest is carried): A 1,097,000 micros → 109.
        expect([
          await balance(a.business_id),
          await balance(b.business_id),
          await balance(c.business_id),
        ]).toEqual([9_891n, -11n, 990n]);

        // --- December: credit notes ----------------------------------------------------------
        clock.set(DEC);
        const cnPath = '/api/v1/admin/billing/credit-notes';
        const credit = { business_id: a.business_id, amount_minor: '30', reason: 'Goodwill' };
        for (const token of [undefined, owner.token]) {
          expect(refused(await call('POST', cnPath, token, credit))).toEqual([
            401,
            'OPERATOR_UNAUTHENTICATED',
          ]);
        }
        for (const bad of [
          { ...credit, amount_minor: '-5' },
          { ...credit, amount_minor: -5 },
          { ...credit, amount_minor: '1.5' },
          { ...credit, amount_minor: 1.5 },
          { ...credit, amount_minor: '0' },
          { ...credit, reason: '   ' },
          { ...credit, stream: 'lottery' },
          { ...credit, business_id: 'biz_nobody' },
        ]) {
          expect(refused(await call('POST', cnPath, op, bad)), JSON.stringify(bad)).toEqual([
            400,
            'BILLING_CREDIT_INVALID',
          ]);
        }
        expect(await balance(a.business_id)).toBe(9_891n);
        const note = await call('POST', cnPath, op, credit);
        expect(note.status).toBe(200);
        expect(note.body).toEqual({
          credit_note_id: expect.stringMatching(/^crn_/),
          // The refused attempts above took no number: the first note is 000001.
          number: 'PAR-CN-2026-000001',
          billing_account_id: (await ledgerAccount(a.business_id)).id,
          invoice_id: null,
          stream: 'api_messages',
          currency: 'USD',
          amount_minor: '30',
          amount: 'USD 0.30',
          reason: 'Goodwill',
          applied_invoice_id: null,
          created_at: new Date(DEC).toISOString(),
        });
        expect(await balance(a.business_id)).toBe(9_921n);

        // --- A's draft, seen by the business ---------------------------------------------------
        const accountA = await ledgerAccount(a.business_id);
        const draft = await db
          .transaction()
          .execute((tx) => billing.invoices.draftFor(tx, accountA.id, '2026-11'));
        const invA = draft.invoice_id;
        expect(invA).toMatch(/^inv_/);
        const bizPath = `/api/v1/businesses/${a.business_id}/billing/invoices`;
        const listed = await call('GET', bizPath, owner.token);
        expect(listed.status).toBe(200);
        expect(listed.body.invoices).toEqual([
          expect.objectContaining({
            invoice_id: invA,
            number: null,
            status: 'draft',
            period: '2026-11',
            subtotal_minor: '109',
            tax_minor: '21',
            credits_minor: '30',
            total_minor: '100',
          }),
        ]);
        expect(listed.body.invoices[0]).not.toHaveProperty('lines');

        // Who may read it: the owner; not an agent, another person, or nobody.
        for (const path of [bizPath, `${bizPath}/${invA}`, `${bizPath}/${invA}/pdf`]) {
          expect(refused(await call('GET', path)), path).toEqual([401, 'UNAUTHENTICATED']);
          expect(refused(await call('GET', path, stranger.token)), path).toEqual([404, 'BUSINESS_NOT_FOUND']);
          expect(refused(await call('GET', path, agent.token)), path).toEqual([
            403,
            'BUSINESS_ROLE_REQUIRED',
          ]);
          expect(refused(await call('GET', path, op)), path).toEqual([401, 'UNAUTHENTICATED']);
        }
        expect(refused(await call('GET', `${bizPath}/inv_unknown`, owner.token))).toEqual([
          404,
          'BILLING_INVOICE_NOT_FOUND',
        ]);

        // --- Admin routes refuse without the operator token and change nothing ---------------
        const adm = '/api/v1/admin/billing/invoices';
        const adminCalls: [string, string, unknown?][] = [
          ['GET', adm],
          ['POST', `${adm}/close`, { period: '2026-11' }],
          ['GET', `${adm}/${invA}`],
          ['GET', `${adm}/${invA}/pdf`],
          ['POST', `${adm}/${invA}/finalize`],
          ['POST', `${adm}/${invA}/pay`, {}],
          ['POST', `${adm}/${invA}/void`, { reason: 'x' }],
        ];
        for (const [method, path, body] of adminCalls) {
          for (const token of [undefined, 'wrong', owner.token]) {
            expect(refused(await call(method, path, token, body)), `${method} ${path}`).toEqual([
              401,
              'OPERATOR_UNAUTHENTICATED',
            ]);
          }
        }
        expect((await call('GET', `${adm}?period=2026-11`, op)).body.invoices).toEqual([
          expect.objectContaining({ invoice_id: invA, status: 'draft', number: null }),
        ]);

        // Bad input.
        for (const q of ['period=2026-13', 'period=nov', 'status=open', 'limit=0', 'limit=1001']) {
          expect(refused(await call('GET', `${adm}?${q}`, op)), q).toEqual([400, 'VALIDATION_FAILED']);
        }
        for (const body of [{ period: '2026-13' }, { period: '11-2026' }, {}]) {
          expect(refused(await call('POST', `${adm}/close`, op, body)), JSON.stringify(body)).toEqual([
            400,
            'VALIDATION_FAILED',
          ]);
        }
        for (const [method, path, body] of [
          ['GET', `${adm}/inv_unknown`],
          ['GET', `${adm}/inv_unknown/pdf`],
          ['POST', `${adm}/inv_unknown/finalize`],
          ['POST', `${adm}/inv_unknown/pay`, {}],
          ['POST', `${adm}/inv_unknown/void`, { reason: 'typo' }],
        ] as [string, string, unknown?][]) {
          expect(refused(await call(method, path, op, body)), `${method} ${path}`).toEqual([
            404,
            'BILLING_INVOICE_NOT_FOUND',
          ]);
        }
        // A draft cannot be paid or voided.
        expect(refused(await call('POST', `${adm}/${invA}/pay`, op, {}))).toEqual([
          409,
          'BILLING_INVOICE_NOT_FINALIZED',
        ]);
        expect(refused(await call('POST', `${adm}/${invA}/void`, op, { reason: 'no' }))).toEqual([
          409,
          'BILLING_INVOICE_NOT_FINALIZED',
        ]);
        expect(refused(await call('POST', `${adm}/${invA}/void`, op, {}))).toEqual([
          400,
          'VALIDATION_FAILED',
        ]);
        expect((await call('GET', `${adm}/${invA}`, op)).body).toMatchObject({
          status: 'draft',
          number: null,
        });
        expect(await balance(a.business_id)).toBe(9_921n);

        // --- Finalize A: the first number of the year, tax posted, credit taken off --------
        const fin = await call('POST', `${adm}/${invA}/finalize`, op);
        expect(fin.status).toBe(200);
        const expectedA = {
          invoice_id: invA,
          number: 'PAR-2026-000001',
          status: 'finalized',
          period: '2026-11',
          currency: 'USD',
          billing_account_id: accountA.id,
          business_id: a.business_id,
          person_account_id: null,
          issued_at: new Date(DEC).toISOString(),
          due_at: new Date(DEC + 14 * DAY).toISOString(),
          paid_at: null,
          voided_at: null,
          void_reason: null,
          payment: null,
          tax: { country: 'DE', rate_bps: 1900, name: 'VAT', posted: true },
          subtotal_minor: '109',
          tax_minor: '21',
          credits_minor: '30',
          total_minor: '100',
          formatted: { subtotal: 'USD 1.09', tax: 'USD 0.21', credits: 'USD 0.30', total: 'USD 1.00' },
          lines: [
            {
              position: 1,
              kind: 'usage',
              stream: 'api_messages',
              category: 'marketing',
              market: 'DE',
              quantity: 5,
              unit_price_micros: '50000',
              unit_price: 'USD 0.05',
              amount_minor: '25',
              amount: 'USD 0.25',
              description: 'Marketing messages to DE',
            },
            {
              position: 2,
              kind: 'usage',
              stream: 'api_messages',
              category: 'marketing',
              market: 'US',
              quantity: 30,
              unit_price_micros: '27500',
              unit_price: 'USD 0.0275',
              // 30 × 0.0275 = 0.825 USD = 82.5 cents, rounded once, half to even.
              amount_minor: '82',
              amount: 'USD 0.82',
              description: 'Marketing messages to US',
            },
            {
              position: 3,
              kind: 'usage',
              stream: 'api_messages',
              category: 'utility',
              market: 'BR',
              quantity: 5,
              unit_price_micros: '4400',
              unit_price: 'USD 0.0044',
              amount_minor: '2',
              amount: 'USD 0.02',
              description: 'Utility messages to BR',
            },
            {
              position: 4,
              kind: 'usage',
              stream: 'api_messages',
              category: 'utility',
              market: 'US',
              quantity: 2,
              unit_price_micros: '0',
              unit_price: 'USD 0',
              amount_minor: '0',
              amount: 'USD 0.00',
              description: 'Utility messages to US (free)',
            },
          ],
        };
        expect(fin.body).toEqual(expectedA);
        // 109 × 19 % = 20.71 → 21 posted to tax:DE.
        expect(await balance(a.business_id)).toBe(9_900n);

        const again = await call('POST', `${adm}/${invA}/finalize`, op);
        expect(refused(again)).toEqual([409, 'BILLING_INVOICE_NOT_DRAFT']);
        expect(again.body.error.details).toEqual({ invoice_id: invA, status: 'finalized' });
        expect((await call('GET', `${adm}/${invA}`, op)).body).toEqual(expectedA);
        expect((await call('GET', `${bizPath}/${invA}`, owner.token)).body).toEqual(expectedA);
        expect(await balance(a.business_id)).toBe(9_900n);

        // --- Close the month: B and C get the next numbers, without a gap --------------------
        const closed = await call('POST', `${adm}/close`, op, { period: '2026-11' });
        expect([closed.status, closed.body]).toEqual([200, { period: '2026-11', finalized: 2, invoices: 3 }]);
        const reclosed = await call('POST', `${adm}/close`, op, { period: '2026-11' });
        expect(reclosed.body).toEqual({ period: '2026-11', finalized: 0, invoices: 3 });

        const all = await call('GET', `${adm}?period=2026-11`, op);
        expect(all.status).toBe(200);
        expect(all.body.invoices.map((i: { number: string }) => i.number).sort()).toEqual([
          'PAR-2026-000001',
          'PAR-2026-000002',
          'PAR-2026-000003',
        ]);
        const one = async (bizId: string) => {
          const got = await call('GET', `${adm}?business_id=${bizId}`, op);
          expect(got.body.invoices).toHaveLength(1);
          return got.body.invoices[0];
        };
        const invB = await one(b.business_id);
        const invC = await one(c.business_id);
        expect(invB).toMatchObject({
          status: 'finalized',
          tax: null,
          subtotal_minor: '11',
          tax_minor: '0',
          credits_minor: '0',
          total_minor: '11',
        });
        // 2 × 0.05 = 10 cents; 19 % of 10 = 1.9 → 2.
        expect(invC).toMatchObject({
          status: 'finalized',
          tax: { country: 'DE', rate_bps: 1900, name: 'VAT', posted: true },
          subtotal_minor: '10',
          tax_minor: '2',
          total_minor: '12',
        });
        expect(await balance(c.business_id)).toBe(988n);
        expect((await call('GET', `${adm}?status=finalized&period=2026-11`, op)).body.invoices).toHaveLength(
          3,
        );
        expect((await call('GET', `${adm}?status=draft`, op)).body.invoices).toEqual([]);
        expect((await call('GET', `${adm}?period=2026-10`, op)).body.invoices).toEqual([]);
        expect((await call('GET', `${adm}?limit=1`, op)).body.invoices).toHaveLength(1);

        // A business sees only its own invoices.
        expect(
          (await call('GET', bizPath, owner.token)).body.invoices.map(
            (i: { invoice_id: string }) => i.invoice_id,
          ),
        ).toEqual([invA]);
        expect(refused(await call('GET', `${bizPath}/${invB.invoice_id}`, owner.token))).toEqual([
          404,
          'BILLING_INVOICE_NOT_FOUND',
        ]);
        expect(refused(await call('GET', `${bizPath}/${invB.invoice_id}/pdf`, owner.token))).toEqual([
          404,
          'BILLING_INVOICE_NOT_FOUND',
        ]);

        // --- PDFs agree with the JSON --------------------------------------------------------
        const pdf = await call('GET', `${bizPath}/${invA}/pdf`, owner.token);
        expect(pdf.status).toBe(200);
        expect(pdf.type).toBe('application/pdf');
        expect(pdf.headers.get('content-disposition')).toBe('inline; filename="PAR-2026-000001.pdf"');
        expect(pdf.raw.subarray(0, 5).toString('latin1')).toBe('%PDF-');
        const text = pdfText(pdf.raw);
        for (const s of [
          'PAR-2026-000001',
          'Alpha GmbH',
          'Period: 2026-11',
          'USD 1.00',
          'USD 0.21',
          'VAT 19 % (DE)',
          'Marketing messages to US',
        ]) {
          expect(text, s).toContain(s);
        }
        const adminPdf = await call('GET', `${adm}/${invC.invoice_id}/pdf`, op);
        expect([adminPdf.status, adminPdf.type]).toEqual([200, 'application/pdf']);
        expect(adminPdf.raw.subarray(0, 5).toString('latin1')).toBe('%PDF-');
        expect(pdfText(adminPdf.raw)).toContain(invC.number);
        expect(pdfText(adminPdf.raw)).toContain('Gamma GmbH');

        // --- Pay: a credit line is paid from outside; twice changes nothing -------------------
        expect(await balance(b.business_id)).toBe(-11n);
        const paid = await call('POST', `${adm}/${invB.invoice_id}/pay`, op, { reference: 'bank-123' });
        expect(paid.status).toBe(200);
        expect(paid.body).toMatchObject({
          status: 'paid',
          number: invB.number,
          paid_at: new Date(DEC).toISOString(),
          payment: { provider: 'manual', reference: 'bank-123' },
          total_minor: '11',
        });
        expect(await balance(b.business_id)).toBe(0n);
        clock.advance(60_000);
        const repaid = await call('POST', `${adm}/${invB.invoice_id}/pay`, op, { reference: 'bank-456' });
        expect(repaid.body).toEqual(paid.body);
        expect(await balance(b.business_id)).toBe(0n);
        expect(refused(await call('POST', `${adm}/${invB.invoice_id}/void`, op, { reason: 'late' }))).toEqual(
          [409, 'BILLING_INVOICE_NOT_FINALIZED'],
        );
        expect(refused(await call('POST', `${adm}/${invB.invoice_id}/finalize`, op))).toEqual([
          409,
          'BILLING_INVOICE_NOT_DRAFT',
        ]);
        // A prepaid invoice whose tax was posted owes nothing more.
        const paidA = await call('POST', `${adm}/${invA}/pay`, op);
        expect(paidA.body).toMatchObject({
          status: 'paid',
          payment: { provider: 'manual', reference: null },
        });
        expect(await balance(a.business_id)).toBe(9_900n);

        // --- Void: keeps the number, reverses the tax ----------------------------------------
        const voided = await call('POST', `${adm}/${invC.invoice_id}/void`, op, {
          reason: 'Issued in error',
        });
        expect(voided.status).toBe(200);
        expect(voided.body).toMatchObject({
          status: 'void',
          number: invC.number,
          voided_at: new Date(DEC + 60_000).toISOString(),
          void_reason: 'Issued in error',
          total_minor: '12',
        });
        expect(await balance(c.business_id)).toBe(990n);
        for (const [path, code] of [
          ['void', 'BILLING_INVOICE_NOT_FINALIZED'],
          ['pay', 'BILLING_INVOICE_NOT_FINALIZED'],
          ['finalize', 'BILLING_INVOICE_NOT_DRAFT'],
        ] as const) {
          const r = await call(
            'POST',
            `${adm}/${invC.invoice_id}/${path}`,
            op,
            path === 'finalize' ? undefined : { reason: 'again' },
          );
          expect(refused(r), path).toEqual([409, code]);
        }
        expect(await balance(c.business_id)).toBe(990n);
        expect((await call('GET', `${adm}/${invC.invoice_id}`, op)).body).toEqual(voided.body);

        // --- A credit note against an invoice: of the same account only ----------------------
        expect(
          refused(
            await call('POST', cnPath, op, { ...credit, amount_minor: 500, invoice_id: invB.invoice_id }),
          ),
        ).toEqual([400, 'BILLING_CREDIT_INVALID']);
        const second = await call('POST', cnPath, op, {
          ...credit,
          amount_minor: 500,
          invoice_id: invA,
          reason: 'Outage in November',
          stream: 'api_messages',
        });
        expect(second.status).toBe(200);
        expect(second.body).toMatchObject({
          number: 'PAR-CN-2026-000002',
          invoice_id: invA,
          amount_minor: '500',
          amount: 'USD 5.00',
          applied_invoice_id: null,
        });
        expect(await balance(a.business_id)).toBe(10_400n);

        expect((await ledger.check()).ok).toBe(true);
      });

      it('the OpenAPI document lists the invoice routes, admin ones under the operator scheme', async () => {
        const doc = await call('GET', '/api/docs/json');
        expect(doc.status).toBe(200);
        const paths = doc.body.paths as Record<string, Record<string, { security?: unknown }>>;
        const biz = '/api/v1/businesses/{businessId}/billing/invoices';
        const adm = '/api/v1/admin/billing/invoices';
        const business: [string, string][] = [
          ['get', biz],
          ['get', `${biz}/{invoiceId}`],
          ['get', `${biz}/{invoiceId}/pdf`],
        ];
        const admin: [string, string][] = [
          ['get', adm],
          ['post', `${adm}/close`],
          ['get', `${adm}/{invoiceId}`],
          ['get', `${adm}/{invoiceId}/pdf`],
          ['post', `${adm}/{invoiceId}/finalize`],
          ['post', `${adm}/{invoiceId}/pay`],
          ['post', `${adm}/{invoiceId}/void`],
          ['get', '/api/v1/admin/billing/tax-rates'],
          ['put', '/api/v1/admin/billing/tax-rates'],
          ['post', '/api/v1/admin/billing/credit-notes'],
        ];
        for (const [method, path] of business) {
          expect(paths[path]?.[method]?.security, `${method} ${path}`).toEqual([{ bearer: [] }]);
        }
        for (const [method, path] of admin) {
          expect(paths[path]?.[method]?.security, `${method} ${path}`).toEqual([{ operator: [] }]);
        }
      });
    },
  );
