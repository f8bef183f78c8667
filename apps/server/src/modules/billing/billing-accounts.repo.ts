/** SQL of billing accounts, charges, usage counters and conversation windows. */
import { CompiledQuery, type Insertable, type Selectable, sql } from 'kysely';
import type { DbCaps, Executor } from '../../platform/db.js';
import type { BillingAccountsTable, BillingChargesTable, MessageEventsTable } from '../../platform/schema.js';

export type BillingAccountRow = Selectable<BillingAccountsTable>;
export type ChargeRow = Selectable<BillingChargesTable>;
export type NewCharge = Insertable<BillingChargesTable>;
export type MessageEvent = Selectable<MessageEventsTable>;

// SQLite binds at most 32,766 variables per statement; a charge has 24 columns.
const CHUNK = 500;
const CHARGE_CHUNK = 1000;

const CHARGE_COLUMNS = [
  'id',
  'idempotency_key',
  'billing_account_id',
  'business_id',
  'person_account_id',
  'stream',
  'category',
  'market',
  'pricing_model',
  'pricing_type',
  'billable',
  'quantity',
  'unit_price_micros',
  'amount_micros',
  'partner_id',
  'partner_markup_micros',
  'currency',
  'rate_card_version_id',
  'rounding',
  'period',
  'occurred_at',
  'created_at',
  'description',
  'ledger_transfer_id',
] as const satisfies readonly (keyof BillingChargesTable)[];

/**
 * `insert into billing_charges … values (…), (…)` for `rows` rows, written once per size and
 * dialect: metering inserts thousands of charges a second, and building the statement through
 * the query builder cost more than SQLite's work on it.
 */
const chargeInserts = new Map<string, string>();
function chargeInsertSql(rows: number, dialect: DbCaps['dialect']): string {
  const key = `${dialect}:${rows}`;
  let text = chargeInserts.get(key);
  if (text) return text;
  let n = 0;
  const tuple = () => `(${CHARGE_COLUMNS.map(() => (dialect === 'postgres' ? `$${++n}` : '?')).join(', ')})`;
  text = `insert into "billing_charges" (${CHARGE_COLUMNS.map((c) => `"${c}"`).join(', ')}) values ${Array.from(
    { length: rows },
    tuple,
  ).join(', ')}`;
  if (chargeInserts.size > 64) chargeInserts.clear();
  chargeInserts.set(key, text);
  return text;
}

export function createBillingAccountsRepo(db: Executor, caps: Pick<DbCaps, 'rowLocks' | 'dialect'>) {
  return {
    async find(
      ownerType: 'business' | 'person',
      ownerId: string,
      tx: Executor = db,
    ): Promise<BillingAccountRow | undefined> {
      return tx
        .selectFrom('billing_accounts')
        .selectAll()
        .where('owner_type', '=', ownerType)
        .where('owner_id', '=', ownerId)
        .executeTakeFirst();
    },

    async byId(id: string, tx: Executor = db): Promise<BillingAccountRow | undefined> {
      return tx.selectFrom('billing_accounts').selectAll().where('id', '=', id).executeTakeFirst();
    },

    /**
     * The accounts of these businesses, locked for the rest of the transaction on PostgreSQL
     * (in id order, so two meters never wait on each other in a cycle).
     */
    async forBusinesses(tx: Executor, businessIds: string[]): Promise<BillingAccountRow[]> {
      const out: BillingAccountRow[] = [];
      const sorted = [...businessIds].sort();
      for (let i = 0; i < sorted.length; i += CHUNK) {
        let q = tx
          .selectFrom('billing_accounts')
          .selectAll()
          .where('owner_type', '=', 'business')
          .where('owner_id', 'in', sorted.slice(i, i + CHUNK))
          .orderBy('id');
        if (caps.rowLocks) q = q.forUpdate();
        out.push(...(await q.execute()));
      }
      return out;
    },

    async insert(tx: Executor, row: BillingAccountRow): Promise<void> {
      await tx
        .insertInto('billing_accounts')
        .values(row)
        .onConflict((oc) => oc.columns(['owner_type', 'owner_id']).doNothing())
        .execute();
    },

    async update(
      tx: Executor,
      id: string,
      patch: Partial<Omit<BillingAccountRow, 'id' | 'owner_type' | 'owner_id' | 'ledger_account_id'>>,
    ): Promise<void> {
      await tx.updateTable('billing_accounts').set(patch).where('id', '=', id).execute();
    },

    /** Sets the carry of many accounts, a few hundred per statement. */
    async setCarry(tx: Executor, carries: Map<string, bigint>): Promise<void> {
      const entries = [...carries];
      for (let i = 0; i < entries.length; i += CHUNK) {
        const values = sql.join(
          entries.slice(i, i + CHUNK).map(([id, carry]) => sql`(${id}, cast(${carry.toString()} as bigint))`),
        );
        await sql`with carries(id, carry) as (values ${values})
          update billing_accounts set carry_micros = carries.carry
          from carries where billing_accounts.id = carries.id`.execute(tx);
      }
    },

    /** Keys among `keys` that already have a charge. */
    async chargedKeys(tx: Executor, keys: string[]): Promise<Set<string>> {
      const out = new Set<string>();
      for (let i = 0; i < keys.length; i += CHUNK) {
        const rows = await tx
          .selectFrom('billing_charges')
          .select('idempotency_key')
          .where('idempotency_key', 'in', keys.slice(i, i + CHUNK))
          .execute();
        for (const r of rows) out.add(r.idempotency_key);
      }
      return out;
    },

    async insertCharges(tx: Executor, rows: NewCharge[]): Promise<void> {
      for (let i = 0; i < rows.length; i += CHARGE_CHUNK) {
        const part = rows.slice(i, i + CHARGE_CHUNK);
        const parameters: unknown[] = [];
        for (const row of part) for (const c of CHARGE_COLUMNS) parameters.push(row[c] ?? null);
        await tx.executeQuery(CompiledQuery.raw(chargeInsertSql(part.length, caps.dialect), parameters));
      }
    },

    async charges(
      tx: Executor,
      filter: { billingAccountId?: string; period?: string; stream?: string },
    ): Promise<ChargeRow[]> {
      let q = tx.selectFrom('billing_charges').selectAll();
      if (filter.billingAccountId) q = q.where('billing_account_id', '=', filter.billingAccountId);
      if (filter.period) q = q.where('period', '=', filter.period);
      if (filter.stream) q = q.where('stream', '=', filter.stream as ChargeRow['stream']);
      return q.orderBy('occurred_at').orderBy('idempotency_key').execute();
    },

    async counters(tx: Executor, keys: string[]): Promise<Map<string, number>> {
      const out = new Map<string, number>();
      for (let i = 0; i < keys.length; i += CHUNK) {
        const rows = await tx
          .selectFrom('billing_usage_counters')
          .select(['counter_key', 'count'])
          .where('counter_key', 'in', keys.slice(i, i + CHUNK))
          .execute();
        for (const r of rows) out.set(r.counter_key, Number(r.count));
      }
      return out;
    },

    async addCounters(tx: Executor, increments: Map<string, number>): Promise<void> {
      const rows = [...increments].map(([counter_key, count]) => ({ counter_key, count }));
      for (let i = 0; i < rows.length; i += CHUNK) {
        await tx
          .insertInto('billing_usage_counters')
          .values(rows.slice(i, i + CHUNK))
          .onConflict((oc) =>
            oc.column('counter_key').doUpdateSet({
              count: sql`billing_usage_counters.count + excluded.count`,
            }),
          )
          .execute();
      }
    },

    async conversations(
      tx: Executor,
      keys: string[],
    ): Promise<Map<string, { opened_at: number; expires_at: number }>> {
      const out = new Map<string, { opened_at: number; expires_at: number }>();
      for (let i = 0; i < keys.length; i += CHUNK) {
        const rows = await tx
          .selectFrom('billing_conversations')
          .selectAll()
          .where('conversation_key', 'in', keys.slice(i, i + CHUNK))
          .execute();
        for (const r of rows)
          out.set(r.conversation_key, { opened_at: Number(r.opened_at), expires_at: Number(r.expires_at) });
      }
      return out;
    },

    async putConversations(
      tx: Executor,
      rows: { conversation_key: string; opened_at: number; expires_at: number }[],
    ): Promise<void> {
      for (let i = 0; i < rows.length; i += CHUNK) {
        await tx
          .insertInto('billing_conversations')
          .values(rows.slice(i, i + CHUNK))
          .onConflict((oc) =>
            oc.column('conversation_key').doUpdateSet({
              opened_at: sql`excluded.opened_at`,
              expires_at: sql`excluded.expires_at`,
            }),
          )
          .execute();
      }
    },

    /** Delivery events of a period (UTC month `[from, to)`), in metering order. */
    async events(
      tx: Executor,
      from: number,
      to: number,
      afterKey?: { at: number; key: string },
      limit = 5000,
    ) {
      let q = tx
        .selectFrom('message_events')
        .selectAll()
        .where('kind', '=', 'delivered')
        .where('occurred_at', '>=', from)
        .where('occurred_at', '<', to);
      if (afterKey) {
        // The bound on occurred_at alone lets the index start at the cursor, not the month.
        q = q
          .where('occurred_at', '>=', afterKey.at)
          .where((eb) =>
            eb.or([
              eb('occurred_at', '>', afterKey.at),
              eb.and([eb('occurred_at', '=', afterKey.at), eb('event_key', '>', afterKey.key)]),
            ]),
          );
      }
      return q.orderBy('occurred_at').orderBy('event_key').limit(limit).execute();
    },
  };
}

export type BillingAccountsRepo = ReturnType<typeof createBillingAccountsRepo>;
