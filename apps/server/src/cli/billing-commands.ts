/**
 * `parley billing …`: the operator's billing commands. Rate cards, pricing models, revenue,
 * invoices, tax and credit notes have their own files; this one dispatches and adds the
 * account commands (account, topup, subscribe, unsubscribe, consumer-plan) and `reconcile`.
 */
import { parseArgs } from 'node:util';
import { createModules, openPlatform } from '../app.js';
import type { Config } from '../config.js';
import { AppError } from '../errors.js';
import { BILLING_INVOICES_USAGE, runBillingInvoices } from './billing-invoices-commands.js';
import {
  BILLING_MODEL_USAGE,
  BILLING_RATES_USAGE,
  runBillingModel,
  runBillingRates,
} from './billing-rates-commands.js';
import { REVENUE_USAGE, runBillingRevenue } from './partner-commands.js';
import { CliUsageError } from './usage-error.js';

interface Out {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

export const BILLING_USAGE = [
  'usage: parley billing reconcile --period 2026-11 [--json]',
  'parley billing account BUSINESS_ID [--currency EUR] [--mode prepaid|credit] [--credit-limit MINOR] [--country DE] [--low-balance MINOR|off] [--json]',
  'parley billing topup BUSINESS_ID AMOUNT_MINOR --key KEY [--reference R] [--json]',
  'parley billing subscribe BUSINESS_ID PLAN | parley billing unsubscribe BUSINESS_ID',
  'parley billing consumer-plan [show | set [--enabled on|off] [--fee MINOR] [--currency USD] [--grace-days N]]',
  BILLING_RATES_USAGE,
  BILLING_MODEL_USAGE,
  REVENUE_USAGE,
  BILLING_INVOICES_USAGE,
].join('\n');

const json = (v: unknown) =>
  `${JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x), 2)}\n`;

async function withModules<T>(
  config: Config,
  io: Out,
  run: (m: ReturnType<typeof createModules>) => Promise<T>,
) {
  const platform = await openPlatform({ ...config, logLevel: 'warn' }, { logDestination: io.stderr });
  try {
    return await run(createModules(platform));
  } finally {
    await platform.close();
  }
}

const amountArg = (text: string | undefined, what: string): bigint => {
  if (text === undefined || !/^\d{1,18}$/.test(text)) {
    throw new AppError(
      'BILLING_INVALID_AMOUNT',
      `${what} is a whole number of minor units (cents), not "${text ?? ''}".`,
    );
  }
  return BigInt(text);
};

export async function runBilling(config: Config, args: string[], io: Out): Promise<number> {
  const [group, ...rest] = args;
  switch (group) {
    case 'rates':
      return runBillingRates(config, rest, io);
    case 'model':
      return runBillingModel(config, rest, io);
    case 'revenue':
      return runBillingRevenue(config, rest, io);
    case 'invoices':
    case 'tax':
    case 'credit':
      return withModules(config, io, (m) =>
        runBillingInvoices(args, io, { invoices: m.billing.invoices, tax: m.billing.tax }),
      );
  }
  const { values, positionals } = parseArgs({
    args: rest,
    options: {
      period: { type: 'string' },
      json: { type: 'boolean', default: false },
      currency: { type: 'string' },
      mode: { type: 'string' },
      'credit-limit': { type: 'string' },
      country: { type: 'string' },
      'low-balance': { type: 'string' },
      key: { type: 'string' },
      reference: { type: 'string' },
      enabled: { type: 'string' },
      fee: { type: 'string' },
      'grace-days': { type: 'string' },
    },
    allowPositionals: true,
    strict: true,
  });
  switch (group) {
    case 'reconcile': {
      if (!values.period) throw new CliUsageError(BILLING_USAGE);
      const period = values.period;
      const report = await withModules(config, io, (m) => m.billing.reconciler.reconcile(period));
      if (values.json) io.stdout.write(json(report));
      else {
        io.stdout.write(
          `${report.period}: ${report.events} delivery events, ${report.charges} message charges, ` +
            `${report.invoices_checked} invoices checked: ${report.differences} differences\n`,
        );
        for (const d of report.details) io.stdout.write(`  ${d}\n`);
      }
      return report.differences === 0 ? 0 : 1;
    }
    case 'account': {
      const [businessId] = positionals;
      if (!businessId || positionals.length !== 1) throw new CliUsageError(BILLING_USAGE);
      if (values.mode !== undefined && values.mode !== 'prepaid' && values.mode !== 'credit') {
        throw new CliUsageError('--mode is prepaid or credit');
      }
      const mode = values.mode as 'prepaid' | 'credit' | undefined;
      const low = values['low-balance'];
      const view = await withModules(config, io, (m) =>
        m.billing.accounts.configure('business', businessId, {
          currency: values.currency,
          mode,
          creditLimitMinor:
            values['credit-limit'] === undefined
              ? undefined
              : amountArg(values['credit-limit'], 'A credit limit'),
          country: values.country,
          lowBalanceMinor:
            low === undefined ? undefined : low === 'off' ? null : amountArg(low, 'A threshold'),
        }),
      );
      io.stdout.write(
        values.json
          ? json(view)
          : `${businessId}\t${view.mode}\t${view.currency}\tbalance ${view.balance_minor}\theld ${view.held_minor}\tavailable ${view.available_minor}\n`,
      );
      return 0;
    }
    case 'topup': {
      const [businessId, amount] = positionals;
      if (!businessId || amount === undefined || !values.key) throw new CliUsageError(BILLING_USAGE);
      const key = values.key;
      const receipt = await withModules(config, io, (m) =>
        m.billing.payments.topUpBusiness(businessId, {
          amountMinor: amountArg(amount, 'A top-up'),
          key,
          provider: 'manual',
          ...(values.reference ? { reference: values.reference } : {}),
        }),
      );
      io.stdout.write(values.json ? json(receipt) : `${JSON.stringify(receipt)}\n`);
      return 0;
    }
    case 'subscribe':
    case 'unsubscribe': {
      const [businessId, plan] = positionals;
      if (!businessId || (group === 'subscribe' && !plan)) throw new CliUsageError(BILLING_USAGE);
      const view = await withModules(config, io, (m) =>
        group === 'subscribe' && plan
          ? m.billing.subscriptions.subscribe(businessId, plan)
          : m.billing.subscriptions.cancel(businessId),
      );
      io.stdout.write(json(view));
      return 0;
    }
    case 'consumer-plan': {
      const [sub] = positionals;
      const view = await withModules(config, io, async (m) => {
        if (sub === undefined || sub === 'show') return m.billing.consumerPlan.settings();
        if (sub !== 'set') throw new CliUsageError(BILLING_USAGE);
        const on = values.enabled;
        if (on !== undefined && on !== 'on' && on !== 'off')
          throw new CliUsageError('--enabled is on or off');
        return m.billing.consumerPlan.set({
          ...(on !== undefined ? { enabled: on === 'on' } : {}),
          ...(values.fee !== undefined
            ? { annual_fee_minor: amountArg(values.fee, 'A fee').toString() }
            : {}),
          ...(values.currency !== undefined ? { currency: values.currency } : {}),
          ...(values['grace-days'] !== undefined ? { grace_days: Number(values['grace-days']) } : {}),
        });
      });
      io.stdout.write(json(view));
      return 0;
    }
    default:
      throw new CliUsageError(BILLING_USAGE);
  }
}
