/**
 * The Business Messaging API's HTTP edge, served from the server root as the Cloud API is
 * (`/v23.0/{phone-number-id}/messages`, any version from v16.0). Its errors use the Graph
 * envelope, not Parley's, so it has its own error handler.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { CloudApiService } from './cloud-api.service.js';
import { GraphError, graphBody, graphErrors } from './graph-error.js';

const VERSION = /^v(\d+)\.(\d+)$/;
const OLDEST_MAJOR = 16;

function bearer(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  if (match?.[1]) return match[1];
  // Graph also takes the token as a query parameter.
  const query = request.query as Record<string, unknown> | undefined;
  return typeof query?.access_token === 'string' ? query.access_token : undefined;
}

export async function cloudApiRoutes(
  app: FastifyInstance,
  deps: { cloudApi: CloudApiService },
): Promise<void> {
  app.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const graph =
      error instanceof GraphError
        ? error
        : (error as { code?: string }).code === 'FST_ERR_CTP_INVALID_JSON_BODY' ||
            (error as { code?: string }).code === 'FST_ERR_CTP_EMPTY_JSON_BODY'
          ? graphErrors.invalidParameter('The request body is not valid JSON.')
          : graphErrors.unknown();
    if (graph.status >= 500) request.log.error({ err: error }, 'business messaging api error');
    const trace = randomBytes(12).toString('base64url');
    return reply.code(graph.status).header('x-fb-trace-id', trace).send(graphBody(graph, trace));
  });

  /** The business behind the request's token, after checking the version. */
  async function caller(request: FastifyRequest, version: string): Promise<string | undefined> {
    const match = VERSION.exec(version);
    if (!match) return undefined;
    if (Number(match[1]) < OLDEST_MAJOR) {
      throw graphErrors.invalidParameter(
        `Version ${version} is not supported; use v${OLDEST_MAJOR}.0 or later.`,
      );
    }
    return deps.cloudApi.authenticate(bearer(request));
  }
  const schema = (summary: string) => ({
    tags: ['business messaging api'],
    summary,
    security: [{ bearer: [] }],
  });

  app.get(
    '/:version/:id',
    { schema: schema('A phone number of the business, or its WhatsApp Business Account') },
    async (request, reply) => {
      const { version, id } = request.params as { version: string; id: string };
      const businessId = await caller(request, version);
      if (!businessId) return reply.callNotFound();
      return deps.cloudApi.object(businessId, id);
    },
  );
  app.get(
    '/:version/:waba_id/phone_numbers',
    { schema: schema('The phone numbers of the WhatsApp Business Account') },
    async (request, reply) => {
      const { version, waba_id } = request.params as { version: string; waba_id: string };
      const businessId = await caller(request, version);
      if (!businessId) return reply.callNotFound();
      return deps.cloudApi.phoneNumbers(businessId, waba_id);
    },
  );
  app.get(
    '/:version/:phone_number_id/whatsapp_business_profile',
    { schema: schema('The business profile behind a phone number') },
    async (request, reply) => {
      const { version, phone_number_id } = request.params as { version: string; phone_number_id: string };
      const businessId = await caller(request, version);
      if (!businessId) return reply.callNotFound();
      return deps.cloudApi.businessProfile(businessId, phone_number_id);
    },
  );

  app.post(
    '/:version/:phone_number_id/messages',
    {
      schema: {
        tags: ['business messaging api'],
        summary: 'Send a message (Cloud API compatible), or mark one as read',
        security: [{ bearer: [] }],
      },
    },
    async (request, reply) => {
      const { version, phone_number_id } = request.params as { version: string; phone_number_id: string };
      const match = VERSION.exec(version);
      if (!match) return reply.callNotFound();
      if (Number(match[1]) < OLDEST_MAJOR) {
        throw graphErrors.invalidParameter(
          `Version ${version} is not supported; use v${OLDEST_MAJOR}.0 or later.`,
        );
      }
      const businessId = await deps.cloudApi.authenticate(bearer(request));
      return deps.cloudApi.messages(businessId, phone_number_id, request.body);
    },
  );
}
