/**
 * Media: uploads checked by content, stored once per content hash, downloaded only by accounts
 * that may see a message carrying them (media.policy.ts), view-once downloads counted, and
 * unused uploads expired with their files.
 *
 * Upload, in order: stream to a temp file under the kind's limit (nothing past it is written);
 * sniff the type and reconcile it with the declared type and kind (media.types.ts); for images,
 * decode, measure and make a thumbnail; insert the row; only then put the files in place. The
 * row goes first so that expiry, which deletes rows before files, never deletes a file a new row
 * is about to use (media.store.ts explains the protocol). Any refusal deletes the temp files, so
 * a refused upload leaves nothing on disk or in the database.
 */
import type { Readable } from 'node:stream';
import {
  MEDIA_MAX_BYTES,
  MEDIA_UPLOAD_TTL_MS,
  type MediaKind,
  type MediaView,
  STICKER_MAX_DIMENSION,
} from '@parley/protocol';
import { AppError } from '../../errors.js';
import type { Clock } from '../../platform/clock.js';
import type { Ids } from '../../platform/ids.js';
import type { Logger } from '../../platform/logger.js';
import type { DeviceActor } from '../accounts/index.js';
import { inspectImage } from './media.images.js';
import { mediaAccess } from './media.policy.js';
import { presentMedia } from './media.present.js';
import type { MediaRepo, MediaRow } from './media.repo.js';
import { createTextCheck, sniffFile } from './media.sniff.js';
import { type MediaStore, type ReceivedFile, StoreLimitExceeded } from './media.store.js';
import { ACCEPTED_TYPES, classify, declaredMime, streamingLimit } from './media.types.js';

/**
 * Expiry waits this long past a deadline before deleting. A send checks that its media may be
 * used and commits the reference moments later; were expiry to delete right at the deadline, a
 * send checked just before it could commit a reference to a deleted row. An hour is far longer
 * than any commit takes.
 */
export const MEDIA_EXPIRY_GRACE_MS = 60 * 60 * 1000;

/** Temp files older than this are leftovers of uploads cut off by a crash. */
const TEMP_MAX_AGE_MS = 60 * 60 * 1000;

export interface UploadInput extends FinishOptions {
  content: Readable | AsyncIterable<Buffer>;
}

/** What decides an upload once its bytes are in (the Business Messaging API adds its rules). */
export interface FinishOptions {
  /** The file part's Content-Type, as the client declared it. */
  declaredType: string | undefined;
  kind: MediaKind | undefined;
  /** How long the upload is kept while no message references it; 24 hours by default. */
  ttlMs?: number;
  /**
   * The kind to store, once the type is known (a WebP is a sticker on the Cloud API); must be a
   * kind the type can be. Throw to refuse.
   */
  kindOf?: (contentType: string, kind: MediaKind) => MediaKind;
  /** Last check before anything is stored (size and animation limits of its own); throw to refuse. */
  check?: (upload: { contentType: string; kind: MediaKind; size: number; animated: boolean }) => void;
}

/** Bytes received into a temp file, not yet checked or stored (see `receive`). */
export interface ReceivedUpload {
  file: ReceivedFile;
  isText: boolean;
}

/** A download the caller may stream: the file's metadata and a way to read it. */
export interface MediaDownload {
  contentType: string;
  size: number;
  sha256: string;
  /** True for a view-once download (just counted): it must not be cached or resumed. */
  viewOnce: boolean;
  read(range?: { start: number; end: number }): Readable;
}

export interface MediaServiceDeps {
  /** Whether `viewer` may see `owner`'s profile photo (privacy settings and blocks). */
  canSeePhoto?: (viewer: string, owner: string) => Promise<boolean>;
  repo: MediaRepo;
  store: MediaStore;
  clock: Clock;
  ids: Pick<Ids, 'newId'>;
  logger: Pick<Logger, 'warn'>;
}

function notFound(): AppError {
  return new AppError('MEDIA_NOT_FOUND', 'No media with this id is available to you.');
}

export function createMediaService(deps: MediaServiceDeps) {
  const { repo, store, clock, ids, logger } = deps;

  /** The row, and how this account may download it; not found when it may not. */
  async function access(actor: DeviceActor, mediaId: string) {
    const media = await repo.find(mediaId);
    if (!media) throw notFound();
    const references =
      media.owner_account === actor.accountId
        ? []
        : await repo.visibleReferences(mediaId, actor.accountId, clock.now());
    const rule = mediaAccess(actor.accountId, media, references);
    if (rule.kind === 'none') {
      if (await seesAsPhoto(actor.accountId, mediaId)) return { media, rule: { kind: 'full' } as const };
      throw notFound();
    }
    return { media, rule };
  }

  /** A profile photo is visible to whom its owner's photo privacy allows; a group's to members. */
  async function seesAsPhoto(viewer: string, mediaId: string): Promise<boolean> {
    const { accounts, groups } = await repo.photoOf(mediaId);
    for (const owner of accounts)
      if (deps.canSeePhoto && (await deps.canSeePhoto(viewer, owner))) return true;
    for (const group of groups) if (await repo.isGroupMember(group, viewer)) return true;
    return false;
  }

  /** Size of a stored file; a row whose file is missing answers as not found (and is logged). */
  async function storedSize(media: MediaRow, sha256: string): Promise<number> {
    const size = await store.sizeOf(sha256);
    if (size === undefined) {
      logger.warn({ media_id: media.id, sha256 }, 'media file missing from the store');
      throw notFound();
    }
    return size;
  }

  async function receive(content: UploadInput['content'], limit: number): Promise<ReceivedUpload> {
    const text = createTextCheck();
    try {
      const file = await store.receive(content, limit, (chunk) => text.update(chunk));
      return { file, isText: text.isText() };
    } catch (e: unknown) {
      if (e instanceof StoreLimitExceeded) {
        throw new AppError('MEDIA_TOO_LARGE', `The upload exceeds ${e.limit} bytes.`, {
          max_bytes: e.limit,
        });
      }
      throw e;
    }
  }

  async function finish(
    actor: DeviceActor,
    upload: ReceivedUpload,
    options: FinishOptions,
  ): Promise<MediaRow> {
    const received = upload.file;
    const declared = declaredMime(options.declaredType);
    let thumbnail: ReceivedFile | undefined;
    let row: MediaRow | undefined;
    try {
      if (received.size === 0) throw new AppError('MEDIA_TYPE_UNSUPPORTED', 'The file is empty.');
      const classified = classify({
        detected: await sniffFile(received.tempPath),
        isText: upload.isText,
        declared,
        kind: options.kind,
      });
      const { contentType } = classified;
      let { kind } = classified;
      if (options.kindOf) {
        kind = options.kindOf(contentType, kind);
        if (!ACCEPTED_TYPES.some((a) => a.mime === contentType && a.kinds.includes(kind))) {
          throw new AppError('MEDIA_TYPE_UNSUPPORTED', `A ${kind} cannot be ${contentType}.`, { kind });
        }
      }
      const max = MEDIA_MAX_BYTES[kind];
      if (received.size > max) {
        throw new AppError('MEDIA_TOO_LARGE', `A ${kind} may be at most ${max} bytes.`, {
          kind,
          max_bytes: max,
        });
      }
      let width: number | null = null;
      let height: number | null = null;
      let animated = false;
      if (kind === 'image' || kind === 'sticker') {
        const image = await inspectImage(received.tempPath);
        if (
          kind === 'sticker' &&
          (image.width > STICKER_MAX_DIMENSION || image.height > STICKER_MAX_DIMENSION)
        ) {
          throw new AppError(
            'MEDIA_TOO_LARGE',
            `A sticker is at most ${STICKER_MAX_DIMENSION}×${STICKER_MAX_DIMENSION} pixels.`,
            { kind, max_width: STICKER_MAX_DIMENSION, max_height: STICKER_MAX_DIMENSION },
          );
        }
        ({ width, height, animated } = image);
        thumbnail = await store.stage(image.thumbnail);
      }
      options.check?.({ contentType, kind, size: received.size, animated });
      const now = clock.now();
      row = {
        id: ids.newId('med'),
        owner_account: actor.accountId,
        sha256: received.sha256,
        size: received.size,
        content_type: contentType,
        kind,
        width,
        height,
        thumbnail_sha256: thumbnail?.sha256 ?? null,
        created_at: now,
        expires_at: now + (options.ttlMs ?? MEDIA_UPLOAD_TTL_MS),
      };
      await repo.insert(row);
      await store.place(received);
      if (thumbnail) await store.place(thumbnail);
      return row;
    } catch (e: unknown) {
      await store.discard(received);
      await store.discard(thumbnail);
      if (row) {
        // Placing a file failed (disk full?) after the row went in: take the row back, and
        // any file placed for it that nothing else uses.
        await repo.delete(row.id);
        for (const sha of [row.sha256, row.thumbnail_sha256]) {
          if (sha) await store.evict(sha, () => repo.hashInUse(sha));
        }
      }
      throw e;
    }
  }

  return {
    /**
     * Checks that `mediaId` is an image the account uploaded, as profiles and groups require of
     * a photo. Anything else answers as not found (or as not an image).
     */
    async requireOwnImage(accountId: string, mediaId: string): Promise<void> {
      const media = await repo.find(mediaId);
      if (!media || media.owner_account !== accountId) throw notFound();
      if (media.kind !== 'image') {
        throw new AppError('VALIDATION_FAILED', `A photo must be an image; ${mediaId} is a ${media.kind}.`, {
          issues: [{ path: 'photo', message: 'not an image' }],
        });
      }
    },

    async upload(actor: DeviceActor, input: UploadInput): Promise<MediaView> {
      const limit = streamingLimit(declaredMime(input.declaredType), input.kind);
      return presentMedia(await finish(actor, await receive(input.content, limit), input));
    },

    /**
     * The two halves of `upload`, for an edge that learns the declared type only after the file
     * (a multipart form whose type field follows the file part): `receive` streams the bytes in
     * under `limit`, `finish` checks and stores them, and `discard` drops what will not be.
     */
    receive,
    finish,
    async discard(received: ReceivedUpload): Promise<void> {
      await store.discard(received.file);
    },

    async find(mediaId: string): Promise<MediaRow | undefined> {
      return repo.find(mediaId);
    },

    /**
     * A new media id for `owner` on the content of `mediaId` (one file, two rows), kept `ttlMs`
     * while no message references it: how content one account may use becomes another's to
     * send (a business number sending what another number of the business received). The row
     * goes in before the file is checked, as an upload's does, so expiry cannot take the file
     * from under it; a file already gone answers not found.
     */
    async adopt(mediaId: string, owner: string, ttlMs: number): Promise<MediaRow> {
      const source = await repo.find(mediaId);
      if (!source) throw notFound();
      const now = clock.now();
      const row: MediaRow = {
        ...source,
        id: ids.newId('med'),
        owner_account: owner,
        created_at: now,
        expires_at: now + ttlMs,
      };
      await repo.insert(row);
      if ((await store.sizeOf(row.sha256)) === undefined) {
        await repo.delete(row.id);
        throw notFound();
      }
      return row;
    },

    /** Lets an upload go now: expiry deletes it once no message references it. */
    async release(mediaId: string): Promise<void> {
      await repo.setExpiry(mediaId, clock.now());
    },

    /**
     * Opens a media item (or its thumbnail) for `actor`. A view-once download is counted here,
     * before a byte is sent: the first request wins, later ones answer MEDIA_VIEW_ONCE_CONSUMED.
     * View-once media has no preview for its recipients: the thumbnail is not found before the
     * view and gone after it.
     */
    async open(
      actor: DeviceActor,
      mediaId: string,
      variant: 'content' | 'thumbnail',
    ): Promise<MediaDownload> {
      const { media, rule } = await access(actor, mediaId);
      const sha256 = variant === 'thumbnail' ? media.thumbnail_sha256 : media.sha256;
      let viewOnce = false;
      if (rule.kind === 'view-once') {
        const messageIds = rule.references.map((r) => r.message_id);
        const consumed = (await repo.viewsUsed(media.id, actor.accountId, messageIds)) === messageIds.length;
        if (consumed) {
          throw new AppError('MEDIA_VIEW_ONCE_CONSUMED', 'This view-once media was already opened.');
        }
        if (variant === 'thumbnail' || !sha256) throw notFound();
        await storedSize(media, sha256);
        const now = clock.now();
        for (const ref of rule.references) {
          viewOnce = await repo.recordView({
            message_id: ref.message_id,
            media_id: media.id,
            account_id: actor.accountId,
            viewed_at: now,
            expires_at: ref.expires_at,
          });
          if (viewOnce) break;
        }
        // Another download of this account got here first.
        if (!viewOnce)
          throw new AppError('MEDIA_VIEW_ONCE_CONSUMED', 'This view-once media was already opened.');
      }
      if (!sha256) throw notFound();
      const size = await storedSize(media, sha256);
      return {
        contentType: variant === 'thumbnail' ? 'image/jpeg' : media.content_type,
        size,
        sha256,
        viewOnce,
        read: (range) => store.read(sha256, range),
      };
    },

    /**
     * Housekeeping for the worker: (1) drops references of expired messages, (2) deletes uploads
     * past their window that no message references, (3) deletes the files no remaining row uses,
     * and forgets view-once records of expired messages and abandoned temp files. Rows go before
     * files (see media.store.ts for why that order is safe against concurrent uploads).
     */
    async expire() {
      const now = clock.now();
      const before = now - MEDIA_EXPIRY_GRACE_MS;
      const references = await repo.deleteExpiredReferences(before);
      const views = await repo.deleteExpiredViews(now);
      const deleted = await repo.deleteExpiredUploads(before);
      const hashes = new Set(
        deleted.flatMap((r) => (r.thumbnail_sha256 ? [r.sha256, r.thumbnail_sha256] : [r.sha256])),
      );
      let files = 0;
      for (const sha of hashes) {
        if (await store.evict(sha, () => repo.hashInUse(sha))) files++;
      }
      const temps = await store.sweepTemp(now - TEMP_MAX_AGE_MS);
      return { references, views, uploads: deleted.length, files, temps };
    },
  };
}

export type MediaService = ReturnType<typeof createMediaService>;
