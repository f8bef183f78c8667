import { describe, expect, it } from 'vitest';
import { applyOps, type BatchState, batchNeeds } from './ledger.engine.js';
import type { LedgerAccount, LedgerOp } from './ledger.types.js';

const account = (
  id: string,
  overdraftLimit: bigint | null,
  creditsPosted = 0n,
  currency = 'USD',
): LedgerAccount => ({
  id,
  code: id,
  currency,
  kind: 'business',
  overdraftLimit,
  debitsPosted: 0n,
  creditsPosted,
  debitsPending: 0n,
  creditsPending: 0n,
});

function state(...accounts: LedgerAccount[]): BatchState {
  return {
    accounts: new Map(accounts.map((a) => [a.id, a])),
    byKey: new Map(),
    holds: new Map(),
    resolutions: new Map(),
  };
}

let n = 0;
const env = { now: 1000, newId: () => `txn_${++n}` };
const t = (key: string, debit: string, credit: string, amount: bigint, extra: object = {}): LedgerOp => ({
  type: 'transfer',
  key,
  debitAccountId: debit,
  creditAccountId: credit,
  amount,
  currency: 'USD',
  kind: 'test',
  ...extra,
});
const codes = (o: ReturnType<typeof applyOps>) =>
  o.results.map((r) => (r.ok ? (r.replayed ? 'replayed' : 'ok') : r.error.code));

describe('ledger engine', () => {
  it('names what a batch must load', () => {
    const needs = batchNeeds([
      t('a', 'x', 'y', 1n),
      { type: 'post', key: 'b', pendingId: 'p' },
      { type: 'void', key: 'c', pendingId: 'q' },
    ]);
    expect([...needs.accountIds]).toEqual(['x', 'y']);
    expect([...needs.keys]).toEqual(['a', 'b', 'c']);
    expect([...needs.pendingIds]).toEqual(['p', 'q']);
  });

  it('applies in order, refuses without effect, and sums deltas per account', () => {
    const s = state(account('w', null), account('a', 0n), account('b', 10n));
    const out = applyOps(
      s,
      [
        t('1', 'w', 'a', 100n),
        t('2', 'a', 'b', 101n),
        t('3', 'b', 'a', 10n),
        t('4', 'b', 'a', 1n),
        t('1', 'w', 'a', 100n),
        t('1', 'w', 'a', 99n),
        { ...t('5', 'a', 'b', 5n), currency: 'EUR' } as LedgerOp,
        t('', 'w', 'a', 1n),
      ],
      env,
    );
    expect(codes(out)).toEqual([
      'ok',
      'LEDGER_INSUFFICIENT_FUNDS',
      'ok',
      'LEDGER_INSUFFICIENT_FUNDS',
      'replayed',
      'LEDGER_IDEMPOTENCY_CONFLICT',
      'LEDGER_CURRENCY_MISMATCH',
      'VALIDATION_FAILED',
    ]);
    expect(out.created).toHaveLength(2);
    expect(out.deltas.get('a')).toEqual({
      debitsPosted: 0n,
      creditsPosted: 110n,
      debitsPending: 0n,
      creditsPending: 0n,
    });
    expect(out.deltas.get('b')).toEqual({
      debitsPosted: 10n,
      creditsPosted: 0n,
      debitsPending: 0n,
      creditsPending: 0n,
    });
  });

  it('refuses a transfer that would take a sum beyond 64 bits', () => {
    const s = state(account('w', null), account('a', 0n, 2n ** 63n - 10n));
    expect(codes(applyOps(s, [t('x', 'w', 'a', 10n), t('y', 'w', 'a', 9n)], env))).toEqual([
      'LEDGER_INVALID_AMOUNT',
      'ok',
    ]);
  });

  it('posts and voids holds once; expiry voids only through the expiry task', () => {
    const s = state(account('w', null), account('a', 0n, 100n));
    const hold = applyOps(s, [t('h', 'a', 'w', 60n, { pending: { expiresAt: 2000 } })], env);
    const id = hold.created[0]?.id ?? '';
    expect(s.accounts.get('a')?.debitsPending).toBe(60n);
    const late = { ...env, now: 2000 };
    expect(codes(applyOps(s, [{ type: 'post', key: 'p', pendingId: id }], late))).toEqual([
      'LEDGER_PENDING_RESOLVED',
    ]);
    expect(
      codes(applyOps(s, [{ type: 'void', key: `expire:${id}`, pendingId: id }], { ...late, expiring: true })),
    ).toEqual(['ok']);
    expect(s.accounts.get('a')?.debitsPending).toBe(0n);
    const after = applyOps(s, [{ type: 'void', key: 'v', pendingId: id }], env);
    expect(after.results[0]?.ok === false && after.results[0].error.details).toMatchObject({
      resolution: 'expired',
    });
  });
});
