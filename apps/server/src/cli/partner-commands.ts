/**
 * `parley partner …`: the operator's partners (business solution providers), their markups,
 * clients and members; and `parley billing revenue`: the revenue report for a month.
 */
import { parseArgs } from 'node:util';
import { createModules, openPlatform } from '../app.js';
import type { Config } from '../config.js';
import type { PartnerView } from '../modules/billing/partners.service.js';
import { toCsv } from '../modules/billing/revenue.csv.js';
import { CliUsageError } from './usage-error.js';

export const PARTNER_USAGE =
  'usage: parley partner create --name N [--markup-bps 1000] [--markup-micros 0] [--json] | ' +
  'parley partner attach PARTNER_ID BUSINESS_ID | parley partner detach BUSINESS_ID | ' +
  'parley partner markup PARTNER_ID [--category marketing] --bps N [--micros N] | ' +
  'parley partner member add PARTNER_ID +E164 [--role viewer|admin] | ' +
  'parley partner member remove PARTNER_ID ACCOUNT_ID | parley partner list [--json]';

export const REVENUE_USAGE =
  'usage: parley billing revenue --period 2026-11 [--granularity day|month] [--csv] [--json]';

interface Out {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

const markupText = (bps: number, micros: string) => `${bps} bps + ${micros} micros`;

function partnerText(p: PartnerView): string {
  const lines = [`${p.partner_id}\t${p.name}\t${markupText(p.markup_bps, p.markup_micros)}`];
  for (const m of p.markups)
    lines.push(`  markup ${m.category}\t${markupText(m.markup_bps, m.markup_micros)}`);
  for (const c of p.clients) lines.push(`  client ${c.business_id}\t${c.name ?? ''}\tsince ${c.since}`);
  for (const m of p.members) lines.push(`  member ${m.account_id}\t${m.phone ?? ''}\t${m.role}`);
  return `${lines.join('\n')}\n`;
}

export async function runPartner(config: Config, args: string[], io: Out): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    options: {
      name: { type: 'string' },
      'markup-bps': { type: 'string' },
      'markup-micros': { type: 'string' },
      category: { type: 'string' },
      bps: { type: 'string' },
      micros: { type: 'string' },
      role: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    allowPositionals: true,
    strict: true,
  });
  const arity: Record<string, number> = { create: 0, attach: 2, detach: 1, markup: 1, list: 0 };
  if (sub === 'member') {
    const action = positionals[0];
    if (!((action === 'add' || action === 'remove') && positionals.length === 3)) {
      throw new CliUsageError(PARTNER_USAGE);
    }
  } else if (sub === undefined || arity[sub] !== positionals.length) {
    throw new CliUsageError(PARTNER_USAGE);
  }
  if (sub === 'create' && !values.name) throw new CliUsageError('--name is required');
  if (sub === 'markup' && values.bps === undefined) throw new CliUsageError('--bps is required');

  const platform = await openPlatform({ ...config, logLevel: 'warn' }, { logDestination: io.stderr });
  try {
    const { partners } = createModules(platform).billing;
    const [a = '', b = '', c = ''] = positionals;
    let out: PartnerView[];
    if (sub === 'detach') {
      const detached = await partners.detach(a);
      io.stdout.write(
        values.json
          ? `${JSON.stringify(detached)}\n`
          : `${detached.business_id} detached from ${detached.partner_id}\n`,
      );
      return 0;
    }
    if (sub === 'create') {
      out = [
        await partners.create({
          name: values.name ?? '',
          markupBps: values['markup-bps'] ?? 0,
          markupMicros: values['markup-micros'],
        }),
      ];
    } else if (sub === 'attach') {
      out = [await partners.attach(a, b)];
    } else if (sub === 'markup') {
      out = [
        await partners.setMarkup(a, { category: values.category, bps: values.bps, micros: values.micros }),
      ];
    } else if (sub === 'member') {
      out = [
        a === 'add'
          ? await partners.addMember(b, c, values.role ?? 'viewer')
          : await partners.removeMember(b, c),
      ];
    } else {
      out = await partners.list();
    }
    io.stdout.write(
      values.json
        ? `${JSON.stringify(sub === 'list' ? { partners: out } : out[0])}\n`
        : out.map(partnerText).join(''),
    );
    return 0;
  } finally {
    await platform.close();
  }
}

/** `parley billing revenue`: the month's revenue (per day with --granularity day), as text, JSON or CSV. */
export async function runBillingRevenue(config: Config, args: string[], io: Out): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      period: { type: 'string' },
      granularity: { type: 'string' },
      csv: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length > 0 || !values.period) throw new CliUsageError(REVENUE_USAGE);
  const platform = await openPlatform({ ...config, logLevel: 'warn' }, { logDestination: io.stderr });
  try {
    const { revenue } = createModules(platform).billing;
    const view = await revenue.report({ period: values.period, granularity: values.granularity });
    if (values.json) {
      io.stdout.write(`${JSON.stringify(view)}\n`);
    } else if (values.csv) {
      io.stdout.write(
        toCsv(view.rows, [
          'bucket',
          'stream',
          'category',
          'market',
          'currency',
          'count',
          'operator_minor',
          'partner_minor',
          'total_minor',
          'operator_micros',
          'partner_micros',
        ]),
      );
    } else {
      const line = (cells: (string | number | null)[]) => `${cells.map((x) => x ?? '-').join('\t')}\n`;
      io.stdout.write(
        line(['bucket', 'stream', 'category', 'market', 'currency', 'count', 'operator', 'partner']),
      );
      for (const r of view.rows) {
        io.stdout.write(
          line([
            r.bucket,
            r.stream,
            r.category,
            r.market,
            r.currency,
            r.count,
            r.operator_minor,
            r.partner_minor,
          ]),
        );
      }
      io.stdout.write('totals (minor units)\n');
      for (const t of view.totals) {
        io.stdout.write(
          line([t.stream, t.currency, t.count, t.operator_minor, t.partner_minor, t.total_minor]),
        );
      }
    }
    return 0;
  } finally {
    await platform.close();
  }
}
