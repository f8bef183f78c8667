/** SQL of the groups module. Writes take the group's row lock first (lockGroup). */
import type { Executor } from '../../platform/db.js';
import type { GroupMembersTable, GroupsTable } from '../../platform/schema.js';

export type GroupRow = Omit<GroupsTable, 'event_seq'> & { event_seq: number };
export type MemberRow = GroupMembersTable & { phone: string };

export function createGroupsRepo(db: Executor) {
  return {
    async insertGroup(tx: Executor, row: Omit<GroupRow, 'event_seq'>): Promise<void> {
      await tx.insertInto('groups').values(row).execute();
    },

    async findGroup(groupId: string, tx: Executor = db): Promise<GroupRow | undefined> {
      return tx.selectFrom('groups').selectAll().where('id', '=', groupId).executeTakeFirst();
    },

    async findGroupByInvite(code: string, tx: Executor = db): Promise<GroupRow | undefined> {
      return tx.selectFrom('groups').selectAll().where('invite_code', '=', code).executeTakeFirst();
    },

    /**
     * Bumps the group's event counter and returns the group: the row lock orders this change
     * with every message and other change of the group (the commit path takes the same lock).
     */
    async lockGroup(tx: Executor, groupId: string): Promise<GroupRow | undefined> {
      return tx
        .updateTable('groups')
        .set((eb) => ({ event_seq: eb('event_seq', '+', 1) }))
        .where('id', '=', groupId)
        .returningAll()
        .executeTakeFirst();
    },

    async updateGroup(
      tx: Executor,
      groupId: string,
      patch: Partial<
        Pick<
          GroupRow,
          | 'subject'
          | 'description'
          | 'only_admins_send'
          | 'only_admins_edit'
          | 'invite_code'
          | 'photo_media_id'
        >
      >,
    ): Promise<void> {
      await tx.updateTable('groups').set(patch).where('id', '=', groupId).execute();
    },

    async members(groupId: string, tx: Executor = db): Promise<MemberRow[]> {
      return tx
        .selectFrom('group_members')
        .innerJoin('accounts', 'accounts.id', 'group_members.account_id')
        .select([
          'group_members.group_id',
          'group_members.account_id',
          'group_members.role',
          'group_members.joined_at',
          'accounts.phone',
        ])
        .where('group_members.group_id', '=', groupId)
        .orderBy('group_members.joined_at')
        .orderBy('group_members.account_id')
        .execute();
    },

    async insertMembers(tx: Executor, rows: GroupMembersTable[]): Promise<void> {
      if (rows.length > 0) await tx.insertInto('group_members').values(rows).execute();
    },

    async deleteMember(tx: Executor, groupId: string, accountId: string): Promise<void> {
      await tx
        .deleteFrom('group_members')
        .where('group_id', '=', groupId)
        .where('account_id', '=', accountId)
        .execute();
    },

    async setRole(tx: Executor, groupId: string, accountId: string, role: 'admin' | 'member'): Promise<void> {
      await tx
        .updateTable('group_members')
        .set({ role })
        .where('group_id', '=', groupId)
        .where('account_id', '=', accountId)
        .execute();
    },

    async deleteGroup(tx: Executor, groupId: string): Promise<void> {
      await tx.deleteFrom('groups').where('id', '=', groupId).execute();
    },

    /** Groups the account belongs to, newest first. */
    async groupsOf(accountId: string, tx: Executor = db): Promise<GroupRow[]> {
      return tx
        .selectFrom('groups')
        .innerJoin('group_members', 'group_members.group_id', 'groups.id')
        .selectAll('groups')
        .where('group_members.account_id', '=', accountId)
        .orderBy('groups.created_at', 'desc')
        .execute();
    },

    /** Accounts named by phone or id; returns id, phone for those that exist. */
    async findAccounts(tx: Executor, phones: string[], ids: string[]) {
      if (phones.length === 0 && ids.length === 0) return [];
      return tx
        .selectFrom('accounts')
        .select(['id', 'phone'])
        .where((eb) =>
          eb.or([
            ...(phones.length > 0 ? [eb('phone', 'in', phones)] : []),
            ...(ids.length > 0 ? [eb('id', 'in', ids)] : []),
          ]),
        )
        .execute();
    },

    /** Every device of the given accounts. */
    /** The disappearing-messages timer of the group (0: off). */
    async setTimer(tx: Executor, groupId: string, timerMs: number, setBy: string, at: number): Promise<void> {
      await tx
        .insertInto('chat_timers')
        .values({ chat_key: groupId, timer_ms: timerMs, set_by: setBy, set_at: at })
        .onConflict((oc) =>
          oc.column('chat_key').doUpdateSet({ timer_ms: timerMs, set_by: setBy, set_at: at }),
        )
        .execute();
    },

    async devicesOf(tx: Executor, accountIds: string[]): Promise<string[]> {
      if (accountIds.length === 0) return [];
      const rows = await tx
        .selectFrom('devices')
        .select('id')
        .where('account_id', 'in', accountIds)
        .execute();
      return rows.map((r) => r.id);
    },
  };
}

export type GroupsRepo = ReturnType<typeof createGroupsRepo>;
