/**
 * Turns what happens to a business's messages into the Business Messaging API's outputs,
 * inside the inbox's transactions: status webhooks (sent → delivered → read, or failed),
 * message webhooks for people's messages, and the billing record of every delivered business
 * message (`message_events`, one per message under a unique key, so a receipt redelivered
 * after a crash records nothing twice).
 */
import type { Executor } from '../../platform/db.js';
import type { InboxObserver, OutboundRecord } from '../business/index.js';
import type { EnvelopeRow } from '../delivery/index.js';
import type { ApiMessageRow, ApiMessagesRepo, MessageEventRow } from './api-messages.repo.js';
import type { LimitsService } from './limits/index.js';
import {
  classify,
  FREE_ENTRY_POINT_MS,
  type MessageCategory,
  marketOf,
  type Pricing,
  type PricingModel,
} from './pricing.js';
import { toWamid } from './wamid.js';
import type { WebhookChange, WebhookPort } from './webhook-port.js';

type NumberRow = OutboundRecord['number'];

export interface StatusError {
  code: number;
  title: string;
  details: string;
}

/** Maps a person's message to the Cloud API's inbound message object (`value.messages[]`). */
export type InboundMapper = (
  tx: Executor,
  number: NumberRow,
  message: EnvelopeRow,
) => Promise<Record<string, unknown> | undefined>;

export interface ApiObserverDeps {
  repo: ApiMessagesRepo;
  webhooks: WebhookPort;
  inboundMessage: InboundMapper;
  /** Records people's STOP / START (marketing opt-outs) with their messages. */
  limits?: Pick<LimitsService, 'recordInbound'>;
  /** Charges delivered messages and releases the holds of failed ones (modules/billing). */
  billing?: {
    meter(tx: Executor, events: MessageEventRow[]): Promise<number>;
    release(tx: Executor, messageIds: string[]): Promise<void>;
  };
  /**
   * The deployment's pricing model at an instant, answered synchronously (billing's
   * `pricingModels.modelAtCached`); PMP when absent.
   */
  pricingModel?: (at: number) => PricingModel;
}

const seconds = (ms: number) => String(Math.floor(ms / 1000));
const digits = (phone: string) => phone.replace(/^\+/, '');
const ORDER = { accepted: 0, sent: 1, delivered: 2, read: 3, failed: 4 } as const;

export const metadataOf = (number: NumberRow) => ({
  display_phone_number: digits(number.phone),
  phone_number_id: number.phone_number_id,
});

export function pricingOf(row: ApiMessageRow, at: number, model: PricingModel = 'PMP'): Pricing {
  return classify(
    {
      category: (row.category ?? 'service') as MessageCategory,
      windowOpen: row.window_open === 1,
      freeEntryPoint: row.entry_point !== null && at - row.created_at < FREE_ENTRY_POINT_MS,
    },
    model,
  );
}

/** One status object of `value.statuses[]`. */
export function statusObject(
  row: ApiMessageRow,
  status: 'sent' | 'delivered' | 'read' | 'failed',
  at: number,
  error?: StatusError,
  model: PricingModel = 'PMP',
): Record<string, unknown> {
  return {
    id: toWamid(row.message_id),
    status,
    timestamp: seconds(at),
    recipient_id: digits(row.to_phone),
    ...(row.callback_data === null ? {} : { biz_opaque_callback_data: row.callback_data }),
    ...(status === 'failed'
      ? {
          errors: [
            {
              code: error?.code ?? 131000,
              title: error?.title ?? 'Something went wrong',
              message: error?.title ?? 'Something went wrong',
              error_data: { details: error?.details ?? '' },
            },
          ],
        }
      : { pricing: pricingOf(row, at, model) }),
  };
}

export function statusChange(
  number: NumberRow,
  row: ApiMessageRow,
  status: 'sent' | 'delivered' | 'read' | 'failed',
  at: number,
  error?: StatusError,
  model: PricingModel = 'PMP',
): WebhookChange {
  return {
    businessId: row.business_id,
    field: 'messages',
    value: {
      messaging_product: 'whatsapp',
      metadata: metadataOf(number),
      statuses: [statusObject(row, status, at, error, model)],
    },
    orderKey: `${row.phone_number_id}:${digits(row.to_phone)}`,
  };
}

/**
 * The text of a payload (`{"text": "…"}`), if any. The inbox has the same reading; importing
 * it as a value would make this module load the business module's routes and schemas early.
 */
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

function fieldsMessageId(fields: string | null | undefined): string | undefined {
  if (!fields) return undefined;
  try {
    const value = JSON.parse(fields) as { messageId?: unknown };
    return typeof value.messageId === 'string' ? value.messageId : undefined;
  } catch {
    return undefined;
  }
}

function sourceOf(author: string): MessageEventRow['source'] {
  if (author === 'api') return 'api';
  if (author.startsWith('automation:')) return 'automation';
  if (author.startsWith('broadcast:')) return 'broadcast';
  return 'agent';
}

export function createApiObserver(deps: ApiObserverDeps): InboxObserver {
  const { repo, webhooks } = deps;
  const modelAt = deps.pricingModel ?? ((): PricingModel => 'PMP');
  return {
    async sent(tx, sent: OutboundRecord[]) {
      if (sent.length === 0) return;
      const rows = await repo.byIds(
        tx,
        sent.map((s) => s.messageId),
      );
      if (rows.length === 0) return;
      const byId = new Map(sent.map((s) => [s.messageId, s]));
      const moving = rows.filter((r) => r.status === 'accepted');
      await repo.advance(
        tx,
        new Map(moving.map((r) => [r.message_id, byId.get(r.message_id)?.at ?? 0])),
        'sent',
      );
      await webhooks.enqueue(
        tx,
        moving.flatMap((row) => {
          const record = byId.get(row.message_id);
          return record
            ? [statusChange(record.number, row, 'sent', record.at, undefined, modelAt(record.at))]
            : [];
        }),
      );
    },

    async dropped(tx, dropped) {
      for (const { number, row: outbox, reason } of dropped) {
        const messageId = fieldsMessageId(outbox.fields);
        if (!messageId) continue;
        const [row] = await repo.byIds(tx, [messageId]);
        if (row?.status !== 'accepted') continue;
        const error: StatusError =
          reason === 'MEDIA_NOT_FOUND'
            ? {
                code: 131053,
                title: 'Media upload error',
                details: 'The media of the message is no longer available.',
              }
            : {
                code: 131026,
                title: 'Message undeliverable',
                details: `The message could not be delivered (${reason}).`,
              };
        await repo.fail(tx, messageId, error.code, error.details);
        await webhooks.enqueue(tx, [statusChange(number, row, 'failed', outbox.created_at, error)]);
        // Nothing is charged for a message that failed: its hold is released.
        await deps.billing?.release(tx, [messageId]);
      }
    },

    async receipts(tx, number, receipts) {
      const ids = [...new Set(receipts.flatMap((r) => r.messageIds))];
      if (ids.length === 0) return;
      const rows = new Map((await repo.byIds(tx, ids)).map((r) => [r.message_id, r]));
      const changes: WebhookChange[] = [];
      const events: MessageEventRow[] = [];
      const delivered = new Map<string, number>();
      const read = new Map<string, number>();
      for (const receipt of receipts) {
        for (const id of receipt.messageIds) {
          const row = rows.get(id);
          // Only the recipient's receipts count, for messages of this number.
          if (!row || row.phone_number_id !== number.phone_number_id) continue;
          if (row.to_account !== null && row.to_account !== receipt.fromAccount) continue;
          if (row.status === 'failed') continue;
          if (ORDER[row.status] < ORDER.delivered) {
            delivered.set(id, receipt.at);
            changes.push(statusChange(number, row, 'delivered', receipt.at, undefined, modelAt(receipt.at)));
            row.status = 'delivered';
          }
          if (receipt.receipt === 'read' && ORDER[row.status] < ORDER.read) {
            read.set(id, receipt.at);
            changes.push(statusChange(number, row, 'read', receipt.at, undefined, modelAt(receipt.at)));
            row.status = 'read';
          }
        }
      }
      for (const [id, at] of delivered) {
        const row = rows.get(id);
        if (!row) continue;
        const pricing = pricingOf(row, at, modelAt(at));
        events.push({
          event_key: `delivered:${id}`,
          kind: 'delivered',
          business_id: row.business_id,
          phone_number_id: row.phone_number_id,
          message_id: id,
          category: (row.category ?? 'service') as MessageEventRow['category'],
          market: marketOf(row.to_phone),
          window_open: row.window_open,
          entry_point: pricing.type === 'free_entry_point' ? row.entry_point : null,
          source: 'api',
          occurred_at: at,
          recipient: row.to_phone,
        });
      }
      // Business messages sent from the inbox (agents, automations, broadcasts) are service
      // messages for billing; they have no status webhooks (the Cloud API never saw them).
      const others = ids.filter((id) => !rows.has(id));
      const firstDelivery = new Map<string, number>();
      for (const receipt of receipts) {
        for (const id of receipt.messageIds) if (!firstDelivery.has(id)) firstDelivery.set(id, receipt.at);
      }
      for (const m of await repo.outboundInbox(tx, others)) {
        if (m.phone_number_id !== number.phone_number_id) continue;
        const at = firstDelivery.get(m.message_id) ?? 0;
        const freeEntry = m.started_via !== 'direct' && at - m.conversation_created_at < FREE_ENTRY_POINT_MS;
        events.push({
          event_key: `delivered:${m.message_id}`,
          kind: 'delivered',
          business_id: m.business_id,
          phone_number_id: m.phone_number_id,
          message_id: m.message_id,
          category: 'service',
          market: marketOf(m.person_phone),
          window_open: m.last_inbound_at !== null && at - m.last_inbound_at < 24 * 3600_000 ? 1 : 0,
          entry_point: freeEntry ? m.started_via : null,
          source: sourceOf(m.author),
          occurred_at: at,
          recipient: m.person_phone,
        });
      }
      await repo.advance(tx, delivered, 'delivered');
      await repo.advance(tx, read, 'read');
      await repo.recordEvents(tx, events);
      // Charged in the same transaction as the delivery it prices (exactly once: unique keys).
      await deps.billing?.meter(tx, events);
      await webhooks.enqueue(tx, changes);
    },

    async inbound(tx, number, messages) {
      if (messages.length === 0) return;
      for (const m of messages) {
        if (m.kind !== 'message' || !deps.limits) continue;
        await deps.limits.recordInbound(tx, {
          businessId: number.business_id,
          phoneNumberId: number.phone_number_id,
          personAccountId: m.sender_account,
          text: textOf(m.payload),
          at: m.sent_at,
        });
      }
      const people = await repo.names(tx, [...new Set(messages.map((m) => m.sender_account))]);
      const changes: WebhookChange[] = [];
      for (const message of messages) {
        const object = await deps.inboundMessage(tx, number, message);
        const person = people.get(message.sender_account);
        if (!object || !person) continue;
        changes.push({
          businessId: number.business_id,
          field: 'messages',
          value: {
            messaging_product: 'whatsapp',
            metadata: metadataOf(number),
            contacts: [{ profile: { name: person.name }, wa_id: digits(person.phone) }],
            messages: [object],
          },
          orderKey: `${number.phone_number_id}:${digits(person.phone)}`,
        });
      }
      await webhooks.enqueue(tx, changes);
    },
  };
}
