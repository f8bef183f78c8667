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
import type {
  BusinessMessageView,
  ConversationStatus,
  ConversationView,
  EntryPoint,
  NoteView,
} from '@parley/protocol';
import { AppError } from '../../errors.js';
import type { Clock } from '../../platform/clock.js';
import type { Db, Executor } from '../../platform/db.js';
import type { Ids } from '../../platform/ids.js';
import type { Logger } from '../../platform/logger.js';
import type { DeviceActor } from '../accounts/index.js';
import type { DeliveryService, EnvelopeRow, EventWriter, QueuedEvent } from '../delivery/index.js';
import type { BusinessRepo, BusinessRow, NumberRow } from './business.repo.js';
import type { BusinessService } from './business.service.js';
import { presentConversation, presentMessage, presentNote } from './inbox.present.js';
import type { ConversationRow, InboxRepo, OutboxRow } from './inbox.repo.js';

/** What an automation sees of one inbound message. */
export interface AutomationInput {
  business: BusinessRow;
  number: NumberRow;
  conversation: ConversationRow;
  /** The conversation did not exist before this message. */
  isNew: boolean;
  /** The person's previous message to this number (null for the first). */
  previousInboundAt: number | null;
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
  delivery: Pick<DeliveryService, 'send'>;
  events: EventWriter;
  automations?: Automations;
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
    return {
      chatId: businessId,
      devices: await businessRepo.agentDevices(businessId, tx),
      event: {
        type: 'business.conversation',
        business_id: businessId,
        conversation: row ? await viewOf(tx, row) : null,
        ...extra,
      },
    };
  }

  /**
   * Sends outbox rows, records them in their conversations and deletes them; returns the
   * message id of each row sent (by client id).
   */
  async function flush(rows: OutboxRow[]): Promise<Map<string, string>> {
    const numbers = new Map<string, NumberRow | undefined>();
    const sent: { row: OutboxRow; messageId: string; sentAt: number }[] = [];
    await Promise.all(
      rows.map(async (row) => {
        let number = numbers.get(row.phone_number_id);
        if (!numbers.has(row.phone_number_id)) {
          number = await businessRepo.numberById(row.phone_number_id);
          numbers.set(row.phone_number_id, number);
        }
        if (!number) return;
        try {
          const result = await deps.delivery.send(hostedActor(number), {
            clientId: row.client_id,
            to: row.to_account,
            payload: row.payload,
          });
          sent.push({ row, messageId: result.message_id, sentAt: result.sent_at });
        } catch (e: unknown) {
          // The row stays; the next flush tries again with the same client id.
          logger.warn({ err: e, client_id: row.client_id }, 'business outbox send failed');
        }
      }),
    );
    if (sent.length === 0) return new Map();
    let announce: EnvelopeRow[] = [];
    await db.kysely.transaction().execute(async (tx) => {
      const queued: QueuedEvent[] = [];
      for (const { row, messageId, sentAt } of sent) {
        const number = numbers.get(row.phone_number_id);
        if (!number) continue;
        const conversation = await repo.conversationOf(number.phone_number_id, row.to_account, tx);
        if (!conversation) continue;
        const message = {
          message_id: messageId,
          conversation_id: conversation.id,
          business_id: number.business_id,
          direction: 'out' as const,
          author: row.author,
          kind: 'message',
          payload: row.payload,
          text: textOf(row.payload),
          created_at: sentAt,
          delivered_at: null,
          read_at: null,
        };
        if (await repo.insertMessage(tx, message)) {
          await repo.updateConversation(tx, conversation.id, { last_message_at: sentAt });
          queued.push(
            await agentEvent(tx, number.business_id, conversation.id, { message: presentMessage(message) }),
          );
        }
      }
      await repo.deleteOutbox(
        tx,
        sent.map((s) => s.row.client_id),
      );
      announce = await events.queueAll(tx, hostedActorForEvents(sent[0]?.row, numbers), queued);
    });
    events.announce(announce);
    return new Map(sent.map((s) => [s.row.client_id, s.messageId]));
  }

  function hostedActorForEvents(row: OutboxRow | undefined, numbers: Map<string, NumberRow | undefined>) {
    const number = row ? numbers.get(row.phone_number_id) : undefined;
    return number
      ? hostedActor(number)
      : { accountId: 'system', deviceId: 'system', phone: '', role: 'hosted' as const };
  }

  return {
    /**
     * Takes a page of a business number's queue into the inbox (see the header). Returns the
     * outbox rows written, for the caller to flush once the transaction committed.
     */
    async ingest(number: NumberRow, envelopes: EnvelopeRow[]): Promise<OutboxRow[]> {
      const now = clock.now();
      const outbox: OutboxRow[] = [];
      let announce: EnvelopeRow[] = [];
      await db.kysely.transaction().execute(async (tx) => {
        const business = await businessRepo.find(number.business_id, tx);
        if (!business) return;
        const queued: QueuedEvent[] = [];
        const touched = new Map<string, Record<string, unknown>>();
        for (const env of envelopes) {
          if (env.kind === 'event') {
            const event = parseEvent(env.payload);
            if (event?.type === 'receipt' && Array.isArray(event.message_ids)) {
              await repo.markDelivered(
                tx,
                event.message_ids.filter((id): id is string => typeof id === 'string'),
                typeof event.at === 'number' ? event.at : now,
                event.receipt === 'read',
              );
            }
            continue;
          }
          const person = env.sender_account;
          let conversation = await repo.conversationOf(number.phone_number_id, person, tx);
          const isNew = conversation === undefined;
          const previousInboundAt = conversation?.last_inbound_at ?? null;
          if (!conversation) {
            // Entry point (short links): credit the link or QR code that brought the person.
            const entry = await deps.entryPointOf?.(tx, number.phone_number_id, person, env.sent_at);
            await repo.insertConversation(tx, {
              id: ids.newId('cnv'),
              business_id: business.id,
              phone_number_id: number.phone_number_id,
              person_account_id: person,
              status: 'open',
              assignee: null,
              unread: 0,
              started_via: entry?.via ?? 'direct',
              started_ref: entry?.ref ?? null,
              created_at: env.sent_at,
              last_message_at: env.sent_at,
              last_inbound_at: null,
            });
            conversation = await repo.conversationOf(number.phone_number_id, person, tx);
            if (!conversation) continue;
          }
          const text = env.kind === 'message' || env.kind === 'edit' ? textOf(env.payload) : null;
          const message = {
            message_id: env.message_id,
            conversation_id: conversation.id,
            business_id: business.id,
            direction: 'in' as const,
            author: person,
            kind: env.kind,
            payload: env.payload,
            text,
            created_at: env.sent_at,
            delivered_at: now,
            read_at: null,
          };
          // Stored before: a redelivery after a crash. Its automations ran with it.
          if (!(await repo.insertMessage(tx, message))) continue;
          await repo.updateConversation(tx, conversation.id, {
            unread: conversation.unread + 1,
            last_message_at: env.sent_at,
            last_inbound_at: env.sent_at,
            status: conversation.status === 'closed' ? 'open' : conversation.status,
          });
          const fromBusiness = (await businessRepo.numberByAccount(person, tx)) !== undefined;
          const outcome = await automations.decide(tx, {
            business,
            number,
            conversation: { ...conversation, unread: conversation.unread + 1 },
            isNew,
            previousInboundAt,
            message: { message_id: env.message_id, kind: env.kind, text },
            fromBusiness,
            now,
          });
          outcome.replies.forEach((reply, i) => {
            outbox.push({
              client_id: `auto:${env.message_id}:${i}`,
              phone_number_id: number.phone_number_id,
              to_account: person,
              author: `automation:${reply.kind}`,
              payload: encode(reply.text),
              created_at: now,
            });
          });
          if (outcome.labels.length > 0)
            await deps.labels?.applyLabels(tx, business.id, conversation.id, outcome.labels);
          if (outcome.assignee !== undefined) {
            await repo.updateConversation(tx, conversation.id, { assignee: outcome.assignee });
          }
          touched.set(conversation.id, { message: presentMessage(message) });
        }
        await repo.insertOutbox(tx, outbox);
        for (const [conversationId, extra] of touched) {
          queued.push(await agentEvent(tx, business.id, conversationId, extra));
        }
        announce = await events.queueAll(tx, hostedActor(number), queued);
      });
      events.announce(announce);
      return outbox;
    },

    flush,
    /** For labels: their changes reach agents as this same conversation event. */
    agentEvent,

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
