/** SQL of disappearing-messages timers. */
import type { Executor } from '../../platform/db.js';
import type { ChatTimersTable } from '../../platform/schema.js';

export function createDisappearingRepo(db: Executor) {
  return {
    async accountExists(accountId: string, tx: Executor = db): Promise<boolean> {
      const row = await tx.selectFrom('accounts').select('id').where('id', '=', accountId).executeTakeFirst();
      return row !== undefined;
    },
    async isMember(groupId: string, accountId: string, tx: Executor = db): Promise<boolean> {
      const row = await tx
        .selectFrom('group_members')
        .select('account_id')
        .where('group_id', '=', groupId)
        .where('account_id', '=', accountId)
        .executeTakeFirst();
      return row !== undefined;
    },
    async hasBlocked(blocker: string, blocked: string, tx: Executor = db): Promise<boolean> {
      const row = await tx
        .selectFrom('blocks')
        .select('account_id')
        .where('account_id', '=', blocker)
        .where('blocked_id', '=', blocked)
        .executeTakeFirst();
      return row !== undefined;
    },
    async devicesOf(tx: Executor, accountId: string): Promise<string[]> {
      const rows = await tx.selectFrom('devices').select('id').where('account_id', '=', accountId).execute();
      return rows.map((r) => r.id);
    },
    async find(chatKey: string, tx: Executor = db): Promise<ChatTimersTable | undefined> {
      return tx.selectFrom('chat_timers').selectAll().where('chat_key', '=', chatKey).executeTakeFirst();
    },
    async set(tx: Executor, row: ChatTimersTable): Promise<void> {
      await tx
        .insertInto('chat_timers')
        .values(row)
        .onConflict((oc) =>
          oc
            .column('chat_key')
            .doUpdateSet({ timer_ms: row.timer_ms, set_by: row.set_by, set_at: row.set_at }),
        )
        .execute();
    },
  };
}

export type DisappearingRepo = ReturnType<typeof createDisappearingRepo>;
