/**
 * An invoice as a PDF (pdfkit): the operator, the invoice number and period, the customer, the
 * lines, subtotal, tax with its rate, credits and total. Built from the JSON view so the PDF
 * and the JSON download always agree.
 */
import PDFDocument from 'pdfkit';
import type { InvoiceView } from './invoices.present.js';

export interface InvoicePdfOptions {
  /** Who issues the invoice (default "Parley"). */
  operatorName?: string | undefined;
  /** The customer's name as shown under "Bill to". */
  customerName?: string | undefined;
  /** false writes uncompressed streams, so tests can read the text. */
  compress?: boolean;
}

const STATUS_LABEL: Record<InvoiceView['status'], string> = {
  draft: 'DRAFT',
  finalized: 'Invoice',
  paid: 'Invoice (paid)',
  void: 'VOID',
};

export function renderInvoicePdf(invoice: InvoiceView, options: InvoicePdfOptions = {}): Promise<Buffer> {
  const doc = new PDFDocument({
    size: 'A4',
    margin: 50,
    compress: options.compress ?? true,
    info: {
      Title: `Invoice ${invoice.number ?? invoice.invoice_id}`,
      Author: options.operatorName ?? 'Parley',
    },
  });
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('data', (c: Buffer) => chunks.push(c));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });

  const date = (iso: string | null) => (iso ? iso.slice(0, 10) : '—');
  doc.fontSize(20).text(options.operatorName ?? 'Parley');
  doc.moveDown(0.5);
  doc.fontSize(14).text(`${STATUS_LABEL[invoice.status]} ${invoice.number ?? '(not yet numbered)'}`);
  doc.fontSize(10);
  doc.text(`Period: ${invoice.period}`);
  doc.text(`Issued: ${date(invoice.issued_at)}    Due: ${date(invoice.due_at)}`);
  if (invoice.paid_at) doc.text(`Paid: ${date(invoice.paid_at)}`);
  if (invoice.voided_at) doc.text(`Voided: ${date(invoice.voided_at)} (${invoice.void_reason ?? ''})`);
  doc.moveDown();
  doc.text('Bill to:');
  doc.text(
    options.customerName ?? invoice.business_id ?? invoice.person_account_id ?? invoice.billing_account_id,
  );
  if (invoice.business_id) doc.text(invoice.business_id);
  doc.moveDown();

  const cols = { description: 50, quantity: 300, unit: 360, amount: 460 };
  const row = (d: string, q: string, u: string, a: string) => {
    const y = doc.y;
    doc.text(d, cols.description, y, { width: 240 });
    const after = doc.y;
    doc.text(q, cols.quantity, y, { width: 55, align: 'right' });
    doc.text(u, cols.unit, y, { width: 95, align: 'right' });
    doc.text(a, cols.amount, y, { width: 85, align: 'right' });
    doc.x = cols.description;
    doc.y = Math.max(after, doc.y);
  };
  doc.font('Helvetica-Bold');
  row('Description', 'Qty', 'Unit price', 'Amount');
  doc.font('Helvetica');
  for (const line of invoice.lines)
    row(line.description, String(line.quantity), line.unit_price, line.amount);
  doc.moveDown();

  const total = (label: string, value: string) => row(label, '', '', value);
  total('Subtotal', invoice.formatted.subtotal);
  total(
    invoice.tax ? `${invoice.tax.name} ${invoice.tax.rate_bps / 100} % (${invoice.tax.country})` : 'Tax',
    invoice.formatted.tax,
  );
  total('Credits', `-${invoice.formatted.credits}`);
  doc.font('Helvetica-Bold');
  total('Total', invoice.formatted.total);
  doc.end();
  return done;
}
