/** SQL of business automations. */
import type { Selectable } from 'kysely';
import type { Executor } from '../../platform/db.js';
import type { KeywordRulesTable, QuickRepliesTable } from '../../platform/schema.js';

export type KeywordRuleRow = Selectable<KeywordRulesTable>;
export type QuickReplyRow = Selectable<QuickRepliesTable>;

export function createAutomationsRepo(db: Executor) {
  return {
    async settings(businessId: string, tx: Executor = db) {
      return tx
        .selectFrom('business_automations')
        .selectAll()
        .where('business_id', '=', businessId)
        .executeTakeFirst();
    },
    async saveSettings(
      tx: Executor,
      row: { business_id: string; greeting: string; away: string; updated_at: number },
    ) {
      await tx
        .insertInto('business_automations')
        .values(row)
        .onConflict((oc) =>
          oc
            .column('business_id')
            .doUpdateSet({ greeting: row.greeting, away: row.away, updated_at: row.updated_at }),
        )
        .execute();
    },
    async rules(businessId: string, tx: Executor = db): Promise<KeywordRuleRow[]> {
      return tx
        .selectFrom('keyword_rules')
        .selectAll()
        .where('business_id', '=', businessId)
        .orderBy('position')
        .orderBy('created_at')
        .execute();
    },
    async insertRule(tx: Executor, row: KeywordRuleRow): Promise<void> {
      await tx.insertInto('keyword_rules').values(row).execute();
    },
    async updateRule(tx: Executor, id: string, patch: { rule?: string; position?: number }): Promise<void> {
      await tx.updateTable('keyword_rules').set(patch).where('id', '=', id).execute();
    },
    async deleteRule(tx: Executor, businessId: string, id: string): Promise<boolean> {
      const r = await tx
        .deleteFrom('keyword_rules')
        .where('business_id', '=', businessId)
        .where('id', '=', id)
        .executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },
    async quickReplies(businessId: string, tx: Executor = db): Promise<QuickReplyRow[]> {
      return tx
        .selectFrom('quick_replies')
        .selectAll()
        .where('business_id', '=', businessId)
        .orderBy('shortcut')
        .execute();
    },
    async quickReply(
      businessId: string,
      shortcut: string,
      tx: Executor = db,
    ): Promise<QuickReplyRow | undefined> {
      return tx
        .selectFrom('quick_replies')
        .selectAll()
        .where('business_id', '=', businessId)
        .where('shortcut', '=', shortcut)
        .executeTakeFirst();
    },
    async saveQuickReply(tx: Executor, row: QuickReplyRow): Promise<void> {
      await tx
        .insertInto('quick_replies')
        .values(row)
        .onConflict((oc) =>
          oc.columns(['business_id', 'shortcut']).doUpdateSet({ text: row.text, media_id: row.media_id }),
        )
        .execute();
    },
    async deleteQuickReply(tx: Executor, businessId: string, shortcut: string): Promise<boolean> {
      const r = await tx
        .deleteFrom('quick_replies')
        .where('business_id', '=', businessId)
        .where('shortcut', '=', shortcut)
        .executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },
    async lastSent(tx: Executor, conversationId: string, kind: string): Promise<number | undefined> {
      const row = await tx
        .selectFrom('automation_sends')
        .select('last_at')
        .where('conversation_id', '=', conversationId)
        .where('kind', '=', kind)
        .executeTakeFirst();
      return row === undefined ? undefined : Number(row.last_at);
    },
    async markSent(tx: Executor, conversationId: string, kind: string, at: number): Promise<void> {
      await tx
        .insertInto('automation_sends')
        .values({ conversation_id: conversationId, kind, last_at: at })
        .onConflict((oc) => oc.columns(['conversation_id', 'kind']).doUpdateSet({ last_at: at }))
        .execute();
    },
  };
}

export type AutomationsRepo = ReturnType<typeof createAutomationsRepo>;
