/**
 * Media limits and the upload view, shared by the server and the SDK (which may check a file's
 * size before sending it). The server detects each upload's real type from its content; these
 * are the types it accepts per kind.
 */

export const MEDIA_KINDS = ['image', 'video', 'audio', 'document', 'sticker'] as const;
export type MediaKind = (typeof MEDIA_KINDS)[number];

const MiB = 1024 * 1024;

/** Largest upload of each kind, in bytes. */
export const MEDIA_MAX_BYTES: Readonly<Record<MediaKind, number>> = {
  image: 16 * MiB,
  video: 64 * MiB,
  audio: 16 * MiB,
  document: 100 * MiB,
  sticker: 512 * 1024,
};

/** Largest upload of any kind: the server stops reading a request's file past this. */
export const MEDIA_MAX_UPLOAD_BYTES = Math.max(...Object.values(MEDIA_MAX_BYTES));

/** Stickers are WebP images of at most this many pixels on each side. */
export const STICKER_MAX_DIMENSION = 512;

/** Thumbnails are JPEG images fitting in this many pixels on each side. */
export const THUMBNAIL_MAX_DIMENSION = 320;

/** How long an upload no message references is kept, in milliseconds. */
export const MEDIA_UPLOAD_TTL_MS = 24 * 60 * 60 * 1000;

/** An upload, as `POST /api/v1/media` answers it. */
export interface MediaView {
  /** `med_…`: what a message's `media` field and `GET /api/v1/media/{id}` take. */
  id: string;
  kind: MediaKind;
  /** Detected from the content (the declared type only had to agree with it). */
  content_type: string;
  size: number;
  /** Hex SHA-256 of the content; also the download's ETag. */
  sha256: string;
  /** Pixels, for images and stickers; null otherwise. */
  width: number | null;
  height: number | null;
  has_thumbnail: boolean;
  /** ISO time after which the upload is deleted unless a message references it. */
  expires_at: string | null;
}
