/** Messages of the Business Messaging API and the billing records of business messages. */
import type { Insertable, Selectable } from 'kysely';
import type { Executor } from '../../platform/db.js';
import type { ApiMessagesTable, MessageEventsTable } from '../../platform/schema.js';

export type ApiMessageRow = Selectable<ApiMessagesTable>;
export type MessageEventRow = Insertable<MessageEventsTable>;

const CHUNK = 200;

export function createApiMessagesRepo(db: Executor) {
  return {
    async insert(tx: Executor, rows: ApiMessageRow[]): Promise<void> {
      for (let i = 0; i < rows.length; i += CHUNK) {
        await tx
          .insertInto('api_messages')
          .values(rows.slice(i, i + CHUNK))
          .onConflict((oc) => oc.column('message_id').doNothing())
          .execute();
      }
    },

    async byIds(tx: Executor, messageIds: string[]): Promise<ApiMessageRow[]> {
      const out: ApiMessageRow[] = [];
      for (let i = 0; i < messageIds.length; i += CHUNK) {
        out.push(
          ...(await tx
            .selectFrom('api_messages')
            .selectAll()
            .where('message_id', 'in', messageIds.slice(i, i + CHUNK))
            .execute()),
        );
      }
      return out;
    },

    /**
     * Moves messages forward, each to `status` at its own time (never back: a late `sent`
     * after `read` changes nothing). One statement per distinct time.
     */
    async advance(
      tx: Executor,
      at: ReadonlyMap<string, number>,
      status: 'sent' | 'delivered' | 'read',
    ): Promise<void> {
      const earlier: ApiMessageRow['status'][] =
        status === 'sent'
          ? ['accepted']
          : status === 'delivered'
            ? ['accepted', 'sent']
            : ['accepted', 'sent', 'delivered'];
      const column = status === 'sent' ? 'sent_at' : status === 'delivered' ? 'delivered_at' : 'read_at';
      const byTime = new Map<number, string[]>();
      for (const [id, time] of at) byTime.set(time, [...(byTime.get(time) ?? []), id]);
      for (const [time, ids] of byTime) {
        for (let i = 0; i < ids.length; i += CHUNK) {
          await tx
            .updateTable('api_messages')
            .set({ status, [column]: time })
            .where('message_id', 'in', ids.slice(i, i + CHUNK))
            .where('status', 'in', earlier)
            .execute();
        }
      }
    },

    async fail(tx: Executor, messageId: string, code: number, details: string): Promise<void> {
      await tx
        .updateTable('api_messages')
        .set({ status: 'failed', error_code: code, error_details: details })
        .where('message_id', '=', messageId)
        .where('status', '=', 'accepted')
        .execute();
    },

    /** Records outcomes once each: a key already recorded is skipped. Returns the keys written. */
    async recordEvents(tx: Executor, rows: MessageEventRow[]): Promise<void> {
      for (let i = 0; i < rows.length; i += CHUNK) {
        await tx
          .insertInto('message_events')
          .values(rows.slice(i, i + CHUNK))
          .onConflict((oc) => oc.column('event_key').doNothing())
          .execute();
      }
    },

    /**
     * Outbound inbox messages (agents', automations', broadcasts') among `messageIds`, with
     * what billing needs of their conversation.
     */
    async outboundInbox(tx: Executor, messageIds: string[]) {
      const out = [];
      for (let i = 0; i < messageIds.length; i += CHUNK) {
        out.push(
          ...(await tx
            .selectFrom('business_messages as m')
            .innerJoin('conversations as c', 'c.id', 'm.conversation_id')
            .innerJoin('accounts as a', 'a.id', 'c.person_account_id')
            .select([
              'm.message_id',
              'm.author',
              'c.business_id',
              'c.phone_number_id',
              'a.phone as person_phone',
              'c.started_via',
              'c.created_at as conversation_created_at',
              'c.last_inbound_at',
            ])
            .where('m.message_id', 'in', messageIds.slice(i, i + CHUNK))
            .where('m.direction', '=', 'out')
            .execute()),
        );
      }
      return out;
    },

    /** Whether a message belongs to the chat of a business number and a person (either way). */
    async inChat(
      messageId: string,
      phoneNumberId: string,
      personAccountId: string,
      tx: Executor = db,
    ): Promise<boolean> {
      const row = await tx
        .selectFrom('business_messages as m')
        .innerJoin('conversations as c', 'c.id', 'm.conversation_id')
        .select('m.message_id')
        .where('m.message_id', '=', messageId)
        .where('c.phone_number_id', '=', phoneNumberId)
        .where('c.person_account_id', '=', personAccountId)
        .executeTakeFirst();
      return row !== undefined;
    },

    /** The E.164 number of a message's sender (while its metadata lives: 30 days). */
    async senderPhone(tx: Executor, messageId: string): Promise<string | undefined> {
      const row = await tx
        .selectFrom('message_meta as m')
        .innerJoin('accounts as a', 'a.id', 'm.sender_account')
        .select('a.phone')
        .where('m.message_id', '=', messageId)
        .executeTakeFirst();
      return row?.phone;
    },

    /** Display names of people (the `contacts[].profile.name` of message webhooks). */
    async names(tx: Executor, accountIds: string[]): Promise<Map<string, { phone: string; name: string }>> {
      if (accountIds.length === 0) return new Map();
      const rows = await tx
        .selectFrom('accounts')
        .select(['id', 'phone', 'display_name'])
        .where('id', 'in', accountIds)
        .execute();
      return new Map(rows.map((r) => [r.id, { phone: r.phone, name: r.display_name }]));
    },

    async events(businessId: string, tx: Executor = db): Promise<Selectable<MessageEventsTable>[]> {
      return tx
        .selectFrom('message_events')
        .selectAll()
        .where('business_id', '=', businessId)
        .orderBy('occurred_at')
        .execute();
    },
  };
}

export type ApiMessagesRepo = ReturnType<typeof createApiMessagesRepo>;
