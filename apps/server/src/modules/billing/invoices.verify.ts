/**
 * Reconciliation of invoices: each invoice of a period (void ones aside) must hold exactly
 * the micros of its account's charges of that period, round each line once, and add up:
 * total = subtotal + tax − credits with subtotal = Σ lines.
 */
import type { Executor } from '../../platform/db.js';
import type { InvoiceCheckPort } from './reconcile.js';

export function createInvoiceVerifier(): InvoiceCheckPort {
  return {
    async verify(tx: Executor, period: string) {
      const invoices = await tx
        .selectFrom('invoices')
        .select([
          'id',
          'number',
          'billing_account_id',
          'subtotal_minor',
          'tax_minor',
          'credits_minor',
          'total_minor',
        ])
        .where('period', '=', period)
        .where('status', 'in', ['finalized', 'paid'])
        .execute();
      if (invoices.length === 0) return { checked: 0, differences: [] };
      const lines = await tx
        .selectFrom('invoice_lines as l')
        .innerJoin('invoices as i', 'i.id', 'l.invoice_id')
        .select((eb) => [
          'l.invoice_id',
          eb.fn.sum<string | number>('l.amount_micros').as('micros'),
          eb.fn.sum<string | number>('l.amount_minor').as('minor'),
        ])
        .where('i.period', '=', period)
        // Every line counts, `credit` ones too: they are the negative charges of the period (the
        // unused part of a plan changed mid-month), part of the subtotal like any other line.
        // Credit notes are never lines (they are `credits_minor`), so nothing is counted twice.
        .groupBy('l.invoice_id')
        .execute();
      const charges = await tx
        .selectFrom('billing_charges')
        .select((eb) => [
          'billing_account_id',
          eb.fn.sum<string | number>('amount_micros').as('amount'),
          eb.fn.sum<string | number>('partner_markup_micros').as('markup'),
        ])
        .where('period', '=', period)
        .groupBy('billing_account_id')
        .execute();
      const byInvoice = new Map(lines.map((l) => [l.invoice_id, l]));
      const byAccount = new Map(
        charges.map((c) => [c.billing_account_id, BigInt(c.amount ?? 0) + BigInt(c.markup ?? 0)]),
      );
      const differences: string[] = [];
      for (const inv of invoices) {
        const name = inv.number ?? inv.id;
        const l = byInvoice.get(inv.id);
        const micros = BigInt(l?.micros ?? 0);
        const expected = byAccount.get(inv.billing_account_id) ?? 0n;
        if (micros !== expected) {
          differences.push(`invoice ${name}: lines hold ${micros} micros, the period's charges ${expected}`);
        }
        const subtotal = BigInt(inv.subtotal_minor);
        if (BigInt(l?.minor ?? 0) !== subtotal) {
          differences.push(`invoice ${name}: subtotal ${subtotal} ≠ Σ lines ${BigInt(l?.minor ?? 0)}`);
        }
        const total = subtotal + BigInt(inv.tax_minor) - BigInt(inv.credits_minor);
        if (total !== BigInt(inv.total_minor)) {
          differences.push(
            `invoice ${name}: total ${BigInt(inv.total_minor)} ≠ subtotal + tax − credits (${total})`,
          );
        }
      }
      return { checked: invoices.length, differences };
    },
  };
}
