/**
 * Properties of the ledger over random sequences of ops (transfers, holds, posts, voids,
 * replays, refused ones), applied in random batches on real storage: every balance stays
 * within its overdraft limit, the balances of a currency sum to zero, the stored sums equal
 * the transfers', and replaying the accepted ops changes nothing.
 */
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { describeStorage, type StorageContext } from '../../../test/harness/storage.js';
import { createManualClock } from '../../platform/clock.js';
import { createIds } from '../../platform/ids.js';
import { createLedger } from './ledger.service.js';
import type { Balance, LedgerOp, LedgerResult } from './ledger.types.js';

// Account 0 is the outside world (no limit); 1 and 2 may not go below zero; 3 has a 100 credit line.
const LIMITS = [null, 0n, 0n, 100n] as const;

type Step =
  | { t: 'transfer'; from: number; to: number; amount: bigint; hold: boolean; ttl: number }
  | { t: 'post'; hold: number; amount: bigint | null }
  | { t: 'void'; hold: number }
  | { t: 'replay'; of: number }
  | { t: 'tick'; ms: number };

const account = fc.integer({ min: 0, max: 3 });
const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      t: fc.constant('transfer' as const),
      from: account,
      to: account,
      // Boundaries matter: an overdraft by one must be seen.
      amount: fc.oneof(
        fc.bigInt({ min: -2n, max: 3n }),
        fc.constantFrom(50n, 100n, 101n, 150n),
        fc.bigInt({ min: 1n, max: 300n }),
      ),
      hold: fc.boolean(),
      ttl: fc.integer({ min: 1, max: 5000 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('post' as const),
      hold: fc.nat(20),
      amount: fc.option(fc.oneof(fc.bigInt({ min: 0n, max: 3n }), fc.constantFrom(50n, 100n, 101n))),
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('void' as const), hold: fc.nat(20) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('replay' as const), of: fc.nat(60) }) },
  {
    weight: 1,
    arbitrary: fc.record({ t: fc.constant('tick' as const), ms: fc.integer({ min: 1, max: 3000 }) }),
  },
);

let run = 0;

describeStorage('ledger properties', (storage: () => StorageContext) => {
  it('conserves money, respects limits and replays idempotently', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(step, { maxLength: 40 }),
        fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1 }),
        async (steps, cuts) => {
          const db = storage().db;
          const clock = createManualClock(Date.UTC(2026, 10, 1));
          const ledger = createLedger({ db, clock, ids: createIds(clock) });
          const prefix = `p${++run}-${Math.random().toString(36).slice(2, 8)}`;
          const accounts = await db.kysely.transaction().execute(async (tx) => {
            const out = [];
            for (const [i, limit] of LIMITS.entries()) {
              out.push(
                await ledger.openAccount(tx, {
                  code: `${prefix}:${i}`,
                  currency: 'USD',
                  kind: i === 0 ? 'external' : 'business',
                  overdraftLimit: limit,
                }),
              );
            }
            return out;
          });
          const idOf = (i: number) => accounts[i]?.id ?? 'lac_missing';

          const holds: string[] = [];
          const accepted: LedgerOp[] = [];
          const sent: LedgerOp[] = [];
          // What the accepted results say each account's sums are, computed independently.
          const expected = accounts.map(() => ({ posted: 0n, pendingDebits: 0n, pendingCredits: 0n }));
          const heldBy = new Map<string, bigint>();
          const expiries = new Set<string>();
          const indexOf = new Map(accounts.map((a, i) => [a.id, i]));
          const account = (id: string) => expected[indexOf.get(id) ?? -1];
          const track = (r: LedgerResult) => {
            if (!r.ok || r.replayed) return;
            const t = r.transfer;
            const from = account(t.debitAccountId);
            const to = account(t.creditAccountId);
            if (!from || !to) throw new Error('a transfer outside the test accounts');
            if (t.flag === 'single') {
              from.posted -= t.amount;
              to.posted += t.amount;
            } else if (t.flag === 'pending') {
              from.pendingDebits += t.amount;
              to.pendingCredits += t.amount;
              heldBy.set(t.id, t.amount);
              holds.push(t.id);
            } else {
              const held = heldBy.get(t.pendingId ?? '');
              if (held === undefined) throw new Error('a resolution of an unknown hold');
              from.pendingDebits -= held;
              to.pendingCredits -= held;
              if (t.flag === 'post') {
                from.posted -= t.amount;
                to.posted += t.amount;
              }
            }
          };

          let k = 0;
          let i = 0;
          let cut = 0;
          while (i < steps.length) {
            const size = cuts[cut++ % cuts.length] ?? 1;
            const batch: LedgerOp[] = [];
            for (const s of steps.slice(i, i + size)) {
              const key = `${prefix}:${k++}`;
              if (s.t === 'tick') {
                clock.advance(s.ms);
                continue;
              }
              if (s.t === 'transfer') {
                batch.push({
                  type: 'transfer',
                  key,
                  debitAccountId: idOf(s.from),
                  creditAccountId: idOf(s.to),
                  amount: s.amount,
                  currency: 'USD',
                  kind: 'test',
                  ...(s.hold ? { pending: { expiresAt: clock.now() + s.ttl } } : {}),
                });
              } else if (s.t === 'post' || s.t === 'void') {
                const pendingId = holds.length > 0 ? (holds[s.hold % holds.length] ?? '') : 'txn_none';
                batch.push(
                  s.t === 'post'
                    ? { type: 'post', key, pendingId, ...(s.amount === null ? {} : { amount: s.amount }) }
                    : { type: 'void', key, pendingId },
                );
              } else if (sent.length > 0) {
                const again = sent[s.of % sent.length];
                if (again) batch.push(again);
              }
            }
            i += size;
            const results = await db.kysely.transaction().execute((tx) => ledger.apply(tx, batch));
            expect(results).toHaveLength(batch.length);
            results.forEach((r, j) => {
              const op = batch[j] as LedgerOp;
              sent.push(op);
              if (r.ok && !r.replayed) accepted.push(op);
              track(r);
            });
            // Expiry runs now and then, as the worker does.
            if (cut % 3 === 0) {
              await ledger.expireHolds();
              for (const a of accounts) {
                for (const t of await ledger.transfers(a.id, { limit: 10_000 })) {
                  if (t.flag === 'void' && t.key.startsWith('expire:') && !expiries.has(t.id)) {
                    expiries.add(t.id);
                    track({ ok: true, transfer: t, replayed: false });
                  }
                }
              }
            }
            // No limited account below −limit, at any batch boundary.
            for (const [n, limit] of LIMITS.entries()) {
              const b = await ledger.balance(idOf(n));
              if (limit !== null) expect(b.available).toBeGreaterThanOrEqual(-limit);
            }
          }

          const balances: Balance[] = [];
          for (const [n, a] of accounts.entries()) {
            const b = await ledger.balance(a.id);
            balances.push(b);
            const e = expected[n];
            expect({
              posted: b.posted,
              pendingDebits: b.pendingDebits,
              pendingCredits: b.pendingCredits,
            }).toEqual(e);
            expect(b.available).toBe(b.posted - b.pendingDebits);
          }
          expect(balances.reduce((s, b) => s + b.posted, 0n)).toBe(0n);
          expect(balances.reduce((s, b) => s + b.pendingCredits - b.pendingDebits, 0n)).toBe(0n);
          const check = await ledger.check();
          expect(check.mismatches).toEqual([]);
          expect(check.ok).toBe(true);

          // Replaying every accepted op answers "replayed" and changes nothing.
          const count = async () =>
            (await Promise.all(accounts.map((a) => ledger.transfers(a.id, { limit: 10_000 })))).flat().length;
          const transfersBefore = await count();
          const replays = await db.kysely.transaction().execute((tx) => ledger.apply(tx, accepted));
          expect(replays.every((r) => r.ok && r.replayed)).toBe(true);
          for (const [n, a] of accounts.entries()) expect(await ledger.balance(a.id)).toEqual(balances[n]);
          expect(await count()).toBe(transfersBefore);
        },
      ),
      { numRuns: 40 },
    );
  }, 120_000);
});
