/**
 * `parley ledger …`: the operator's view of the ledger. `check` proves conservation (every
 * currency's balances sum to zero and every account's stored sums equal its transfers');
 * `balance` reads one account's balance, now or at a point in time.
 */
import { parseArgs } from 'node:util';
import { openPlatform } from '../app.js';
import type { Config } from '../config.js';
import { AppError } from '../errors.js';
import { createLedger } from '../modules/ledger/index.js';
import { CliUsageError } from './usage-error.js';

export const LEDGER_USAGE =
  'usage: parley ledger check [--json] | parley ledger balance CODE CURRENCY [--at 2026-11-30T23:59:59Z] [--json]';

interface Out {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

export async function runLedger(config: Config, args: string[], io: Out): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    options: {
      at: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    allowPositionals: true,
    strict: true,
  });
  if (sub === 'check') {
    if (positionals.length > 0 || values.at !== undefined) throw new CliUsageError(LEDGER_USAGE);
  } else if (sub !== 'balance' || positionals.length !== 2) {
    throw new CliUsageError(LEDGER_USAGE);
  }
  let at: number | undefined;
  if (values.at !== undefined) {
    at = Date.parse(values.at);
    if (Number.isNaN(at)) throw new CliUsageError(`--at takes an ISO 8601 time, not "${values.at}"`);
  }

  const platform = await openPlatform({ ...config, logLevel: 'warn' }, { logDestination: io.stderr });
  try {
    const ledger = createLedger({ db: platform.db, clock: platform.clock, ids: platform.ids });
    if (sub === 'check') {
      const result = await ledger.check();
      if (values.json) {
        io.stdout.write(`${JSON.stringify(result)}\n`);
      } else {
        for (const c of result.currencies)
          io.stdout.write(`${c.currency}\tsum ${c.sum}\t${c.accounts} accounts\n`);
        for (const m of result.mismatches) {
          io.stdout.write(
            `MISMATCH ${m.accountId} ${m.code}\n  stored:         ${m.stored}\n  from transfers: ${m.fromTransfers}\n`,
          );
        }
        io.stdout.write(
          result.ok
            ? `ledger balanced: ${result.currencies.length} currencies\n`
            : `ledger NOT balanced: ${result.mismatches.length} mismatched accounts\n`,
        );
      }
      return result.ok ? 0 : 1;
    }

    const [code = '', currency = ''] = positionals;
    const account = await ledger.findAccount(undefined, code, currency.toUpperCase());
    if (!account) {
      throw new AppError('LEDGER_ACCOUNT_NOT_FOUND', `No ledger account ${code} in ${currency}.`, {
        code,
        currency,
      });
    }
    const b = await ledger.balance(account.id, at);
    const view = {
      account_id: account.id,
      code: account.code,
      currency: account.currency,
      kind: account.kind,
      at: at === undefined ? null : new Date(at).toISOString(),
      posted: b.posted.toString(),
      pending_debits: b.pendingDebits.toString(),
      pending_credits: b.pendingCredits.toString(),
      available: b.available.toString(),
      overdraft_limit: account.overdraftLimit === null ? null : account.overdraftLimit.toString(),
    };
    io.stdout.write(
      values.json
        ? `${JSON.stringify(view)}\n`
        : Object.entries(view)
            .map(([k, v]) => `${k.padEnd(16)}${v ?? '-'}\n`)
            .join(''),
    );
    return 0;
  } finally {
    await platform.close();
  }
}
