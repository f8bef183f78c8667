/**
 * Media on the Business Messaging API, on top of Parley's media store (one file per content,
 * the download rule "may see a message that carries it", expiry of unused uploads).
 *
 * A business number is a hosted device of its own account, and that account is the uploader
 * and viewer on the business's behalf: `POST /{phone-number-id}/media` uploads as the number's
 * account, so the number may send it; media a person sends to the number is the number's to
 * see because it received the message. The Cloud API names media by numeric ids that belong to
 * the business (graph_media): uploads keep theirs 30 days, received media 7 days, and an id is
 * visible to no other business. Any number of the business may send any of its media: when the
 * sending number's account has no right to the content yet (another number uploaded or
 * received it), it gets its own media row on the same file (`adopt`).
 *
 * The download URL `GET /{v}/{media-id}` hands out is signed (HMAC of the id and an expiry
 * 5 minutes ahead) and still wants the same business's bearer token, as Meta's does.
 */
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import type { Readable } from 'node:stream';
import { type AppError, isAppError } from '../../errors.js';
import type { Clock } from '../../platform/clock.js';
import type { Executor } from '../../platform/db.js';
import { FetchError, type HttpFetcher } from '../../platform/http-fetch.js';
import type { Ids } from '../../platform/ids.js';
import { type BusinessRepo, hostedActor } from '../business/index.js';
import type { MediaDownload, MediaService, ReceivedUpload } from '../media/index.js';
import { GraphError, graphErrors } from './graph-error.js';
import {
  CLOUD_MEDIA_MAX_BYTES,
  CLOUD_MEDIA_MAX_UPLOAD_BYTES,
  CLOUD_UPLOAD_TYPES,
  cloudKindOf,
  cloudMediaProblem,
  cloudType,
} from './graph-media.policy.js';
import type { GraphMediaRepo } from './graph-media.repo.js';
import type { MediaRef, ResolvedMedia } from './message-content.js';
import type { InboundMedia } from './webhook-message.js';

const DAY = 24 * 60 * 60 * 1000;
export const UPLOAD_ID_TTL_MS = 30 * DAY;
export const RECEIVED_ID_TTL_MS = 7 * DAY;
export const MEDIA_URL_TTL_MS = 5 * 60 * 1000;
/** Links are fetched within this time, following at most this many redirects. */
export const LINK_TIMEOUT_MS = 20_000;
export const LINK_MAX_REDIRECTS = 5;
/** The path of download URLs (Meta's are under lookaside.fbsbx.com/whatsapp_business/attachments/). */
export const MEDIA_URL_PATH = '/whatsapp_business/attachments/';

export interface GraphMediaServiceDeps {
  repo: GraphMediaRepo;
  media: Pick<MediaService, 'receive' | 'finish' | 'discard' | 'find' | 'adopt' | 'release' | 'open'>;
  businessRepo: Pick<BusinessRepo, 'numberById'>;
  fetcher: HttpFetcher;
  clock: Clock;
  ids: Pick<Ids, 'newCode'>;
  /** Secret the download URLs are signed with (a key of its own is derived from it). */
  secret: string;
  /** Base of the URLs handed out (PARLEY_PUBLIC_URL, else where the server listens). */
  publicUrl: () => string;
}

export interface GraphMediaInfo {
  messaging_product: 'whatsapp';
  url: string;
  mime_type: string;
  sha256: string;
  file_size: string;
  id: string;
}

/** The fields of an upload form besides the file. */
export interface UploadFields {
  messaging_product?: string | undefined;
  type?: string | undefined;
}

const isNumericId = (id: string) => /^\d{1,20}$/.test(id);

/** What the media module refuses, as the Cloud API says it. */
function mediaError(e: unknown): unknown {
  if (!isAppError(e)) return e;
  const error = e as AppError;
  if (error.code.startsWith('MEDIA_')) return graphErrors.mediaUpload(error.message);
  return e;
}

/** A download URL that is not (or no longer) good, or not this business's: as Graph answers. */
const urlNotFound = () =>
  new GraphError(100, 'Unsupported get request. The media URL does not exist or has expired', 404, {
    subcode: 33,
  });

export function createGraphMediaService(deps: GraphMediaServiceDeps) {
  const { repo, media, businessRepo, clock } = deps;
  const urlKey = Buffer.from(hkdfSync('sha256', deps.secret, '', 'parley graph media urls', 32));

  function sign(graphId: string, expiresSec: number): string {
    return createHmac('sha256', urlKey).update(`${graphId}.${expiresSec}`).digest('base64url');
  }

  async function numberOf(businessId: string, phoneNumberId: string) {
    const number = isNumericId(phoneNumberId) ? await businessRepo.numberById(phoneNumberId) : undefined;
    if (!number || number.business_id !== businessId) throw graphErrors.unknownObject(phoneNumberId);
    return number;
  }

  /** The business's live id, or undefined (unknown, expired, another business's, another number's). */
  async function own(businessId: string, graphId: string, phoneNumberId?: string) {
    if (!isNumericId(graphId)) return undefined;
    const row = await repo.find(graphId);
    if (!row || row.business_id !== businessId || row.expires_at <= clock.now()) return undefined;
    if (phoneNumberId !== undefined && row.phone_number_id !== phoneNumberId) return undefined;
    return row;
  }

  function newGraphId(): string {
    return `1${deps.ids.newCode(15)}`;
  }

  /** Sends may use a medium of `kind` only as the Cloud API allows; a refusal is 131053. */
  function checkFor(kind: MediaRef['kind']) {
    return (m: { contentType: string; size: number; animated?: boolean }) => {
      const problem = cloudMediaProblem(kind, m);
      if (problem) throw graphErrors.mediaUpload(problem);
    };
  }

  async function resolveLink(
    number: Awaited<ReturnType<typeof numberOf>>,
    ref: MediaRef & { source: { link: string } },
  ): Promise<ResolvedMedia> {
    const link = ref.source.link;
    const limit = CLOUD_MEDIA_MAX_BYTES[ref.kind];
    let body: Readable;
    try {
      const response = await deps.fetcher.get(link, {
        timeoutMs: LINK_TIMEOUT_MS,
        maxRedirects: LINK_MAX_REDIRECTS,
      });
      if (response.status < 200 || response.status > 299) {
        response.body.resume();
        throw graphErrors.mediaUpload(`Downloading ${link} answered HTTP ${response.status}.`);
      }
      // A web page is not a file, whatever its bytes sniff as (a login or error page, most often).
      if (response.contentType?.split(';')[0]?.trim().toLowerCase() === 'text/html') {
        response.body.destroy();
        throw graphErrors.mediaUpload(`${link} is a web page (text/html), not a ${ref.kind}.`);
      }
      if (response.length !== undefined && response.length > limit) {
        response.body.destroy();
        throw graphErrors.mediaUpload(
          `${link} is ${response.length} bytes; a ${ref.kind} may be at most ${limit}.`,
        );
      }
      body = response.body;
    } catch (e: unknown) {
      if (e instanceof GraphError) throw e;
      if (e instanceof FetchError) throw graphErrors.mediaUpload(`Downloading ${link} failed: ${e.message}.`);
      throw e;
    }
    let received: ReceivedUpload;
    try {
      received = await media.receive(body, limit);
    } catch (e: unknown) {
      body.destroy();
      if (e instanceof FetchError) throw graphErrors.mediaUpload(`Downloading ${link} failed: ${e.message}.`);
      throw mediaError(e);
    }
    try {
      // The content decides what it is: servers often label files wrongly (or not at all).
      const row = await media.finish(hostedActor(number), received, {
        declaredType: undefined,
        kind: ref.kind,
        check: checkFor(ref.kind),
      });
      return { mediaId: row.id, mimeType: row.content_type, sha256: row.sha256, size: row.size };
    } catch (e: unknown) {
      const mapped = mediaError(e);
      if (mapped instanceof GraphError) {
        throw graphErrors.mediaUpload(`${link}: ${mapped.extra.details ?? mapped.message}`);
      }
      throw mapped;
    }
  }

  async function resolveId(
    businessId: string,
    number: Awaited<ReturnType<typeof numberOf>>,
    ref: MediaRef & { source: { id: string } },
  ): Promise<ResolvedMedia> {
    const id = ref.source.id;
    const invalid = () =>
      graphErrors.invalidParameter(
        `Param ${ref.kind}['id'] ${id} is not a valid media id of this WhatsApp Business Account.`,
      );
    const row = await own(businessId, id);
    if (!row) throw invalid();
    const found = await media.find(row.media_id);
    if (!found) throw invalid();
    const problem = cloudMediaProblem(ref.kind, { contentType: found.content_type, size: found.size });
    if (problem) throw graphErrors.mediaUpload(`Media ${id}: ${problem}`);
    let mediaId = found.id;
    // The sending number's account may use its own uploads and what it received; anything
    // else of the business gets a row of its own on the same file.
    const usable =
      found.owner_account === number.account_id ||
      (row.origin === 'received' && row.phone_number_id === number.phone_number_id);
    if (!usable) {
      try {
        mediaId = (await media.adopt(found.id, number.account_id, UPLOAD_ID_TTL_MS)).id;
      } catch (e: unknown) {
        if (isAppError(e)) throw invalid();
        throw e;
      }
    }
    return { mediaId, mimeType: found.content_type, sha256: found.sha256, size: found.size };
  }

  async function graphMediaIdFor(
    businessId: string,
    phoneNumberId: string,
    parleyMediaId: string,
    tx?: Executor,
  ): Promise<string> {
    const now = clock.now();
    const row = await repo.insertOrGet(
      {
        graph_id: newGraphId(),
        business_id: businessId,
        media_id: parleyMediaId,
        phone_number_id: phoneNumberId,
        origin: 'received',
        created_at: now,
        expires_at: now + RECEIVED_ID_TTL_MS,
      },
      tx,
    );
    if (row.expires_at < now + RECEIVED_ID_TTL_MS)
      await repo.extend(row.graph_id, now + RECEIVED_ID_TTL_MS, tx);
    return row.graph_id;
  }

  return {
    /** The number an upload goes to; checked before a byte of the file is read. */
    async uploadTarget(businessId: string, phoneNumberId: string) {
      return numberOf(businessId, phoneNumberId);
    },

    /**
     * Streams an upload's file in, under the limit of its declared type when it has one, else
     * under the largest (a document's); `finishUpload` checks it once every field is read.
     */
    async receiveUpload(content: Readable, declaredType: string | undefined): Promise<ReceivedUpload> {
      const named = declaredType ? cloudType(declaredType) : undefined;
      const kind = named ? cloudKindOf(named) : undefined;
      try {
        return await media.receive(
          content,
          kind ? CLOUD_MEDIA_MAX_BYTES[kind] : CLOUD_MEDIA_MAX_UPLOAD_BYTES,
        );
      } catch (e: unknown) {
        throw mediaError(e);
      }
    },

    discardUpload: (received: ReceivedUpload) => media.discard(received),

    /**
     * POST /{v}/{phone-number-id}/media, once the form is read: the file's type comes from its
     * content and must agree with the declared `type` (or the part's own type); the Cloud API's
     * types and limits apply. Answers the new media id.
     */
    async finishUpload(
      number: Awaited<ReturnType<typeof numberOf>>,
      received: ReceivedUpload,
      fields: UploadFields,
      partType: string | undefined,
    ): Promise<{ id: string }> {
      try {
        if (fields.messaging_product === undefined)
          throw graphErrors.missingParameter('Parameter messaging_product is required.');
        if (fields.messaging_product !== 'whatsapp') {
          throw graphErrors.badValue('Parameter messaging_product must be "whatsapp".');
        }
        let declared: string | undefined;
        if (fields.type !== undefined) {
          declared = cloudType(fields.type);
          if (!declared) {
            throw graphErrors.invalidParameter(
              `Param type must be one of the following types: ${CLOUD_UPLOAD_TYPES.join(', ')}; got ${fields.type}.`,
            );
          }
        } else if (partType !== undefined) {
          const named = partType.split(';')[0]?.trim().toLowerCase();
          declared = named === 'application/octet-stream' ? undefined : (cloudType(partType) ?? named);
        }
        const row = await media.finish(hostedActor(number), received, {
          declaredType: declared,
          kind: undefined,
          ttlMs: UPLOAD_ID_TTL_MS,
          kindOf: (contentType) => {
            const kind = cloudKindOf(contentType);
            if (!kind) {
              throw graphErrors.invalidParameter(
                `The file is ${contentType}; the file must be one of the following types: ${CLOUD_UPLOAD_TYPES.join(', ')}.`,
              );
            }
            return kind;
          },
          check: (m) => checkFor(m.kind as MediaRef['kind'])(m),
        });
        const now = clock.now();
        const mapped = await repo.insertOrGet({
          graph_id: newGraphId(),
          business_id: number.business_id,
          media_id: row.id,
          phone_number_id: number.phone_number_id,
          origin: 'upload',
          created_at: now,
          expires_at: now + UPLOAD_ID_TTL_MS,
        });
        return { id: mapped.graph_id };
      } catch (e: unknown) {
        await media.discard(received);
        throw mediaError(e);
      }
    },

    /** GET /{v}/{media-id}: undefined when the id is not this business's (another kind may own it). */
    async info(
      businessId: string,
      graphId: string,
      phoneNumberId?: string,
    ): Promise<GraphMediaInfo | undefined> {
      const row = await own(businessId, graphId, phoneNumberId);
      if (!row) return undefined;
      const found = await media.find(row.media_id);
      if (!found) return undefined;
      const expires = Math.floor((clock.now() + MEDIA_URL_TTL_MS) / 1000);
      const query = new URLSearchParams({ mid: graphId, ext: String(expires), hash: sign(graphId, expires) });
      return {
        messaging_product: 'whatsapp',
        url: `${deps.publicUrl()}${MEDIA_URL_PATH}?${query.toString()}`,
        mime_type: found.content_type,
        sha256: found.sha256,
        file_size: String(found.size),
        id: graphId,
      };
    },

    /** DELETE /{v}/{media-id}: the id is gone at once; an upload's content once no message uses it. */
    async delete(
      businessId: string,
      graphId: string,
      phoneNumberId?: string,
    ): Promise<{ success: true } | undefined> {
      const row = await own(businessId, graphId, phoneNumberId);
      if (!row) return undefined;
      await repo.delete(graphId);
      if (row.origin === 'upload') await media.release(row.media_id);
      return { success: true };
    },

    /** GET <download url> with the business's token (already authenticated): the bytes. */
    async download(
      businessId: string,
      query: { mid?: unknown; ext?: unknown; hash?: unknown },
    ): Promise<MediaDownload> {
      const { mid, ext, hash } = query;
      if (typeof mid !== 'string' || typeof ext !== 'string' || typeof hash !== 'string') throw urlNotFound();
      const expires = Number(ext);
      const expected = Buffer.from(sign(mid, expires));
      const given = Buffer.from(hash);
      if (
        !Number.isSafeInteger(expires) ||
        expected.length !== given.length ||
        !timingSafeEqual(expected, given)
      ) {
        throw urlNotFound();
      }
      if (expires * 1000 < clock.now()) throw urlNotFound();
      const row = await own(businessId, mid);
      if (!row) throw urlNotFound();
      const number = await businessRepo.numberById(row.phone_number_id);
      if (!number) throw urlNotFound();
      try {
        return await media.open(hostedActor(number), row.media_id, 'content');
      } catch (e: unknown) {
        if (isAppError(e)) throw urlNotFound();
        throw e;
      }
    },

    /**
     * The Parley media a send names, ready for bindMedia: ids must be this business's media,
     * links are fetched and stored (docs/cloud-api.md#media). In the order of `refs`.
     */
    async resolveMedia(
      businessId: string,
      phoneNumberId: string,
      refs: readonly MediaRef[],
    ): Promise<ResolvedMedia[]> {
      if (refs.length === 0) return [];
      const number = await numberOf(businessId, phoneNumberId);
      const out: ResolvedMedia[] = [];
      for (const ref of refs) {
        out.push(
          'link' in ref.source
            ? await resolveLink(number, { ...ref, source: ref.source })
            : await resolveId(businessId, number, { ...ref, source: ref.source }),
        );
      }
      return out;
    },

    /**
     * The Graph media id of a media a person sent to one of the business's numbers, for the
     * inbound webhook (made on first use, kept 7 days from the latest use).
     */
    graphMediaIdFor,

    /**
     * The `media` of toWebhookMessage's input for a person's message: each Parley media with
     * its Graph id (graphMediaIdFor), type and hash. Media gone from the store are left out.
     */
    async inboundMedia(
      businessId: string,
      phoneNumberId: string,
      parleyMediaIds: readonly string[],
      tx?: Executor,
    ): Promise<InboundMedia[]> {
      const out: InboundMedia[] = [];
      for (const mediaId of parleyMediaIds) {
        const found = await media.find(mediaId);
        if (!found) continue;
        out.push({
          graphId: await graphMediaIdFor(businessId, phoneNumberId, mediaId, tx),
          mime_type: found.content_type,
          sha256: found.sha256,
        });
      }
      return out;
    },

    /** Worker housekeeping: forgets expired ids (their content follows the media module's expiry). */
    async expire(): Promise<{ ids: number }> {
      return { ids: await repo.deleteExpired(clock.now()) };
    },
  };
}

export type GraphMediaService = ReturnType<typeof createGraphMediaService>;
