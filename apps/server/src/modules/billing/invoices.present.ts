/** Invoices and credit notes on the wire: amounts as strings of minor units plus formatted text. */

import type { CreditNoteRow, InvoiceLineRow, InvoiceRow } from './invoices.repo.js';
import { formatMicros, formatMoney } from './money.js';

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(Number(ms)).toISOString());

export interface InvoiceLineView {
  position: number;
  kind: string;
  stream: string;
  category: string | null;
  market: string | null;
  quantity: number;
  unit_price_micros: string;
  unit_price: string;
  amount_minor: string;
  amount: string;
  description: string;
}

export interface InvoiceSummaryView {
  invoice_id: string;
  number: string | null;
  status: InvoiceRow['status'];
  period: string;
  currency: string;
  billing_account_id: string;
  business_id: string | null;
  person_account_id: string | null;
  issued_at: string | null;
  due_at: string | null;
  paid_at: string | null;
  voided_at: string | null;
  void_reason: string | null;
  payment: { provider: string; reference: string | null } | null;
  tax: { country: string; rate_bps: number; name: string; posted: boolean } | null;
  subtotal_minor: string;
  tax_minor: string;
  credits_minor: string;
  total_minor: string;
  formatted: { subtotal: string; tax: string; credits: string; total: string };
}

export interface InvoiceView extends InvoiceSummaryView {
  lines: InvoiceLineView[];
}

export function presentInvoiceSummary(row: InvoiceRow): InvoiceSummaryView {
  const money = (v: InvoiceRow['total_minor']) => BigInt(v);
  return {
    invoice_id: row.id,
    number: row.number,
    status: row.status,
    period: row.period,
    currency: row.currency,
    billing_account_id: row.billing_account_id,
    business_id: row.business_id,
    person_account_id: row.person_account_id,
    issued_at: iso(row.issued_at),
    due_at: iso(row.due_at),
    paid_at: iso(row.paid_at),
    voided_at: iso(row.voided_at),
    void_reason: row.void_reason,
    payment: row.paid_provider ? { provider: row.paid_provider, reference: row.paid_reference } : null,
    tax:
      row.tax_country && row.tax_rate_bps !== null
        ? {
            country: row.tax_country,
            rate_bps: row.tax_rate_bps,
            name: row.tax_name ?? 'Tax',
            posted: row.tax_transfer_id !== null,
          }
        : null,
    subtotal_minor: money(row.subtotal_minor).toString(),
    tax_minor: money(row.tax_minor).toString(),
    credits_minor: money(row.credits_minor).toString(),
    total_minor: money(row.total_minor).toString(),
    formatted: {
      subtotal: formatMoney(money(row.subtotal_minor), row.currency),
      tax: formatMoney(money(row.tax_minor), row.currency),
      credits: formatMoney(money(row.credits_minor), row.currency),
      total: formatMoney(money(row.total_minor), row.currency),
    },
  };
}

export function presentInvoice(row: InvoiceRow, lines: InvoiceLineRow[]): InvoiceView {
  return {
    ...presentInvoiceSummary(row),
    lines: lines.map((l) => ({
      position: l.position,
      kind: l.kind,
      stream: l.stream,
      category: l.category,
      market: l.market,
      quantity: Number(l.quantity),
      unit_price_micros: BigInt(l.unit_price_micros).toString(),
      unit_price: `${row.currency} ${formatMicros(BigInt(l.unit_price_micros))}`,
      amount_minor: BigInt(l.amount_minor).toString(),
      amount: formatMoney(BigInt(l.amount_minor), row.currency),
      description: l.description,
    })),
  };
}

export interface CreditNoteView {
  credit_note_id: string;
  number: string;
  billing_account_id: string;
  invoice_id: string | null;
  stream: string;
  currency: string;
  amount_minor: string;
  amount: string;
  reason: string;
  applied_invoice_id: string | null;
  created_at: string;
}

export function presentCreditNote(row: CreditNoteRow): CreditNoteView {
  return {
    credit_note_id: row.id,
    number: row.number,
    billing_account_id: row.billing_account_id,
    invoice_id: row.invoice_id,
    stream: row.stream,
    currency: row.currency,
    amount_minor: BigInt(row.amount_minor).toString(),
    amount: formatMoney(BigInt(row.amount_minor), row.currency),
    reason: row.reason,
    applied_invoice_id: row.applied_invoice_id,
    created_at: new Date(Number(row.created_at)).toISOString(),
  };
}
