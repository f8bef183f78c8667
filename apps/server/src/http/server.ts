/**
 * The HTTP edge: Fastify with zod schemas, the OpenAPI document at /api/docs, health and
 * metrics, and the one translator from errors to `{"error":{code,message,details,request_id}}`.
 */
import { randomUUID, timingSafeEqual } from 'node:crypto';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import { ERROR_CODES, type ErrorBody, type ErrorCode } from '@parley/protocol';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyRequest,
  LogController,
} from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
} from 'fastify-type-provider-zod';
import { AppError, isAppError } from '../errors.js';
import { type AccountsService, accountsRoutes, type DeviceActor } from '../modules/accounts/index.js';
import {
  type AutomationsService,
  automationsRoutes,
  type BroadcastsService,
  type BusinessService,
  broadcastsRoutes,
  businessRoutes,
  type InboxService,
  type StatsService,
  statsRoutes,
  type TokensService,
  tokensRoutes,
} from '../modules/business/index.js';
import { type ChatsService, chatsRoutes } from '../modules/chats/index.js';
import { type CloudApiRoutesDeps, cloudApiRoutes } from '../modules/cloud-api/index.js';
import { type ContactsService, contactsRoutes } from '../modules/contacts/index.js';
import { type DisappearingService, disappearingRoutes } from '../modules/disappearing/index.js';
import { type GroupsService, groupsRoutes } from '../modules/groups/index.js';
import { type LabelsService, labelsRoutes } from '../modules/labels/index.js';
import { type LinksService, linksRoutes } from '../modules/links/index.js';
import { type MediaService, mediaRoutes } from '../modules/media/index.js';
import { type PlansService, plansRoutes } from '../modules/plans/index.js';
import { type ReceiptsService, receiptsRoutes } from '../modules/receipts/index.js';
import { type WebhooksService, webhooksRoutes } from '../modules/webhooks/index.js';
import type { Logger } from '../platform/logger.js';
import type { Metrics } from '../platform/metrics.js';

export interface HttpServerDeps {
  /** Bearer token of the admin API; without it every admin route answers 401. */
  operatorToken?: string | undefined;
  /** Route plugins mounted as they are (billing, ledger); each authenticates its own routes. */
  extraRoutes?: ((app: FastifyInstance, auth: RouteAuth) => Promise<void>)[];
  logger: Logger;
  metrics: Metrics;
  accounts: AccountsService;
  groups: GroupsService;
  contacts: ContactsService;
  receipts: ReceiptsService;
  disappearing: DisappearingService;
  business: BusinessService;
  /** The Business Messaging API: its service and the Graph paths and objects of its parts. */
  cloudApi: CloudApiRoutesDeps;
  automations: AutomationsService;
  plans: PlansService;
  inbox: InboxService;
  stats: StatsService;
  broadcasts: BroadcastsService;
  /** Business Messaging API access tokens (REST for managers). */
  tokens?: TokensService;
  labels: LabelsService;
  links: LinksService;
  media: MediaService;
  chats: ChatsService;
  webhooks: WebhooksService;
  /** Resolves when storage answers; rejects otherwise. */
  pingStorage(): Promise<void>;
  trustProxy: boolean;
  version: string;
  /** Serve the client REST API (the api role); health, metrics and docs are always served. */
  apiRoutes: boolean;
}

// Fastify's own error codes that are really the client's fault.
const FASTIFY_CLIENT_ERRORS: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_JSON_BODY: 'VALIDATION_FAILED',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'VALIDATION_FAILED',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'VALIDATION_FAILED',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'VALIDATION_FAILED',
  FST_ERR_VALIDATION: 'VALIDATION_FAILED',
};

/** How route plugins authenticate: a person's device, or the operator. */
export interface RouteAuth {
  authenticate(request: FastifyRequest): Promise<DeviceActor>;
  authenticateOperator(request: FastifyRequest): Promise<void>;
}

function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  return match?.[1];
}

export async function createHttpServer(deps: HttpServerDeps): Promise<FastifyInstance> {
  const { logger, metrics } = deps;
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    genReqId: () => randomUUID(),
    trustProxy: deps.trustProxy,
    bodyLimit: 256 * 1024,
    // Per-request logs would drown the log at scrape and API rates; failures are logged below.
    logController: new LogController({ disableRequestLogging: true }),
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  app.addHook('onResponse', async (request, reply) => {
    metrics.httpDuration.observe(
      {
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
    if (reply.statusCode >= 500) {
      request.log.warn(
        { method: request.method, url: request.url, status: reply.statusCode },
        'request failed',
      );
    }
  });

  app.setErrorHandler((error: FastifyError | AppError | Error, request, reply) => {
    const body = toErrorBody(error, request.id);
    if (body.code === 'INTERNAL_ERROR') request.log.error({ err: error }, 'unhandled error');
    const status = ERROR_CODES[body.code].status;
    if (body.code === 'RATE_LIMITED' && typeof body.details?.retry_after_ms === 'number') {
      reply.header('retry-after', Math.ceil(body.details.retry_after_ms / 1000));
    }
    return reply.code(status).send({ error: body });
  });

  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({
      error: {
        code: 'ROUTE_NOT_FOUND',
        message: `No endpoint ${request.method} ${request.url.split('?')[0]}.`,
        request_id: request.id,
      } satisfies ErrorBody,
    }),
  );

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Parley client API',
        description:
          'REST API for Parley clients. Real-time messaging uses the WebSocket at /ws (see docs/protocol.md). ' +
          'Errors have the body {"error":{"code","message","details","request_id"}} (see docs/errors.md).',
        version: deps.version,
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'Device token' },
          operator: {
            type: 'http',
            scheme: 'bearer',
            description: 'Operator token (`parley operator token`), for /api/v1/admin/…',
          },
        },
      },
    },
    transform: jsonSchemaTransform,
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/api/docs' });

  app.get('/healthz', { schema: { hide: true } }, async (_request, reply) => {
    try {
      await withTimeout(deps.pingStorage(), 2000);
      return reply.code(200).send({ status: 'ok' });
    } catch (e: unknown) {
      logger.warn({ err: e }, 'health check: storage does not answer');
      return reply.code(503).send({ status: 'unavailable', reason: 'storage does not answer' });
    }
  });

  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    const text = await metrics.registry.metrics();
    return reply.header('content-type', metrics.registry.contentType).send(text);
  });

  const authenticate = async (request: FastifyRequest): Promise<DeviceActor> =>
    deps.accounts.authenticate(bearerToken(request));
  /** The admin API (`/api/v1/admin/…`) takes the operator token from the data folder's secrets. */
  const authenticateOperator = async (request: FastifyRequest): Promise<void> => {
    const given = Buffer.from(bearerToken(request) ?? '');
    const wanted = Buffer.from(deps.operatorToken ?? '');
    if (wanted.length === 0 || given.length !== wanted.length || !timingSafeEqual(given, wanted)) {
      throw new AppError(
        'OPERATOR_UNAUTHENTICATED',
        'The admin API needs the operator token as a bearer token.',
      );
    }
  };
  if (deps.apiRoutes) {
    await app.register(accountsRoutes, { accounts: deps.accounts, authenticate });
    await app.register(groupsRoutes, { groups: deps.groups, authenticate });
    await app.register(contactsRoutes, { contacts: deps.contacts, authenticate });
    await app.register(receiptsRoutes, { receipts: deps.receipts, authenticate });
    await app.register(disappearingRoutes, { disappearing: deps.disappearing, authenticate });
    await app.register(businessRoutes, { business: deps.business, inbox: deps.inbox, authenticate });
    await app.register(plansRoutes, { plans: deps.plans, authenticate });
    await app.register(cloudApiRoutes, deps.cloudApi);
    await app.register(automationsRoutes, { automations: deps.automations, authenticate });
    await app.register(statsRoutes, { stats: deps.stats, authenticate });
    await app.register(broadcastsRoutes, { broadcasts: deps.broadcasts, authenticate });
    if (deps.tokens) await app.register(tokensRoutes, { tokens: deps.tokens, authenticate });
    await app.register(labelsRoutes, { labels: deps.labels, authenticate });
    await app.register(linksRoutes, { links: deps.links, authenticate });
    await app.register(mediaRoutes, { media: deps.media, authenticate });
    await app.register(chatsRoutes, { chats: deps.chats, authenticate });
    await app.register(webhooksRoutes, { webhooks: deps.webhooks, authenticate });
    for (const mount of deps.extraRoutes ?? []) await mount(app, { authenticate, authenticateOperator });
  }

  return app;
}

function toErrorBody(error: unknown, requestId: string): ErrorBody {
  if (isAppError(error)) {
    const body: ErrorBody = { code: error.code, message: error.message, request_id: requestId };
    if (error.details) body.details = error.details;
    return body;
  }
  if (error instanceof Error && hasZodFastifySchemaValidationErrors(error)) {
    return {
      code: 'VALIDATION_FAILED',
      message: 'The request does not match its schema.',
      details: {
        issues: error.validation.map((v) => ({
          path: [error.validationContext, v.instancePath.replace(/^\//, '').replaceAll('/', '.')]
            .filter(Boolean)
            .join('.'),
          message: v.message,
        })),
      },
      request_id: requestId,
    };
  }
  const fastifyCode = (error as { code?: unknown }).code;
  if (typeof fastifyCode === 'string' && FASTIFY_CLIENT_ERRORS[fastifyCode]) {
    return {
      code: FASTIFY_CLIENT_ERRORS[fastifyCode],
      message: (error as Error).message,
      request_id: requestId,
    };
  }
  return { code: 'INTERNAL_ERROR', message: 'Something went wrong on our side.', request_id: requestId };
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new AppError('STORAGE_UNAVAILABLE', `no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
