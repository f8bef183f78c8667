/**
 * SQL of chat state, starred messages and the account's state version. Every write happens in
 * a transaction that first took the account's row lock (lockAccount).
 */
import type { Selectable } from 'kysely';
import type { Executor } from '../../platform/db.js';
import type { ChatStateTable, MessageMetaTable, StarredTable } from '../../platform/schema.js';

export type ChatStateRow = ChatStateTable;
export type MetaRow = Pick<
  Selectable<MessageMetaTable>,
  'message_id' | 'sender_account' | 'to_id' | 'sent_at' | 'expires_at' | 'kind' | 'deleted_at'
>;

export function createChatsRepo(db: Executor) {
  return {
    /**
     * Takes the account's row lock for the rest of the transaction (a write that changes
     * nothing) and returns its state version. Every change of the account's chat state,
     * stars and settings goes through this lock, so their versions follow commit order.
     */
    async lockAccount(tx: Executor, accountId: string): Promise<number | undefined> {
      const row = await tx
        .updateTable('accounts')
        .set((eb) => ({ state_version: eb.ref('state_version') }))
        .where('id', '=', accountId)
        .returning('state_version')
        .executeTakeFirst();
      return row?.state_version;
    },

    /** The next state version of the account (under its row lock). */
    async bumpVersion(tx: Executor, accountId: string, settings = false): Promise<number> {
      const row = await tx
        .updateTable('accounts')
        .set((eb) => ({
          state_version: eb('state_version', '+', 1),
          // SET reads the row as it was, so both get the same new value.
          ...(settings ? { settings_version: eb('state_version', '+', 1) } : {}),
        }))
        .where('id', '=', accountId)
        .returning('state_version')
        .executeTakeFirstOrThrow();
      return row.state_version;
    },

    async version(accountId: string, tx: Executor = db): Promise<number> {
      const row = await tx
        .selectFrom('accounts')
        .select('state_version')
        .where('id', '=', accountId)
        .executeTakeFirst();
      return row?.state_version ?? 0;
    },

    async settings(accountId: string, tx: Executor = db) {
      return tx
        .selectFrom('accounts')
        .select([
          'display_name',
          'about',
          'photo_media_id',
          'privacy_last_seen',
          'privacy_online',
          'privacy_photo',
          'privacy_about',
          'read_receipts',
          'settings_version',
        ])
        .where('id', '=', accountId)
        .executeTakeFirst();
    },

    async findState(tx: Executor, accountId: string, chatId: string): Promise<ChatStateRow | undefined> {
      return tx
        .selectFrom('chat_state')
        .selectAll()
        .where('account_id', '=', accountId)
        .where('chat_id', '=', chatId)
        .executeTakeFirst();
    },

    /** The account's chat states changed after version `since` (all when 0), oldest change first. */
    async listStates(accountId: string, since: number, tx: Executor = db): Promise<ChatStateRow[]> {
      return tx
        .selectFrom('chat_state')
        .selectAll()
        .where('account_id', '=', accountId)
        .where('version', '>', since)
        .orderBy('version')
        .execute();
    },

    async countPinned(tx: Executor, accountId: string): Promise<number> {
      const row = await tx
        .selectFrom('chat_state')
        .select((eb) => eb.fn.countAll<number | string>().as('n'))
        .where('account_id', '=', accountId)
        .where('pinned_at', 'is not', null)
        .executeTakeFirst();
      return Number(row?.n ?? 0);
    },

    async upsertState(tx: Executor, row: ChatStateRow): Promise<void> {
      const { account_id: _a, chat_id: _c, ...changes } = row;
      await tx
        .insertInto('chat_state')
        .values(row)
        .onConflict((oc) => oc.columns(['account_id', 'chat_id']).doUpdateSet(changes))
        .execute();
    },

    async accountExists(tx: Executor, accountId: string): Promise<boolean> {
      const row = await tx.selectFrom('accounts').select('id').where('id', '=', accountId).executeTakeFirst();
      return row !== undefined;
    },

    async isMember(tx: Executor, groupId: string, accountId: string): Promise<boolean> {
      const row = await tx
        .selectFrom('group_members')
        .select('account_id')
        .where('group_id', '=', groupId)
        .where('account_id', '=', accountId)
        .executeTakeFirst();
      return row !== undefined;
    },

    async meta(tx: Executor, messageId: string): Promise<MetaRow | undefined> {
      return tx
        .selectFrom('message_meta')
        .select(['message_id', 'sender_account', 'to_id', 'sent_at', 'expires_at', 'kind', 'deleted_at'])
        .where('message_id', '=', messageId)
        .executeTakeFirst();
    },

    async findStarred(tx: Executor, accountId: string, messageId: string): Promise<StarredTable | undefined> {
      return tx
        .selectFrom('starred')
        .selectAll()
        .where('account_id', '=', accountId)
        .where('message_id', '=', messageId)
        .executeTakeFirst();
    },

    async insertStarred(tx: Executor, row: StarredTable): Promise<void> {
      await tx.insertInto('starred').values(row).execute();
    },

    async deleteStarred(tx: Executor, accountId: string, messageId: string): Promise<void> {
      await tx
        .deleteFrom('starred')
        .where('account_id', '=', accountId)
        .where('message_id', '=', messageId)
        .execute();
    },

    /** Newest first. */
    async listStarred(accountId: string, tx: Executor = db): Promise<StarredTable[]> {
      return tx
        .selectFrom('starred')
        .selectAll()
        .where('account_id', '=', accountId)
        .orderBy('starred_at', 'desc')
        .orderBy('message_id', 'desc')
        .execute();
    },

    /** The account's devices except `exceptDevice` (the one that made the change). */
    async otherDevices(tx: Executor, accountId: string, exceptDevice: string): Promise<string[]> {
      const rows = await tx
        .selectFrom('devices')
        .select('id')
        .where('account_id', '=', accountId)
        .where('id', '!=', exceptDevice)
        .execute();
      return rows.map((r) => r.id);
    },
  };
}

export type ChatsRepo = ReturnType<typeof createChatsRepo>;
