/**
 * The Cloud API's media rules (reference §1.2 Media constraints), stricter than Parley's own
 * (docs/protocol.md#media): what each kind of message may carry, and how large. Pure.
 */
import { ACCEPTED_TYPES } from '../media/index.js';
import type { CloudMediaKind } from './message-content.js';

const MiB = 1024 * 1024;

export const CLOUD_MEDIA_MAX_BYTES: Readonly<Record<CloudMediaKind, number>> = {
  image: 5 * MiB,
  audio: 16 * MiB,
  video: 16 * MiB,
  document: 100 * MiB,
  sticker: 500 * 1024,
};
/** A sticker that does not move is at most 100 KB. */
export const STATIC_STICKER_MAX_BYTES = 100 * 1024;
/** The largest upload of any kind. */
export const CLOUD_MEDIA_MAX_UPLOAD_BYTES = CLOUD_MEDIA_MAX_BYTES.document;

const DOCUMENT_TYPES = ACCEPTED_TYPES.filter((a) => a.kinds.includes('document')).map((a) => a.mime);

export const CLOUD_MEDIA_TYPES: Readonly<Record<CloudMediaKind, readonly string[]>> = {
  image: ['image/jpeg', 'image/png'],
  audio: ['audio/aac', 'audio/amr', 'audio/mpeg', 'audio/mp4', 'audio/ogg'],
  video: ['video/mp4', 'video/3gpp'],
  document: DOCUMENT_TYPES,
  sticker: ['image/webp'],
};

/** Declared types that name an accepted type by another name (`audio/opus`, `video/3gp`, …). */
const ALIASES: Record<string, string> = {
  'image/jpg': 'image/jpeg',
  'audio/opus': 'audio/ogg',
  'audio/mp3': 'audio/mpeg',
  'audio/x-m4a': 'audio/mp4',
  'audio/m4a': 'audio/mp4',
  'video/3gp': 'video/3gpp',
};

/** Every type an upload may declare, for the refusal's message. */
export const CLOUD_UPLOAD_TYPES: readonly string[] = [
  ...new Set(Object.values(CLOUD_MEDIA_TYPES).flat()),
].sort();

/** The stored type a declared type names, or undefined when the Cloud API takes no such type. */
export function cloudType(declared: string): string | undefined {
  const mime = declared.split(';')[0]?.trim().toLowerCase() ?? '';
  const named = ALIASES[mime] ?? mime;
  return CLOUD_UPLOAD_TYPES.includes(named) ? named : undefined;
}

/** Which kind of message a stored type goes in (a WebP is a sticker), if any. */
export function cloudKindOf(contentType: string): CloudMediaKind | undefined {
  for (const kind of ['image', 'sticker', 'audio', 'video', 'document'] as const) {
    if (CLOUD_MEDIA_TYPES[kind].includes(contentType)) return kind;
  }
  return undefined;
}

/** Why a medium cannot go in a message of `kind`, or undefined when it can. */
export function cloudMediaProblem(
  kind: CloudMediaKind,
  media: { contentType: string; size: number; animated?: boolean },
): string | undefined {
  if (!CLOUD_MEDIA_TYPES[kind].includes(media.contentType)) {
    return `A ${kind} must be ${CLOUD_MEDIA_TYPES[kind].join(', ')}; this media is ${media.contentType}.`;
  }
  const max =
    kind === 'sticker' && media.animated === false ? STATIC_STICKER_MAX_BYTES : CLOUD_MEDIA_MAX_BYTES[kind];
  if (media.size > max) {
    const what =
      kind === 'sticker' ? (media.animated ? 'an animated sticker' : 'a static sticker') : `a ${kind}`;
    return `The media is ${media.size} bytes; ${what} may be at most ${max} bytes.`;
  }
  return undefined;
}
