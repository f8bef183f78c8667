/**
 * The Business Messaging API: a Cloud API compatible surface through which a business sends
 * with its access token. A send goes out from the business number through the shared inbox's
 * outbox (so it shows in the inbox and reaches the person by normal delivery); a mark-as-read
 * is the number's read receipt.
 *
 * Built so far: bearer tokens, the Graph error envelope, text messages and mark-as-read.
 * TODO(#5): the other message types, context replies, media, templates, webhooks.
 */
import { hashToken, type Ids } from '../../platform/ids.js';
import { displayPhone, normalizePhone } from '../accounts/index.js';
import { type BusinessRepo, hostedActor, type InboxService, parseProfile } from '../business/index.js';
import type { ReceiptsService } from '../receipts/index.js';
import { GraphError, graphErrors } from './graph-error.js';
import type { LimitsService } from './limits/index.js';
import { fromWamid, toWamid } from './wamid.js';

/** The Cloud API limits a text body to 4,096 characters. */
export const MAX_TEXT_BODY = 4096;

export interface CloudApiServiceDeps {
  businessRepo: Pick<BusinessRepo, 'tokenBusiness' | 'numberById' | 'accountByKey' | 'find' | 'numbers'>;
  inbox: Pick<InboxService, 'sendFromBusiness'>;
  receipts: Pick<ReceiptsService, 'record'>;
  ids: Pick<Ids, 'newCode'>;
  /** Quality, tier, throughput and status of numbers (limits/); fixed values without it. */
  limits?: Pick<LimitsService, 'numberStatus'>;
}

export interface SendResponse {
  messaging_product: 'whatsapp';
  contacts: { input: string; wa_id: string }[];
  messages: { id: string; message_status: 'accepted' }[];
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export function createCloudApiService(deps: CloudApiServiceDeps) {
  const { businessRepo } = deps;

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
    async object(businessId: string, id: string) {
      const business = await businessOf(businessId);
      if (id === business.waba_id) return { id: business.waba_id, name: business.name };
      const number = /^\d{1,20}$/.test(id) ? await businessRepo.numberById(id) : undefined;
      if (!number || number.business_id !== businessId) return undefined;
      return phoneNumberView(number, business.name, business.name_verified === 1);
    },

    /** GET /{version}/{waba-id}/phone_numbers */
    async phoneNumbers(businessId: string, wabaId: string) {
      const business = await businessOf(businessId);
      if (wabaId !== business.waba_id) throw graphErrors.unknownObject(wabaId, 'get');
      const numbers = await businessRepo.numbers(businessId);
      return {
        data: await Promise.all(
          numbers.map((n) => phoneNumberView(n, business.name, business.name_verified === 1)),
        ),
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
      return {
        data: [
          {
            messaging_product: 'whatsapp',
            about: profile.about,
            address: profile.address,
            description: profile.description,
            email: profile.email,
            websites: profile.websites,
            vertical: profile.vertical,
            ...(profile.photo ? { profile_picture_url: `/api/v1/media/${profile.photo}` } : {}),
          },
        ],
      };
    },

    /** The business a bearer access token belongs to. */
    async authenticate(token: string | undefined): Promise<string> {
      if (!token) throw graphErrors.missingToken();
      const businessId = token.length <= 200 ? await businessRepo.tokenBusiness(hashToken(token)) : undefined;
      if (!businessId) throw graphErrors.invalidToken();
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

      if (body.status !== undefined) {
        if (body.status !== 'read') throw graphErrors.badValue('status can only be "read".');
        if (typeof body.message_id !== 'string')
          throw graphErrors.missingParameter('message_id is required.');
        const messageId = fromWamid(body.message_id);
        if (!messageId)
          throw graphErrors.invalidParameter(`message_id ${body.message_id} is not a message id.`);
        // Only messages this number received count; others change nothing (as receipts do).
        await deps.receipts.record(hostedActor(number), 'read', [messageId]);
        return { success: true };
      }

      if (body.recipient_type !== undefined && body.recipient_type !== 'individual') {
        throw graphErrors.badValue('recipient_type can only be "individual" here.');
      }
      if (typeof body.to !== 'string' || body.to.trim() === '')
        throw graphErrors.missingParameter('to is required.');
      const input = body.to;
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

      const digits = input.replace(/[\s().+-]/g, '');
      const phone = /^\d{6,15}$/.test(digits) ? normalizePhone(`+${digits}`) : undefined;
      if (!phone) throw graphErrors.badValue(`to "${input}" is not a phone number in international form.`);
      if (phone === number.phone) throw graphErrors.recipientIsSender();
      const person = await businessRepo.accountByKey(phone);
      // The Cloud API accepts and then fails through a status webhook; until webhooks exist
      // here, the failure is answered at once (TODO(#5): accept, then the failed status).
      if (!person) throw graphErrors.undeliverable(`${phone} is not on Parley.`);

      let messageId: string;
      try {
        messageId = await deps.inbox.sendFromBusiness(number, person.id, {
          payload: Buffer.from(JSON.stringify({ text: text.body })).toString('base64'),
          author: 'api',
          clientId: `api:${deps.ids.newCode(24, 'abcdefghijklmnopqrstuvwxyz0123456789')}`,
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
}

export type CloudApiService = ReturnType<typeof createCloudApiService>;
