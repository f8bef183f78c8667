/**
 * Short links and QR codes: `<public base>/c/<code>` opens a chat with a business number with
 * a message prefilled, and counts the chats it started.
 *
 * Codes are global (they are URL paths) and never change owner: a deleted link keeps its row,
 * so a code printed on a flyer can never lead to another business. The business that deleted
 * it may take it back. Generated codes are 10 random base32 characters (50 bits); a custom
 * code is a plan feature, and how many live links a business has is a plan limit.
 *
 * Counting: a signed-in person who follows a link (or scans its QR code, whose URL carries
 * `?src=qr`) tells the server (`open`), which records it. When that person's first message to
 * the business number creates the conversation within 24 hours, the inbox asks
 * `entryPointOf` and the conversation is marked `started_via` link or qr, `started_ref` the
 * code. `chats_started` counts those conversations: derived from stored facts, not a counter.
 */
import {
  LINK_CODE_PATTERN,
  LINK_TEXT_MAX,
  type LinkResolution,
  type LinkSource,
  type LinkView,
} from '@parley/protocol';
import { AppError } from '../../errors.js';
import type { Clock } from '../../platform/clock.js';
import type { Db, Executor } from '../../platform/db.js';
import type { Ids } from '../../platform/ids.js';
import type { DeviceActor } from '../accounts/index.js';
import type { BusinessService, InboxServiceDeps } from '../business/index.js';
import type { PlansService } from '../plans/index.js';
import { presentLink, presentResolution, qrTarget } from './links.present.js';
import { qrPng, qrSvg } from './links.qr.js';
import type { LinkRow, LinksRepo } from './links.repo.js';

/** How long after opening a link a first message still counts as started by it. */
export const LINK_ATTRIBUTION_MS = 24 * 60 * 60 * 1000;
const GENERATED_ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';
const GENERATED_LENGTH = 10;
/** The Cloud API's QR codes have 14 characters of [A-Z2-7]; ours, shown upper-case there, too. */
export const API_CODE_LENGTH = 14;

interface NumberLike {
  phone_number_id: string;
  business_id: string;
  phone: string;
}

export interface LinksServiceDeps {
  db: Pick<Db, 'kysely' | 'caps'>;
  repo: LinksRepo;
  business: Pick<BusinessService, 'requireAgent' | 'requireManager'>;
  /** The business's numbers, a number by id, and the business's name and badge. */
  businessRepo: {
    numbers(businessId: string, tx?: Executor): Promise<NumberLike[]>;
    numberById(phoneNumberId: string, tx?: Executor): Promise<NumberLike | undefined>;
    find(businessId: string, tx?: Executor): Promise<{ name: string; name_verified: number } | undefined>;
  };
  plans?: Pick<PlansService, 'check' | 'requireFeature'>;
  /** The base of public URLs (PARLEY_PUBLIC_URL, or where the server listens), without a trailing slash. */
  publicUrl(): string;
  clock: Clock;
  ids: Ids;
}

export interface CreateLinkInput {
  text: string;
  phoneNumberId?: string | undefined;
  code?: string | undefined;
}

function invalid(path: string, message: string): AppError {
  return new AppError('VALIDATION_FAILED', `Invalid ${path}: ${message}.`, { issues: [{ path, message }] });
}

const notFound = (code: string) => new AppError('LINK_NOT_FOUND', `No link "${code}" in this business.`);

function textOf(text: string): string {
  if ([...text].length > LINK_TEXT_MAX) throw invalid('text', `at most ${LINK_TEXT_MAX} characters`);
  return text;
}

export function createLinksService(deps: LinksServiceDeps) {
  const { db, repo, clock, ids } = deps;

  async function numberOf(tx: Executor, businessId: string, phoneNumberId: string | undefined) {
    if (phoneNumberId === undefined) {
      const [first] = await deps.businessRepo.numbers(businessId, tx);
      if (!first) throw invalid('phone_number_id', 'the business has no number');
      return first;
    }
    const number = await deps.businessRepo.numberById(phoneNumberId, tx);
    if (!number || number.business_id !== businessId) {
      throw invalid('phone_number_id', 'not a number of this business');
    }
    return number;
  }

  async function linkIn(tx: Executor, businessId: string, code: string) {
    const link = await repo.find(code.toLowerCase(), tx);
    if (!link || link.business_id !== businessId || link.deleted_at !== null) throw notFound(code);
    return link;
  }

  async function live(code: string) {
    const link = await repo.find(code.toLowerCase());
    if (!link || link.deleted_at !== null) throw new AppError('LINK_NOT_FOUND', `No link "${code}".`);
    return link;
  }

  async function resolution(link: LinkRow, source: LinkSource) {
    const [number, business] = await Promise.all([
      deps.businessRepo.numberById(link.phone_number_id),
      deps.businessRepo.find(link.business_id),
    ]);
    if (!number || !business) throw new AppError('LINK_NOT_FOUND', `No link "${link.code}".`);
    return presentResolution(
      {
        code: link.code,
        phone: number.phone,
        business_name: business.name,
        verified: business.name_verified === 1,
        text: link.text,
      },
      source,
    );
  }

  const view = async (tx: Executor, code: string): Promise<LinkView> => {
    const row = await repo.find(code, tx);
    if (!row) throw new AppError('INTERNAL_ERROR', 'The link was not stored.');
    return presentLink(row, deps.publicUrl());
  };

  async function createIn(
    tx: Executor,
    businessId: string,
    input: CreateLinkInput,
    generatedLength: number,
  ): Promise<LinkView> {
    const text = textOf(input.text);
    const custom = input.code?.toLowerCase();
    if (custom !== undefined && !LINK_CODE_PATTERN.test(custom)) {
      throw invalid('code', '3 to 32 of a-z, 0-9 and -');
    }
    await repo.lockBusiness(tx, businessId, db.caps.rowLocks);
    if (custom !== undefined) await deps.plans?.requireFeature(tx, businessId, 'custom_link_code');
    await deps.plans?.check(tx, businessId, 'short_links', (await repo.countLive(businessId, tx)) + 1);
    const number = await numberOf(tx, businessId, input.phoneNumberId);
    const now = clock.now();
    const row = (code: string): LinkRow => ({
      code,
      business_id: businessId,
      phone_number_id: number.phone_number_id,
      text,
      custom: custom === undefined ? 0 : 1,
      created_at: now,
      updated_at: now,
      deleted_at: null,
    });
    if (custom !== undefined) {
      if (await repo.insert(tx, row(custom))) return view(tx, custom);
      const existing = await repo.find(custom, tx);
      // Its own deleted code: the business takes it back, with its history.
      if (existing && existing.business_id === businessId && existing.deleted_at !== null) {
        await repo.update(tx, custom, {
          text,
          phone_number_id: number.phone_number_id,
          created_at: now,
          updated_at: now,
          deleted_at: null,
        });
        return view(tx, custom);
      }
      throw new AppError('LINK_CODE_TAKEN', `The code "${custom}" is taken; choose another.`);
    }
    // 50 random bits or more: a collision is rare enough that three tries never all fail in practice.
    for (let attempt = 0; attempt < 3; attempt++) {
      const code = ids.newCode(generatedLength, GENERATED_ALPHABET);
      if (await repo.insert(tx, row(code))) return view(tx, code);
    }
    throw new AppError('INTERNAL_ERROR', 'No free link code was found.');
  }

  async function updateIn(
    tx: Executor,
    businessId: string,
    code: string,
    patch: { text?: string | undefined; phoneNumberId?: string | undefined },
  ): Promise<LinkView> {
    const text = patch.text === undefined ? undefined : textOf(patch.text);
    const link = await linkIn(tx, businessId, code);
    const set: { text?: string; phone_number_id?: string } = {};
    if (text !== undefined) set.text = text;
    if (patch.phoneNumberId !== undefined) {
      set.phone_number_id = (await numberOf(tx, businessId, patch.phoneNumberId)).phone_number_id;
    }
    if (Object.keys(set).length > 0) await repo.update(tx, link.code, { ...set, updated_at: clock.now() });
    return view(tx, link.code);
  }

  async function removeIn(tx: Executor, businessId: string, code: string): Promise<void> {
    const link = await linkIn(tx, businessId, code);
    await repo.update(tx, link.code, { deleted_at: clock.now() });
  }

  return {
    /** Forgets link opens past the attribution window (the worker runs it). */
    async expireOpens(): Promise<number> {
      return repo.deleteOpensBefore(clock.now() - LINK_ATTRIBUTION_MS);
    },

    async list(actor: DeviceActor, businessId: string): Promise<LinkView[]> {
      await deps.business.requireAgent(actor, businessId);
      const base = deps.publicUrl();
      return (await repo.list(businessId)).map((row) => presentLink(row, base));
    },

    async get(actor: DeviceActor, businessId: string, code: string): Promise<LinkView> {
      await deps.business.requireAgent(actor, businessId);
      return presentLink(await linkIn(db.kysely, businessId, code), deps.publicUrl());
    },

    /** Creates a link (owners and admins). A custom code needs the plan feature custom_link_code. */
    async create(actor: DeviceActor, businessId: string, input: CreateLinkInput): Promise<LinkView> {
      return db.kysely.transaction().execute(async (tx) => {
        await deps.business.requireManager(actor, businessId, tx);
        return createIn(tx, businessId, input, GENERATED_LENGTH);
      });
    },

    /** Changes the prefilled text and/or the number (owners and admins); the code stays. */
    async update(
      actor: DeviceActor,
      businessId: string,
      code: string,
      patch: { text?: string | undefined; phoneNumberId?: string | undefined },
    ): Promise<LinkView> {
      return db.kysely.transaction().execute(async (tx) => {
        await deps.business.requireManager(actor, businessId, tx);
        return updateIn(tx, businessId, code, patch);
      });
    },

    /** Deletes a link (owners and admins): it stops resolving; its code stays the business's. */
    async remove(actor: DeviceActor, businessId: string, code: string): Promise<void> {
      await db.kysely.transaction().execute(async (tx) => {
        await deps.business.requireManager(actor, businessId, tx);
        await removeIn(tx, businessId, code);
      });
    },

    /**
     * The same links for the Business Messaging API's `message_qrdls`, where the access token
     * already names the business. Its codes are 14 characters, as the Cloud API's are (its
     * clients may check the length); the same plan limits apply.
     */
    qrdls: {
      async list(businessId: string, phoneNumberId: string): Promise<LinkView[]> {
        const base = deps.publicUrl();
        return (await repo.list(businessId))
          .filter((row) => row.phone_number_id === phoneNumberId)
          .map((row) => presentLink(row, base));
      },
      async get(businessId: string, phoneNumberId: string, code: string): Promise<LinkView> {
        const link = await linkIn(db.kysely, businessId, code);
        if (link.phone_number_id !== phoneNumberId) throw notFound(code);
        return presentLink(link, deps.publicUrl());
      },
      create: (businessId: string, phoneNumberId: string, text: string): Promise<LinkView> =>
        db.kysely
          .transaction()
          .execute((tx) => createIn(tx, businessId, { text, phoneNumberId }, API_CODE_LENGTH)),
      async update(businessId: string, phoneNumberId: string, code: string, text: string): Promise<LinkView> {
        return db.kysely.transaction().execute(async (tx) => {
          if ((await linkIn(tx, businessId, code)).phone_number_id !== phoneNumberId) throw notFound(code);
          return updateIn(tx, businessId, code, { text });
        });
      },
      async remove(businessId: string, phoneNumberId: string, code: string): Promise<void> {
        await db.kysely.transaction().execute(async (tx) => {
          if ((await linkIn(tx, businessId, code)).phone_number_id !== phoneNumberId) throw notFound(code);
          await removeIn(tx, businessId, code);
        });
      },
    },

    /** Public: who the link opens a chat with, and the prefilled text. */
    async resolve(
      code: string,
      source: LinkSource = 'link',
    ): Promise<LinkResolution & { source: LinkSource }> {
      return resolution(await live(code), source);
    },

    /** A signed-in person followed the link (or scanned its QR code); see the header. */
    async open(
      actor: DeviceActor,
      code: string,
      source: LinkSource,
    ): Promise<LinkResolution & { source: LinkSource }> {
      const link = await live(code);
      await repo.insertOpen(db.kysely, {
        id: ids.newId('lnk'),
        code: link.code,
        account_id: actor.accountId,
        source,
        opened_at: clock.now(),
      });
      return resolution(link, source);
    },

    /** Public: the QR code of the link, PNG of `width` pixels or SVG. */
    async qr(code: string, format: 'png' | 'svg', width?: number): Promise<Buffer | string> {
      const link = await live(code);
      const target = qrTarget(deps.publicUrl(), link.code);
      return format === 'png' ? qrPng(target, width) : qrSvg(target);
    },

    /** The inbox's hook (InboxServiceDeps.entryPointOf): the link that brought the person, if any. */
    entryPointOf: (async (tx, phoneNumberId, personAccountId, at) => {
      const open = await repo.lastOpen(personAccountId, phoneNumberId, at - LINK_ATTRIBUTION_MS, at, tx);
      return open ? { via: open.source, ref: open.code } : undefined;
    }) satisfies NonNullable<InboxServiceDeps['entryPointOf']>,
  };
}

export type LinksService = ReturnType<typeof createLinksService>;
