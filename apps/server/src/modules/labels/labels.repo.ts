/** SQL of labels: the labels of a business and where they are applied. */
import type { Selectable } from 'kysely';
import type { Executor } from '../../platform/db.js';
import type { LabelsTable, MessageLabelsTable } from '../../platform/schema.js';

export type LabelRow = Selectable<LabelsTable>;
export type LabelWithCounts = LabelRow & { conversation_count: number; message_count: number };

export function createLabelsRepo(db: Executor) {
  const withCounts = (tx: Executor) =>
    tx
      .selectFrom('labels')
      .selectAll('labels')
      .select((eb) => [
        eb
          .selectFrom('conversation_labels')
          .select(eb.fn.countAll<number | string>().as('n'))
          .whereRef('conversation_labels.label_id', '=', 'labels.id')
          .as('conversation_count'),
        // Joined with the messages: a label on a message the retention already deleted is not counted.
        eb
          .selectFrom('message_labels')
          .innerJoin('business_messages', 'business_messages.message_id', 'message_labels.message_id')
          .select(eb.fn.countAll<number | string>().as('n'))
          .whereRef('message_labels.label_id', '=', 'labels.id')
          .as('message_count'),
      ]);
  // count(*) answers a string on PostgreSQL (bigint) and a number on SQLite.
  const counted = (row: LabelRow & { conversation_count: unknown; message_count: unknown }) => ({
    ...row,
    conversation_count: Number(row.conversation_count ?? 0),
    message_count: Number(row.message_count ?? 0),
  });

  return {
    /**
     * Serialises changes to one business's labels on PostgreSQL (SQLite has one writer), so a
     * count checked against the plan or a name checked free stays true until commit.
     */
    async lockBusiness(tx: Executor, businessId: string, rowLocks: boolean): Promise<boolean> {
      const q = tx.selectFrom('businesses').select('id').where('id', '=', businessId);
      return (await (rowLocks ? q.forUpdate() : q).executeTakeFirst()) !== undefined;
    },
    async list(businessId: string, tx: Executor = db): Promise<LabelWithCounts[]> {
      const rows = await withCounts(tx)
        .where('labels.business_id', '=', businessId)
        .orderBy('labels.name_key')
        .execute();
      return rows.map(counted);
    },
    async find(id: string, tx: Executor = db): Promise<LabelWithCounts | undefined> {
      const row = await withCounts(tx).where('labels.id', '=', id).executeTakeFirst();
      return row ? counted(row) : undefined;
    },
    async byNameKey(businessId: string, nameKey: string, tx: Executor = db): Promise<LabelRow | undefined> {
      return tx
        .selectFrom('labels')
        .selectAll()
        .where('business_id', '=', businessId)
        .where('name_key', '=', nameKey)
        .executeTakeFirst();
    },
    async count(businessId: string, tx: Executor = db): Promise<number> {
      const row = await tx
        .selectFrom('labels')
        .select((eb) => eb.fn.countAll<number | string>().as('n'))
        .where('business_id', '=', businessId)
        .executeTakeFirst();
      return Number(row?.n ?? 0);
    },
    /** Which of these ids are labels of the business. */
    async idsOf(businessId: string, ids: string[], tx: Executor = db): Promise<string[]> {
      if (ids.length === 0) return [];
      const rows = await tx
        .selectFrom('labels')
        .select('id')
        .where('business_id', '=', businessId)
        .where('id', 'in', ids)
        .execute();
      return rows.map((r) => r.id);
    },
    async insert(tx: Executor, row: LabelRow): Promise<void> {
      await tx.insertInto('labels').values(row).execute();
    },
    async update(
      tx: Executor,
      id: string,
      patch: Partial<Pick<LabelRow, 'name' | 'name_key' | 'color' | 'updated_at'>>,
    ): Promise<void> {
      await tx.updateTable('labels').set(patch).where('id', '=', id).execute();
    },
    /** Deletes the label and every application of it. */
    async delete(tx: Executor, id: string): Promise<void> {
      await tx.deleteFrom('conversation_labels').where('label_id', '=', id).execute();
      await tx.deleteFrom('message_labels').where('label_id', '=', id).execute();
      await tx.deleteFrom('labels').where('id', '=', id).execute();
    },

    /** Applies labels to a conversation; true when any was not applied before. */
    async applyToConversation(
      tx: Executor,
      businessId: string,
      conversationId: string,
      labelIds: string[],
      at: number,
    ): Promise<boolean> {
      if (labelIds.length === 0) return false;
      const inserted = await tx
        .insertInto('conversation_labels')
        .values(
          labelIds.map((label_id) => ({
            conversation_id: conversationId,
            label_id,
            business_id: businessId,
            created_at: at,
          })),
        )
        .onConflict((oc) => oc.columns(['conversation_id', 'label_id']).doNothing())
        .returning('label_id')
        .execute();
      return inserted.length > 0;
    },
    async removeFromConversation(tx: Executor, conversationId: string, labelId: string): Promise<boolean> {
      const result = await tx
        .deleteFrom('conversation_labels')
        .where('conversation_id', '=', conversationId)
        .where('label_id', '=', labelId)
        .executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
    /** Label ids per conversation, in label name order. */
    async labelsOfConversations(
      conversationIds: string[],
      tx: Executor = db,
    ): Promise<Map<string, string[]>> {
      const out = new Map<string, string[]>();
      if (conversationIds.length === 0) return out;
      const rows = await tx
        .selectFrom('conversation_labels')
        .innerJoin('labels', 'labels.id', 'conversation_labels.label_id')
        .select(['conversation_labels.conversation_id', 'conversation_labels.label_id'])
        .where('conversation_labels.conversation_id', 'in', conversationIds)
        .orderBy('labels.name_key')
        .execute();
      for (const r of rows) {
        const list = out.get(r.conversation_id) ?? [];
        list.push(r.label_id);
        out.set(r.conversation_id, list);
      }
      return out;
    },
    async conversationsWithLabel(businessId: string, labelId: string, tx: Executor = db): Promise<string[]> {
      const rows = await tx
        .selectFrom('conversation_labels')
        .select('conversation_id')
        .where('business_id', '=', businessId)
        .where('label_id', '=', labelId)
        .execute();
      return rows.map((r) => r.conversation_id);
    },

    async applyToMessage(tx: Executor, row: Selectable<MessageLabelsTable>): Promise<boolean> {
      const inserted = await tx
        .insertInto('message_labels')
        .values(row)
        .onConflict((oc) => oc.columns(['message_id', 'label_id']).doNothing())
        .returning('label_id')
        .execute();
      return inserted.length > 0;
    },
    async removeFromMessage(tx: Executor, messageId: string, labelId: string): Promise<boolean> {
      const result = await tx
        .deleteFrom('message_labels')
        .where('message_id', '=', messageId)
        .where('label_id', '=', labelId)
        .executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
    async labelsOfMessage(messageId: string, tx: Executor = db): Promise<string[]> {
      const rows = await tx
        .selectFrom('message_labels')
        .innerJoin('labels', 'labels.id', 'message_labels.label_id')
        .select('message_labels.label_id')
        .where('message_labels.message_id', '=', messageId)
        .orderBy('labels.name_key')
        .execute();
      return rows.map((r) => r.label_id);
    },
    /** The business's message, if it is one (for applying labels). */
    async message(businessId: string, messageId: string, tx: Executor = db) {
      return tx
        .selectFrom('business_messages')
        .select(['message_id', 'conversation_id'])
        .where('business_id', '=', businessId)
        .where('message_id', '=', messageId)
        .executeTakeFirst();
    },
    /** Messages carrying the label, newest first. */
    async messagesWithLabel(
      labelId: string,
      page: { before?: number | undefined; limit: number },
      tx: Executor = db,
    ) {
      let q = tx
        .selectFrom('message_labels')
        .innerJoin('business_messages', 'business_messages.message_id', 'message_labels.message_id')
        .selectAll('business_messages')
        .where('message_labels.label_id', '=', labelId);
      if (page.before !== undefined) q = q.where('business_messages.created_at', '<', page.before);
      return q
        .orderBy('business_messages.created_at', 'desc')
        .orderBy('business_messages.message_id', 'desc')
        .limit(page.limit)
        .execute();
    },
  };
}

export type LabelsRepo = ReturnType<typeof createLabelsRepo>;
