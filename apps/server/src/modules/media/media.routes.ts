/**
 * REST edge of media: multipart upload, download and thumbnail. Translates multipart and Range
 * headers to service calls; the bytes stream through, never buffered whole.
 */
import fastifyMultipart from '@fastify/multipart';
import { MEDIA_KINDS, MEDIA_MAX_UPLOAD_BYTES, type MediaKind } from '@parley/protocol';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError, isAppError } from '../../errors.js';
import { errorResponse } from '../../http/schemas.js';
import type { DeviceActor } from '../accounts/index.js';
import type { MediaDownload, MediaService } from './media.service.js';

/** Room for the multipart boundaries, part headers and the `kind` field around the file. */
const MULTIPART_OVERHEAD = 64 * 1024;

const mediaView = z.object({
  id: z.string(),
  kind: z.enum(MEDIA_KINDS),
  content_type: z.string(),
  size: z.number(),
  sha256: z.string(),
  width: z.number().nullable(),
  height: z.number().nullable(),
  has_thumbnail: z.boolean(),
  expires_at: z.string().nullable(),
});

const params = z.object({ id: z.string().min(5).max(64) });

// Errors of the multipart parser that are the client's fault.
const MULTIPART_ERRORS: Record<string, 'MEDIA_TOO_LARGE' | 'VALIDATION_FAILED'> = {
  FST_REQ_FILE_TOO_LARGE: 'MEDIA_TOO_LARGE',
  FST_INVALID_MULTIPART_CONTENT_TYPE: 'VALIDATION_FAILED',
  FST_PARTS_LIMIT: 'VALIDATION_FAILED',
  FST_FILES_LIMIT: 'VALIDATION_FAILED',
  FST_FIELDS_LIMIT: 'VALIDATION_FAILED',
  FST_PROTO_VIOLATION: 'VALIDATION_FAILED',
  FST_MP_PREMATURE_CLOSE: 'VALIDATION_FAILED',
};

function translateMultipartError(e: unknown): unknown {
  if (isAppError(e)) return e;
  const code = (e as { code?: unknown }).code;
  const mapped = typeof code === 'string' ? MULTIPART_ERRORS[code] : undefined;
  if (!mapped) return e;
  return mapped === 'MEDIA_TOO_LARGE'
    ? new AppError(
        'MEDIA_TOO_LARGE',
        `An upload is at most ${MEDIA_MAX_UPLOAD_BYTES} bytes.`,
        {
          max_bytes: MEDIA_MAX_UPLOAD_BYTES,
        },
        { cause: e },
      )
    : new AppError('VALIDATION_FAILED', `Not a valid media upload: ${(e as Error).message}.`, undefined, {
        cause: e,
      });
}

/**
 * One `bytes=start-end` range (the form players and download managers send); undefined for no
 * Range or one this server does not serve in part (several ranges, other units): the whole
 * file is sent, as HTTP allows. Throws when the range starts past the end.
 */
export function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | undefined {
  const match = header ? /^bytes=(\d*)-(\d*)$/.exec(header.trim()) : null;
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (match[1] === '') {
    // A suffix: the last N bytes.
    start = Math.max(0, size - Number(match[2]));
    end = size - 1;
  } else {
    start = Number(match[1]);
    end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  }
  if (start > end || start >= size) {
    throw new AppError('MEDIA_RANGE_NOT_SATISFIABLE', `The media has ${size} bytes.`, { size });
  }
  return { start, end };
}

/**
 * After a refusal mid-upload (too large, wrong type) the client may still be sending. The
 * answer goes out at once; the rest of the body is read and dropped, never written anywhere, as
 * Fastify does for any body over its limit, so the client reads the answer instead of a reset
 * connection.
 */
function discardRest(request: FastifyRequest): void {
  if (request.raw.complete) return;
  request.raw.unpipe();
  request.raw.resume();
}

function send(request: FastifyRequest, reply: FastifyReply, download: MediaDownload) {
  reply
    .header('content-type', download.contentType)
    .header('etag', `"${download.sha256}"`)
    // Only for this account's eyes; a view-once download must not be kept at all.
    .header('cache-control', download.viewOnce ? 'private, no-store' : 'private, max-age=86400')
    // The bytes are the uploader's: never let a browser run or re-interpret them.
    .header('x-content-type-options', 'nosniff')
    .header('content-security-policy', "sandbox; default-src 'none'")
    .header('content-disposition', 'attachment');
  if (download.viewOnce) {
    // Counted already: the whole file in one answer, no resuming or revalidating.
    return reply.header('content-length', download.size).send(download.read());
  }
  reply.header('accept-ranges', 'bytes');
  if (request.headers['if-none-match'] === `"${download.sha256}"`) return reply.code(304).send();
  const range = parseRange(request.headers.range, download.size);
  if (!range) return reply.header('content-length', download.size).send(download.read());
  return reply
    .code(206)
    .header('content-range', `bytes ${range.start}-${range.end}/${download.size}`)
    .header('content-length', range.end - range.start + 1)
    .send(download.read(range));
}

export async function mediaRoutes(
  app: FastifyInstance,
  deps: { media: MediaService; authenticate(request: FastifyRequest): Promise<DeviceActor> },
): Promise<void> {
  await app.register(fastifyMultipart, {
    limits: {
      fileSize: MEDIA_MAX_UPLOAD_BYTES,
      files: 1,
      fields: 1,
      fieldSize: 64,
      parts: 2,
    },
    throwFileSizeLimit: true,
  });
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.post(
    '/api/v1/media',
    {
      schema: {
        tags: ['media'],
        security: [{ bearer: [] }],
        summary: 'Upload an image, video, audio, document or sticker',
        description:
          'multipart/form-data with an optional `kind` field (image, video, audio, document, sticker), ' +
          'then a `file` part whose Content-Type must agree with its content. Limits and accepted types: ' +
          'docs/protocol.md#media. The upload is deleted after 24 hours unless a message references it.',
        consumes: ['multipart/form-data'],
        response: {
          201: mediaView,
          400: errorResponse,
          401: errorResponse,
          413: errorResponse,
          415: errorResponse,
        },
      },
    },
    async (request, reply) => {
      const actor = await deps.authenticate(request);
      const length = Number(request.headers['content-length']);
      if (length > MEDIA_MAX_UPLOAD_BYTES + MULTIPART_OVERHEAD) {
        discardRest(request);
        throw new AppError('MEDIA_TOO_LARGE', `An upload is at most ${MEDIA_MAX_UPLOAD_BYTES} bytes.`, {
          max_bytes: MEDIA_MAX_UPLOAD_BYTES,
        });
      }
      try {
        const part = await request.file();
        if (part?.fieldname !== 'file') {
          throw new AppError('VALIDATION_FAILED', 'Send the file in a part named `file`.');
        }
        const field = part.fields.kind;
        const value = field && 'value' in field ? field.value : undefined;
        if (value !== undefined && !MEDIA_KINDS.includes(value as MediaKind)) {
          throw new AppError('VALIDATION_FAILED', `kind must be one of ${MEDIA_KINDS.join(', ')}.`);
        }
        const view = await deps.media.upload(actor, {
          content: part.file,
          declaredType: part.mimetype,
          kind: value as MediaKind | undefined,
        });
        return reply.code(201).send(view);
      } catch (e: unknown) {
        discardRest(request);
        throw translateMultipartError(e);
      }
    },
  );

  for (const [path, variant] of [
    ['/api/v1/media/:id', 'content'],
    ['/api/v1/media/:id/thumbnail', 'thumbnail'],
  ] as const) {
    api.get(
      path,
      {
        // A HEAD would count as a view-once download: not offered.
        exposeHeadRoute: false,
        schema: {
          tags: ['media'],
          security: [{ bearer: [] }],
          summary:
            variant === 'content'
              ? 'Download media (Range supported) you uploaded or that a message you can see carries'
              : 'Download the JPEG thumbnail of an image or sticker',
          params,
          response: {
            401: errorResponse,
            404: errorResponse,
            410: errorResponse,
            416: errorResponse,
          },
        },
      },
      async (request, reply) => {
        const download = await deps.media.open(await deps.authenticate(request), request.params.id, variant);
        return send(request, reply, download);
      },
    );
  }
}
