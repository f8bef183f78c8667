/**
 * Business management on the Business Messaging API (Cloud API compatible), per phone number:
 * registration and its two-step PIN, the business profile, blocked users, QR codes and short
 * links (`message_qrdls`), and conversational automation (welcome message, ice breakers,
 * commands). Every method takes the business the access token belongs to and answers Graph
 * errors: a number or code of another business is unknown (100, subcode 33), as Graph
 * answers for any object the token cannot see.
 *
 * These are Parley's own features seen through the Cloud API's shapes: a block is the business
 * number's account blocking the person (delivery refuses their messages both ways), a QR code
 * is a short link of the links module, the profile is the business module's.
 */
import { BUSINESS_VERTICALS, type LinkView } from '@parley/protocol';
import { isAppError } from '../../errors.js';
import type { Clock } from '../../platform/clock.js';
import type { Db } from '../../platform/db.js';
import { hashSecret, secretMatches } from '../../platform/ids.js';
import { normalizePhone } from '../accounts/index.js';
import { type BusinessRepo, type BusinessService, hostedActor } from '../business/index.js';
import type { ContactsService } from '../contacts/index.js';
import type { LinksService } from '../links/index.js';
import { GraphError, graphErrors } from './graph-error.js';
import type { ManageRepo, NumberSettingsRow } from './manage.repo.js';

/** Cloud API limits (Meta's OpenAPI document and conversational components guide). */
export const LIMITS = {
  about: 139,
  address: 256,
  description: 256,
  email: 128,
  websites: 2,
  website: 256,
  prefilledMessage: 140,
  prompts: 4,
  prompt: 80,
  commands: 30,
  commandName: 32,
  commandDescription: 256,
  blockUsers: 1000,
} as const;

/** Data localization regions the Cloud API names (stored, not acted on: one deployment, one place). */
export const DATA_REGIONS = [
  'AE',
  'AU',
  'BH',
  'BR',
  'CA',
  'CH',
  'DE',
  'GB',
  'ID',
  'IN',
  'JP',
  'KR',
  'SG',
  'ZA',
];
/** The Cloud API's verticals: Parley's own list less its UNDEFINED (no vertical set). */
const VERTICALS = BUSINESS_VERTICALS.filter((v) => v !== 'UNDEFINED');

export interface ConversationalAutomation {
  enable_welcome_message: boolean;
  prompts: string[];
  commands: { command_name: string; command_description: string }[];
}

export interface ManageServiceDeps {
  db: Pick<Db, 'kysely' | 'caps'>;
  repo: ManageRepo;
  businessRepo: Pick<BusinessRepo, 'numberById' | 'numberByAccount' | 'accountByKey'>;
  business: Pick<BusinessService, 'updateProfileOf'>;
  contacts: Pick<ContactsService, 'block' | 'unblock' | 'listBlocked'>;
  links: Pick<LinksService, 'qrdls'>;
  clock: Clock;
}

type Body = Record<string, unknown>;
const isRecord = (v: unknown): v is Body => typeof v === 'object' && v !== null && !Array.isArray(v);
const invalid = (details: string) => graphErrors.invalidParameter(details);

function bodyOf(body: unknown, { product = true } = {}): Body {
  if (!isRecord(body)) throw invalid('The request body must be a JSON object.');
  if (product && body.messaging_product !== 'whatsapp') {
    throw invalid('messaging_product is required and must be "whatsapp".');
  }
  return body;
}

function only(body: Body, allowed: readonly string[]): void {
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key)) throw invalid(`Unknown parameter ${key}.`);
  }
}

function text(body: Body, key: string, max: number, min = 0): string | undefined {
  const value = body[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalid(`${key} must be a string.`);
  const length = [...value].length;
  if (length < min || length > max) throw invalid(`${key} must have ${min} to ${max} characters.`);
  return value;
}

export function automationOf(row: NumberSettingsRow | undefined): ConversationalAutomation {
  return {
    enable_welcome_message: row?.welcome_message === 1,
    prompts: row ? (JSON.parse(row.prompts) as string[]) : [],
    commands: row ? (JSON.parse(row.commands) as ConversationalAutomation['commands']) : [],
  };
}

/** The phone number a wa_id or phone names (digits, with or without `+`), or undefined. */
function phoneOf(user: string): string | undefined {
  const digits = user.replace(/[\s().+-]/g, '');
  return /^\d{6,15}$/.test(digits) ? normalizePhone(`+${digits}`) : undefined;
}

/** A cursor of the blocked-users list: the position, opaque to clients as Graph's are. */
const cursor = (n: number) => Buffer.from(`p${n}`).toString('base64url');
const position = (c: string) => {
  const m = /^p(\d{1,9})$/.exec(Buffer.from(c, 'base64url').toString('utf8'));
  if (!m) throw invalid('The paging cursor is not valid.');
  return Number(m[1]);
};

export function createManageService(deps: ManageServiceDeps) {
  const { db, repo, businessRepo, clock } = deps;

  async function numberOf(businessId: string, phoneNumberId: string) {
    const number = /^\d{1,20}$/.test(phoneNumberId)
      ? await businessRepo.numberById(phoneNumberId)
      : undefined;
    if (!number || number.business_id !== businessId) throw graphErrors.unknownObject(phoneNumberId);
    return number;
  }

  /** Link errors in Graph's words: another business's or a deleted code is an unknown object. */
  async function linkCall<T>(code: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (e: unknown) {
      if (isAppError(e) && e.code === 'LINK_NOT_FOUND') throw graphErrors.unknownObject(code);
      if (isAppError(e) && (e.code === 'VALIDATION_FAILED' || e.code === 'PLAN_LIMIT_REACHED')) {
        throw invalid(e.message);
      }
      throw e;
    }
  }

  function qrView(link: LinkView, image: 'PNG' | 'SVG' | undefined) {
    return {
      code: link.code.toUpperCase(),
      prefilled_message: link.text,
      deep_link_url: link.url,
      ...(image ? { qr_image_url: image === 'PNG' ? link.qr_png_url : link.qr_svg_url } : {}),
    };
  }

  function imageOf(value: unknown): 'PNG' | 'SVG' | undefined {
    if (value === undefined) return undefined;
    const format = typeof value === 'string' ? value.toUpperCase() : value;
    if (format !== 'PNG' && format !== 'SVG') throw invalid('generate_qr_image must be PNG or SVG.');
    return format;
  }

  /** `fields=…,qr_image_url.format(SVG)` asks for the image URL in that format. */
  function imageInFields(fields: unknown): 'PNG' | 'SVG' | undefined {
    if (typeof fields !== 'string') return undefined;
    const m = /qr_image_url(?:\.format\((PNG|SVG)\))?/i.exec(fields);
    if (!m) return undefined;
    return m[1]?.toUpperCase() === 'PNG' ? 'PNG' : 'SVG';
  }

  const codeOk = (code: string) => /^[A-Za-z0-9-]{3,32}$/.test(code);

  async function blockOrUnblock(businessId: string, phoneNumberId: string, raw: unknown, blocking: boolean) {
    const number = await numberOf(businessId, phoneNumberId);
    const body = bodyOf(raw);
    only(body, ['messaging_product', 'block_users']);
    const list = body.block_users;
    if (!Array.isArray(list) || list.length === 0) throw invalid('block_users must be a non-empty array.');
    if (list.length > LIMITS.blockUsers) {
      throw new GraphError(130429, '(#130429) Rate limit hit', 400, {
        details: `At most ${LIMITS.blockUsers} users per request.`,
      });
    }
    const done: { input: string; wa_id: string }[] = [];
    const failed: { input: string; wa_id?: string; errors: unknown[] }[] = [];
    const fail = (input: string, code: number, message: string, details: string, waId?: string) =>
      failed.push({
        input,
        ...(waId ? { wa_id: waId } : {}),
        errors: [{ message, code, error_data: { details } }],
      });
    for (const item of list) {
      const input = isRecord(item) && typeof item.user === 'string' ? item.user : undefined;
      if (input === undefined) throw invalid('Each block_users entry needs a user (phone number or wa_id).');
      const phone = phoneOf(input);
      const person = phone ? await businessRepo.accountByKey(phone) : undefined;
      const waId = phone?.slice(1);
      if (phone === number.phone) {
        fail(input, 131021, 'Self Block', 'A phone number cannot block itself.', waId);
      } else if (!person || person.business_id) {
        // Meta answers 131047 for a number that is no WhatsApp user; a business cannot be blocked.
        fail(input, 131047, 'Re-engagement required', `${input} is not a person on this platform.`, waId);
      } else {
        if (blocking) await deps.contacts.block(hostedActor(number), person.id);
        else await deps.contacts.unblock(hostedActor(number), person.id);
        done.push({ input, wa_id: person.phone.slice(1) });
      }
    }
    const key = blocking ? 'added_users' : 'removed_users';
    const answer = {
      messaging_product: 'whatsapp' as const,
      block_users: { [key]: done, ...(failed.length > 0 ? { failed_users: failed } : {}) },
    };
    return failed.length > 0 ? { partial: answer, error: graphErrors.blockFailed(blocking) } : { ok: answer };
  }

  return {
    /** Whether a number may send: false once deregistered, until registered again. */
    async isRegistered(phoneNumberId: string): Promise<boolean> {
      return (await repo.settings(phoneNumberId))?.deregistered_at == null;
    },

    /**
     * Throws 133010 when the business's number is deregistered. A number of another business
     * passes: the send path answers it as unknown, and this must not tell it apart.
     */
    async requireRegistered(businessId: string, phoneNumberId: string): Promise<void> {
      const row = /^\d{1,20}$/.test(phoneNumberId) ? await repo.settings(phoneNumberId) : undefined;
      if (row && row.business_id === businessId && row.deregistered_at !== null)
        throw graphErrors.notRegistered();
    },

    /**
     * What the phone number views (GET /{phone-number-id}, /{waba-id}/phone_numbers) show from
     * these settings: `base` always (the status), `extra` only when asked for by `fields`.
     */
    async numberFields(
      phoneNumberIds: string[],
    ): Promise<Map<string, { base: Record<string, unknown>; extra: Record<string, unknown> }>> {
      const rows = new Map((await repo.settingsOf(phoneNumberIds)).map((r) => [r.phone_number_id, r]));
      return new Map(
        phoneNumberIds.map((id) => {
          const row = rows.get(id);
          return [
            id,
            {
              base: { status: row?.deregistered_at == null ? 'CONNECTED' : 'DISCONNECTED' },
              extra: { conversational_automation: automationOf(row) },
            },
          ];
        }),
      );
    },

    /** POST /{v}/{phone-number-id}/register */
    async register(businessId: string, phoneNumberId: string, raw: unknown): Promise<{ success: true }> {
      const number = await numberOf(businessId, phoneNumberId);
      const body = bodyOf(raw);
      only(body, [
        'messaging_product',
        'pin',
        'data_localization_region',
        'backup',
        'tier',
        'meta_store_retention_minutes',
      ]);
      if (typeof body.pin !== 'string' || !/^\d{6}$/.test(body.pin)) {
        throw invalid('Invalid PIN format. PIN must be exactly 6 digits.');
      }
      const region = body.data_localization_region;
      if (region !== undefined && (typeof region !== 'string' || !DATA_REGIONS.includes(region))) {
        throw invalid(`data_localization_region must be one of ${DATA_REGIONS.join(', ')}.`);
      }
      if (body.backup !== undefined)
        throw invalid('backup (migration from the On-Premises API) is not supported.');
      const pin = body.pin;
      await db.kysely.transaction().execute(async (tx) => {
        await repo.lockNumber(tx, number.phone_number_id, db.caps.rowLocks);
        const row = await repo.settings(number.phone_number_id, tx);
        // The first registration sets the two-step PIN; later ones must know it.
        if (row?.pin_hash && !secretMatches(pin, row.pin_hash)) throw graphErrors.pinMismatch();
        await repo.upsert(
          tx,
          { phone_number_id: number.phone_number_id, business_id: businessId },
          {
            deregistered_at: null,
            ...(row?.pin_hash ? {} : { pin_hash: hashSecret(pin) }),
            ...(typeof region === 'string' ? { data_localization_region: region } : {}),
          },
          clock.now(),
        );
      });
      return { success: true };
    },

    /** POST /{v}/{phone-number-id}/deregister: the number stops sending until registered again. */
    async deregister(businessId: string, phoneNumberId: string): Promise<{ success: true }> {
      const number = await numberOf(businessId, phoneNumberId);
      await db.kysely.transaction().execute(async (tx) => {
        await repo.lockNumber(tx, number.phone_number_id, db.caps.rowLocks);
        const row = await repo.settings(number.phone_number_id, tx);
        if (row?.deregistered_at != null) throw graphErrors.alreadyDeregistered();
        const key = { phone_number_id: number.phone_number_id, business_id: businessId };
        await repo.upsert(tx, key, { deregistered_at: clock.now() }, clock.now());
      });
      return { success: true };
    },

    /** POST /{v}/{phone-number-id}/whatsapp_business_profile */
    async updateProfile(businessId: string, phoneNumberId: string, raw: unknown): Promise<{ success: true }> {
      await numberOf(businessId, phoneNumberId);
      const body = bodyOf(raw);
      only(body, [
        'messaging_product',
        'about',
        'address',
        'description',
        'email',
        'websites',
        'vertical',
        'profile_picture_handle',
      ]);
      if (body.profile_picture_handle !== undefined) {
        throw invalid(
          'profile_picture_handle (resumable uploads) is not supported; set the photo in Parley.',
        );
      }
      const patch: Parameters<BusinessService['updateProfileOf']>[1] = {};
      const about = text(body, 'about', LIMITS.about, 1);
      if (about !== undefined) patch.about = about;
      const address = text(body, 'address', LIMITS.address);
      if (address !== undefined) patch.address = address;
      const description = text(body, 'description', LIMITS.description);
      if (description !== undefined) patch.description = description;
      const email = text(body, 'email', LIMITS.email);
      if (email !== undefined) {
        if (email !== '' && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email))
          throw invalid('email is not an email address.');
        patch.email = email;
      }
      if (body.websites !== undefined) {
        const sites = body.websites;
        if (!Array.isArray(sites) || sites.length > LIMITS.websites) {
          throw invalid(`websites must be an array of at most ${LIMITS.websites} URLs.`);
        }
        for (const site of sites) {
          if (typeof site !== 'string' || site.length > LIMITS.website || !/^https?:\/\/[^\s/]+/.test(site)) {
            throw invalid(
              `Each website must be an http or https URL of at most ${LIMITS.website} characters.`,
            );
          }
        }
        patch.websites = sites as string[];
      }
      if (body.vertical !== undefined) {
        const vertical = VERTICALS.find((v) => v === body.vertical);
        if (!vertical) throw invalid(`vertical must be one of ${VERTICALS.join(', ')}.`);
        patch.vertical = vertical;
      }
      await deps.business.updateProfileOf(businessId, patch);
      return { success: true };
    },

    /** GET /{v}/{phone-number-id}/block_users */
    async blockedUsers(businessId: string, phoneNumberId: string, query: Record<string, unknown>) {
      const number = await numberOf(businessId, phoneNumberId);
      const limit = query.limit === undefined ? 100 : Number(query.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw invalid('limit must be 1 to 1000.');
      const all = await deps.contacts.listBlocked(hostedActor(number));
      let from = typeof query.after === 'string' ? position(query.after) + 1 : 0;
      if (typeof query.before === 'string') from = Math.max(0, position(query.before) - limit);
      const page = all.slice(from, from + limit);
      return {
        data: page.map((b) => ({ messaging_product: 'whatsapp', wa_id: b.phone.slice(1) })),
        paging: {
          cursors: { before: cursor(from), after: cursor(from + Math.max(0, page.length - 1)) },
        },
      };
    },

    /**
     * POST (block) and DELETE (unblock) /{v}/{phone-number-id}/block_users. A request where
     * some users failed answers 400 with both the lists and the Graph error, as Meta does.
     */
    block: (businessId: string, phoneNumberId: string, body: unknown) =>
      blockOrUnblock(businessId, phoneNumberId, body, true),
    unblock: (businessId: string, phoneNumberId: string, body: unknown) =>
      blockOrUnblock(businessId, phoneNumberId, body, false),

    /** GET /{v}/{phone-number-id}/message_qrdls[?code=…&fields=…] */
    async qrCodes(businessId: string, phoneNumberId: string, query: Record<string, unknown>) {
      await numberOf(businessId, phoneNumberId);
      const image = imageInFields(query.fields);
      const links = await deps.links.qrdls.list(businessId, phoneNumberId);
      const code = typeof query.code === 'string' ? query.code.toLowerCase() : undefined;
      return {
        data: links.filter((l) => code === undefined || l.code === code).map((l) => qrView(l, image)),
      };
    },

    /** GET /{v}/{phone-number-id}/message_qrdls/{code}: in a `data` array, as Meta's examples show. */
    async qrCode(businessId: string, phoneNumberId: string, code: string, query: Record<string, unknown>) {
      await numberOf(businessId, phoneNumberId);
      if (!codeOk(code)) throw graphErrors.unknownObject(code, 'get');
      const link = await linkCall(code, () => deps.links.qrdls.get(businessId, phoneNumberId, code));
      return { data: [qrView(link, imageInFields(query.fields))] };
    },

    /**
     * POST /{v}/{phone-number-id}/message_qrdls (create, or update when the body names a
     * `code`) and POST …/message_qrdls/{code} (update).
     */
    async saveQrCode(businessId: string, phoneNumberId: string, raw: unknown, pathCode?: string) {
      await numberOf(businessId, phoneNumberId);
      const body = bodyOf(raw, { product: false });
      only(body, ['prefilled_message', 'generate_qr_image', 'code', 'messaging_product', 'fields']);
      const message = text(body, 'prefilled_message', LIMITS.prefilledMessage);
      if (message === undefined) throw invalid('prefilled_message is required.');
      const image = imageOf(body.generate_qr_image);
      const code = pathCode ?? (typeof body.code === 'string' ? body.code : undefined);
      if (body.code !== undefined && typeof body.code !== 'string') throw invalid('code must be a string.');
      if (code === undefined) {
        return qrView(
          await linkCall('', () => deps.links.qrdls.create(businessId, phoneNumberId, message)),
          image,
        );
      }
      if (!codeOk(code)) throw graphErrors.unknownObject(code);
      const link = await linkCall(code, () =>
        deps.links.qrdls.update(businessId, phoneNumberId, code, message),
      );
      return qrView(link, image);
    },

    /** DELETE /{v}/{phone-number-id}/message_qrdls/{code}: the link stops resolving. */
    async deleteQrCode(businessId: string, phoneNumberId: string, code: string): Promise<{ success: true }> {
      await numberOf(businessId, phoneNumberId);
      if (!codeOk(code)) throw graphErrors.unknownObject(code);
      await linkCall(code, () => deps.links.qrdls.remove(businessId, phoneNumberId, code));
      return { success: true };
    },

    /**
     * POST /{v}/{phone-number-id}/conversational_automation. Fields left out keep their value;
     * an empty array clears the prompts or commands.
     */
    async setAutomation(businessId: string, phoneNumberId: string, raw: unknown): Promise<{ success: true }> {
      const number = await numberOf(businessId, phoneNumberId);
      const body = bodyOf(raw, { product: false });
      only(body, ['enable_welcome_message', 'prompts', 'commands', 'messaging_product']);
      const patch: Partial<Pick<NumberSettingsRow, 'welcome_message' | 'prompts' | 'commands'>> = {};
      if (body.enable_welcome_message !== undefined) {
        if (typeof body.enable_welcome_message !== 'boolean')
          throw invalid('enable_welcome_message must be a boolean.');
        patch.welcome_message = body.enable_welcome_message ? 1 : 0;
      }
      if (body.prompts !== undefined) {
        const prompts = body.prompts;
        if (!Array.isArray(prompts) || prompts.length > LIMITS.prompts) {
          throw invalid(`Too many prompts provided. Maximum allowed is ${LIMITS.prompts}.`);
        }
        for (const p of prompts) {
          if (typeof p !== 'string' || p.trim() === '' || [...p].length > LIMITS.prompt) {
            throw invalid(`Prompt text must have 1 to ${LIMITS.prompt} characters.`);
          }
        }
        patch.prompts = JSON.stringify(prompts);
      }
      if (body.commands !== undefined) {
        const commands = body.commands;
        if (!Array.isArray(commands) || commands.length > LIMITS.commands) {
          throw invalid(`Too many commands provided. Maximum allowed is ${LIMITS.commands}.`);
        }
        const names = new Set<string>();
        const clean = commands.map((c: unknown) => {
          if (
            !isRecord(c) ||
            typeof c.command_name !== 'string' ||
            typeof c.command_description !== 'string'
          ) {
            throw invalid('Each command needs a command_name and a command_description.');
          }
          if (!new RegExp(`^[A-Za-z0-9_]{1,${LIMITS.commandName}}$`).test(c.command_name)) {
            throw invalid(
              `Invalid command name format. Command names must contain only alphanumeric characters and underscores (at most ${LIMITS.commandName}).`,
            );
          }
          const description = c.command_description;
          if (description.trim() === '' || [...description].length > LIMITS.commandDescription) {
            throw invalid(`command_description must have 1 to ${LIMITS.commandDescription} characters.`);
          }
          const key = c.command_name.toLowerCase();
          if (names.has(key)) throw invalid(`Command names must be unique: ${c.command_name} is repeated.`);
          names.add(key);
          return { command_name: c.command_name, command_description: description };
        });
        patch.commands = JSON.stringify(clean);
      }
      if (Object.keys(patch).length === 0) {
        throw invalid('Set at least one of enable_welcome_message, prompts and commands.');
      }
      await db.kysely
        .transaction()
        .execute((tx) =>
          repo.upsert(
            tx,
            { phone_number_id: number.phone_number_id, business_id: businessId },
            patch,
            clock.now(),
          ),
        );
      return { success: true };
    },

    /** What people see of a business number's automation beside its public profile. */
    async publicExtras(
      accountId: string,
    ): Promise<{ ice_breakers: string[]; commands: { name: string; description: string }[] }> {
      const number = await businessRepo.numberByAccount(accountId);
      const automation = automationOf(number ? await repo.settings(number.phone_number_id) : undefined);
      return {
        ice_breakers: automation.prompts,
        commands: automation.commands.map((c) => ({
          name: c.command_name,
          description: c.command_description,
        })),
      };
    },
  };
}

export type ManageService = ReturnType<typeof createManageService>;
