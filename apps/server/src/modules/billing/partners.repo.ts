/** SQL of partners, their markups, clients and members, and of their clients' usage. */
import { type Selectable, sql } from 'kysely';
import type { Executor } from '../../platform/db.js';
import type {
  PartnerClientsTable,
  PartnerMarkupsTable,
  PartnerMembersTable,
  PartnerRole,
  PartnersTable,
} from '../../platform/schema.js';

export type PartnerRow = Selectable<PartnersTable>;
export type PartnerMarkupRow = Selectable<PartnerMarkupsTable>;
export type PartnerClientRow = Selectable<PartnerClientsTable>;
export type PartnerMemberRow = Selectable<PartnerMembersTable>;

/** A partner's clients' charges of one month, per business × category × currency (micros as read). */
export interface PartnerUsageRow {
  business_id: string | null;
  category: string | null;
  currency: string;
  count: number | string;
  billable: number | string;
  operator_micros: number | string | bigint;
  partner_micros: number | string | bigint;
}

export function createPartnersRepo(db: Executor) {
  return {
    async find(id: string, tx: Executor = db): Promise<PartnerRow | undefined> {
      return tx.selectFrom('partners').selectAll().where('id', '=', id).executeTakeFirst();
    },
    async all(tx: Executor = db): Promise<PartnerRow[]> {
      return tx.selectFrom('partners').selectAll().orderBy('id').execute();
    },
    async insert(tx: Executor, row: PartnerRow): Promise<void> {
      await tx.insertInto('partners').values(row).execute();
    },
    async setDefaultMarkup(
      tx: Executor,
      id: string,
      markup: { markup_bps: number; markup_micros: bigint },
      at: number,
    ): Promise<void> {
      await tx
        .updateTable('partners')
        .set({ markup_bps: markup.markup_bps, markup_micros: Number(markup.markup_micros), updated_at: at })
        .where('id', '=', id)
        .execute();
    },
    async upsertMarkup(tx: Executor, row: PartnerMarkupRow): Promise<void> {
      await tx
        .insertInto('partner_markups')
        .values(row)
        .onConflict((oc) =>
          oc.columns(['partner_id', 'category']).doUpdateSet({
            markup_bps: row.markup_bps,
            markup_micros: row.markup_micros,
            updated_at: row.updated_at,
          }),
        )
        .execute();
    },
    async markups(tx: Executor = db, partnerId?: string): Promise<PartnerMarkupRow[]> {
      let q = tx.selectFrom('partner_markups').selectAll();
      if (partnerId !== undefined) q = q.where('partner_id', '=', partnerId);
      return q.orderBy('partner_id').orderBy('category').execute();
    },
    async clients(tx: Executor = db, partnerId?: string): Promise<PartnerClientRow[]> {
      let q = tx.selectFrom('partner_clients').selectAll();
      if (partnerId !== undefined) q = q.where('partner_id', '=', partnerId);
      return q.orderBy('partner_id').orderBy('business_id').execute();
    },
    /** A partner's clients with their names. */
    async clientViews(partnerId: string, tx: Executor = db) {
      return tx
        .selectFrom('partner_clients')
        .leftJoin('businesses', 'businesses.id', 'partner_clients.business_id')
        .select(['partner_clients.business_id', 'partner_clients.since', 'businesses.name'])
        .where('partner_clients.partner_id', '=', partnerId)
        .orderBy('partner_clients.business_id')
        .execute();
    },
    async clientOf(businessId: string, tx: Executor = db): Promise<PartnerClientRow | undefined> {
      return tx
        .selectFrom('partner_clients')
        .selectAll()
        .where('business_id', '=', businessId)
        .executeTakeFirst();
    },
    async attach(tx: Executor, row: PartnerClientRow): Promise<void> {
      await tx
        .insertInto('partner_clients')
        .values(row)
        .onConflict((oc) =>
          oc.column('business_id').doUpdateSet({ partner_id: row.partner_id, since: row.since }),
        )
        .execute();
      // The billing account names its partner too (contracts: billing_accounts.partner_id).
      await tx
        .updateTable('billing_accounts')
        .set({ partner_id: row.partner_id, updated_at: row.since })
        .where('owner_type', '=', 'business')
        .where('owner_id', '=', row.business_id)
        .execute();
    },
    async detach(tx: Executor, businessId: string, at: number): Promise<number> {
      const deleted = await tx
        .deleteFrom('partner_clients')
        .where('business_id', '=', businessId)
        .executeTakeFirst();
      await tx
        .updateTable('billing_accounts')
        .set({ partner_id: null, updated_at: at })
        .where('owner_type', '=', 'business')
        .where('owner_id', '=', businessId)
        .execute();
      return Number(deleted.numDeletedRows);
    },
    async members(partnerId: string, tx: Executor = db) {
      return tx
        .selectFrom('partner_members')
        .leftJoin('accounts', 'accounts.id', 'partner_members.account_id')
        .select([
          'partner_members.account_id',
          'partner_members.role',
          'partner_members.created_at',
          'accounts.phone',
          'accounts.display_name',
        ])
        .where('partner_members.partner_id', '=', partnerId)
        .orderBy('partner_members.account_id')
        .execute();
    },
    async memberRole(
      partnerId: string,
      accountId: string,
      tx: Executor = db,
    ): Promise<PartnerRole | undefined> {
      const row = await tx
        .selectFrom('partner_members')
        .select('role')
        .where('partner_id', '=', partnerId)
        .where('account_id', '=', accountId)
        .executeTakeFirst();
      return row?.role;
    },
    async upsertMember(tx: Executor, row: PartnerMemberRow): Promise<void> {
      await tx
        .insertInto('partner_members')
        .values(row)
        .onConflict((oc) => oc.columns(['partner_id', 'account_id']).doUpdateSet({ role: row.role }))
        .execute();
    },
    async removeMember(tx: Executor, partnerId: string, accountId: string): Promise<number> {
      const r = await tx
        .deleteFrom('partner_members')
        .where('partner_id', '=', partnerId)
        .where('account_id', '=', accountId)
        .executeTakeFirst();
      return Number(r.numDeletedRows);
    },
    /** Partners the account is a member of. */
    async partnersOfMember(accountId: string, tx: Executor = db) {
      return tx
        .selectFrom('partner_members')
        .innerJoin('partners', 'partners.id', 'partner_members.partner_id')
        .select(['partners.id', 'partners.name', 'partner_members.role'])
        .where('partner_members.account_id', '=', accountId)
        .orderBy('partners.id')
        .execute();
    },
    async revision(tx: Executor = db): Promise<bigint> {
      const row = await tx
        .selectFrom('partner_revision')
        .select('revision')
        .where('id', '=', 1)
        .executeTakeFirst();
      return BigInt(row?.revision ?? 0);
    },
    /** Counts a write, in the writer's transaction, for the caches of every process. */
    async bumpRevision(tx: Executor): Promise<void> {
      await tx
        .updateTable('partner_revision')
        .set({ revision: sql`revision + 1` })
        .where('id', '=', 1)
        .execute();
    },
    /** The charges a partner marked up in a month, per client × category × currency. */
    async usage(partnerId: string, period: string, tx: Executor = db): Promise<PartnerUsageRow[]> {
      return tx
        .selectFrom('billing_charges')
        .select((eb) => [
          'business_id',
          'category',
          'currency',
          eb.fn.sum<number | string>('quantity').as('count'),
          eb.fn
            .sum<number | string>(eb.case().when('billable', '=', 1).then(eb.ref('quantity')).else(0).end())
            .as('billable'),
          eb.fn.sum<number | string>('amount_micros').as('operator_micros'),
          eb.fn.sum<number | string>('partner_markup_micros').as('partner_micros'),
        ])
        .where('partner_id', '=', partnerId)
        .where('period', '=', period)
        .groupBy(['business_id', 'category', 'currency'])
        .orderBy('business_id')
        .orderBy('category')
        .orderBy('currency')
        .execute();
    },
  };
}

export type PartnersRepo = ReturnType<typeof createPartnersRepo>;
