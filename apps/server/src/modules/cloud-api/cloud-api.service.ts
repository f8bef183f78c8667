/**
 * The Business Messaging API: a Cloud API compatible surface through which a business sends
 * with its access token.
 *
 * A send is checked (its content, the number, the person, the limits) and then accepted the
 * way the Cloud API accepts: once durably queued, not once delivered. Accepting writes, in one
 * transaction for all the requests of the moment, the business outbox row (which delivery
 * sends with the message id the wamid was made from), the `api_messages` row that follows
 * it to sent, delivered and read, and the conversation in the shared inbox. A crash after the
 * answer loses nothing (the outbox is sent again, with the same client id, so never twice).
 * A recipient who is not on Parley is accepted and then failed through a status webhook, as
 * the Cloud API does.
 */

import type { Clock } from '../../platform/clock.js';
import type { Db, Executor } from '../../platform/db.js';
import { hashToken, type Ids } from '../../platform/ids.js';
import type { Logger } from '../../platform/logger.js';
import { displayPhone, normalizePhone } from '../accounts/index.js';
import {
  type BusinessRepo,
  hostedActor,
  type InboxService,
  type OutboxFields,
  parseProfile,
} from '../business/index.js';
import type { DeliveryService } from '../delivery/index.js';
import type { ReceiptsService } from '../receipts/index.js';
import type { ApiMessageRow, ApiMessagesRepo } from './api-messages.repo.js';
import { statusChange } from './api-observer.js';
import { GraphError, graphErrors } from './graph-error.js';
import { fromWamid, toWamid } from './wamid.js';
import type { WebhookPort } from './webhook-port.js';

/** The Cloud API limits a text body to 4,096 characters. */
export const MAX_TEXT_BODY = 4096;
/** `biz_opaque_callback_data` is limited to 512 characters. */
export const MAX_CALLBACK_DATA = 512;

/** What the limits say of a send they allow (see the limits part of the API). */
export interface SendAllowance {
  windowOpen: boolean;
  entryPoint: string | null;
}

export interface LimitsPort {
  check(input: {
    businessId: string;
    number: { phone_number_id: string; account_id: string };
    personAccountId: string | undefined;
    toPhone: string;
    kind: 'template' | 'free_form';
    category?: 'marketing' | 'utility' | 'authentication' | undefined;
    now: number;
  }): Promise<SendAllowance>;
}

/** Until limits are wired: everything allowed, the window taken as open. */
export const NO_LIMITS: LimitsPort = {
  async check() {
    return { windowOpen: true, entryPoint: null };
  },
};

/** A checked send, in the shape the pipeline needs. */
export interface OutgoingSend {
  type: string;
  /** The Parley message payload (JSON, base64 when queued). */
  payload: Record<string, unknown>;
  fields: Omit<OutboxFields, 'messageId'>;
  category?: 'marketing' | 'utility' | 'authentication' | undefined;
  templateId?: string | undefined;
  callbackData?: string | undefined;
}

export interface CloudApiServiceDeps {
  db: Pick<Db, 'kysely'>;
  businessRepo: Pick<BusinessRepo, 'tokenBusiness' | 'numberById' | 'accountByKey' | 'find' | 'numbers'>;
  inbox: Pick<InboxService, 'queueSends'>;
  receipts: Pick<ReceiptsService, 'record'>;
  delivery: Pick<DeliveryService, 'typing'>;
  repo: ApiMessagesRepo;
  webhooks: WebhookPort;
  limits?: LimitsPort;
  clock: Clock;
  ids: Pick<Ids, 'newCode' | 'newId'>;
  logger: Logger;
  /** Told of each authenticated request's token hash (records when a token was last used). */
  tokenUsed?: (tokenHash: string) => Promise<void>;
  /**
   * More fields of phone number views, by phone number id: `base` always shown (it may
   * override the defaults, as `status` does), `extra` only when asked for with `fields`.
   */
  numberFields?: (
    phoneNumberIds: string[],
  ) => Promise<Map<string, { base: Record<string, unknown>; extra: Record<string, unknown> }>>;
}

export interface SendResponse {
  messaging_product: 'whatsapp';
  contacts: { input: string; wa_id: string }[];
  messages: { id: string; message_status: 'accepted' }[];
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The text-only parser, until every message type is parsed by message-content.ts. */
function parseText(body: Record<string, unknown>): OutgoingSend {
  const type = body.type ?? 'text';
  if (type !== 'text')
    throw graphErrors.unsupportedType(`Message type "${String(type)}" is not supported yet.`);
  const text = body.text;
  if (!isRecord(text) || typeof text.body !== 'string' || text.body.length === 0) {
    throw graphErrors.missingParameter('text.body is required for a text message.');
  }
  if (text.body.length > MAX_TEXT_BODY) {
    throw graphErrors.badValue(`text.body is limited to ${MAX_TEXT_BODY} characters.`);
  }
  if (text.preview_url !== undefined && typeof text.preview_url !== 'boolean') {
    throw graphErrors.badValue('text.preview_url must be a boolean.');
  }
  const fields: OutgoingSend['fields'] = {};
  if (body.context !== undefined) {
    const context = body.context;
    if (!isRecord(context) || typeof context.message_id !== 'string') {
      throw graphErrors.missingParameter('context.message_id is required with context.');
    }
    const replyTo = fromWamid(context.message_id);
    if (!replyTo)
      throw graphErrors.invalidParameter(`context.message_id ${context.message_id} is not a message id.`);
    fields.replyTo = replyTo;
  }
  let callbackData: string | undefined;
  if (body.biz_opaque_callback_data !== undefined) {
    if (typeof body.biz_opaque_callback_data !== 'string')
      throw graphErrors.badValue('biz_opaque_callback_data must be a string.');
    if (body.biz_opaque_callback_data.length > MAX_CALLBACK_DATA)
      throw graphErrors.badValue(`biz_opaque_callback_data is limited to ${MAX_CALLBACK_DATA} characters.`);
    callbackData = body.biz_opaque_callback_data;
  }
  return {
    type: 'text',
    payload: { type: 'text', text: text.body, ...(text.preview_url === true ? { preview_url: true } : {}) },
    fields,
    callbackData,
  };
}

type NumberRow = NonNullable<Awaited<ReturnType<BusinessRepo['numberById']>>>;

interface PendingAccept {
  number: NumberRow;
  api: ApiMessageRow;
  payload: string;
  fields: OutboxFields;
  resolve(): void;
  reject(e: unknown): void;
}

export function createCloudApiService(deps: CloudApiServiceDeps) {
  const { businessRepo, repo, clock, ids, logger } = deps;
  const limits = deps.limits ?? NO_LIMITS;

  // Requests accepted in the same turn of the event loop share one transaction: at thousands
  // of sends a second, one commit per request would be the bottleneck.
  let pending: PendingAccept[] = [];
  let scheduled = false;
  function accept(item: Omit<PendingAccept, 'resolve' | 'reject'>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      pending.push({ ...item, resolve, reject });
      if (!scheduled) {
        scheduled = true;
        setImmediate(() => {
          scheduled = false;
          const batch = pending;
          pending = [];
          void commitAccepts(batch);
        });
      }
    });
  }

  async function commitAccepts(batch: PendingAccept[]): Promise<void> {
    const sends = batch.flatMap((p) =>
      p.api.to_account === null
        ? []
        : [
            {
              number: p.number,
              row: {
                client_id: `api:${p.api.message_id}`,
                phone_number_id: p.number.phone_number_id,
                to_account: p.api.to_account,
                author: 'api',
                payload: p.payload,
                created_at: p.api.created_at,
                fields: JSON.stringify(p.fields),
              },
            },
          ],
    );
    try {
      await deps.inbox.queueSends(sends, async (tx: Executor) => {
        await repo.insert(
          tx,
          batch.map((p) => p.api),
        );
        // Not on Parley: accepted, then failed, as the Cloud API reports it.
        const unknown = batch.filter((p) => p.api.status === 'failed');
        await deps.webhooks.enqueue(
          tx,
          unknown.map((p) =>
            statusChange(p.number, p.api, 'failed', p.api.created_at, {
              code: 131026,
              title: 'Message undeliverable',
              details: p.api.error_details ?? '',
            }),
          ),
        );
      });
      for (const p of batch) p.resolve();
    } catch (e: unknown) {
      logger.error({ err: e, sends: batch.length }, 'business messaging api: accepting failed');
      for (const p of batch) p.reject(e);
    }
  }

  async function numberOf(businessId: string, phoneNumberId: string) {
    const number = /^\d{1,20}$/.test(phoneNumberId)
      ? await businessRepo.numberById(phoneNumberId)
      : undefined;
    if (!number || number.business_id !== businessId) throw graphErrors.unknownObject(phoneNumberId);
    return number;
  }

  /** A phone number as `GET /{phone-number-id}` and `/{waba-id}/phone_numbers` show it. */
  function phoneNumberView(n: { phone_number_id: string; phone: string }, name: string, verified: boolean) {
    return {
      id: n.phone_number_id,
      display_phone_number: displayPhone(n.phone),
      verified_name: name,
      code_verification_status: 'VERIFIED',
      quality_rating: 'GREEN',
      platform_type: 'CLOUD_API',
      throughput: { level: 'STANDARD' },
      status: 'CONNECTED',
      name_status: verified ? 'APPROVED' : 'PENDING_REVIEW',
      messaging_limit_tier: 'TIER_1K',
      account_mode: 'LIVE',
      is_official_business_account: verified,
    };
  }

  /** Number views with the fields other parts add; `fields` (Graph's `?fields=`) picks what is shown. */
  async function numberViews(
    numbers: { phone_number_id: string; phone: string }[],
    business: { name: string; name_verified: number },
    fields?: string[],
  ): Promise<Record<string, unknown>[]> {
    const more = await deps.numberFields?.(numbers.map((n) => n.phone_number_id));
    return numbers.map((n) => {
      const added = more?.get(n.phone_number_id);
      const view: Record<string, unknown> = {
        ...phoneNumberView(n, business.name, business.name_verified === 1),
        ...added?.base,
      };
      if (!fields) return view;
      const extra = added?.extra ?? {};
      return Object.fromEntries(
        ['id', ...fields].flatMap((f) => (f in view ? [[f, view[f]]] : f in extra ? [[f, extra[f]]] : [])),
      );
    });
  }

  async function businessOf(businessId: string) {
    const business = await businessRepo.find(businessId);
    if (!business) throw graphErrors.invalidToken();
    return business;
  }

  return {
    /**
     * GET /{version}/{id}: a phone number of the business, or its WhatsApp Business Account.
     * Undefined for any other id (another kind of object may own it).
     */
    async object(businessId: string, id: string, fields?: string[]) {
      const business = await businessOf(businessId);
      if (id === business.waba_id) return { id: business.waba_id, name: business.name };
      const number = /^\d{1,20}$/.test(id) ? await businessRepo.numberById(id) : undefined;
      if (!number || number.business_id !== businessId) return undefined;
      return (await numberViews([number], business, fields))[0];
    },

    /** GET /{version}/{waba-id}/phone_numbers */
    async phoneNumbers(businessId: string, wabaId: string) {
      const business = await businessOf(businessId);
      if (wabaId !== business.waba_id) throw graphErrors.unknownObject(wabaId, 'get');
      const numbers = await businessRepo.numbers(businessId);
      return {
        data: await numberViews(numbers, business),
        paging: { cursors: { before: '', after: '' } },
      };
    },

    /**
     * GET /{version}/{phone-number-id}/whatsapp_business_profile: the business's profile, in
     * the flat shape existing clients parse.
     */
    async businessProfile(businessId: string, phoneNumberId: string) {
      const business = await businessOf(businessId);
      await numberOf(businessId, phoneNumberId);
      const profile = parseProfile(business.profile);
      // Fields never set are left out, as Meta leaves them out (its schema has no empty about
      // and no UNDEFINED vertical).
      const set = <K extends string, V>(key: K, value: V, unset: boolean) => (unset ? {} : { [key]: value });
      return {
        data: [
          {
            messaging_product: 'whatsapp',
            ...set('about', profile.about, profile.about === ''),
            ...set('address', profile.address, profile.address === ''),
            ...set('description', profile.description, profile.description === ''),
            ...set('email', profile.email, profile.email === ''),
            ...set('websites', profile.websites, profile.websites.length === 0),
            ...set('vertical', profile.vertical, profile.vertical === 'UNDEFINED'),
            ...(profile.photo ? { profile_picture_url: `/api/v1/media/${profile.photo}` } : {}),
          },
        ],
      };
    },

    /** The business a bearer access token belongs to. */
    async authenticate(token: string | undefined): Promise<string> {
      if (!token) throw graphErrors.missingToken();
      const hash = hashToken(token);
      const businessId = token.length <= 200 ? await businessRepo.tokenBusiness(hash) : undefined;
      if (!businessId) throw graphErrors.invalidToken();
      await deps.tokenUsed?.(hash);
      return businessId;
    },

    /** POST /{version}/{phone-number-id}/messages: a send, or a mark-as-read. */
    async messages(
      businessId: string,
      phoneNumberId: string,
      body: unknown,
      parse: (body: Record<string, unknown>) => OutgoingSend | Promise<OutgoingSend> = parseText,
    ): Promise<SendResponse | { success: true }> {
      const number = await numberOf(businessId, phoneNumberId);
      if (!isRecord(body)) throw graphErrors.invalidParameter('The request body must be a JSON object.');
      if (body.messaging_product === undefined) {
        throw graphErrors.missingParameter('messaging_product is required.');
      }
      if (body.messaging_product !== 'whatsapp') {
        throw graphErrors.invalidParameter('messaging_product must be "whatsapp".');
      }
      if (body.status !== undefined) return markRead(number, body);

      if (body.recipient_type !== undefined && body.recipient_type !== 'individual') {
        throw graphErrors.badValue('recipient_type can only be "individual" here.');
      }
      if (typeof body.to !== 'string' || body.to.trim() === '')
        throw graphErrors.missingParameter('to is required.');
      const input = body.to;
      const digits = input.replace(/[\s().+-]/g, '');
      const phone = /^\d{6,15}$/.test(digits) ? normalizePhone(`+${digits}`) : undefined;
      if (!phone) throw graphErrors.badValue(`to "${input}" is not a phone number in international form.`);
      if (phone === number.phone) throw graphErrors.recipientIsSender();
      const send = await parse(body);

      const person = await businessRepo.accountByKey(phone);
      const now = clock.now();
      const allowance = await limits.check({
        businessId,
        number,
        personAccountId: person?.id,
        toPhone: phone,
        kind: send.type === 'template' ? 'template' : 'free_form',
        category: send.category,
        now,
      });
      const messageId = ids.newId('msg');
      const api: ApiMessageRow = {
        message_id: messageId,
        business_id: businessId,
        phone_number_id: number.phone_number_id,
        to_phone: phone,
        to_account: person?.id ?? null,
        type: send.type,
        category: send.category ?? null,
        template_id: send.templateId ?? null,
        callback_data: send.callbackData ?? null,
        window_open: allowance.windowOpen ? 1 : 0,
        entry_point: allowance.entryPoint,
        status: person ? 'accepted' : 'failed',
        error_code: person ? null : 131026,
        error_details: person ? null : `${phone} is not on Parley.`,
        created_at: now,
        sent_at: null,
        delivered_at: null,
        read_at: null,
      };
      try {
        await accept({
          number,
          api,
          payload: Buffer.from(JSON.stringify(send.payload)).toString('base64'),
          fields: { ...send.fields, messageId },
        });
      } catch (e: unknown) {
        if (e instanceof GraphError) throw e;
        throw graphErrors.unavailable('The message could not be stored; retry later.');
      }
      return {
        messaging_product: 'whatsapp',
        contacts: [{ input, wa_id: phone.slice(1) }],
        messages: [{ id: toWamid(messageId), message_status: 'accepted' }],
      };
    },
  };

  /** Mark-as-read, with the typing indicator when asked for. */
  async function markRead(
    number: Awaited<ReturnType<typeof numberOf>>,
    body: Record<string, unknown>,
  ): Promise<{ success: true }> {
    if (body.status !== 'read') throw graphErrors.badValue('status can only be "read".');
    if (typeof body.message_id !== 'string') throw graphErrors.missingParameter('message_id is required.');
    const messageId = fromWamid(body.message_id);
    if (!messageId) throw graphErrors.invalidParameter(`message_id ${body.message_id} is not a message id.`);
    const typing = body.typing_indicator;
    if (typing !== undefined && (!isRecord(typing) || typing.type !== 'text')) {
      throw graphErrors.badValue('typing_indicator.type can only be "text".');
    }
    // Only messages this number received count; others change nothing (as receipts do).
    await deps.receipts.record(hostedActor(number), 'read', [messageId]);
    if (typing !== undefined) {
      const [message] = await deps.db.kysely
        .selectFrom('business_messages')
        .innerJoin('conversations', 'conversations.id', 'business_messages.conversation_id')
        .innerJoin('accounts', 'accounts.id', 'conversations.person_account_id')
        .select(['accounts.phone'])
        .where('business_messages.message_id', '=', messageId)
        .where('conversations.phone_number_id', '=', number.phone_number_id)
        .where('business_messages.direction', '=', 'in')
        .execute();
      if (message) await deps.delivery.typing(hostedActor(number), message.phone, 'composing');
    }
    return { success: true };
  }
}

export type CloudApiService = ReturnType<typeof createCloudApiService>;
