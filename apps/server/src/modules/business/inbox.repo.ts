/** SQL of the shared inbox: conversations, their messages and notes, and the automation outbox. */
import type { Selectable } from 'kysely';
import type { Executor } from '../../platform/db.js';
import type {
  BusinessMessagesTable,
  BusinessOutboxTable,
  ConversationNotesTable,
  ConversationStatus,
  ConversationsTable,
} from '../../platform/schema.js';

export type ConversationRow = Selectable<ConversationsTable> & { person_phone: string; person_name: string };
export type MessageRow = Selectable<BusinessMessagesTable>;
export type NoteRow = Selectable<ConversationNotesTable>;
/** An outbox row; `fields` may be left out for a plain text send. */
export type OutboxRow = Omit<Selectable<BusinessOutboxTable>, 'fields'> & { fields?: string | null };

export interface ConversationFilter {
  status?: ConversationStatus | undefined;
  assignee?: string | undefined;
  /** Conversation ids to keep (a label filter, resolved by the caller). */
  ids?: string[] | undefined;
  before?: number | undefined;
  limit: number;
}

export function createInboxRepo(db: Executor) {
  const conversations = (tx: Executor) =>
    tx
      .selectFrom('conversations')
      .innerJoin('accounts', 'accounts.id', 'conversations.person_account_id')
      .selectAll('conversations')
      .select(['accounts.phone as person_phone', 'accounts.display_name as person_name']);

  return {
    async findConversation(id: string, tx: Executor = db): Promise<ConversationRow | undefined> {
      return conversations(tx).where('conversations.id', '=', id).executeTakeFirst();
    },
    async conversationOf(
      phoneNumberId: string,
      personAccountId: string,
      tx: Executor = db,
    ): Promise<ConversationRow | undefined> {
      return conversations(tx)
        .where('conversations.phone_number_id', '=', phoneNumberId)
        .where('conversations.person_account_id', '=', personAccountId)
        .executeTakeFirst();
    },
    /** The conversations of these people with one number (one query per page of messages). */
    async conversationsOf(
      phoneNumberId: string,
      personAccountIds: string[],
      tx: Executor = db,
    ): Promise<Map<string, ConversationRow>> {
      const out = new Map<string, ConversationRow>();
      for (let i = 0; i < personAccountIds.length; i += 500) {
        const part = personAccountIds.slice(i, i + 500);
        const rows = await conversations(tx)
          .where('conversations.phone_number_id', '=', phoneNumberId)
          .where('conversations.person_account_id', 'in', part)
          .execute();
        for (const r of rows) out.set(r.person_account_id, r);
      }
      return out;
    },
    /** Creates conversations unless another writer just did (the caller reads them back). */
    async insertConversations(tx: Executor, rows: Selectable<ConversationsTable>[]): Promise<void> {
      for (let i = 0; i < rows.length; i += 200) {
        await tx
          .insertInto('conversations')
          .values(rows.slice(i, i + 200))
          .onConflict((oc) => oc.columns(['phone_number_id', 'person_account_id']).doNothing())
          .execute();
      }
    },
    /** Stores messages once; returns the ids that were new (the others were redeliveries). */
    async insertMessages(tx: Executor, rows: MessageRow[]): Promise<Set<string>> {
      const fresh = new Set<string>();
      for (let i = 0; i < rows.length; i += 200) {
        const inserted = await tx
          .insertInto('business_messages')
          .values(rows.slice(i, i + 200))
          .onConflict((oc) => oc.column('message_id').doNothing())
          .returning('message_id')
          .execute();
        for (const r of inserted) fresh.add(r.message_id);
      }
      return fresh;
    },
    /** Creates the conversation unless another writer just did (the caller reads it back). */
    async insertConversation(tx: Executor, row: Selectable<ConversationsTable>): Promise<void> {
      await tx
        .insertInto('conversations')
        .values(row)
        .onConflict((oc) => oc.columns(['phone_number_id', 'person_account_id']).doNothing())
        .execute();
    },
    async updateConversation(
      tx: Executor,
      id: string,
      patch: Partial<
        Pick<
          ConversationsTable,
          | 'status'
          | 'assignee'
          | 'unread'
          | 'last_message_at'
          | 'last_inbound_at'
          | 'started_via'
          | 'started_ref'
        >
      >,
    ): Promise<void> {
      await tx.updateTable('conversations').set(patch).where('id', '=', id).execute();
    },
    async listConversations(
      businessId: string,
      f: ConversationFilter,
      tx: Executor = db,
    ): Promise<ConversationRow[]> {
      let q = conversations(tx).where('conversations.business_id', '=', businessId);
      if (f.status) q = q.where('conversations.status', '=', f.status);
      if (f.assignee) q = q.where('conversations.assignee', '=', f.assignee);
      if (f.ids) {
        if (f.ids.length === 0) return [];
        q = q.where('conversations.id', 'in', f.ids);
      }
      if (f.before !== undefined) q = q.where('conversations.last_message_at', '<', f.before);
      return q.orderBy('conversations.last_message_at', 'desc').limit(f.limit).execute();
    },

    /** Stores a message once; false when it was stored before (a redelivery). */
    async insertMessage(tx: Executor, row: MessageRow): Promise<boolean> {
      const inserted = await tx
        .insertInto('business_messages')
        .values(row)
        .onConflict((oc) => oc.column('message_id').doNothing())
        .returning('message_id')
        .execute();
      return inserted.length > 0;
    },
    async messages(
      conversationId: string,
      page: { before?: number | undefined; limit: number },
      tx: Executor = db,
    ): Promise<MessageRow[]> {
      let q = tx.selectFrom('business_messages').selectAll().where('conversation_id', '=', conversationId);
      if (page.before !== undefined) q = q.where('created_at', '<', page.before);
      return q.orderBy('created_at', 'desc').orderBy('message_id', 'desc').limit(page.limit).execute();
    },
    async messagesById(messageIds: string[], tx: Executor = db): Promise<MessageRow[]> {
      if (messageIds.length === 0) return [];
      return tx.selectFrom('business_messages').selectAll().where('message_id', 'in', messageIds).execute();
    },
    async markDelivered(tx: Executor, messageIds: string[], at: number, read: boolean): Promise<void> {
      if (messageIds.length === 0) return;
      await tx
        .updateTable('business_messages')
        .set((eb) => ({
          delivered_at: eb.fn.coalesce('delivered_at', eb.val(at)),
          ...(read ? { read_at: eb.fn.coalesce('read_at', eb.val(at)) } : {}),
        }))
        .where('message_id', 'in', messageIds)
        .where('direction', '=', 'out')
        .execute();
    },

    async insertNote(tx: Executor, row: NoteRow): Promise<void> {
      await tx.insertInto('conversation_notes').values(row).execute();
    },
    async notes(conversationId: string, tx: Executor = db): Promise<NoteRow[]> {
      return tx
        .selectFrom('conversation_notes')
        .selectAll()
        .where('conversation_id', '=', conversationId)
        .orderBy('created_at')
        .execute();
    },

    async insertOutbox(tx: Executor, rows: OutboxRow[]): Promise<void> {
      if (rows.length === 0) return;
      await tx
        .insertInto('business_outbox')
        // Every row names every column: SQLite has no DEFAULT in a multi-row VALUES.
        .values(rows.map((r) => ({ ...r, fields: r.fields ?? null })))
        .onConflict((oc) => oc.column('client_id').doNothing())
        .execute();
    },
    async outbox(limit: number, tx: Executor = db): Promise<OutboxRow[]> {
      return tx.selectFrom('business_outbox').selectAll().orderBy('created_at').limit(limit).execute();
    },
    async deleteOutbox(tx: Executor, clientIds: string[]): Promise<void> {
      if (clientIds.length === 0) return;
      await tx.deleteFrom('business_outbox').where('client_id', 'in', clientIds).execute();
    },

    /** Deletes messages older than each business's retention; returns how many. */
    async deleteExpired(businessId: string, before: number, tx: Executor = db): Promise<number> {
      const result = await tx
        .deleteFrom('business_messages')
        .where('business_id', '=', businessId)
        .where('created_at', '<', before)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}

export type InboxRepo = ReturnType<typeof createInboxRepo>;
