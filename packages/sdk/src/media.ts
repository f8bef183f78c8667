/**
 * Media over REST: upload (multipart), download and thumbnail as bytes. Uses only fetch,
 * FormData, Blob and Uint8Array, so the same code runs in browsers and in Node.
 */
import { MEDIA_MAX_BYTES, MEDIA_MAX_UPLOAD_BYTES, type MediaKind, type MediaView } from '@parley/protocol';
import { ParleyError } from './errors.js';
import type { Http } from './http.js';

export interface UploadMediaOptions {
  /** The file's type, e.g. `image/jpeg`; the server checks it against the content. */
  contentType: string;
  /** Sent as the part's file name; the server does not keep it (put it in the message). */
  fileName?: string;
  /** Defaults to the kind the content's type implies; `sticker` must be said. */
  kind?: MediaKind;
}

export interface DownloadedMedia {
  bytes: Uint8Array;
  contentType: string;
}

export function createMediaApi(http: Pick<Http, 'raw'>) {
  const path = (id: string, rest = '') => `/media/${encodeURIComponent(id)}${rest}`;

  async function bytesOf(method: 'GET', at: string): Promise<DownloadedMedia> {
    const response = await http.raw(method, at);
    try {
      return {
        bytes: new Uint8Array(await response.arrayBuffer()),
        contentType: response.headers.get('content-type') ?? 'application/octet-stream',
      };
    } catch (cause: unknown) {
      throw new ParleyError('NETWORK_ERROR', `${method} ${at} failed while reading the media`, { cause });
    }
  }

  return {
    /**
     * Uploads a file; answers its media view, whose `id` a message's `media` option takes. An
     * upload no message references is deleted after 24 hours. A file over its kind's limit is
     * refused here, before a byte is sent.
     */
    async upload(data: Uint8Array | Blob, options: UploadMediaOptions): Promise<MediaView> {
      const size = data instanceof Blob ? data.size : data.byteLength;
      const max = options.kind ? MEDIA_MAX_BYTES[options.kind] : MEDIA_MAX_UPLOAD_BYTES;
      if (size > max) {
        throw new ParleyError('MEDIA_TOO_LARGE', `The file has ${size} bytes; at most ${max} are allowed.`, {
          details: { max_bytes: max },
        });
      }
      const form = new FormData();
      // Before the file: the server reads the fields that precede it.
      if (options.kind) form.append('kind', options.kind);
      // A Uint8Array over a SharedArrayBuffer is copied by Blob like any other.
      const blob = new Blob([data as Uint8Array<ArrayBuffer> | Blob], { type: options.contentType });
      form.append('file', blob, options.fileName ?? 'upload');
      const response = await http.raw('POST', '/media', form);
      try {
        return (await response.json()) as MediaView;
      } catch (cause: unknown) {
        throw new ParleyError('PROTOCOL_ERROR', 'POST /media answered with invalid JSON', {
          status: response.status,
          cause,
        });
      }
    },
    /** The media's bytes, for the uploader or an account that can see a message carrying it. */
    download: (mediaId: string) => bytesOf('GET', path(mediaId)),
    /** The JPEG thumbnail (at most 320 px a side) of an image or sticker. */
    thumbnail: (mediaId: string) => bytesOf('GET', path(mediaId, '/thumbnail')),
  };
}

export type MediaApi = ReturnType<typeof createMediaApi>;
