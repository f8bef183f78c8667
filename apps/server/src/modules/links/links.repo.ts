/** SQL of short links and of people opening them. */
import type { Selectable } from 'kysely';
import type { Executor } from '../../platform/db.js';
import type { LinkOpenSource, LinkOpensTable, ShortLinksTable } from '../../platform/schema.js';

export type LinkRow = Selectable<ShortLinksTable>;
export type LinkWithCount = LinkRow & { chats_started: number };

export function createLinksRepo(db: Executor) {
  const withCount = (tx: Executor) =>
    tx
      .selectFrom('short_links')
      .selectAll('short_links')
      .select((eb) =>
        eb
          .selectFrom('conversations')
          .select(eb.fn.countAll<number | string>().as('n'))
          .whereRef('conversations.started_ref', '=', 'short_links.code')
          // A code is only ever its business's, but the count says so too.
          .whereRef('conversations.business_id', '=', 'short_links.business_id')
          .as('chats_started'),
      );
  // count(*) answers a string on PostgreSQL (bigint) and a number on SQLite.
  const counted = (row: LinkRow & { chats_started: unknown }): LinkWithCount => ({
    ...row,
    chats_started: Number(row.chats_started ?? 0),
  });

  return {
    /** Serialises a business's link changes on PostgreSQL, so the plan's count holds until commit. */
    async lockBusiness(tx: Executor, businessId: string, rowLocks: boolean): Promise<void> {
      const q = tx.selectFrom('businesses').select('id').where('id', '=', businessId);
      await (rowLocks ? q.forUpdate() : q).executeTakeFirst();
    },
    /** The link with this code, deleted or not. */
    async find(code: string, tx: Executor = db): Promise<LinkWithCount | undefined> {
      const row = await withCount(tx).where('short_links.code', '=', code).executeTakeFirst();
      return row ? counted(row) : undefined;
    },
    async list(businessId: string, tx: Executor = db): Promise<LinkWithCount[]> {
      const rows = await withCount(tx)
        .where('short_links.business_id', '=', businessId)
        .where('short_links.deleted_at', 'is', null)
        .orderBy('short_links.created_at')
        .orderBy('short_links.code')
        .execute();
      return rows.map(counted);
    },
    async countLive(businessId: string, tx: Executor = db): Promise<number> {
      const row = await tx
        .selectFrom('short_links')
        .select((eb) => eb.fn.countAll<number | string>().as('n'))
        .where('business_id', '=', businessId)
        .where('deleted_at', 'is', null)
        .executeTakeFirst();
      return Number(row?.n ?? 0);
    },
    /** Inserts unless the code exists (live or deleted); false when it did. */
    async insert(tx: Executor, row: LinkRow): Promise<boolean> {
      const inserted = await tx
        .insertInto('short_links')
        .values(row)
        .onConflict((oc) => oc.column('code').doNothing())
        .returning('code')
        .execute();
      return inserted.length > 0;
    },
    async update(
      tx: Executor,
      code: string,
      patch: Partial<Pick<LinkRow, 'text' | 'phone_number_id' | 'updated_at' | 'deleted_at' | 'created_at'>>,
    ): Promise<void> {
      await tx.updateTable('short_links').set(patch).where('code', '=', code).execute();
    },

    /** Forgets opens older than `before` (they can no longer credit a conversation). */
    async deleteOpensBefore(before: number, tx: Executor = db): Promise<number> {
      const result = await tx.deleteFrom('link_opens').where('opened_at', '<', before).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
    async insertOpen(tx: Executor, row: Selectable<LinkOpensTable>): Promise<void> {
      await tx.insertInto('link_opens').values(row).execute();
    },
    /**
     * The latest open, between `from` and `to`, by the person of a link to this business
     * number: what brought them to a chat they start.
     */
    async lastOpen(
      personAccountId: string,
      phoneNumberId: string,
      from: number,
      to: number,
      tx: Executor = db,
    ): Promise<{ code: string; source: LinkOpenSource } | undefined> {
      return tx
        .selectFrom('link_opens')
        .innerJoin('short_links', 'short_links.code', 'link_opens.code')
        .select(['link_opens.code', 'link_opens.source'])
        .where('link_opens.account_id', '=', personAccountId)
        .where('short_links.phone_number_id', '=', phoneNumberId)
        .where('link_opens.opened_at', '>=', from)
        .where('link_opens.opened_at', '<=', to)
        .orderBy('link_opens.opened_at', 'desc')
        .limit(1)
        .executeTakeFirst();
    },
  };
}

export type LinksRepo = ReturnType<typeof createLinksRepo>;
