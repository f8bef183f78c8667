import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { createLedger } from '../../src/modules/ledger/index.js';
import { systemClock } from '../../src/platform/clock.js';
import { openDb } from '../../src/platform/db.js';
import { createIds } from '../../src/platform/ids.js';
import { migrateToLatest } from '../../src/platform/migrate.js';
import { runParley } from '../harness/process.js';
import { tempDir } from '../harness/storage.js';

describe('parley ledger', () => {
  it('check passes on a balanced ledger and fails on a corrupted one; balance reads an account', async () => {
    const dataDir = tempDir();
    const env = { PARLEY_DATA_DIR: dataDir };
    const db = openDb({ dataDir });
    await migrateToLatest(db);
    const ledger = createLedger({ db, clock: systemClock, ids: createIds(systemClock) });
    const [world, biz] = await db.kysely.transaction().execute(async (tx) => [
      await ledger.openAccount(tx, {
        code: 'external:manual',
        currency: 'EUR',
        kind: 'external',
        overdraftLimit: null,
      }),
      await ledger.openAccount(tx, {
        code: 'business:biz_1',
        currency: 'EUR',
        kind: 'business',
        overdraftLimit: 0n,
      }),
    ]);
    if (!world || !biz) throw new Error('accounts not opened');
    const before = Date.now();
    await new Promise((r) => setTimeout(r, 5));
    await ledger.execute({
      type: 'transfer',
      key: 'topup:1',
      debitAccountId: world.id,
      creditAccountId: biz.id,
      amount: 1250n,
      currency: 'EUR',
      kind: 'topup',
    });
    await db.close();

    const ok = await runParley(['ledger', 'check', '--json'], env);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({
      ok: true,
      currencies: [{ currency: 'EUR', sum: '0', accounts: 2 }],
    });
    const text = await runParley(['ledger', 'check'], env);
    expect(text.stdout).toContain('ledger balanced');

    const balance = await runParley(['ledger', 'balance', 'business:biz_1', 'EUR', '--json'], env);
    expect(balance.code).toBe(0);
    expect(JSON.parse(balance.stdout)).toMatchObject({
      posted: '1250',
      available: '1250',
      overdraft_limit: '0',
    });
    const past = await runParley(
      ['ledger', 'balance', 'business:biz_1', 'EUR', '--at', new Date(before).toISOString(), '--json'],
      env,
    );
    expect(JSON.parse(past.stdout)).toMatchObject({ posted: '0' });
    const missing = await runParley(['ledger', 'balance', 'business:nobody', 'EUR'], env);
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stderr).error.code).toBe('LEDGER_ACCOUNT_NOT_FOUND');
    expect((await runParley(['ledger', 'balance', 'x'], env)).code).toBe(2);

    const again = openDb({ dataDir });
    await sql`update ledger_accounts set credits_posted = 1300 where id = ${biz.id}`.execute(again.kysely);
    await again.close();
    const bad = await runParley(['ledger', 'check'], env);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain(`MISMATCH ${biz.id} business:biz_1`);
    expect(bad.stdout).toContain('NOT balanced');
  });
});
