/**
 * Applying a batch of ledger ops in memory, in order. The caller loads every account, key and
 * hold the batch names (ledger.repo.ts), runs this, then writes the new transfers and the
 * account deltas. Pure: no I/O, so the rules are tested directly.
 *
 * Model (balance = credits − debits, per account):
 * - single: debit and credit posted at once.
 * - pending (a hold): the amount sits in debits_pending / credits_pending; it lowers the debit
 *   account's available balance (posted − pending debits) until resolved.
 * - post: resolves a hold, posts `amount` ≤ held and releases the rest.
 * - void: resolves a hold, releases all of it. A hold is resolved at most once.
 * A debit (single or hold) is refused when available − amount < −overdraftLimit. Every op
 * moves the same amount out of one account and into another of the same currency, so the
 * balances of a currency always sum to zero. A refused op changes nothing; a later op of the
 * same batch sees the effects of the earlier accepted ones (a hold posted in its own batch).
 * Idempotency: a key seen before with the same op returns the first transfer (replayed); with
 * another op it is refused (LEDGER_IDEMPOTENCY_CONFLICT).
 */
import { AppError } from '../../errors.js';
import type { LedgerAccount, LedgerOp, LedgerResult, LedgerTransfer } from './ledger.types.js';

export const INT64_MAX = 2n ** 63n - 1n;

export interface BatchState {
  /** Every account the batch names that exists, by id; mutated as ops apply. */
  accounts: Map<string, LedgerAccount>;
  /** Transfers already stored (or created by this batch) under the batch's keys. */
  byKey: Map<string, LedgerTransfer>;
  /** Holds the batch resolves (and those it creates), by id. */
  holds: Map<string, LedgerTransfer>;
  /** The post or void resolving each hold, by the hold's id. */
  resolutions: Map<string, LedgerTransfer>;
}

export interface AccountDelta {
  debitsPosted: bigint;
  creditsPosted: bigint;
  debitsPending: bigint;
  creditsPending: bigint;
}

export interface BatchOutcome {
  results: LedgerResult[];
  /** New transfers, in op order. */
  created: LedgerTransfer[];
  /** What to add to each touched account's stored sums. */
  deltas: Map<string, AccountDelta>;
}

/** Ids and keys a batch needs loaded before it can be applied. */
export function batchNeeds(ops: readonly LedgerOp[]): {
  accountIds: Set<string>;
  keys: Set<string>;
  pendingIds: Set<string>;
} {
  const accountIds = new Set<string>();
  const keys = new Set<string>();
  const pendingIds = new Set<string>();
  for (const op of ops) {
    if (typeof op.key === 'string') keys.add(op.key);
    if (op.type === 'transfer') {
      if (typeof op.debitAccountId === 'string') accountIds.add(op.debitAccountId);
      if (typeof op.creditAccountId === 'string') accountIds.add(op.creditAccountId);
    } else if (typeof op.pendingId === 'string') {
      pendingIds.add(op.pendingId);
    }
  }
  return { accountIds, keys, pendingIds };
}

const refuse = (error: AppError): LedgerResult => ({ ok: false, error });

function validAmount(amount: unknown): amount is bigint {
  return typeof amount === 'bigint' && amount > 0n && amount <= INT64_MAX;
}

function sameOp(op: LedgerOp, t: LedgerTransfer): boolean {
  switch (op.type) {
    case 'transfer':
      return (
        t.flag === (op.pending ? 'pending' : 'single') &&
        t.debitAccountId === op.debitAccountId &&
        t.creditAccountId === op.creditAccountId &&
        t.amount === op.amount &&
        t.currency === op.currency
      );
    case 'post':
      return (
        t.flag === 'post' &&
        t.pendingId === op.pendingId &&
        (op.amount === undefined || op.amount === t.amount)
      );
    case 'void':
      return t.flag === 'void' && t.pendingId === op.pendingId;
  }
}

export function applyOps(
  state: BatchState,
  ops: readonly LedgerOp[],
  env: { now: number; newId: () => string; expiring?: boolean },
): BatchOutcome {
  const results: LedgerResult[] = [];
  const created: LedgerTransfer[] = [];
  const deltas = new Map<string, AccountDelta>();

  const deltaOf = (id: string): AccountDelta => {
    let d = deltas.get(id);
    if (!d) {
      d = { debitsPosted: 0n, creditsPosted: 0n, debitsPending: 0n, creditsPending: 0n };
      deltas.set(id, d);
    }
    return d;
  };
  /** Adds to an account's sums (and its delta); refuses when a sum would leave int64. */
  const fits = (a: LedgerAccount, field: keyof AccountDelta, by: bigint) => a[field] + by <= INT64_MAX;
  const add = (a: LedgerAccount, field: keyof AccountDelta, by: bigint) => {
    a[field] += by;
    deltaOf(a.id)[field] += by;
  };

  const record = (t: LedgerTransfer): LedgerResult => {
    created.push(t);
    state.byKey.set(t.key, t);
    if (t.flag === 'pending') state.holds.set(t.id, t);
    if (t.pendingId) state.resolutions.set(t.pendingId, t);
    return { ok: true, transfer: t, replayed: false };
  };

  const one = (op: LedgerOp): LedgerResult => {
    if (typeof op.key !== 'string' || op.key.length === 0) {
      return refuse(new AppError('VALIDATION_FAILED', 'A ledger op needs a non-empty idempotency key.'));
    }
    const seen = state.byKey.get(op.key);
    if (seen) {
      if (sameOp(op, seen)) return { ok: true, transfer: seen, replayed: true };
      return refuse(
        new AppError(
          'LEDGER_IDEMPOTENCY_CONFLICT',
          'This idempotency key was already used for another transfer.',
          {
            key: op.key,
            transfer_id: seen.id,
          },
        ),
      );
    }

    if (op.type === 'transfer') {
      if (!validAmount(op.amount)) {
        return refuse(
          new AppError(
            'LEDGER_INVALID_AMOUNT',
            'The amount must be a whole number of minor units above zero.',
            {
              amount: String(op.amount),
            },
          ),
        );
      }
      const debit = state.accounts.get(op.debitAccountId);
      const credit = state.accounts.get(op.creditAccountId);
      if (!debit || !credit) {
        return refuse(
          new AppError('LEDGER_ACCOUNT_NOT_FOUND', 'No such ledger account.', {
            account_id: debit ? op.creditAccountId : op.debitAccountId,
          }),
        );
      }
      if (debit.id === credit.id) {
        return refuse(
          new AppError('LEDGER_SAME_ACCOUNT', 'A transfer must move money between two accounts.', {
            account_id: debit.id,
          }),
        );
      }
      if (op.currency !== debit.currency || op.currency !== credit.currency) {
        return refuse(
          new AppError('LEDGER_CURRENCY_MISMATCH', 'The transfer’s currency differs from an account’s.', {
            currency: op.currency,
            debit_currency: debit.currency,
            credit_currency: credit.currency,
          }),
        );
      }
      if (debit.overdraftLimit !== null && !(op.allowOverdraft === true && !op.pending)) {
        const available = debit.creditsPosted - debit.debitsPosted - debit.debitsPending;
        if (available - op.amount < -debit.overdraftLimit) {
          return refuse(
            new AppError(
              'LEDGER_INSUFFICIENT_FUNDS',
              'The account’s available balance does not cover the amount.',
              {
                account_id: debit.id,
                available: available.toString(),
                amount: op.amount.toString(),
                overdraft_limit: debit.overdraftLimit.toString(),
              },
            ),
          );
        }
      }
      const hold = op.pending !== undefined;
      const debitField = hold ? 'debitsPending' : 'debitsPosted';
      const creditField = hold ? 'creditsPending' : 'creditsPosted';
      if (!fits(debit, debitField, op.amount) || !fits(credit, creditField, op.amount)) {
        return refuse(
          new AppError('LEDGER_INVALID_AMOUNT', 'The amount would take an account’s sums beyond 64 bits.', {
            amount: op.amount.toString(),
          }),
        );
      }
      add(debit, debitField, op.amount);
      add(credit, creditField, op.amount);
      return record({
        id: env.newId(),
        key: op.key,
        debitAccountId: debit.id,
        creditAccountId: credit.id,
        amount: op.amount,
        currency: op.currency,
        kind: op.kind,
        ref: op.ref ?? null,
        flag: hold ? 'pending' : 'single',
        pendingId: null,
        expiresAt: op.pending ? op.pending.expiresAt : null,
        createdAt: env.now,
      });
    }

    // post or void: resolve a hold.
    const held = state.holds.get(op.pendingId);
    if (held?.flag !== 'pending') {
      return refuse(
        new AppError('LEDGER_PENDING_NOT_FOUND', 'No hold with this id.', { pending_id: op.pendingId }),
      );
    }
    const resolution = state.resolutions.get(held.id);
    if (resolution) {
      return refuse(
        new AppError('LEDGER_PENDING_RESOLVED', 'The hold was already resolved.', {
          pending_id: held.id,
          resolution: resolution.key.startsWith('expire:') ? 'expired' : resolution.flag,
          transfer_id: resolution.id,
        }),
      );
    }
    if (!env.expiring && held.expiresAt !== null && held.expiresAt <= env.now) {
      return refuse(
        new AppError('LEDGER_PENDING_RESOLVED', 'The hold has expired.', {
          pending_id: held.id,
          resolution: 'expired',
          expired_at: held.expiresAt,
        }),
      );
    }
    let amount = held.amount;
    if (op.type === 'post' && op.amount !== undefined) {
      if (!validAmount(op.amount)) {
        return refuse(
          new AppError(
            'LEDGER_INVALID_AMOUNT',
            'The amount must be a whole number of minor units above zero.',
            {
              amount: String(op.amount),
            },
          ),
        );
      }
      if (op.amount > held.amount) {
        return refuse(
          new AppError('LEDGER_POST_EXCEEDS_PENDING', 'A hold can be posted for at most what it holds.', {
            pending_id: held.id,
            held: held.amount.toString(),
            amount: op.amount.toString(),
          }),
        );
      }
      amount = op.amount;
    }
    const debit = state.accounts.get(held.debitAccountId);
    const credit = state.accounts.get(held.creditAccountId);
    if (!debit || !credit) {
      // The hold's accounts are loaded with it; only a missing row (never deleted) lands here.
      return refuse(
        new AppError('LEDGER_ACCOUNT_NOT_FOUND', 'The hold’s account is missing.', {
          account_id: debit ? held.creditAccountId : held.debitAccountId,
        }),
      );
    }
    if (
      op.type === 'post' &&
      (!fits(debit, 'debitsPosted', amount) || !fits(credit, 'creditsPosted', amount))
    ) {
      return refuse(
        new AppError('LEDGER_INVALID_AMOUNT', 'The amount would take an account’s sums beyond 64 bits.', {
          amount: amount.toString(),
        }),
      );
    }
    add(debit, 'debitsPending', -held.amount);
    add(credit, 'creditsPending', -held.amount);
    if (op.type === 'post') {
      add(debit, 'debitsPosted', amount);
      add(credit, 'creditsPosted', amount);
    }
    return record({
      id: env.newId(),
      key: op.key,
      debitAccountId: debit.id,
      creditAccountId: credit.id,
      amount,
      currency: held.currency,
      kind: held.kind,
      ref: held.ref,
      flag: op.type,
      pendingId: held.id,
      expiresAt: null,
      createdAt: env.now,
    });
  };

  for (const op of ops) results.push(one(op));
  return { results, created, deltas };
}
