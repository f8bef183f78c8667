/**
 * The shared inbox of a business: every chat people have with its numbers, kept for the
 * business (its retention), assignable, open/pending/closed, with internal notes and unread
 * counts; every change reaches all the business's agents' devices live as a system event.
 *
 * Inbound (`ingest`, called by the hosted endpoint with a page of a number's queue), in one
 * transaction: store each message once (keyed by message id, so a redelivery after a crash
 * changes nothing), update its conversation, let the automations decide, and write their
 * replies to `business_outbox`. Outbound, agents' replies included, always goes through that
 * outbox: a row is written first, then sent with its row's client id (sends are idempotent on
 * it), then recorded in the conversation and deleted. A crash at any point leaves the row,
 * and the next flush sends it again without sending it twice.
 */
import {
  type BusinessMessageView,
  type ConversationStatus,
  type ConversationView,
  type EntryPoint,
  ERROR_CODES,
  type NoteView,
} from '@parley/protocol';
import { AppError, isAppError } from '../../errors.js';
import type { Clock } from '../../platform/clock.js';
import type { Db, Executor } from '../../platform/db.js';
import type { Ids } from '../../platform/ids.js';
import type { Logger } from '../../platform/logger.js';
import type { DeviceActor } from '../accounts/index.js';
import type { DeliveryService, EnvelopeRow, EventWriter, QueuedEvent } from '../delivery/index.js';
import type { BusinessRepo, BusinessRow, NumberRow } from './business.repo.js';
import type { BusinessService } from './business.service.js';
import { presentConversation, presentMessage, presentNote } from './inbox.present.js';
import type { ConversationRow, InboxRepo, MessageRow, OutboxRow } from './inbox.repo.js';

/** What an automation sees of one inbound message. */
export interface AutomationInput {
  business: BusinessRow;
  number: NumberRow;
  conversation: ConversationRow;
  /** The conversation did not exist before this message. */
  isNew: boolean;
  /** The person's previous message to this number (null for the first). */
  previousInboundAt: number | null;
  /** The person blocked the business number: never message them. */
  blocked: boolean;
  message: { message_id: string; kind: string; text: string | null };
  /** The sender is itself a business number: automations never answer automations. */
  fromBusiness: boolean;
  now: number;
}

export interface AutomationOutcome {
  replies: { kind: string; text: string }[];
  labels: string[];
  assignee?: string | undefined;
}

export interface Automations {
  decide(tx: Executor, input: AutomationInput): Promise<AutomationOutcome>;
  /** Expands `/shortcut` quick replies for an agent's reply. */
  expandQuickReply?(tx: Executor, businessId: string, text: string): Promise<string>;
}

/** What the inbox needs of labels (the labels service provides it). */
export interface LabelsPort {
  /** Label ids per conversation, for views. */
  labelsOf(tx: Executor, conversationIds: string[]): Promise<Map<string, string[]>>;
  /** Applies labels of the business to a conversation (unknown or foreign ids are ignored). */
  applyLabels(tx: Executor, businessId: string, conversationId: string, labelIds: string[]): Promise<void>;
  /** Conversations of the business carrying the label (the inbox filter). */
  conversationsWithLabel(tx: Executor, businessId: string, labelId: string): Promise<string[]>;
}

/** What an outbox row's `fields` carries besides its payload (JSON). */
export interface OutboxFields {
  /** Preassigned message id (the Business Messaging API's wamid is made from it). */
  messageId?: string;
  kind?: 'message' | 'reaction';
  ref?: string;
  replyTo?: string;
  media?: string[];
}

/** An outbound business message, as the observer hears of it. */
export interface OutboundRecord {
  number: NumberRow;
  clientId: string;
  messageId: string;
  toAccount: string;
  author: string;
  at: number;
}

/**
 * Hears, inside the inbox's own transactions, what happens to a business's messages: the
 * Business Messaging API turns it into status and message webhooks and billing records, so
 * each is committed exactly when the change it reports is.
 */
export interface InboxObserver {
  /** Outbound messages delivery committed (recorded in the inbox in this transaction). */
  sent(tx: Executor, sent: OutboundRecord[]): Promise<void>;
  /** Outbox rows that can never be sent (the recipient is gone, …), dropped in this transaction. */
  dropped(tx: Executor, dropped: { number: NumberRow; row: OutboxRow; reason: string }[]): Promise<void>;
  /** People's delivered / read receipts for the number's messages. */
  receipts(
    tx: Executor,
    number: NumberRow,
    receipts: { messageIds: string[]; receipt: 'delivered' | 'read'; at: number; fromAccount: string }[],
  ): Promise<void>;
  /** People's messages to the number, stored for the first time in this transaction. */
  inbound(tx: Executor, number: NumberRow, messages: EnvelopeRow[]): Promise<void>;
}

export const NO_OBSERVER: InboxObserver = {
  async sent() {},
  async dropped() {},
  async receipts() {},
  async inbound() {},
};

function fieldsOf(row: OutboxRow): OutboxFields {
  if (!row.fields) return {};
  try {
    return JSON.parse(row.fields) as OutboxFields;
  } catch {
    return {};
  }
}

export const NO_AUTOMATIONS: Automations = {
  async decide() {
    return { replies: [], labels: [] };
  },
};

export interface InboxServiceDeps {
  db: Pick<Db, 'kysely'>;
  repo: InboxRepo;
  businessRepo: BusinessRepo;
  business: Pick<BusinessService, 'requireAgent'>;
  delivery: Pick<DeliveryService, 'send' | 'exclusive'>;
  events: EventWriter;
  automations?: Automations;
  observer?: InboxObserver;
  labels?: LabelsPort;
  /**
   * How a person reached the business number (short links: a link or QR code opened shortly
   * before), asked once when their first message creates the conversation.
   */
  entryPointOf?: (
    tx: Executor,
    phoneNumberId: string,
    personAccountId: string,
    at: number,
  ) => Promise<{ via: EntryPoint; ref: string } | undefined>;
  clock: Clock;
  ids: Ids;
  logger: Logger;
}

const encode = (text: string) => Buffer.from(JSON.stringify({ text })).toString('base64');
function textOf(payload: string): string | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(payload, 'base64').toString('utf8'));
    return typeof value === 'object' && value !== null && 'text' in value && typeof value.text === 'string'
      ? value.text
      : null;
  } catch {
    return null;
  }
}

export const hostedActor = (n: NumberRow): DeviceActor => ({
  accountId: n.account_id,
  deviceId: n.device_id,
  phone: n.phone,
  role: 'hosted',
});

export function createInboxService(deps: InboxServiceDeps) {
  const { db, repo, businessRepo, events, clock, ids, logger } = deps;
  const automations = deps.automations ?? NO_AUTOMATIONS;
  const observer = deps.observer ?? NO_OBSERVER;
  const inFlight = new Set<Promise<unknown>>();
  function track<T>(p: Promise<T>): Promise<T> {
    const settled = p.catch((e: unknown) => {
      logger.error({ err: e }, 'business outbox flush failed; the next sweep sends what is left');
      return new Map() as T;
    });
    inFlight.add(settled);
    void settled.finally(() => inFlight.delete(settled));
    return settled;
  }

  async function conversationIn(
    actor: DeviceActor,
    businessId: string,
    conversationId: string,
    tx: Executor,
  ) {
    await deps.business.requireAgent(actor, businessId, tx);
    const conversation = await repo.findConversation(conversationId, tx);
    if (!conversation || conversation.business_id !== businessId) {
      throw new AppError('CONVERSATION_NOT_FOUND', `No conversation ${conversationId} in this business.`);
    }
    return conversation;
  }

  async function viewOf(tx: Executor, row: ConversationRow): Promise<ConversationView> {
    const labels = (await deps.labels?.labelsOf(tx, [row.id]))?.get(row.id) ?? [];
    return presentConversation(row, labels);
  }

  /** The live event every agent device of the business gets for a conversation change. */
  async function agentEvent(
    tx: Executor,
    businessId: string,
    conversationId: string,
    extra: Record<string, unknown>,
  ): Promise<QueuedEvent> {
    const row = await repo.findConversation(conversationId, tx);
    const [event] = row ? await agentEvents(tx, businessId, [{ row, extra }]) : [];
    // No agent device (or no such conversation): an event for nobody, which queues nothing.
    return event ?? { chatId: businessId, devices: [], event: {} };
  }

  /** One live event per changed conversation, to every agent device (devices read once). */
  async function agentEvents(
    tx: Executor,
    businessId: string,
    changes: { row: ConversationRow; extra: Record<string, unknown> }[],
  ): Promise<QueuedEvent[]> {
    if (changes.length === 0) return [];
    const devices = await businessRepo.agentDevices(businessId, tx);
    if (devices.length === 0) return [];
    const labels =
      (await deps.labels?.labelsOf(
        tx,
        changes.map((c) => c.row.id),
      )) ?? new Map<string, string[]>();
    return changes.map(({ row, extra }) => ({
      chatId: businessId,
      devices,
      event: {
        type: 'business.conversation',
        business_id: businessId,
        conversation: presentConversation(row, labels.get(row.id) ?? []),
        ...extra,
      },
    }));
  }

  /**
   * Sends outbox rows, records them in their conversations and deletes them; returns the
   * message id of each row sent (by client id).
   */
  async function flush(rows: OutboxRow[], known?: NumberRow): Promise<Map<string, string>> {
    // With the number known, every send is queued before the first await (see ingest).
    const numbers = new Map<string, NumberRow | undefined>(known ? [[known.phone_number_id, known]] : []);
    const sent: { row: OutboxRow; messageId: string; sentAt: number }[] = [];
    const hopeless: { number: NumberRow; row: OutboxRow; reason: string }[] = [];
    await Promise.all(
      rows.map(async (row) => {
        let number = numbers.get(row.phone_number_id);
        if (!numbers.has(row.phone_number_id)) {
          number = await businessRepo.numberById(row.phone_number_id);
          numbers.set(row.phone_number_id, number);
        }
        if (!number) return;
        const fields = fieldsOf(row);
        try {
          const result = await deps.delivery.send(hostedActor(number), {
            clientId: row.client_id,
            to: row.to_account,
            payload: row.payload,
            ...(fields.messageId ? { messageId: fields.messageId } : {}),
            ...(fields.kind && fields.kind !== 'message' ? { kind: fields.kind } : {}),
            ...(fields.ref ? { ref: fields.ref } : {}),
            ...(fields.replyTo ? { replyTo: fields.replyTo } : {}),
            ...(fields.media && fields.media.length > 0 ? { media: fields.media } : {}),
          });
          sent.push({ row, messageId: result.message_id, sentAt: result.sent_at });
        } catch (e: unknown) {
          if (isAppError(e) && !ERROR_CODES[e.code].retryable) {
            // It can never go (the person's account is gone, say): drop it, or every sweep
            // would try it again.
            logger.warn({ err: e, client_id: row.client_id }, 'business outbox row dropped');
            hopeless.push({ number, row, reason: e.code });
          } else {
            // The row stays; the next flush tries again with the same client id.
            logger.warn({ err: e, client_id: row.client_id }, 'business outbox send failed');
          }
        }
      }),
    );
    if (hopeless.length > 0) {
      await deps.delivery.exclusive(() =>
        db.kysely.transaction().execute(async (tx) => {
          await repo.deleteOutbox(
            tx,
            hopeless.map((h) => h.row.client_id),
          );
          await observer.dropped(tx, hopeless);
        }),
      );
    }
    if (sent.length === 0) return new Map();
    let announce: EnvelopeRow[] = [];
    await deps.delivery.exclusive(() =>
      db.kysely.transaction().execute(async (tx) => {
        // Grouped by number: one read of its conversations, one insert of its messages.
        const byNumber = new Map<string, typeof sent>();
        for (const item of sent) {
          const list = byNumber.get(item.row.phone_number_id) ?? [];
          list.push(item);
          byNumber.set(item.row.phone_number_id, list);
        }
        for (const [phoneNumberId, items] of byNumber) {
          const number = numbers.get(phoneNumberId);
          if (!number) continue;
          const conversations = await repo.conversationsOf(
            phoneNumberId,
            [...new Set(items.map((i) => i.row.to_account))],
            tx,
          );
          const rows: MessageRow[] = [];
          for (const { row, messageId, sentAt } of items) {
            const conversation = conversations.get(row.to_account);
            if (!conversation) continue;
            rows.push({
              message_id: messageId,
              conversation_id: conversation.id,
              business_id: number.business_id,
              direction: 'out',
              author: row.author,
              kind: fieldsOf(row).kind ?? 'message',
              payload: row.payload,
              text: textOf(row.payload),
              created_at: sentAt,
              delivered_at: null,
              read_at: null,
            });
          }
          const fresh = await repo.insertMessages(tx, rows);
          const byId = new Map([...conversations.values()].map((c) => [c.id, c]));
          const touched = new Map<string, { row: ConversationRow; extra: Record<string, unknown> }>();
          for (const message of rows) {
            if (!fresh.has(message.message_id)) continue;
            const conversation = byId.get(message.conversation_id);
            if (!conversation) continue;
            const row = {
              ...(touched.get(conversation.id)?.row ?? conversation),
              last_message_at: message.created_at,
            };
            touched.set(conversation.id, { row, extra: { message: presentMessage(message) } });
          }
          for (const { row } of touched.values()) {
            await repo.updateConversation(tx, row.id, { last_message_at: row.last_message_at });
          }
          announce = announce.concat(
            await events.queueAll(
              tx,
              hostedActor(number),
              await agentEvents(tx, number.business_id, [...touched.values()]),
            ),
          );
        }
        const records: OutboundRecord[] = [];
        for (const { row, messageId, sentAt } of sent) {
          const number = numbers.get(row.phone_number_id);
          if (number) {
            records.push({
              number,
              clientId: row.client_id,
              messageId,
              toAccount: row.to_account,
              author: row.author,
              at: sentAt,
            });
          }
        }
        await observer.sent(tx, records);
        await repo.deleteOutbox(
          tx,
          sent.map((s) => s.row.client_id),
        );
      }),
    );
    events.announce(announce);
    return new Map(sent.map((s) => [s.row.client_id, s.messageId]));
  }

  return {
    /**
     * Takes a page of a business number's queue into the inbox (see the header). Returns the
     * outbox rows written, for the caller to flush once the transaction committed.
     */
    async ingest(
      number: NumberRow,
      envelopes: EnvelopeRow[],
    ): Promise<{ outbox: OutboxRow[]; sending: Promise<Map<string, string>> | undefined }> {
      const now = clock.now();
      const outbox: OutboxRow[] = [];
      let announce: EnvelopeRow[] = [];
      let sending: Promise<Map<string, string>> | undefined;
      await deps.delivery.exclusive(async () => {
        await db.kysely.transaction().execute(async (tx) => {
          const business = await businessRepo.find(number.business_id, tx);
          if (!business) return;
          // Receipts from people for the business's messages (statistics: delivered, read;
          // the API's status webhooks and billing records).
          const receipts: Parameters<InboxObserver['receipts']>[2] = [];
          for (const env of envelopes) {
            if (env.kind !== 'event') continue;
            const event = parseEvent(env.payload);
            if (event?.type === 'receipt' && Array.isArray(event.message_ids)) {
              const messageIds = event.message_ids.filter((id): id is string => typeof id === 'string');
              const at = typeof event.at === 'number' ? event.at : now;
              await repo.markDelivered(tx, messageIds, at, event.receipt === 'read');
              receipts.push({
                messageIds,
                receipt: event.receipt === 'read' ? 'read' : 'delivered',
                at,
                fromAccount: env.sender_account,
              });
            }
          }
          if (receipts.length > 0) await observer.receipts(tx, number, receipts);
          const messages = envelopes.filter((env) => env.kind !== 'event');
          if (messages.length === 0) return;

          // Everything the page needs, read once: a page holds up to 512 messages, and a query
          // per message would cost more than the rest of the work.
          const people = [...new Set(messages.map((m) => m.sender_account))];
          let conversations = await repo.conversationsOf(number.phone_number_id, people, tx);
          const existedBefore = new Set(conversations.keys());
          const missing = people.filter((p) => !conversations.has(p));
          if (missing.length > 0) {
            const firstAt = new Map<string, number>();
            for (const m of messages)
              if (!firstAt.has(m.sender_account)) firstAt.set(m.sender_account, m.sent_at);
            // Entry point (short links): credit the link or QR code that brought each newcomer.
            const entries = new Map<string, { via: EntryPoint; ref: string } | undefined>();
            for (const person of missing) {
              entries.set(
                person,
                await deps.entryPointOf?.(tx, number.phone_number_id, person, firstAt.get(person) ?? now),
              );
            }
            await repo.insertConversations(
              tx,
              missing.map((person) => ({
                id: ids.newId('cnv'),
                business_id: business.id,
                phone_number_id: number.phone_number_id,
                person_account_id: person,
                status: 'open' as const,
                assignee: null,
                unread: 0,
                started_via: entries.get(person)?.via ?? 'direct',
                started_ref: entries.get(person)?.ref ?? null,
                created_at: firstAt.get(person) ?? now,
                last_message_at: firstAt.get(person) ?? now,
                last_inbound_at: null,
              })),
            );
            conversations = await repo.conversationsOf(number.phone_number_id, people, tx);
          }
          const businessSenders = await businessRepo.businessAccounts(people, tx);
          const blockers = await businessRepo.blockersOf(number.account_id, people, tx);

          const rows: MessageRow[] = [];
          for (const env of messages) {
            const conversation = conversations.get(env.sender_account);
            if (!conversation) continue;
            rows.push({
              message_id: env.message_id,
              conversation_id: conversation.id,
              business_id: business.id,
              direction: 'in',
              author: env.sender_account,
              kind: env.kind,
              payload: env.payload,
              text: env.kind === 'message' || env.kind === 'edit' ? textOf(env.payload) : null,
              created_at: env.sent_at,
              delivered_at: now,
              read_at: null,
            });
          }
          // Stored before: a redelivery after a crash. Its automations ran with it.
          const fresh = await repo.insertMessages(tx, rows);
          await observer.inbound(
            tx,
            number,
            messages.filter((m) => fresh.has(m.message_id)),
          );
          const touched = new Map<string, { row: ConversationRow; message: MessageRow }>();
          for (const message of rows) {
            if (!fresh.has(message.message_id)) continue;
            const person = message.author;
            const before = touched.get(person)?.row ?? conversations.get(person);
            if (!before) continue;
            const isNew = !existedBefore.has(person) && !touched.has(person);
            const after: ConversationRow = {
              ...before,
              unread: before.unread + 1,
              last_message_at: message.created_at,
              last_inbound_at: message.created_at,
              status: before.status === 'closed' ? 'open' : before.status,
            };
            const outcome = await automations.decide(tx, {
              business,
              number,
              conversation: after,
              isNew,
              previousInboundAt: before.last_inbound_at,
              message: { message_id: message.message_id, kind: message.kind, text: message.text },
              fromBusiness: businessSenders.has(person),
              blocked: blockers.has(person),
              now,
            });
            outcome.replies.forEach((reply, i) => {
              outbox.push({
                client_id: `auto:${message.message_id}:${i}`,
                phone_number_id: number.phone_number_id,
                to_account: person,
                author: `automation:${reply.kind}`,
                payload: encode(reply.text),
                created_at: now,
              });
            });
            if (outcome.labels.length > 0)
              await deps.labels?.applyLabels(tx, business.id, after.id, outcome.labels);
            if (outcome.assignee !== undefined) after.assignee = outcome.assignee;
            touched.set(person, { row: after, message });
          }
          for (const { row } of touched.values()) {
            await repo.updateConversation(tx, row.id, {
              unread: row.unread,
              last_message_at: row.last_message_at,
              last_inbound_at: row.last_inbound_at,
              status: row.status,
              assignee: row.assignee,
            });
          }
          await repo.insertOutbox(tx, outbox);
          announce = await events.queueAll(
            tx,
            hostedActor(number),
            await agentEvents(
              tx,
              business.id,
              [...touched.values()].map(({ row, message }) => ({
                row,
                extra: { message: presentMessage(message) },
              })),
            ),
          );
        });
        // Still between two delivery commits: the replies are queued now and ride the very next
        // commit, instead of waiting for one more turn of the write loop.
        if (outbox.length > 0) sending = flush(outbox, number);
      });
      events.announce(announce);
      return { outbox, sending };
    },

    flush,
    /** For labels: their changes reach agents as this same conversation event. */
    agentEvent,

    /** Deletes a business's inbox messages older than `before` (its retention). */
    async deleteBefore(businessId: string, before: number): Promise<number> {
      return repo.deleteExpired(businessId, before);
    },

    /**
     * Queues sends from business numbers (the Business Messaging API): in one transaction, the
     * conversations they need, their outbox rows and whatever `within` writes with them; then
     * starts sending. Resolves once they are durably queued: a crash from then on loses
     * nothing (the outbox is flushed again) and sends nothing twice (rows keep their client
     * ids). `sending` settles when they were sent (or left for the next sweep).
     */
    async queueSends(
      all: { number: NumberRow; row: OutboxRow }[],
      within?: (tx: Executor) => Promise<void>,
      /** Runs first in the transaction; the sends whose client ids it returns are left out. */
      prepare?: (tx: Executor) => Promise<Set<string>>,
    ): Promise<{ sending: Promise<Map<string, string>> }> {
      const now = clock.now();
      let sending: Promise<Map<string, string>> = Promise.resolve(new Map());
      let sends = all;
      await deps.delivery.exclusive(async () => {
        await db.kysely.transaction().execute(async (tx) => {
          const dropped = await prepare?.(tx);
          if (dropped && dropped.size > 0) sends = all.filter((s) => !dropped.has(s.row.client_id));
          const seen = new Set<string>();
          const conversations: Parameters<InboxRepo['insertConversations']>[1] = [];
          for (const { number, row } of sends) {
            const key = `${number.phone_number_id}:${row.to_account}`;
            if (seen.has(key)) continue;
            seen.add(key);
            conversations.push({
              id: ids.newId('cnv'),
              business_id: number.business_id,
              phone_number_id: number.phone_number_id,
              person_account_id: row.to_account,
              status: 'open',
              assignee: null,
              unread: 0,
              started_via: 'direct',
              started_ref: null,
              created_at: now,
              last_message_at: now,
              last_inbound_at: null,
            });
          }
          // Existing conversations are kept as they are (the insert skips them).
          await repo.insertConversations(tx, conversations);
          await repo.insertOutbox(
            tx,
            sends.map((s) => s.row),
          );
          await within?.(tx);
        });
        // Between two delivery commits: the sends ride the very next one.
        const [first] = sends;
        const oneNumber = first && sends.every((s) => s.number === first.number) ? first.number : undefined;
        sending = track(
          flush(
            sends.map((s) => s.row),
            oneNumber,
          ),
        );
      });
      return { sending };
    },

    /** Waits for the sends `queueSends` started (shutdown, tests). */
    async idle(): Promise<void> {
      await Promise.allSettled([...inFlight]);
    },

    /** Sends whatever is left in the outbox (after a crash, or a failed send). */
    async flushPending(): Promise<number> {
      const rows = await repo.outbox(500);
      await flush(rows);
      return rows.length;
    },

    async list(
      actor: DeviceActor,
      businessId: string,
      filter: {
        status?: ConversationStatus | undefined;
        assignee?: string | undefined;
        label?: string | undefined;
        before?: number | undefined;
        limit?: number | undefined;
      },
    ): Promise<ConversationView[]> {
      await deps.business.requireAgent(actor, businessId);
      const ids =
        filter.label === undefined
          ? undefined
          : ((await deps.labels?.conversationsWithLabel(db.kysely, businessId, filter.label)) ?? []);
      const rows = await repo.listConversations(businessId, {
        status: filter.status,
        assignee: filter.assignee,
        ids,
        before: filter.before,
        limit: Math.min(filter.limit ?? 50, 200),
      });
      const labels =
        (await deps.labels?.labelsOf(
          db.kysely,
          rows.map((r) => r.id),
        )) ?? new Map<string, string[]>();
      return rows.map((r) => presentConversation(r, labels.get(r.id) ?? []));
    },

    async get(actor: DeviceActor, businessId: string, conversationId: string): Promise<ConversationView> {
      const row = await conversationIn(actor, businessId, conversationId, db.kysely);
      return viewOf(db.kysely, row);
    },

    async messages(
      actor: DeviceActor,
      businessId: string,
      conversationId: string,
      page: { before?: number | undefined; limit?: number | undefined },
    ): Promise<BusinessMessageView[]> {
      await conversationIn(actor, businessId, conversationId, db.kysely);
      const rows = await repo.messages(conversationId, {
        before: page.before,
        limit: Math.min(page.limit ?? 50, 200),
      });
      return rows.map(presentMessage);
    },

    /** Changes status and/or assignee; every agent device hears of it. */
    async update(
      actor: DeviceActor,
      businessId: string,
      conversationId: string,
      patch: { status?: ConversationStatus | undefined; assignee?: string | null | undefined },
    ): Promise<ConversationView> {
      let announce: EnvelopeRow[] = [];
      await db.kysely.transaction().execute(async (tx) => {
        await conversationIn(actor, businessId, conversationId, tx);
        if (patch.assignee) {
          const role = await businessRepo.role(businessId, patch.assignee, tx);
          if (!role)
            throw new AppError('ACCOUNT_NOT_FOUND', `${patch.assignee} is no agent of this business.`);
        }
        const set: { status?: ConversationStatus; assignee?: string | null } = {};
        if (patch.status !== undefined) set.status = patch.status;
        if (patch.assignee !== undefined) set.assignee = patch.assignee;
        if (Object.keys(set).length === 0) return;
        await repo.updateConversation(tx, conversationId, set);
        announce = await events.queueAll(tx, actor, [
          await agentEvent(tx, businessId, conversationId, { by: actor.accountId }),
        ]);
      });
      events.announce(announce);
      return this.get(actor, businessId, conversationId);
    },

    /** The agent has read the conversation: its unread count drops to 0 for every agent. */
    async markRead(
      actor: DeviceActor,
      businessId: string,
      conversationId: string,
    ): Promise<ConversationView> {
      let announce: EnvelopeRow[] = [];
      await db.kysely.transaction().execute(async (tx) => {
        const conversation = await conversationIn(actor, businessId, conversationId, tx);
        if (conversation.unread === 0) return;
        await repo.updateConversation(tx, conversationId, { unread: 0 });
        announce = await events.queueAll(tx, actor, [
          await agentEvent(tx, businessId, conversationId, { by: actor.accountId }),
        ]);
      });
      events.announce(announce);
      return this.get(actor, businessId, conversationId);
    },

    async addNote(
      actor: DeviceActor,
      businessId: string,
      conversationId: string,
      text: string,
    ): Promise<NoteView> {
      const note = {
        id: ids.newId('not'),
        conversation_id: conversationId,
        business_id: businessId,
        author: actor.accountId,
        text: text.trim(),
        created_at: clock.now(),
      };
      if (!note.text) throw new AppError('VALIDATION_FAILED', 'A note needs text.');
      let announce: EnvelopeRow[] = [];
      await db.kysely.transaction().execute(async (tx) => {
        await conversationIn(actor, businessId, conversationId, tx);
        await repo.insertNote(tx, note);
        announce = await events.queueAll(tx, actor, [
          await agentEvent(tx, businessId, conversationId, { note: presentNote(note) }),
        ]);
      });
      events.announce(announce);
      return presentNote(note);
    },

    async notes(actor: DeviceActor, businessId: string, conversationId: string): Promise<NoteView[]> {
      await conversationIn(actor, businessId, conversationId, db.kysely);
      return (await repo.notes(conversationId)).map(presentNote);
    },

    /**
     * An agent replies as the business. `/shortcut` quick replies expand first. The reply goes
     * through the outbox (see the header) and is answered once sent and recorded.
     */
    async reply(
      actor: DeviceActor,
      businessId: string,
      conversationId: string,
      input: { text: string; clientId?: string | undefined },
    ): Promise<BusinessMessageView> {
      const clientId = `agent:${input.clientId ?? ids.newCode(20, 'abcdefghijklmnopqrstuvwxyz0123456789')}`;
      let row: OutboxRow | undefined;
      await db.kysely.transaction().execute(async (tx) => {
        const conversation = await conversationIn(actor, businessId, conversationId, tx);
        const expanded = (await automations.expandQuickReply?.(tx, businessId, input.text)) ?? input.text;
        if (!expanded.trim()) throw new AppError('VALIDATION_FAILED', 'A reply needs text.');
        row = {
          client_id: clientId,
          phone_number_id: conversation.phone_number_id,
          to_account: conversation.person_account_id,
          author: actor.accountId,
          payload: encode(expanded),
          created_at: clock.now(),
        };
        await repo.insertOutbox(tx, [row]);
      });
      if (!row) throw new AppError('INTERNAL_ERROR', 'The reply was not queued.');
      const messageId = (await flush([row])).get(clientId);
      const [sent] = messageId ? await repo.messagesById([messageId]) : [];
      if (!sent) {
        throw new AppError(
          'STORAGE_UNAVAILABLE',
          'The reply is queued and will be sent shortly; it was not sent yet.',
        );
      }
      return presentMessage(sent);
    },
  };
}

function parseEvent(payload: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(payload, 'base64').toString('utf8'));
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export type InboxService = ReturnType<typeof createInboxService>;
