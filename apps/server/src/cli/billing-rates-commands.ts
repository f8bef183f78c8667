/**
 * `parley billing rates …` and `parley billing model …`: the operator's rate cards (import a
 * CSV as a new version, export one, list, show, delete a scheduled one) and the pricing model.
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { openPlatform } from '../app.js';
import type { Config } from '../config.js';
import { createPricingModelsService } from '../modules/billing/pricing-models.service.js';
import { createRateCardsService, type RateCardVersionView } from '../modules/billing/rate-cards.service.js';
import { CliUsageError } from './usage-error.js';

export const BILLING_RATES_USAGE =
  'usage: parley billing rates import FILE --currency USD [--from ISO] [--to ISO] [--supersede] [--name TEXT] [--json] | ' +
  'parley billing rates export [--currency USD] [--at ISO | --version rcv_…] | ' +
  'parley billing rates list [--currency USD] [--json] | parley billing rates show rcv_… [--json] | ' +
  'parley billing rates delete rcv_…';
export const BILLING_MODEL_USAGE =
  'usage: parley billing model set PMP|CBP|PMP_2026 [--from ISO] [--json] | parley billing model list [--json]';

interface Out {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

function instant(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms))
    throw new CliUsageError(`${flag} takes an ISO date or date-time (2026-12-01 or 2026-12-01T00:00:00Z)`);
  return ms;
}

const versionLine = (v: RateCardVersionView) =>
  `${v.id}\t${v.currency}\t${v.status}\t${v.effective_from}\t${v.effective_to ?? 'open'}\t${v.rows} rows` +
  `${v.name ? `\t${v.name}` : ''}\n`;

async function withServices<T>(
  config: Config,
  io: Out,
  run: (s: {
    rateCards: ReturnType<typeof createRateCardsService>;
    pricingModels: ReturnType<typeof createPricingModelsService>;
  }) => Promise<T>,
): Promise<T> {
  const platform = await openPlatform({ ...config, logLevel: 'warn' }, { logDestination: io.stderr });
  try {
    const deps = { db: platform.db, clock: platform.clock, ids: platform.ids };
    return await run({
      rateCards: createRateCardsService(deps),
      pricingModels: createPricingModelsService(deps),
    });
  } finally {
    await platform.close();
  }
}

/** `parley billing rates <verb> …` (args after `rates`). */
export async function runBillingRates(config: Config, args: string[], io: Out): Promise<number> {
  const [verb, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    options: {
      currency: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      at: { type: 'string' },
      version: { type: 'string' },
      name: { type: 'string' },
      supersede: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
    allowPositionals: true,
    strict: true,
  });
  const one = () => {
    if (positionals.length !== 1 || !positionals[0]) throw new CliUsageError(BILLING_RATES_USAGE);
    return positionals[0];
  };
  switch (verb) {
    case 'import': {
      const file = one();
      if (!values.currency) throw new CliUsageError('--currency is required (an ISO 4217 code such as USD)');
      const text = fs.readFileSync(file === '-' ? 0 : file, 'utf8');
      const from = instant(values.from, '--from');
      const to = instant(values.to, '--to');
      const created = await withServices(config, io, ({ rateCards }) =>
        rateCards.importCsv(text, {
          currency: values.currency ?? '',
          effectiveFrom: from,
          effectiveTo: to,
          name: values.name,
          supersede: values.supersede,
        }),
      );
      const { prices: _, ...version } = created;
      io.stdout.write(values.json ? `${JSON.stringify(version)}\n` : versionLine(version));
      return 0;
    }
    case 'export': {
      if (positionals.length > 0 || (values.at && values.version))
        throw new CliUsageError(BILLING_RATES_USAGE);
      const at = instant(values.at, '--at');
      const csv = await withServices(config, io, async ({ rateCards }) => {
        if (values.version) return rateCards.exportCsv(values.version);
        const card = await rateCards.at(values.currency ?? 'USD', at ?? Date.now());
        return rateCards.exportCsv(card.id);
      });
      io.stdout.write(csv);
      return 0;
    }
    case 'list': {
      if (positionals.length > 0) throw new CliUsageError(BILLING_RATES_USAGE);
      const list = await withServices(config, io, ({ rateCards }) => rateCards.list(values.currency));
      io.stdout.write(
        values.json ? `${JSON.stringify({ rate_cards: list })}\n` : list.map(versionLine).join(''),
      );
      return 0;
    }
    case 'show': {
      const id = one();
      const card = await withServices(config, io, ({ rateCards }) => rateCards.get(id));
      if (values.json) {
        io.stdout.write(`${JSON.stringify(card)}\n`);
      } else {
        io.stdout.write(versionLine(card));
        for (const p of card.prices) {
          io.stdout.write(
            `  ${p.category}\t${p.market}\t${p.unit_price}${p.from_count > 0 ? `\tfrom #${p.from_count}` : ''}\n`,
          );
        }
      }
      return 0;
    }
    case 'delete': {
      const id = one();
      await withServices(config, io, ({ rateCards }) => rateCards.remove(id));
      io.stdout.write(`deleted ${id}\n`);
      return 0;
    }
    default:
      throw new CliUsageError(BILLING_RATES_USAGE);
  }
}

/** `parley billing model <verb> …` (args after `model`). */
export async function runBillingModel(config: Config, args: string[], io: Out): Promise<number> {
  const [verb, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    options: { from: { type: 'string' }, json: { type: 'boolean', default: false } },
    allowPositionals: true,
    strict: true,
  });
  if (!((verb === 'set' && positionals.length === 1) || (verb === 'list' && positionals.length === 0))) {
    throw new CliUsageError(BILLING_MODEL_USAGE);
  }
  const from = instant(values.from, '--from');
  const list = await withServices(config, io, ({ pricingModels }) =>
    verb === 'set' ? pricingModels.set(positionals[0], from) : pricingModels.list(),
  );
  io.stdout.write(
    values.json
      ? `${JSON.stringify({ pricing_models: list })}\n`
      : list.length === 0
        ? 'PMP (default: no switch planned)\n'
        : list.map((m) => `${m.effective_from}\t${m.model}\t${m.status}\n`).join(''),
  );
  return 0;
}
