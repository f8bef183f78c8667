/** SQL of receipts. */

import type { Selectable } from 'kysely';
import type { Executor } from '../../platform/db.js';
import type { MessageMetaTable, ReceiptsTable } from '../../platform/schema.js';

export function createReceiptsRepo(db: Executor) {
  return {
    async meta(messageIds: string[], tx: Executor = db): Promise<Selectable<MessageMetaTable>[]> {
      if (messageIds.length === 0) return [];
      return tx.selectFrom('message_meta').selectAll().where('message_id', 'in', messageIds).execute();
    },
    async groupsOf(accountId: string, groupIds: string[], tx: Executor = db): Promise<Set<string>> {
      if (groupIds.length === 0) return new Set();
      const rows = await tx
        .selectFrom('group_members')
        .select('group_id')
        .where('account_id', '=', accountId)
        .where('group_id', 'in', groupIds)
        .execute();
      return new Set(rows.map((r) => r.group_id));
    },
    async existing(
      tx: Executor,
      accountId: string,
      messageIds: string[],
    ): Promise<Map<string, ReceiptsTable>> {
      if (messageIds.length === 0) return new Map();
      const rows = await tx
        .selectFrom('receipts')
        .selectAll()
        .where('account_id', '=', accountId)
        .where('message_id', 'in', messageIds)
        .execute();
      return new Map(rows.map((r) => [r.message_id, r]));
    },
    async insert(tx: Executor, row: ReceiptsTable): Promise<void> {
      await tx.insertInto('receipts').values(row).execute();
    },
    async markRead(tx: Executor, messageId: string, accountId: string, at: number): Promise<void> {
      await tx
        .updateTable('receipts')
        .set({ read_at: at })
        .where('message_id', '=', messageId)
        .where('account_id', '=', accountId)
        .execute();
    },
    async forMessage(messageId: string): Promise<ReceiptsTable[]> {
      return db
        .selectFrom('receipts')
        .selectAll()
        .where('message_id', '=', messageId)
        .orderBy('delivered_at')
        .orderBy('account_id')
        .execute();
    },
    /** Whether each account sends (and sees) read receipts. */
    async readReceipts(accountIds: string[], tx: Executor = db): Promise<Map<string, boolean>> {
      if (accountIds.length === 0) return new Map();
      const rows = await tx
        .selectFrom('accounts')
        .select(['id', 'read_receipts'])
        .where('id', 'in', accountIds)
        .execute();
      return new Map(rows.map((r) => [r.id, r.read_receipts === 1]));
    },
    async devicesOf(accountId: string, tx: Executor = db): Promise<string[]> {
      const rows = await tx.selectFrom('devices').select('id').where('account_id', '=', accountId).execute();
      return rows.map((r) => r.id);
    },
  };
}

export type ReceiptsRepo = ReturnType<typeof createReceiptsRepo>;
