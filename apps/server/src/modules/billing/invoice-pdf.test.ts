import { describe, expect, it } from 'vitest';
import { renderInvoicePdf } from './invoice-pdf.js';
import type { InvoiceView } from './invoices.present.js';

const invoice: InvoiceView = {
  invoice_id: 'inv_1',
  number: 'PAR-2026-000042',
  status: 'finalized',
  period: '2026-11',
  currency: 'EUR',
  billing_account_id: 'bac_1',
  business_id: 'biz_1',
  person_account_id: null,
  issued_at: '2026-12-01T00:00:00.000Z',
  due_at: '2026-12-15T00:00:00.000Z',
  paid_at: null,
  voided_at: null,
  void_reason: null,
  payment: null,
  tax: { country: 'DE', rate_bps: 1900, name: 'VAT', posted: true },
  subtotal_minor: '1000',
  tax_minor: '190',
  credits_minor: '0',
  total_minor: '1190',
  formatted: { subtotal: 'EUR 10.00', tax: 'EUR 1.90', credits: 'EUR 0.00', total: 'EUR 11.90' },
  lines: [
    {
      position: 1,
      kind: 'usage',
      stream: 'api_messages',
      category: 'marketing',
      market: 'DE',
      quantity: 2000,
      unit_price_micros: '5000',
      unit_price: 'EUR 0.005',
      amount_minor: '1000',
      amount: 'EUR 10.00',
      description: 'Marketing messages to DE',
    },
  ],
};

describe('invoice PDF', () => {
  it('is a real PDF carrying the number, the customer, the lines and the totals', async () => {
    const pdf = await renderInvoicePdf(invoice, {
      operatorName: 'Acme Telecom',
      customerName: 'Bakery Ltd',
      compress: false,
    });
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(pdf.subarray(-6).toString('latin1').trim()).toBe('%%EOF');
    // pdfkit writes each text run as a TJ array of hex glyph strings split by kerning.
    const runs = [...pdf.toString('latin1').matchAll(/\[([^\]]*)\] TJ/g)].map((m) =>
      [...(m[1] ?? '').matchAll(/<([0-9a-f]*)>/g)]
        .map((h) => Buffer.from(h[1] ?? '', 'hex').toString('latin1'))
        .join(''),
    );
    const text = runs.join('\n');
    for (const s of [
      'PAR-2026-000042',
      'Acme Telecom',
      'Bakery Ltd',
      'EUR 11.90',
      'EUR 1.90',
      'VAT 19 % (DE)',
      'Marketing messages to DE',
    ]) {
      expect(text, s).toContain(s);
    }
  });

  it('compresses by default', async () => {
    const pdf = await renderInvoicePdf(invoice);
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(pdf.toString('latin1')).toContain('/FlateDecode');
  });
});
