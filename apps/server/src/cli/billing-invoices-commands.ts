/**
 * `parley billing invoices …`, `parley billing tax …` and `parley billing credit …`: the
 * operator's invoices, tax rates and credit notes. The caller opens the platform and passes
 * the services; this file only parses arguments and prints.
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { renderInvoicePdf } from '../modules/billing/invoice-pdf.js';
import type { InvoicesService } from '../modules/billing/invoices.service.js';
import type { TaxService } from '../modules/billing/tax.service.js';
import { CliUsageError } from './usage-error.js';

export const BILLING_INVOICES_USAGE =
  'usage: parley billing invoices list [--period 2026-11] [--status finalized] [--business BIZ] [--json] | ' +
  'parley billing invoices close --period 2026-11 | parley billing invoices finalize INV | ' +
  'parley billing invoices pay INV [--reference R] | parley billing invoices void INV --reason R | ' +
  'parley billing invoices pdf INV --out file.pdf | parley billing invoices json INV | ' +
  'parley billing tax set DE 1900 [--name VAT] [--from 2026-01-01] | parley billing tax list [--json] | ' +
  'parley billing credit BUSINESS_ID AMOUNT_MINOR --reason "…" [--invoice INV] [--stream api_messages]';

interface Out {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

export interface BillingInvoicesCliDeps {
  invoices: InvoicesService;
  tax: Pick<TaxService, 'list' | 'set'>;
  operatorName?: string | undefined;
}

/** `args` starts after `billing`: `invoices …`, `tax …` or `credit …`. */
export async function runBillingInvoices(
  args: string[],
  io: Out,
  deps: BillingInvoicesCliDeps,
): Promise<number> {
  const [group, ...afterGroup] = args;
  const [sub, ...rest] = group === 'credit' ? ['credit', ...afterGroup] : afterGroup;
  const { values, positionals } = parseArgs({
    args: rest,
    options: {
      period: { type: 'string' },
      status: { type: 'string' },
      business: { type: 'string' },
      reference: { type: 'string' },
      provider: { type: 'string' },
      reason: { type: 'string' },
      out: { type: 'string' },
      name: { type: 'string' },
      from: { type: 'string' },
      invoice: { type: 'string' },
      stream: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    allowPositionals: true,
    strict: true,
  });
  const print = (value: unknown) =>
    io.stdout.write(`${JSON.stringify(value, null, values.json ? undefined : 2)}\n`);
  const one = () => {
    if (positionals.length !== 1 || !positionals[0]) throw new CliUsageError(BILLING_INVOICES_USAGE);
    return positionals[0];
  };

  if (group === 'invoices') {
    switch (sub) {
      case 'list': {
        const list = await deps.invoices.list({
          period: values.period,
          status: values.status,
          businessId: values.business,
        });
        if (values.json) print({ invoices: list });
        else
          io.stdout.write(
            list
              .map(
                (i) =>
                  `${i.invoice_id}\t${i.number ?? '-'}\t${i.status}\t${i.period}\t${i.business_id ?? '-'}\t${i.formatted.total}\n`,
              )
              .join(''),
          );
        return 0;
      }
      case 'close':
        if (!values.period) throw new CliUsageError('--period YYYY-MM is required');
        print(await deps.invoices.closePeriod(values.period));
        return 0;
      case 'finalize':
        print(await deps.invoices.finalize(one()));
        return 0;
      case 'pay':
        print(
          await deps.invoices.markPaid(one(), { provider: values.provider, reference: values.reference }),
        );
        return 0;
      case 'void':
        if (!values.reason) throw new CliUsageError('--reason is required');
        print(await deps.invoices.void(one(), values.reason));
        return 0;
      case 'json':
        print(await deps.invoices.get(one()));
        return 0;
      case 'pdf': {
        if (!values.out) throw new CliUsageError('--out file.pdf is required');
        const view = await deps.invoices.get(one());
        const customerName = view.business_id
          ? await deps.invoices.businessName(view.business_id)
          : undefined;
        fs.writeFileSync(
          values.out,
          await renderInvoicePdf(view, { operatorName: deps.operatorName, customerName }),
        );
        io.stdout.write(`${values.out}\n`);
        return 0;
      }
    }
  } else if (group === 'tax') {
    if (sub === 'list') {
      const rates = await deps.tax.list();
      if (values.json) print({ tax_rates: rates });
      else
        io.stdout.write(
          rates.map((r) => `${r.country}\t${r.rate_bps}\t${r.name}\t${r.effective_from}\n`).join(''),
        );
      return 0;
    }
    if (sub === 'set' && positionals.length === 2) {
      const [country, bps] = positionals as [string, string];
      if (!/^\d+$/.test(bps))
        throw new CliUsageError('the rate is a whole number of basis points (1900 = 19 %)');
      print(await deps.tax.set({ country, rate_bps: Number(bps), name: values.name, from: values.from }));
      return 0;
    }
  } else if (group === 'credit' && positionals.length === 2) {
    if (!values.reason) throw new CliUsageError('--reason is required');
    const [businessId, amount] = positionals as [string, string];
    print(
      await deps.invoices.issueCredit({
        businessId,
        amountMinor: amount,
        reason: values.reason,
        invoiceId: values.invoice,
        stream: values.stream,
      }),
    );
    return 0;
  }
  throw new CliUsageError(BILLING_INVOICES_USAGE);
}
