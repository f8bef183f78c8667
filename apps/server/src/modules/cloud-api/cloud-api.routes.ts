/**
 * The Business Messaging API's HTTP edge, served from the server root as the Cloud API is
 * (`/v23.0/{phone-number-id}/messages`, any version from v16.0). Its errors use the Graph
 * envelope, not Parley's, so it has its own error handler. Parts of the API (media,
 * templates, webhooks, …) add their paths as `GraphRoutes` and their ids as `GraphObjects`.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { CloudApiService } from './cloud-api.service.js';
import { GraphError, graphBody, graphErrors } from './graph-error.js';
import {
  bearer,
  type GraphCaller,
  type GraphObjects,
  type GraphRouteContext,
  type GraphRoutes,
  isGraphVersion,
} from './graph-routes.js';

export interface CloudApiRoutesDeps {
  cloudApi: CloudApiService;
  /** More Graph paths, registered after the core ones. */
  routes?: GraphRoutes[];
  /** More kinds of object at `/{version}/{id}`, asked in order after phone numbers and accounts. */
  objects?: GraphObjects[];
  /** Refuses sends from a deregistered number (133010); see manage.service.ts. */
  registration?: { requireRegistered(businessId: string, phoneNumberId: string): Promise<void> };
}

/** Graph's `?fields=a,b`; undefined when not given. */
function fieldsOf(request: FastifyRequest): string[] | undefined {
  const fields = (request.query as Record<string, unknown> | undefined)?.fields;
  if (typeof fields !== 'string') return undefined;
  return fields
    .split(',')
    .map((f) => f.trim())
    .filter(Boolean);
}

export async function cloudApiRoutes(app: FastifyInstance, deps: CloudApiRoutesDeps): Promise<void> {
  app.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const code = (error as { code?: string }).code;
    const graph =
      error instanceof GraphError
        ? error
        : code === 'FST_ERR_CTP_INVALID_JSON_BODY' || code === 'FST_ERR_CTP_EMPTY_JSON_BODY'
          ? graphErrors.invalidParameter('The request body is not valid JSON.')
          : code === 'FST_ERR_CTP_BODY_TOO_LARGE'
            ? graphErrors.invalidParameter('The request body is too large.')
            : graphErrors.unknown();
    if (graph.status >= 500) request.log.error({ err: error }, 'business messaging api error');
    const trace = randomBytes(12).toString('base64url');
    return reply.code(graph.status).header('x-fb-trace-id', trace).send(graphBody(graph, trace));
  });

  const ctx: GraphRouteContext = {
    async caller(request) {
      const { version } = request.params as { version: string };
      if (!isGraphVersion(version)) return undefined;
      return { businessId: await deps.cloudApi.authenticate(bearer(request)) };
    },
    schema: (summary) => ({
      schema: { tags: ['business messaging api'], summary, security: [{ bearer: [] }] },
    }),
  };

  const core: GraphObjects = {
    get: (caller, id, request) => deps.cloudApi.object(caller.businessId, id, fieldsOf(request)),
  };
  const objects = [core, ...(deps.objects ?? [])];
  const objectRoute =
    (method: 'get' | 'post' | 'delete') => async (request: FastifyRequest, reply: FastifyReply) => {
      const caller: GraphCaller | undefined = await ctx.caller(request);
      if (!caller) return reply.callNotFound();
      const { id } = request.params as { id: string };
      for (const kind of objects) {
        const answer = await kind[method]?.(caller, id, request);
        if (answer !== undefined) return answer;
      }
      throw graphErrors.unknownObject(id, method === 'get' ? 'get' : 'post');
    };
  app.get(
    '/:version/:id',
    ctx.schema('An object: a phone number, the WhatsApp Business Account, …'),
    objectRoute('get'),
  );
  app.post('/:version/:id', ctx.schema('Change an object'), objectRoute('post'));
  app.delete('/:version/:id', ctx.schema('Delete an object'), objectRoute('delete'));

  app.get(
    '/:version/:waba_id/phone_numbers',
    ctx.schema('The phone numbers of the WhatsApp Business Account'),
    async (request, reply) => {
      const caller = await ctx.caller(request);
      if (!caller) return reply.callNotFound();
      const { waba_id } = request.params as { waba_id: string };
      return deps.cloudApi.phoneNumbers(caller.businessId, waba_id);
    },
  );
  app.get(
    '/:version/:phone_number_id/whatsapp_business_profile',
    ctx.schema('The business profile behind a phone number'),
    async (request, reply) => {
      const caller = await ctx.caller(request);
      if (!caller) return reply.callNotFound();
      const { phone_number_id } = request.params as { phone_number_id: string };
      return deps.cloudApi.businessProfile(caller.businessId, phone_number_id);
    },
  );
  app.post(
    '/:version/:phone_number_id/messages',
    ctx.schema('Send a message (Cloud API compatible), or mark one as read'),
    async (request, reply) => {
      const caller = await ctx.caller(request);
      if (!caller) return reply.callNotFound();
      const { phone_number_id } = request.params as { phone_number_id: string };
      await deps.registration?.requireRegistered(caller.businessId, phone_number_id);
      return deps.cloudApi.messages(caller.businessId, phone_number_id, request.body);
    },
  );

  for (const routes of deps.routes ?? []) await routes(app, ctx);
}
