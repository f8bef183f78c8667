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

import { isAppError } from '../../errors.js';
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
import type { GraphMediaService } from './graph-media.service.js';
import type { LimitsService } from './limits/index.js';
import { bindMedia, encodePayload, type MediaRef, parseOutgoing } from './message-content.js';
import { marketOf } from './pricing.js';
import { fromWamid, toWamid } from './wamid.js';
import type { WebhookPort } from './webhook-port.js';

/** What the templates part makes of a send's `template` object (see templates/). */
export interface PreparedTemplate {
  templateId: string;
  name: string;
  language: string;
  category: 'marketing' | 'utility' | 'authentication';
  rendered: {
    header?:
      | { type: string; text?: string; media?: { id?: string; link?: string }; location?: object }
      | undefined;
    body: string;
    footer?: string | undefined;
    buttons?: readonly object[] | undefined;
  };
}

export interface TemplatesPort {
  /** Checks the template object of a send against the approved template; throws GraphErrors. */
  prepareSend(businessId: string, template: unknown, now: number): Promise<PreparedTemplate>;
}

export interface CloudApiServiceDeps {
  db: Pick<Db, 'kysely'>;
  businessRepo: Pick<BusinessRepo, 'tokenBusiness' | 'numberById' | 'accountByKey' | 'find' | 'numbers'>;
  inbox: Pick<InboxService, 'queueSends'>;
  receipts: Pick<ReceiptsService, 'record'>;
  delivery: Pick<DeliveryService, 'typing'>;
  repo: ApiMessagesRepo;
  webhooks: WebhookPort;
  /** The rules Meta enforces (limits/), and numbers' quality, tier, throughput and status. */
  limits?: Pick<LimitsService, 'check' | 'numberStatus'>;
  /** Media a send names (by id or link), resolved to Parley media. */
  media?: Pick<GraphMediaService, 'resolveMedia'>;
  templates?: TemplatesPort;
  /** Reserves what billable sends will cost; refuses those the business cannot pay for. */
  billing?: BillingPort | undefined;
  clock: Clock;
  ids: Pick<Ids, 'newId'>;
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

/** The media of a rendered template's header (image, video or document by id or link). */
function headerMediaRef(header: PreparedTemplate['rendered']['header']): MediaRef | undefined {
  if (!header || !['image', 'video', 'document'].includes(header.type)) return undefined;
  const kind = header.type as 'image' | 'video' | 'document';
  const source = header.media;
  if (!source) return undefined;
  if (typeof source.id === 'string') return { slot: 'header', kind, source: { id: source.id } };
  if (typeof source.link === 'string') return { slot: 'header', kind, source: { link: source.link } };
  return undefined;
}

type NumberRow = NonNullable<Awaited<ReturnType<BusinessRepo['numberById']>>>;

/** What the send pipeline needs of billing (modules/billing). */
export interface BillingPort {
  precheck(send: SendToReserve): Promise<void>;
  reserve(tx: Executor, sends: SendToReserve[]): Promise<Map<string, Error>>;
}

export interface SendToReserve {
  businessId: string;
  messageId: string;
  phoneNumberId: string;
  category: 'marketing' | 'utility' | 'authentication' | 'service';
  market: string;
  recipient: string;
  windowOpen: boolean;
  entryPoint: string | null;
  at: number;
}

const toReserve = (api: ApiMessageRow): SendToReserve => ({
  businessId: api.business_id,
  messageId: api.message_id,
  phoneNumberId: api.phone_number_id,
  category: (api.category ?? 'service') as SendToReserve['category'],
  market: marketOf(api.to_phone),
  recipient: api.to_phone,
  windowOpen: api.window_open === 1,
  entryPoint: api.entry_point,
  at: api.created_at,
});

interface PendingAccept {
  number: NumberRow;
  api: ApiMessageRow;
  payload: string;
  fields: OutboxFields;
  /** Refused after accepting (the Cloud API reports these as a failed status). */
  failure?: GraphError | undefined;
  /** Refused in the accept transaction (billing): answered as an error, nothing stored. */
  refused?: GraphError | undefined;
  resolve(): void;
  reject(e: unknown): void;
}

export function createCloudApiService(deps: CloudApiServiceDeps) {
  const { businessRepo, repo, clock, ids, logger } = deps;

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
      p.api.to_account === null || p.failure
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
      const reserve = deps.billing ? deps.billing.reserve : undefined;
      const prepare = reserve
        ? async (tx: Executor) => {
            const live = batch.filter((p) => !p.failure && p.api.to_account !== null);
            const refused = await reserve(
              tx,
              live.map((p) => toReserve(p.api)),
            );
            const dropped = new Set<string>();
            for (const p of live) {
              const e = refused.get(p.api.message_id);
              if (!e) continue;
              p.refused = graphErrors.paymentIssue(e.message);
              dropped.add(`api:${p.api.message_id}`);
            }
            return dropped;
          }
        : undefined;
      await deps.inbox.queueSends(
        sends,
        async (tx: Executor) => {
          await repo.insert(
            tx,
            batch.filter((p) => !p.refused).map((p) => p.api),
          );
          // Refused after accepting (not on Parley, outside the window, …): a failed status.
          await deps.webhooks.enqueue(
            tx,
            batch.flatMap((p) =>
              p.failure
                ? [
                    statusChange(p.number, p.api, 'failed', p.api.created_at, {
                      code: p.failure.code,
                      title: p.failure.message.replace(/^\(#\d+\) /, ''),
                      details: p.failure.extra.details ?? '',
                    }),
                  ]
                : [],
            ),
          );
        },
        prepare,
      );
      for (const p of batch) {
        if (p.refused) p.reject(p.refused);
        else p.resolve();
      }
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
  async function phoneNumberView(
    n: { phone_number_id: string; phone: string },
    name: string,
    verified: boolean,
  ) {
    const limits = (await deps.limits?.numberStatus(n, verified)) ?? {
      quality_rating: 'GREEN',
      messaging_limit_tier: 'TIER_1K',
      throughput: { level: 'STANDARD' },
      status: 'CONNECTED',
    };
    return {
      id: n.phone_number_id,
      display_phone_number: displayPhone(n.phone),
      verified_name: name,
      code_verification_status: 'VERIFIED',
      quality_rating: limits.quality_rating,
      platform_type: 'CLOUD_API',
      throughput: limits.throughput,
      status: limits.status,
      name_status: verified ? 'APPROVED' : 'PENDING_REVIEW',
      messaging_limit_tier: limits.messaging_limit_tier,
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
    const views = await Promise.all(
      numbers.map((n) => phoneNumberView(n, business.name, business.name_verified === 1)),
    );
    return numbers.map((n, i) => {
      const added = more?.get(n.phone_number_id);
      const view: Record<string, unknown> = {
        ...views[i],
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

      const message = parseOutgoing(body);
      const input = message.to;
      const digits = input.replace(/[\s().+-]/g, '');
      const phone = /^\d{6,15}$/.test(digits) ? normalizePhone(`+${digits}`) : undefined;
      if (!phone) throw graphErrors.badValue(`to "${input}" is not a phone number in international form.`);
      if (phone === number.phone) throw graphErrors.recipientIsSender();
      const now = clock.now();

      // Templates: checked against the approved template and rendered into the payload.
      let content = message.content;
      let prepared: PreparedTemplate | undefined;
      let headerMedia: MediaRef | undefined;
      if (message.type === 'template') {
        if (!deps.templates) throw graphErrors.unsupportedType('Template messages are not available.');
        prepared = await deps.templates.prepareSend(businessId, message.template, now);
        const { header: rendered, ...rest } = prepared.rendered;
        headerMedia = headerMediaRef(rendered);
        // A media header is named by its Parley media once bound, as other media are.
        const header = headerMedia ? { type: rendered?.type } : rendered;
        content = {
          type: 'template',
          template: {
            name: prepared.name,
            language: prepared.language,
            category: prepared.category,
            ...(header ? { header } : {}),
            ...rest,
          },
          text: prepared.rendered.body,
        };
      }

      // Media by id or link: resolved before anything is written (a link fetch takes time).
      const refs = headerMedia ? [...message.media, headerMedia] : message.media;
      const resolved =
        refs.length > 0 && deps.media
          ? await deps.media.resolveMedia(businessId, number.phone_number_id, refs)
          : [];
      if (refs.length > 0 && !deps.media)
        throw graphErrors.unsupportedType('Media messages are not available.');
      const bound = bindMedia({ content, media: refs }, resolved);
      content = bound.content;
      const mediaIds = bound.mediaIds;

      const person = await businessRepo.accountByKey(phone);
      // A reply or reaction names a message of this chat.
      for (const target of [message.replyTo, message.ref]) {
        if (
          target !== undefined &&
          !(person && (await repo.inChat(target, number.phone_number_id, person.id)))
        ) {
          throw graphErrors.invalidParameter(`Message ${toWamid(target)} is not a message of this chat.`);
        }
      }

      let failure: GraphError | undefined = person
        ? undefined
        : graphErrors.undeliverable(`${phone} is not on Parley.`);
      let allowance = { windowOpen: true, entryPoint: null as string | null };
      if (!failure && deps.limits) {
        const business = await businessOf(businessId);
        try {
          allowance = await deps.limits.check({
            business: { id: business.id, name_verified: business.name_verified },
            number,
            personAccountId: person?.id,
            toPhone: phone,
            kind: message.type === 'template' ? 'template' : 'free_form',
            ...(prepared ? { category: prepared.category } : {}),
            now,
          });
        } catch (e: unknown) {
          // Meta answers some refusals at once and reports others as a failed status.
          if (!(e instanceof GraphError) || !e.async) throw e;
          failure = e;
        }
      }

      const messageId = ids.newId('msg');
      const api: ApiMessageRow = {
        message_id: messageId,
        business_id: businessId,
        phone_number_id: number.phone_number_id,
        to_phone: phone,
        to_account: person?.id ?? null,
        type: message.type,
        category: prepared?.category ?? null,
        template_id: prepared?.templateId ?? null,
        callback_data: message.callbackData ?? null,
        window_open: allowance.windowOpen ? 1 : 0,
        entry_point: allowance.entryPoint,
        status: failure ? 'failed' : 'accepted',
        error_code: failure ? failure.code : null,
        error_details: failure ? (failure.extra.details ?? failure.message) : null,
        created_at: now,
        sent_at: null,
        delivered_at: null,
        read_at: null,
      };
      const fields: OutboxFields = { messageId };
      if (message.kind === 'reaction') fields.kind = 'reaction';
      if (message.ref) fields.ref = message.ref;
      if (message.replyTo) fields.replyTo = message.replyTo;
      if (mediaIds.length > 0 && message.kind !== 'reaction') fields.media = mediaIds;
      // A send the business cannot pay for is refused before anything is stored or sent.
      if (!failure && deps.billing) {
        try {
          await deps.billing.precheck(toReserve(api));
        } catch (e: unknown) {
          if (isAppError(e) && e.code === 'BILLING_INSUFFICIENT_FUNDS')
            throw graphErrors.paymentIssue(e.message);
          throw e;
        }
      }
      try {
        await accept({ number, api, payload: encodePayload(content), fields, failure });
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
