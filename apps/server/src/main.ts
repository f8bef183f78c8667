/**
 * The composition root and the `parley` command line. The only module that reads
 * process.env, argv or installs signal handlers: parse config once → open the platform →
 * build modules → start roles (or run one operator/client command).
 */
import { parseArgs } from 'node:util';
import { renderErrorsMarkdown } from '@parley/protocol';
import { createModules, openPlatform, startRoles, VERSION } from './app.js';
import { runBilling } from './cli/billing-commands.js';
import { runReceive, runSend } from './cli/client-commands.js';
// The ledger (issue 6).
import { runLedger } from './cli/ledger-commands.js';
// Billing: partners and revenue (issue 6).
import { runPartner } from './cli/partner-commands.js';
import { runTemplate } from './cli/template-commands.js';
import { CliUsageError } from './cli/usage-error.js';
import { type Config, parseConfig } from './config.js';
import { isAppError } from './errors.js';
import { loadOrCreateSecrets } from './platform/secrets.js';

export interface Io {
  env: Record<string, string | undefined>;
  cwd: string;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

const USAGE = `parley ${VERSION}: the Parley messaging server

Usage:
  parley serve                         run the server (roles from PARLEY_ROLES; default all)
  parley migrate                       apply database migrations and exit
  parley account create --phone +15550001111 --name Alice [--device-name Laptop] [--json]
                                       create an account with a first device; prints its token
  parley business create --name "Acme" --phone +15550002222 [--owner +15550001111] [--json]
                                       create a business with its first number; prints its ids,
                                       API access token and app secret (shown once)
  parley business verify BUSINESS_ID [--revoke]
                                       operator: mark the business's name verified (the badge)
  parley business plan BUSINESS_ID PLAN
                                       operator: put the business on a plan
  parley business token create BUSINESS_ID [--name N] [--json]
                                       operator: a new Business Messaging API access token (shown once)
  parley business token list BUSINESS_ID [--json]
                                       operator: the live access tokens (ids and prefixes)
  parley business token revoke BUSINESS_ID TOKEN_ID
                                       operator: revoke an access token at once
  parley business throughput PHONE_NUMBER_ID MPS
                                       operator: a number's API throughput (default 80 messages/s)
  parley business tier BUSINESS_ID TIER
                                       operator: a business's messaging limit (TIER_250, TIER_2K,
                                       TIER_10K, TIER_100K, TIER_UNLIMITED)
  parley plan list [--json]            operator: the business plans
  parley plan set PLAN [--name N] [--price MINOR] [--currency USD] [--limit agents=10]…
                  [--feature verified_badge=on]…
                                       operator: create or edit a plan
  parley template list [--status PENDING] [--json]
                                       operator: message templates in review (or of any status)
  parley template approve TEMPLATE_ID  operator: approve a template in review
  parley template reject TEMPLATE_ID --reason PROMOTIONAL|"text" [--info "text"]
                                       operator: reject a template (reasons in docs/cloud-api.md)
  parley template rules [set '{"promotional_words":["sale"]}']
                                       operator: show or change the automatic review rules
  parley ledger check [--json]        operator: prove the ledger balances (each currency sums to
                                       zero, account sums equal their transfers); exit 1 if not
  parley ledger balance CODE CURRENCY [--at ISO] [--json]
                                       operator: a ledger account's balance, now or at a time
  parley partner create --name N [--markup-bps 1000] [--markup-micros 0] [--json]
                                       operator: a partner (business solution provider) and its
                                       default markup on its clients' messages
  parley partner attach PARTNER_ID BUSINESS_ID | parley partner detach BUSINESS_ID
                                       operator: make a business a partner's client, or not
  parley partner markup PARTNER_ID [--category marketing] --bps N [--micros N]
                                       operator: the partner's markup (default or per category):
                                       basis points of the unit price plus micros per unit
  parley partner member add PARTNER_ID +15550001111 [--role viewer|admin]
  parley partner member remove PARTNER_ID ACCOUNT_ID
                                       operator: who sees the partner's clients and usage
  parley partner list [--json]         operator: partners, markups, clients and members
  parley billing reconcile --period 2026-11 [--json]
                                       operator: recompute the month from the delivery events and
                                       prove charges, ledger and invoices equal (exit 1 if not)
  parley billing account BUSINESS_ID [--currency C] [--mode prepaid|credit] [--credit-limit MINOR]
                  [--country DE] [--low-balance MINOR|off] [--json]
                                       operator: a business's billing account
  parley billing topup BUSINESS_ID AMOUNT_MINOR --key KEY [--reference R]
                                       operator: record money received (idempotent by key)
  parley billing subscribe BUSINESS_ID PLAN | parley billing unsubscribe BUSINESS_ID
                                       operator: a paid plan (prorated, renewed monthly, dunned)
  parley billing consumer-plan [show | set --enabled on|off --fee MINOR --currency USD]
                                       operator: the consumer plan (off by default)
  parley billing invoices list|close|finalize|pay|void|pdf|json …, tax set|list, credit …
                                       operator: invoices, tax rates, credit notes (docs/billing.md)
  parley billing revenue --period 2026-11 [--granularity day] [--csv|--json]
                                       operator: revenue per stream, category and market
  parley send --token T --to +15550002222 --text "hi" [--json] [--url http://127.0.0.1:8080]
                                       send a text as that device; prints the message id once acked
  parley receive --token T [--json] [--wait SECONDS] [--url …]
                                       print pending messages (one JSON line each with --json), ack them
  parley operator token                operator: print the admin API's bearer token
  parley billing rates import FILE --currency USD [--from ISO] [--to ISO] [--supersede] [--name N]
                                       operator: add a rate-card version from a CSV (docs/billing.md)
  parley billing rates export [--currency USD] [--at ISO | --version rcv_…]
                                       operator: print a rate-card version as CSV
  parley billing rates list|show rcv_…|delete rcv_… [--json]
                                       operator: the rate-card versions; delete one not yet started
  parley billing model set PMP|CBP|PMP_2026 [--from ISO] | parley billing model list
                                       operator: switch the pricing model from a date
  parley errors --markdown             print the error-code registry (docs/errors.md)
  parley help                          this text

Configuration comes from environment variables; see docs/configuration.md.
`;

export async function main(argv: string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      io.stdout.write(USAGE);
      return 0;
    case '--version':
    case 'version':
      io.stdout.write(`${VERSION}\n`);
      return 0;
    case 'errors':
      io.stdout.write(renderErrorsMarkdown());
      return 0;
  }

  const parsed = parseConfig(io.env, io.cwd);
  if (!parsed.ok) {
    io.stderr.write(`parley: the configuration has ${parsed.problems.length} problem(s):\n`);
    for (const problem of parsed.problems) io.stderr.write(`  - ${problem}\n`);
    return 1;
  }
  const config = parsed.config;

  try {
    switch (command) {
      case 'serve':
        return await serve(config, io);
      case 'migrate':
        return await migrate(config, io);
      case 'account':
        return await account(config, rest, io);
      case 'business':
        return await business(config, rest, io);
      case 'plan':
        return await plan(config, rest, io);
      case 'template':
        return await runTemplate(config, rest, io);
      case 'ledger':
        return await runLedger(config, rest, io);
      case 'operator':
        if (rest.join(' ') !== 'token') throw new CliUsageError('usage: parley operator token');
        io.stdout.write(`${loadOrCreateSecrets(config.dataDir).operator_token}\n`);
        return 0;
      // billing rates and pricing model (issue 6)
      case 'billing':
        return await runBilling(config, rest, io);
      // end billing rates
      // Billing: partners and revenue (issue 6).
      case 'partner':
        return await runPartner(config, rest, io);
      case 'send':
        return await runSend(rest, {
          defaultUrl: clientUrl(config, io.env),
          stdout: io.stdout,
          stderr: io.stderr,
        });
      case 'receive':
        return await runReceive(rest, {
          defaultUrl: clientUrl(config, io.env),
          stdout: io.stdout,
          stderr: io.stderr,
        });
      default:
        io.stderr.write(`parley: unknown command "${command}"\n\n${USAGE}`);
        return 2;
    }
  } catch (e: unknown) {
    return reportFailure(e, io);
  }
}

function reportFailure(e: unknown, io: Io): number {
  if (isAppError(e)) {
    io.stderr.write(
      `${JSON.stringify({ error: { code: e.code, message: e.message, details: e.details } })}\n`,
    );
    return 1;
  }
  if (e instanceof CliUsageError) {
    io.stderr.write(`parley: ${e.message}\n`);
    return 2;
  }
  io.stderr.write(`parley: ${e instanceof Error ? e.message : String(e)}\n`);
  const cause = e instanceof Error ? e.cause : undefined;
  if (cause) io.stderr.write(`  cause: ${cause instanceof Error ? cause.message : String(cause)}\n`);
  return 1;
}

/** Base URL for the client commands: --url, else PARLEY_URL, else the configured listener. */
function clientUrl(config: Config, env: Record<string, string | undefined>): string {
  if (env.PARLEY_URL) return env.PARLEY_URL;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.port}`;
}

async function serve(config: Config, io: Io): Promise<number> {
  const platform = await openPlatform(config, { logDestination: io.stdout });
  const modules = createModules(platform);
  let server: Awaited<ReturnType<typeof startRoles>>;
  try {
    server = await startRoles(platform, modules, config.roles);
  } catch (e: unknown) {
    await platform.close();
    throw e;
  }
  const storage = config.databaseUrl ? 'PostgreSQL' : `SQLite in ${config.dataDir}`;
  io.stdout.write(
    `Parley ${VERSION} listening on ${server.url} (roles: ${config.roles.join(', ')}; storage: ${storage})\n` +
      `API docs: ${server.url}/api/docs   WebSocket: ${server.url.replace(/^http/, 'ws')}/ws\n`,
  );
  platform.logger.info({ url: server.url, roles: config.roles }, 'parley started');

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) {
        platform.logger.warn({ signal }, 'second signal: exiting now');
        resolve(130);
        return;
      }
      stopping = true;
      platform.logger.info({ signal }, 'shutting down');
      const force = setTimeout(() => {
        platform.logger.error('shutdown took longer than 15 s; exiting');
        resolve(1);
      }, 15_000);
      force.unref();
      server
        .close()
        .then(() => platform.close())
        .then(
          () => {
            clearTimeout(force);
            platform.logger.info('stopped cleanly');
            resolve(0);
          },
          (e: unknown) => {
            platform.logger.error({ err: e }, 'shutdown failed');
            resolve(1);
          },
        );
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });
}

async function migrate(config: Config, io: Io): Promise<number> {
  const platform = await openPlatform(config, { logDestination: io.stderr });
  await platform.close();
  io.stdout.write('migrations applied\n');
  return 0;
}

async function account(config: Config, args: string[], io: Io): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'create')
    throw new CliUsageError('usage: parley account create --phone +15550001111 --name Alice');
  const { values } = parseArgs({
    args: rest,
    options: {
      phone: { type: 'string' },
      name: { type: 'string' },
      'device-name': { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (!values.phone) throw new CliUsageError('--phone is required (E.164, e.g. +15550001111)');
  const platform = await openPlatform({ ...config, logLevel: 'warn' }, { logDestination: io.stderr });
  try {
    const modules = createModules(platform);
    const input: { phone: string; name: string; deviceName?: string } = {
      phone: values.phone,
      name: values.name ?? '',
    };
    if (values['device-name']) input.deviceName = values['device-name'];
    const created = await modules.accounts.createAccount(input);
    io.stdout.write(
      values.json
        ? `${JSON.stringify(created)}\n`
        : `account ${created.account_id}\ndevice  ${created.device_id}\ntoken   ${created.token}\n`,
    );
    return 0;
  } finally {
    await platform.close();
  }
}

const BUSINESS_USAGE =
  'usage: parley business create --name "Acme" --phone +15550002222 [--owner P] [--json] | ' +
  'parley business verify BUSINESS_ID [--revoke] | parley business plan BUSINESS_ID PLAN | ' +
  'parley business token create|list BUSINESS_ID [--name N] [--json] | ' +
  'parley business token revoke BUSINESS_ID TOKEN_ID | ' +
  'parley business throughput PHONE_NUMBER_ID MPS | parley business tier BUSINESS_ID TIER';

async function business(config: Config, args: string[], io: Io): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    options: {
      name: { type: 'string' },
      phone: { type: 'string' },
      owner: { type: 'string' },
      revoke: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
    allowPositionals: true,
    strict: true,
  });
  if (sub === 'create') {
    if (!values.name) throw new CliUsageError('--name is required');
    if (!values.phone) throw new CliUsageError('--phone is required (E.164, e.g. +15550002222)');
  } else if (sub === 'verify') {
    if (positionals.length !== 1) throw new CliUsageError(BUSINESS_USAGE);
  } else if (sub === 'plan' || sub === 'throughput' || sub === 'tier') {
    if (positionals.length !== 2) throw new CliUsageError(BUSINESS_USAGE);
  } else if (sub === 'token') {
    const [action, ...ids] = positionals;
    const arity = action === 'revoke' ? 2 : action === 'create' || action === 'list' ? 1 : -1;
    if (ids.length !== arity) throw new CliUsageError(BUSINESS_USAGE);
  } else {
    throw new CliUsageError(BUSINESS_USAGE);
  }
  const platform = await openPlatform({ ...config, logLevel: 'warn' }, { logDestination: io.stderr });
  try {
    const modules = createModules(platform);
    if (sub === 'create') {
      const created = await modules.business.create({
        name: values.name ?? '',
        phone: values.phone ?? '',
        ...(values.owner ? { owner: values.owner } : {}),
      });
      io.stdout.write(
        values.json
          ? `${JSON.stringify(created)}\n`
          : Object.entries(created)
              .map(([k, v]) => `${k.padEnd(16)}${v}\n`)
              .join(''),
      );
    } else if (sub === 'token') {
      const [action, businessId = '', tokenId = ''] = positionals;
      const tokens = modules.tokens.operator;
      if (action === 'create') {
        const made = await tokens.create(businessId, values.name);
        io.stdout.write(
          values.json
            ? `${JSON.stringify(made)}\n`
            : `token_id        ${made.token_id}\nname            ${made.name}\naccess_token    ${made.access_token}\n`,
        );
      } else if (action === 'list') {
        const list = await tokens.list(businessId);
        io.stdout.write(
          values.json
            ? `${JSON.stringify(list)}\n`
            : list
                .map(
                  (x) =>
                    `${x.token_id}  ${(x.prefix ?? '?').padEnd(12)}  ${x.name}  last used ${x.last_used_at ?? 'never'}\n`,
                )
                .join(''),
        );
      } else {
        await tokens.revoke(businessId, tokenId);
        io.stdout.write('revoked\n');
      }
    } else if (sub === 'verify') {
      await modules.business.setVerified(positionals[0] ?? '', !values.revoke);
      io.stdout.write(values.revoke ? 'verification revoked\n' : 'verified\n');
    } else if (sub === 'throughput') {
      await modules.limits.setThroughput(positionals[0] ?? '', Number(positionals[1]));
      io.stdout.write(`throughput set to ${Number(positionals[1])} messages/s\n`);
    } else if (sub === 'tier') {
      const tier = await modules.limits.setTier(positionals[0] ?? '', positionals[1] ?? '');
      io.stdout.write(`messaging limit set to ${tier}\n`);
    } else {
      await modules.business.setPlan(positionals[0] ?? '', positionals[1] ?? '');
      io.stdout.write(`plan set to ${positionals[1]}\n`);
    }
    return 0;
  } finally {
    await platform.close();
  }
}

const PLAN_USAGE =
  'usage: parley plan list [--json] | parley plan set PLAN [--name N] [--price MINOR] [--currency C] ' +
  '[--limit NAME=N]… [--feature NAME=on|off]…';

async function plan(config: Config, args: string[], io: Io): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    options: {
      name: { type: 'string' },
      price: { type: 'string' },
      currency: { type: 'string' },
      limit: { type: 'string', multiple: true },
      feature: { type: 'string', multiple: true },
      json: { type: 'boolean', default: false },
    },
    allowPositionals: true,
    strict: true,
  });
  if (sub !== 'list' && !(sub === 'set' && positionals.length === 1)) throw new CliUsageError(PLAN_USAGE);
  const pairs = (list: string[] | undefined, what: string) =>
    (list ?? []).map((item) => {
      const [key, value] = item.split('=');
      if (!key || value === undefined) throw new CliUsageError(`--${what} takes NAME=VALUE, not "${item}"`);
      return [key, value] as const;
    });
  const limits = Object.fromEntries(pairs(values.limit, 'limit').map(([k, v]) => [k, Number(v)]));
  const features = Object.fromEntries(
    pairs(values.feature, 'feature').map(([k, v]) => [k, v === 'on' || v === 'true']),
  );
  const platform = await openPlatform({ ...config, logLevel: 'warn' }, { logDestination: io.stderr });
  try {
    const modules = createModules(platform);
    const out =
      sub === 'list'
        ? await modules.plans.list()
        : [
            await modules.plans.set(positionals[0] ?? '', {
              name: values.name,
              price_minor: values.price === undefined ? undefined : Number(values.price),
              currency: values.currency,
              limits,
              features,
            }),
          ];
    io.stdout.write(
      values.json
        ? `${JSON.stringify(sub === 'list' ? { plans: out } : out[0])}\n`
        : out
            .map(
              (p) =>
                `${p.plan_id}\t${p.name}\t${p.price_minor} ${p.currency}\t${JSON.stringify(p.limits)}\t${JSON.stringify(p.features)}\n`,
            )
            .join(''),
    );
    return 0;
  } finally {
    await platform.close();
  }
}
