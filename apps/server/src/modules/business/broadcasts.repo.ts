/** SQL of broadcast lists, their members, the broadcasts sent, and who may receive them. */
import type { Selectable } from 'kysely';
import type { Executor } from '../../platform/db.js';
import type {
  BroadcastListMembersTable,
  BroadcastListsTable,
  BroadcastsTable,
} from '../../platform/schema.js';

export type BroadcastListRow = Selectable<BroadcastListsTable>;
export type BroadcastRow = Selectable<BroadcastsTable>;
export type MemberRow = Selectable<BroadcastListMembersTable> & { phone: string; display_name: string };

export function createBroadcastsRepo(db: Executor) {
  return {
    async insertList(tx: Executor, row: BroadcastListRow): Promise<void> {
      await tx.insertInto('broadcast_lists').values(row).execute();
    },
    async findList(id: string, tx: Executor = db): Promise<BroadcastListRow | undefined> {
      return tx.selectFrom('broadcast_lists').selectAll().where('id', '=', id).executeTakeFirst();
    },
    async lists(businessId: string, tx: Executor = db) {
      return tx
        .selectFrom('broadcast_lists as l')
        .selectAll('l')
        .select((eb) =>
          eb
            .selectFrom('broadcast_list_members as m')
            .select((e) => e.fn.countAll().as('n'))
            .whereRef('m.list_id', '=', 'l.id')
            .as('member_count'),
        )
        .where('l.business_id', '=', businessId)
        .orderBy('l.created_at')
        .orderBy('l.id')
        .execute();
    },
    async touchList(tx: Executor, id: string, at: number): Promise<void> {
      await tx.updateTable('broadcast_lists').set({ updated_at: at }).where('id', '=', id).execute();
    },
    async deleteList(tx: Executor, id: string): Promise<void> {
      await tx.deleteFrom('broadcast_list_members').where('list_id', '=', id).execute();
      await tx.deleteFrom('broadcast_lists').where('id', '=', id).execute();
    },

    async members(listId: string, tx: Executor = db): Promise<MemberRow[]> {
      return tx
        .selectFrom('broadcast_list_members as m')
        .innerJoin('accounts as a', 'a.id', 'm.account_id')
        .select(['m.list_id', 'm.account_id', 'm.added_at', 'a.phone', 'a.display_name'])
        .where('m.list_id', '=', listId)
        .orderBy('m.added_at')
        .orderBy('m.account_id')
        .execute();
    },
    async memberIds(listId: string, tx: Executor = db): Promise<string[]> {
      const rows = await tx
        .selectFrom('broadcast_list_members')
        .select('account_id')
        .where('list_id', '=', listId)
        .orderBy('account_id')
        .execute();
      return rows.map((r) => r.account_id);
    },
    async addMembers(tx: Executor, listId: string, accountIds: string[], at: number): Promise<void> {
      if (accountIds.length === 0) return;
      await tx
        .insertInto('broadcast_list_members')
        .values(accountIds.map((account_id) => ({ list_id: listId, account_id, added_at: at })))
        .onConflict((oc) => oc.columns(['list_id', 'account_id']).doNothing())
        .execute();
    },
    async removeMember(tx: Executor, listId: string, accountId: string): Promise<boolean> {
      const result = await tx
        .deleteFrom('broadcast_list_members')
        .where('list_id', '=', listId)
        .where('account_id', '=', accountId)
        .executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },

    /** Accounts by id (`acc_…`) or E.164 phone, with the business of a business number. */
    async accounts(ids: string[], phones: string[], tx: Executor = db) {
      if (ids.length === 0 && phones.length === 0) return [];
      return tx
        .selectFrom('accounts')
        .select(['id', 'phone', 'business_id'])
        .where((eb) =>
          eb.or([
            ...(ids.length > 0 ? [eb('id', 'in', ids)] : []),
            ...(phones.length > 0 ? [eb('phone', 'in', phones)] : []),
          ]),
        )
        .execute();
    },

    /**
     * Of `people`, those opted in to the business: one of its numbers is in their contacts, or
     * they have messaged it (a conversation with an inbound message).
     */
    async optedIn(
      tx: Executor,
      businessId: string,
      numberAccounts: string[],
      people: string[],
    ): Promise<Set<string>> {
      if (people.length === 0) return new Set();
      const contacts =
        numberAccounts.length === 0
          ? []
          : await tx
              .selectFrom('contacts')
              .select('account_id')
              .where('account_id', 'in', people)
              .where('contact_id', 'in', numberAccounts)
              .execute();
      const messaged = await tx
        .selectFrom('conversations')
        .select('person_account_id as account_id')
        .where('business_id', '=', businessId)
        .where('person_account_id', 'in', people)
        .where('last_inbound_at', 'is not', null)
        .execute();
      return new Set([...contacts, ...messaged].map((r) => r.account_id));
    },
    /** Of `people`, those who blocked the account `blockedId`. */
    async blockedBy(tx: Executor, people: string[], blockedId: string): Promise<Set<string>> {
      if (people.length === 0) return new Set();
      const rows = await tx
        .selectFrom('blocks')
        .select('account_id')
        .where('account_id', 'in', people)
        .where('blocked_id', '=', blockedId)
        .execute();
      return new Set(rows.map((r) => r.account_id));
    },

    async insertBroadcast(tx: Executor, row: BroadcastRow): Promise<void> {
      await tx.insertInto('broadcasts').values(row).execute();
    },
    async broadcastByKey(listId: string, key: string, tx: Executor = db): Promise<BroadcastRow | undefined> {
      return tx
        .selectFrom('broadcasts')
        .selectAll()
        .where('list_id', '=', listId)
        .where('client_key', '=', key)
        .executeTakeFirst();
    },
    async broadcasts(listId: string, limit: number, tx: Executor = db): Promise<BroadcastRow[]> {
      return tx
        .selectFrom('broadcasts')
        .selectAll()
        .where('list_id', '=', listId)
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(limit)
        .execute();
    },
    /** Outbox rows of a broadcast not sent yet (client ids `bcast:<id>:…`). */
    async pending(clientIdPrefix: string, tx: Executor = db): Promise<number> {
      const row = await tx
        .selectFrom('business_outbox')
        .select((eb) => eb.fn.countAll().as('n'))
        // The prefix has no LIKE wildcards (letters, digits and colons only).
        .where('client_id', 'like', `${clientIdPrefix}%`)
        .executeTakeFirst();
      return Number(row?.n ?? 0);
    },
  };
}

export type BroadcastsRepo = ReturnType<typeof createBroadcastsRepo>;
