import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { describeStorage, type StorageContext } from '../../../test/harness/storage.js';
import { AppError } from '../../errors.js';
import { createManualClock } from '../../platform/clock.js';
import { createIds } from '../../platform/ids.js';
import { createLedger } from './ledger.service.js';
import type { LedgerAccountKind, LedgerOp, LedgerResult } from './ledger.types.js';

let run = 0;

function setup(storage: StorageContext) {
  const clock = createManualClock(Date.UTC(2026, 10, 1));
  const ledger = createLedger({ db: storage.db, clock, ids: createIds(clock) });
  const prefix = `t${++run}-${Math.random().toString(36).slice(2, 8)}`;
  let n = 0;
  const key = () => `${prefix}:k${++n}`;
  async function open(
    name: string,
    overdraftLimit: bigint | null = 0n,
    currency = 'USD',
    kind: LedgerAccountKind = 'business',
  ) {
    return ledger.openAccount(storage.db.kysely, {
      code: `${prefix}:${name}`,
      currency,
      kind,
      overdraftLimit,
    });
  }
  const transfer = (debit: string, credit: string, amount: bigint, extra: Partial<LedgerOp> = {}): LedgerOp =>
    ({
      type: 'transfer',
      key: key(),
      debitAccountId: debit,
      creditAccountId: credit,
      amount,
      currency: 'USD',
      kind: 'test',
      ...extra,
    }) as LedgerOp;
  const applyOne = async (op: LedgerOp): Promise<LedgerResult> => {
    const [r] = await storage.db.kysely.transaction().execute((tx) => ledger.apply(tx, [op]));
    if (!r) throw new Error('no result');
    return r;
  };
  const codeOf = (r: LedgerResult) => (r.ok ? 'ok' : r.error.code);
  const posted = async (id: string) => (await ledger.balance(id)).posted;
  return { clock, ledger, prefix, key, open, transfer, applyOne, codeOf, posted };
}

describeStorage('ledger', (storage: () => StorageContext) => {
  it('opens an account once per code and currency', async () => {
    const { ledger, open, prefix } = setup(storage());
    const a = await open('biz', 0n);
    const again = await open('biz', 500n);
    expect(again.id).toBe(a.id);
    expect(again.overdraftLimit).toBe(0n);
    const eur = await open('biz', 0n, 'EUR');
    expect(eur.id).not.toBe(a.id);
    expect((await ledger.findAccount(undefined, `${prefix}:biz`, 'EUR'))?.id).toBe(eur.id);
    expect(await ledger.findAccount(undefined, `${prefix}:nobody`, 'USD')).toBeUndefined();
  });

  it('moves money between accounts, refuses overdrafts and replays by key', async () => {
    const { ledger, open, transfer, applyOne, codeOf, posted } = setup(storage());
    const world = await open('world', null, 'USD', 'external');
    const biz = await open('biz', 0n);
    const revenue = await open('revenue', 0n, 'USD', 'revenue');

    const topUp = transfer(world.id, biz.id, 1000n);
    const first = await applyOne(topUp);
    expect(first.ok && !first.replayed).toBe(true);
    expect(await posted(biz.id)).toBe(1000n);
    // The external account may go below zero; the business may not.
    expect(await posted(world.id)).toBe(-1000n);

    const replay = await applyOne(topUp);
    expect(replay.ok && replay.replayed).toBe(true);
    if (replay.ok && first.ok) expect(replay.transfer.id).toBe(first.transfer.id);
    expect(await posted(biz.id)).toBe(1000n);

    const conflict = await applyOne({ ...topUp, amount: 999n } as LedgerOp);
    expect(codeOf(conflict)).toBe('LEDGER_IDEMPOTENCY_CONFLICT');

    expect(codeOf(await applyOne(transfer(biz.id, revenue.id, 1001n)))).toBe('LEDGER_INSUFFICIENT_FUNDS');
    expect(codeOf(await applyOne(transfer(biz.id, revenue.id, 1000n)))).toBe('ok');
    expect(await posted(biz.id)).toBe(0n);
    expect(codeOf(await applyOne(transfer(biz.id, revenue.id, 1n)))).toBe('LEDGER_INSUFFICIENT_FUNDS');

    // A credit line: down to −limit and no further.
    await ledger.setOverdraftLimit(storage().db.kysely, biz.id, 300n);
    expect(codeOf(await applyOne(transfer(biz.id, revenue.id, 300n)))).toBe('ok');
    const refused = await applyOne(transfer(biz.id, revenue.id, 1n));
    expect(codeOf(refused)).toBe('LEDGER_INSUFFICIENT_FUNDS');
    if (!refused.ok)
      expect(refused.error.details).toMatchObject({ available: '-300', overdraft_limit: '300' });
    expect(await posted(biz.id)).toBe(-300n);
    expect(await posted(revenue.id)).toBe(1300n);
  });

  it('refuses bad ops with their own error and writes nothing for them', async () => {
    const { ledger, open, transfer, applyOne, codeOf, posted } = setup(storage());
    const world = await open('world', null, 'USD', 'external');
    const biz = await open('biz', 0n);
    const eur = await open('eur', 0n, 'EUR');
    expect(codeOf(await applyOne(transfer(world.id, biz.id, 0n)))).toBe('LEDGER_INVALID_AMOUNT');
    expect(codeOf(await applyOne(transfer(world.id, biz.id, -5n)))).toBe('LEDGER_INVALID_AMOUNT');
    expect(codeOf(await applyOne(transfer(world.id, biz.id, 2n ** 63n)))).toBe('LEDGER_INVALID_AMOUNT');
    expect(codeOf(await applyOne(transfer(world.id, biz.id, 12 as unknown as bigint)))).toBe(
      'LEDGER_INVALID_AMOUNT',
    );
    expect(codeOf(await applyOne(transfer(world.id, eur.id, 5n)))).toBe('LEDGER_CURRENCY_MISMATCH');
    expect(codeOf(await applyOne(transfer(world.id, biz.id, 5n, { currency: 'EUR' })))).toBe(
      'LEDGER_CURRENCY_MISMATCH',
    );
    expect(codeOf(await applyOne(transfer(biz.id, biz.id, 5n)))).toBe('LEDGER_SAME_ACCOUNT');
    expect(codeOf(await applyOne(transfer(world.id, 'lac_missing', 5n)))).toBe('LEDGER_ACCOUNT_NOT_FOUND');
    expect(codeOf(await applyOne({ type: 'post', key: 'x-missing-post', pendingId: 'txn_missing' }))).toBe(
      'LEDGER_PENDING_NOT_FOUND',
    );
    // A single transfer is not a hold.
    const single = await applyOne(transfer(world.id, biz.id, 5n));
    if (!single.ok) throw single.error;
    expect(
      codeOf(
        await applyOne({ type: 'void', key: `${single.transfer.key}-v`, pendingId: single.transfer.id }),
      ),
    ).toBe('LEDGER_PENDING_NOT_FOUND');
    expect(await posted(biz.id)).toBe(5n);
    expect(await ledger.transfers(biz.id, {})).toHaveLength(1);
    await expect(ledger.setOverdraftLimit(storage().db.kysely, 'lac_missing', 1n)).rejects.toMatchObject({
      code: 'LEDGER_ACCOUNT_NOT_FOUND',
    });
  });

  it('holds: a hold lowers available; post partial releases the rest; void; no second resolution', async () => {
    const { ledger, open, transfer, applyOne, codeOf, key } = setup(storage());
    const world = await open('world', null, 'USD', 'external');
    const biz = await open('biz', 0n);
    const revenue = await open('revenue', 0n, 'USD', 'revenue');
    await applyOne(transfer(world.id, biz.id, 1000n));

    const hold = await applyOne(
      transfer(biz.id, revenue.id, 700n, { pending: { expiresAt: Date.UTC(2026, 10, 2) } }),
    );
    if (!hold.ok) throw hold.error;
    expect(await ledger.balance(biz.id)).toEqual({
      posted: 1000n,
      pendingDebits: 700n,
      pendingCredits: 0n,
      available: 300n,
    });
    expect(await ledger.balance(revenue.id)).toEqual({
      posted: 0n,
      pendingDebits: 0n,
      pendingCredits: 700n,
      available: 0n,
    });
    // The held money is not available to another debit.
    expect(codeOf(await applyOne(transfer(biz.id, revenue.id, 301n)))).toBe('LEDGER_INSUFFICIENT_FUNDS');

    const pendingId = hold.transfer.id;
    expect(codeOf(await applyOne({ type: 'post', key: key(), pendingId, amount: 701n }))).toBe(
      'LEDGER_POST_EXCEEDS_PENDING',
    );
    const post = { type: 'post', key: key(), pendingId, amount: 250n } as const;
    expect(codeOf(await applyOne(post))).toBe('ok');
    expect(await ledger.balance(biz.id)).toEqual({
      posted: 750n,
      pendingDebits: 0n,
      pendingCredits: 0n,
      available: 750n,
    });
    expect(await ledger.balance(revenue.id)).toEqual({
      posted: 250n,
      pendingDebits: 0n,
      pendingCredits: 0n,
      available: 250n,
    });
    // The same post again is a replay; another post or a void is refused.
    const replay = await applyOne(post);
    expect(replay.ok && replay.replayed).toBe(true);
    const second = await applyOne({ type: 'post', key: key(), pendingId });
    expect(codeOf(second)).toBe('LEDGER_PENDING_RESOLVED');
    if (!second.ok) expect(second.error.details).toMatchObject({ resolution: 'post' });
    expect(codeOf(await applyOne({ type: 'void', key: key(), pendingId }))).toBe('LEDGER_PENDING_RESOLVED');

    const hold2 = await applyOne(
      transfer(biz.id, revenue.id, 100n, { pending: { expiresAt: Date.UTC(2026, 10, 2) } }),
    );
    if (!hold2.ok) throw hold2.error;
    expect(codeOf(await applyOne({ type: 'void', key: key(), pendingId: hold2.transfer.id }))).toBe('ok');
    const after = await applyOne({ type: 'post', key: key(), pendingId: hold2.transfer.id });
    expect(codeOf(after)).toBe('LEDGER_PENDING_RESOLVED');
    if (!after.ok) expect(after.error.details).toMatchObject({ resolution: 'void' });
    expect(await ledger.balance(biz.id)).toEqual({
      posted: 750n,
      pendingDebits: 0n,
      pendingCredits: 0n,
      available: 750n,
    });
    expect((await ledger.check()).ok).toBe(true);
  });

  it('holds expire: refused after expiry, voided by expireHolds, once', async () => {
    const { ledger, open, transfer, applyOne, codeOf, key, clock } = setup(storage());
    const world = await open('world', null, 'USD', 'external');
    const biz = await open('biz', 0n);
    const revenue = await open('revenue', 0n, 'USD', 'revenue');
    await applyOne(transfer(world.id, biz.id, 1000n));
    const expiresAt = clock.now() + 60_000;
    const hold = await applyOne(transfer(biz.id, revenue.id, 400n, { pending: { expiresAt } }));
    const keep = await applyOne(
      transfer(biz.id, revenue.id, 100n, { pending: { expiresAt: expiresAt + 3_600_000 } }),
    );
    if (!hold.ok || !keep.ok) throw new Error('hold refused');
    clock.set(expiresAt);
    const late = await applyOne({ type: 'post', key: key(), pendingId: hold.transfer.id });
    expect(codeOf(late)).toBe('LEDGER_PENDING_RESOLVED');
    if (!late.ok) expect(late.error.details).toMatchObject({ resolution: 'expired' });
    // Still held until the expiry task runs.
    expect((await ledger.balance(biz.id)).available).toBe(500n);

    expect(await ledger.expireHolds()).toBeGreaterThanOrEqual(1);
    expect(await ledger.balance(biz.id)).toEqual({
      posted: 1000n,
      pendingDebits: 100n,
      pendingCredits: 0n,
      available: 900n,
    });
    expect(await ledger.expireHolds()).toBe(0);
    const afterVoid = await applyOne({ type: 'void', key: key(), pendingId: hold.transfer.id });
    expect(codeOf(afterVoid)).toBe('LEDGER_PENDING_RESOLVED');
    if (!afterVoid.ok) expect(afterVoid.error.details).toMatchObject({ resolution: 'expired' });
    // The other hold is still live and can be posted.
    expect(codeOf(await applyOne({ type: 'post', key: key(), pendingId: keep.transfer.id }))).toBe('ok');
    expect(await ledger.balance(biz.id)).toEqual({
      posted: 900n,
      pendingDebits: 0n,
      pendingCredits: 0n,
      available: 900n,
    });
  });

  it('a batch sees its own earlier ops: a hold made and posted in one apply, a replay in the same batch', async () => {
    const { ledger, open, transfer } = setup(storage());
    const world = await open('world', null, 'USD', 'external');
    const biz = await open('biz', 0n);
    const fund = transfer(world.id, biz.id, 100n);
    const hold = transfer(biz.id, world.id, 80n, { pending: { expiresAt: Date.UTC(2027, 0, 1) } });
    const results = await storage()
      .db.kysely.transaction()
      .execute(async (tx) => {
        const [, held] = await ledger.apply(tx, [fund, hold]);
        if (!held?.ok) throw new Error('hold refused');
        return ledger.apply(tx, [
          { type: 'post', key: 'same-batch-post', pendingId: held.transfer.id, amount: 30n },
          fund,
          transfer(biz.id, world.id, 71n),
          transfer(biz.id, world.id, 70n),
        ]);
      });
    expect(results.map((r) => (r.ok ? (r.replayed ? 'replayed' : 'ok') : r.error.code))).toEqual([
      'ok',
      'replayed',
      'LEDGER_INSUFFICIENT_FUNDS',
      'ok',
    ]);
    expect((await ledger.balance(biz.id)).posted).toBe(0n);
  });

  it('balance at a point in time equals the sums as of then', async () => {
    const { ledger, open, transfer, applyOne, clock, key } = setup(storage());
    const world = await open('world', null, 'USD', 'external');
    const biz = await open('biz', 0n);
    const t0 = clock.now();
    await applyOne(transfer(world.id, biz.id, 500n));
    clock.advance(1000);
    const hold = await applyOne(transfer(biz.id, world.id, 200n, { pending: { expiresAt: t0 + 100_000 } }));
    if (!hold.ok) throw hold.error;
    clock.advance(1000);
    await applyOne(transfer(biz.id, world.id, 50n));
    clock.advance(1000);
    await applyOne({ type: 'post', key: key(), pendingId: hold.transfer.id, amount: 120n });

    expect(await ledger.balance(biz.id, t0 - 1)).toEqual({
      posted: 0n,
      pendingDebits: 0n,
      pendingCredits: 0n,
      available: 0n,
    });
    expect(await ledger.balance(biz.id, t0)).toEqual({
      posted: 500n,
      pendingDebits: 0n,
      pendingCredits: 0n,
      available: 500n,
    });
    expect(await ledger.balance(biz.id, t0 + 1000)).toEqual({
      posted: 500n,
      pendingDebits: 200n,
      pendingCredits: 0n,
      available: 300n,
    });
    expect(await ledger.balance(biz.id, t0 + 2000)).toEqual({
      posted: 450n,
      pendingDebits: 200n,
      pendingCredits: 0n,
      available: 250n,
    });
    expect(await ledger.balance(biz.id, t0 + 3000)).toEqual({
      posted: 330n,
      pendingDebits: 0n,
      pendingCredits: 0n,
      available: 330n,
    });
    expect(await ledger.balance(biz.id, t0 + 3000)).toEqual(await ledger.balance(biz.id));
    expect(await ledger.balance(world.id, t0 + 3000)).toEqual(await ledger.balance(world.id));

    const statement = await ledger.transfers(biz.id, { from: t0 + 1000, to: t0 + 2000 });
    expect(statement.map((t) => [t.flag, t.amount])).toEqual([
      ['pending', 200n],
      ['single', 50n],
    ]);
    expect(await ledger.transfers(biz.id, { limit: 2 })).toHaveLength(2);
  });

  it('check() proves the sums and reports an account row corrupted by SQL', async () => {
    const { ledger, open, transfer, applyOne } = setup(storage());
    const world = await open('world', null, 'USD', 'external');
    const biz = await open('biz', 0n);
    await applyOne(transfer(world.id, biz.id, 500n));
    await applyOne(transfer(biz.id, world.id, 100n, { pending: { expiresAt: Date.UTC(2027, 0, 1) } }));
    const good = await ledger.check();
    expect(good).toMatchObject({ ok: true, mismatches: [] });
    expect(good.currencies.find((c) => c.currency === 'USD')?.sum).toBe('0');

    const db = storage().db.kysely;
    await sql`update ledger_accounts set credits_posted = credits_posted + 1 where id = ${biz.id}`.execute(
      db,
    );
    const bad = await ledger.check();
    expect(bad.ok).toBe(false);
    expect(bad.mismatches).toEqual([
      expect.objectContaining({
        accountId: biz.id,
        code: biz.code,
        stored: expect.stringContaining('credits_posted=501'),
      }),
    ]);
    expect(bad.currencies.find((c) => c.currency === 'USD')?.sum).toBe('1');
    await sql`update ledger_accounts set credits_posted = credits_posted - 1 where id = ${biz.id}`.execute(
      db,
    );
    await sql`update ledger_accounts set debits_pending = debits_pending + 7 where id = ${biz.id}`.execute(
      db,
    );
    expect((await ledger.check()).mismatches).toHaveLength(1);
    await sql`update ledger_accounts set debits_pending = debits_pending - 7 where id = ${biz.id}`.execute(
      db,
    );
    expect((await ledger.check()).ok).toBe(true);
  });

  it('execute from 500 concurrent callers ends as applying them one by one, each caller with its own answer', async () => {
    const { ledger, open, prefix } = setup(storage());
    const accounts = 8;
    // Two identical sets of accounts: one driven concurrently, one op by op.
    async function book(tag: string) {
      const world = await open(`${tag}:world`, null, 'USD', 'external');
      const list = [];
      for (let i = 0; i < accounts; i++) list.push(await open(`${tag}:a${i}`, i % 3 === 0 ? 50n : 0n));
      return { world, list };
    }
    const conc = await book('conc');
    const seq = await book('seq');
    let seed = 42;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const plan = Array.from({ length: 500 }, (_, i) => {
      const from = rand(accounts + 1) - 1; // -1: the world
      let to = rand(accounts);
      if (to === from) to = (to + 1) % accounts;
      return { i, from, to, amount: BigInt(1 + rand(120)), replay: i > 10 && rand(10) === 0 ? rand(i) : -1 };
    });
    const opFor = (b: Awaited<ReturnType<typeof book>>, tag: string, p: (typeof plan)[number]): LedgerOp => {
      const n = p.replay >= 0 ? p.replay : p.i;
      const q = plan[n] ?? p;
      return {
        type: 'transfer',
        key: `${prefix}:${tag}:${n}`,
        debitAccountId: q.from < 0 ? b.world.id : (b.list[q.from]?.id ?? ''),
        creditAccountId: b.list[q.to]?.id ?? '',
        amount: q.amount,
        currency: 'USD',
        kind: 'test',
      };
    };
    const answers = await Promise.all(
      plan.map((p) =>
        ledger.execute(opFor(conc, 'conc', p)).then(
          (r) => (r.replayed ? 'replayed' : 'ok'),
          (e: unknown) => (e instanceof AppError ? e.code : 'other'),
        ),
      ),
    );
    const expected: string[] = [];
    for (const p of plan) {
      const [r] = await storage()
        .db.kysely.transaction()
        .execute((tx) => ledger.apply(tx, [opFor(seq, 'seq', p)]));
      expected.push(r?.ok ? (r.replayed ? 'replayed' : 'ok') : (r?.error.code ?? 'none'));
    }
    expect(answers).toEqual(expected);
    expect(answers).toContain('LEDGER_INSUFFICIENT_FUNDS');
    expect(answers).toContain('replayed');
    for (let i = 0; i < accounts; i++) {
      expect(await ledger.balance(conc.list[i]?.id ?? '')).toEqual(
        await ledger.balance(seq.list[i]?.id ?? ''),
      );
    }
    expect((await ledger.check()).ok).toBe(true);
  });
});
