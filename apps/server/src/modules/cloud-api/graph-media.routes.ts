/**
 * The Graph edge of media: `POST /{v}/{phone-number-id}/media` (multipart), the media ids at
 * `/{v}/{media-id}` (GET, DELETE) and the download URL those hand out. Errors are GraphErrors,
 * answered by the Business Messaging API's error handler.
 */
import fastifyMultipart from '@fastify/multipart';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ReceivedUpload } from '../media/index.js';
import { GraphError, graphErrors } from './graph-error.js';
import { CLOUD_MEDIA_MAX_UPLOAD_BYTES } from './graph-media.policy.js';
import { type GraphMediaService, MEDIA_URL_PATH, type UploadFields } from './graph-media.service.js';
import { bearer, type GraphObjects, type GraphRoutes } from './graph-routes.js';

/** Room for the boundaries, part headers and the small fields around the file. */
const MULTIPART_OVERHEAD = 64 * 1024;

/** The rest of a refused upload is read and dropped, so the client reads the answer. */
function discardRest(request: FastifyRequest): void {
  if (request.raw.complete) return;
  request.raw.unpipe();
  request.raw.resume();
}

function phoneNumberQuery(request: FastifyRequest): string | undefined {
  const value = (request.query as Record<string, unknown> | undefined)?.phone_number_id;
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Errors of the multipart parser are the client's: a malformed or oversized form. */
function formError(e: unknown): unknown {
  if (e instanceof GraphError) return e;
  const code = (e as { code?: unknown }).code;
  if (code === 'FST_REQ_FILE_TOO_LARGE') {
    return graphErrors.mediaUpload(`The file is larger than ${CLOUD_MEDIA_MAX_UPLOAD_BYTES} bytes.`);
  }
  if (typeof code === 'string' && (code.startsWith('FST_') || code === 'ERR_STREAM_PREMATURE_CLOSE')) {
    return graphErrors.invalidParameter(`The upload is not a valid multipart form: ${(e as Error).message}.`);
  }
  return e;
}

export function graphMediaRoutes(deps: {
  graphMedia: GraphMediaService;
  /** The business behind a bearer token (the download URL has no version segment). */
  authenticate(token: string | undefined): Promise<string>;
}): GraphRoutes {
  const { graphMedia } = deps;
  return async (app, ctx) => {
    await app.register(async (child) => {
      await child.register(fastifyMultipart, {
        limits: { fileSize: CLOUD_MEDIA_MAX_UPLOAD_BYTES, files: 1, fields: 4, fieldSize: 256, parts: 5 },
        throwFileSizeLimit: true,
      });
      child.post(
        '/:version/:phone_number_id/media',
        {
          ...ctx.schema('Upload media (multipart: file, type, messaging_product)'),
          // The body is streamed by the multipart parser, never buffered: Fastify's JSON body
          // limit does not apply; the file's own limits do (100 MB for a document).
        },
        async (request: FastifyRequest, reply: FastifyReply) => {
          const caller = await ctx.caller(request);
          if (!caller) return reply.callNotFound();
          const { phone_number_id } = request.params as { phone_number_id: string };
          const number = await graphMedia
            .uploadTarget(caller.businessId, phone_number_id)
            .catch((e: unknown) => {
              discardRest(request);
              throw e;
            });
          if (Number(request.headers['content-length']) > CLOUD_MEDIA_MAX_UPLOAD_BYTES + MULTIPART_OVERHEAD) {
            discardRest(request);
            throw graphErrors.mediaUpload(`The file is larger than ${CLOUD_MEDIA_MAX_UPLOAD_BYTES} bytes.`);
          }
          if (!request.isMultipart()) {
            throw graphErrors.invalidParameter(
              'Upload the file as multipart/form-data in a part named file.',
            );
          }
          const fields: UploadFields = {};
          let received: ReceivedUpload | undefined;
          let partType: string | undefined;
          try {
            for await (const part of request.parts()) {
              if (part.type === 'file') {
                if (part.fieldname !== 'file' || received) {
                  part.file.resume();
                  throw graphErrors.invalidParameter(
                    `Unexpected file part "${part.fieldname}"; send one part named file.`,
                  );
                }
                partType = part.mimetype;
                received = await graphMedia.receiveUpload(part.file, part.mimetype);
              } else if (part.fieldname === 'messaging_product' || part.fieldname === 'type') {
                fields[part.fieldname] = String(part.value);
              }
            }
            if (!received) throw graphErrors.missingParameter('Parameter file is required.');
          } catch (e: unknown) {
            if (received) await graphMedia.discardUpload(received);
            discardRest(request);
            throw formError(e);
          }
          return graphMedia.finishUpload(number, received, fields, partType);
        },
      );
    });

    // The URL `GET /{v}/{media-id}` answers: valid 5 minutes, and only with the same business's token.
    app.get(
      MEDIA_URL_PATH,
      {
        ...ctx.schema('Download media (the url of GET /{media-id}, with the bearer token)'),
        exposeHeadRoute: false,
      },
      async (request, reply) => {
        const businessId = await deps.authenticate(bearer(request));
        const download = await graphMedia.download(businessId, request.query as Record<string, unknown>);
        return reply
          .header('content-type', download.contentType)
          .header('content-length', download.size)
          .header('cache-control', 'private, no-store')
          .header('x-content-type-options', 'nosniff')
          .header('content-security-policy', "sandbox; default-src 'none'")
          .header('content-disposition', 'attachment')
          .send(download.read());
      },
    );
  };
}

/** Media ids at `/{v}/{media-id}`: GET (the URL and facts) and DELETE. */
export function graphMediaObjects(graphMedia: GraphMediaService): GraphObjects {
  return {
    get: (caller, id, request) => graphMedia.info(caller.businessId, id, phoneNumberQuery(request)),
    delete: (caller, id, request) => graphMedia.delete(caller.businessId, id, phoneNumberQuery(request)),
  };
}
