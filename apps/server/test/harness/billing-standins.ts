/**
 * Test stand-ins for the ledger and billing accounts, following the billing contracts, until
 * the real ones are wired in. The ledger keeps its accounts and transfers in real tables in
 * the caller's transaction (so a rolled-back transaction rolls them back too); keys are
 * idempotent and a transfer is refused when available − amount < −overdraftLimit.
 */

import type { ErrorCode } from '@parley/protocol';
import { sql } from 'kysely';
import { AppError } from '../../src/errors.js';
import type {
  BillingAccountRow,
  BillingAccountsPort,
  LedgerAccount,
  LedgerPort,
  LedgerResult,
} from '../../src/modules/billing/subscriptions.ports.js';
import type { Clock } from '../../src/platform/clock.js';
import type { Db, Executor } from '../../src/platform/db.js';
import type { Ids } from '../../src/platform/ids.js';

interface AccountRow {
  id: string;
  code: string;
  currency: string;
  kind: LedgerAccount['kind'];
  overdraft: string | null;
}
interface TransferRow {
  key: string;
  id: string;
  debit: string;
  credit: string;
  amount: string;
  currency: string;
  kind: string;
  ref: string | null;
  created_at: number | string;
}

const ledgerError = (code: string, message: string) => new AppError(code as ErrorCode, message);

export async function createTestLedger(db: Pick<Db, 'kysely'>, clock: Clock, ids: Ids) {
  await sql`create table if not exists test_ledger_accounts (id text primary key, code text not null,
    currency text not null, kind text not null, overdraft text, unique (code, currency))`.execute(db.kysely);
  await sql`create table if not exists test_ledger_transfers (key text primary key, id text not null,
    debit text not null, credit text not null, amount text not null, currency text not null,
    kind text not null, ref text, created_at bigint not null)`.execute(db.kysely);

  async function account(tx: Executor, id: string): Promise<AccountRow | undefined> {
    const r = await sql<AccountRow>`select * from test_ledger_accounts where id = ${id}`.execute(tx);
    return r.rows[0];
  }
  async function posted(tx: Executor, id: string): Promise<bigint> {
    const r =
      await sql<TransferRow>`select * from test_ledger_transfers where debit = ${id} or credit = ${id}`.execute(
        tx,
      );
    let b = 0n;
    for (const t of r.rows) b += t.credit === id ? BigInt(t.amount) : -BigInt(t.amount);
    return b;
  }
  const toAccount = (r: AccountRow): LedgerAccount => ({
    id: r.id,
    code: r.code,
    currency: r.currency,
    kind: r.kind,
    overdraftLimit: r.overdraft === null ? null : BigInt(r.overdraft),
    debitsPosted: 0n,
    creditsPosted: 0n,
    debitsPending: 0n,
    creditsPending: 0n,
  });

  const ledger: LedgerPort & {
    balance(id: string, tx?: Executor): Promise<bigint>;
    findAccount(tx: Executor | undefined, code: string, currency: string): Promise<LedgerAccount | undefined>;
    transferCount(): Promise<number>;
  } = {
    async openAccount(tx, spec) {
      await sql`insert into test_ledger_accounts (id, code, currency, kind, overdraft)
        values (${ids.newId('lac')}, ${spec.code}, ${spec.currency}, ${spec.kind},
          ${spec.overdraftLimit === null ? null : spec.overdraftLimit.toString()})
        on conflict (code, currency) do nothing`.execute(tx);
      const found = await ledger.findAccount(tx, spec.code, spec.currency);
      if (!found) throw new Error('account not opened');
      return found;
    },
    async findAccount(tx, code, currency) {
      const r =
        await sql<AccountRow>`select * from test_ledger_accounts where code = ${code} and currency = ${currency}`.execute(
          tx ?? db.kysely,
        );
      return r.rows[0] ? toAccount(r.rows[0]) : undefined;
    },
    async apply(tx, ops) {
      const out: LedgerResult[] = [];
      for (const op of ops) {
        if (op.type !== 'transfer') throw new Error('the stand-in ledger only transfers');
        const prior = (
          await sql<TransferRow>`select * from test_ledger_transfers where key = ${op.key}`.execute(tx)
        ).rows[0];
        const transfer = (t: TransferRow) => ({
          id: t.id,
          key: t.key,
          debitAccountId: t.debit,
          creditAccountId: t.credit,
          amount: BigInt(t.amount),
          currency: t.currency,
          kind: t.kind,
          ref: t.ref,
          flag: 'single' as const,
          pendingId: null,
          expiresAt: null,
          createdAt: Number(t.created_at),
        });
        if (prior) {
          const same =
            prior.debit === op.debitAccountId &&
            prior.credit === op.creditAccountId &&
            BigInt(prior.amount) === op.amount;
          out.push(
            same
              ? { ok: true, transfer: transfer(prior), replayed: true }
              : { ok: false, error: ledgerError('LEDGER_IDEMPOTENCY_CONFLICT', 'key reused') },
          );
          continue;
        }
        const debit = await account(tx, op.debitAccountId);
        const credit = await account(tx, op.creditAccountId);
        if (!debit || !credit) {
          out.push({ ok: false, error: ledgerError('LEDGER_ACCOUNT_NOT_FOUND', 'no account') });
          continue;
        }
        if (op.amount <= 0n) {
          out.push({ ok: false, error: ledgerError('LEDGER_INVALID_AMOUNT', 'amount ≤ 0') });
          continue;
        }
        if (debit.overdraft !== null && (await posted(tx, debit.id)) - op.amount < -BigInt(debit.overdraft)) {
          out.push({
            ok: false,
            error: ledgerError('LEDGER_INSUFFICIENT_FUNDS', `${debit.code} cannot pay`),
          });
          continue;
        }
        const row: TransferRow = {
          key: op.key,
          id: ids.newId('txn'),
          debit: debit.id,
          credit: credit.id,
          amount: op.amount.toString(),
          currency: op.currency,
          kind: op.kind,
          ref: op.ref ?? null,
          created_at: clock.now(),
        };
        await sql`insert into test_ledger_transfers (key, id, debit, credit, amount, currency, kind, ref, created_at)
          values (${row.key}, ${row.id}, ${row.debit}, ${row.credit}, ${row.amount}, ${row.currency}, ${row.kind},
            ${row.ref}, ${row.created_at})`.execute(tx);
        out.push({ ok: true, transfer: transfer(row), replayed: false });
      }
      return out;
    },
    async balance(id, tx) {
      return posted(tx ?? db.kysely, id);
    },
    async transferCount() {
      const r = await sql<{ n: number | string }>`select count(*) as n from test_ledger_transfers`.execute(
        db.kysely,
      );
      return Number(r.rows[0]?.n ?? 0);
    },
  };
  return ledger;
}

export type TestLedger = Awaited<ReturnType<typeof createTestLedger>>;

/** Billing accounts as the billing module will provide them: prepaid, created on first use. */
export function createTestBillingAccounts(ledger: TestLedger, clock: Clock, ids: Ids) {
  const get = async (tx: Executor, ownerType: 'business' | 'person', ownerId: string) =>
    (await tx
      .selectFrom('billing_accounts')
      .selectAll()
      .where('owner_type', '=', ownerType)
      .where('owner_id', '=', ownerId)
      .executeTakeFirst()) as BillingAccountRow | undefined;
  const port: BillingAccountsPort & {
    balance(ownerType: 'business' | 'person', ownerId: string, tx: Executor): Promise<bigint>;
  } = {
    get,
    async ensure(tx, input) {
      const found = await get(tx, input.ownerType, input.ownerId);
      if (found) return found;
      const currency = input.currency ?? 'USD';
      const la = await ledger.openAccount(tx, {
        code: `${input.ownerType}:${input.ownerId}`,
        currency,
        kind: input.ownerType,
        overdraftLimit: 0n,
      });
      const now = clock.now();
      await tx
        .insertInto('billing_accounts')
        .values({
          id: ids.newId('bac'),
          owner_type: input.ownerType,
          owner_id: input.ownerId,
          currency,
          country: null,
          mode: 'prepaid',
          credit_limit_minor: 0,
          ledger_account_id: la.id,
          partner_id: null,
          low_balance_minor: null,
          low_balance_alerted_at: null,
          carry_micros: 0,
          created_at: now,
          updated_at: now,
        })
        .execute();
      const made = await get(tx, input.ownerType, input.ownerId);
      if (!made) throw new Error('billing account not created');
      return made;
    },
    async charge(tx, input) {
      const prior = await tx
        .selectFrom('billing_charges')
        .select('id')
        .where('idempotency_key', '=', input.key)
        .executeTakeFirst();
      if (prior) return { chargeId: prior.id, replayed: true };
      const account = await tx
        .selectFrom('billing_accounts')
        .selectAll()
        .where('id', '=', input.billingAccountId)
        .executeTakeFirstOrThrow();
      const revenue = await ledger.openAccount(tx, {
        code: `revenue:${input.stream}`,
        currency: account.currency,
        kind: 'revenue',
        overdraftLimit: null,
      });
      const credit = input.amountMinor < 0n;
      const [r] = await ledger.apply(tx, [
        {
          type: 'transfer',
          key: `charge:${input.key}`,
          debitAccountId: credit ? revenue.id : account.ledger_account_id,
          creditAccountId: credit ? account.ledger_account_id : revenue.id,
          amount: credit ? -input.amountMinor : input.amountMinor,
          currency: account.currency,
          kind: input.stream,
        },
      ]);
      if (!r?.ok) throw r?.error ?? new Error('no ledger result');
      const id = ids.newId('chg');
      const d = new Date(input.occurredAt);
      await tx
        .insertInto('billing_charges')
        .values({
          id,
          idempotency_key: input.key,
          billing_account_id: account.id,
          business_id: input.businessId ?? null,
          person_account_id: input.personAccountId ?? null,
          stream: input.stream,
          category: null,
          market: null,
          pricing_model: null,
          pricing_type: null,
          billable: 1,
          quantity: 1,
          unit_price_micros: (input.amountMinor * 10_000n).toString(),
          amount_micros: (input.amountMinor * 10_000n).toString(),
          partner_id: null,
          partner_markup_micros: 0,
          currency: account.currency,
          rate_card_version_id: null,
          rounding: 'half_even',
          period: `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`,
          occurred_at: input.occurredAt,
          created_at: clock.now(),
          description: input.description,
          ledger_transfer_id: r.transfer.id,
        })
        .execute();
      return { chargeId: id, replayed: false };
    },
    async balance(ownerType, ownerId, tx) {
      const a = await get(tx, ownerType, ownerId);
      return a ? ledger.balance(a.ledger_account_id, tx) : 0n;
    },
  };
  return port;
}
