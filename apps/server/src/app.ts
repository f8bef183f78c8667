/**
 * Building blocks of the composition root: platform → modules → roles. main.ts calls these
 * with the parsed config; tests and benchmarks call them to run a real server in-process.
 */
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Config, Role } from './config.js';
import { createGateway, WS_PATH } from './gateway/gateway.js';
import { createHttpServer } from './http/server.js';
import { createAccountsModule } from './modules/accounts/index.js';
import { createBillingModule } from './modules/billing/index.js';
import { createBusinessModule } from './modules/business/index.js';
import { createChatsModule } from './modules/chats/index.js';
import {
  type CloudApiRoutesDeps,
  createApiMessagesRepo,
  createApiObserver,
  createCloudApiService,
  createGraphMediaRepo,
  createGraphMediaService,
  createInboundMapper,
  createLimitsModule,
  createManageRepo,
  createManageService,
  graphMediaObjects,
  graphMediaRoutes,
  manageRoutes,
  type WebhookPort,
} from './modules/cloud-api/index.js';
import { createContactsModule } from './modules/contacts/index.js';
import {
  createDeliveryModule,
  createEventWriter,
  createWorkerCommitExecutor,
} from './modules/delivery/index.js';
import { createDisappearingModule } from './modules/disappearing/index.js';
import { createGroupsModule } from './modules/groups/index.js';
import { createLabelsModule } from './modules/labels/index.js';
// The ledger (issue 6).
import { createLedger } from './modules/ledger/index.js';
import { createLinksModule } from './modules/links/index.js';
import { createMediaModule } from './modules/media/index.js';
import { createPlansModule } from './modules/plans/index.js';
import { createReceiptsModule } from './modules/receipts/index.js';
import { createTemplatesModule, templateObjects, templatesGraphRoutes } from './modules/templates/index.js';
import { createWebhooksModule, webhooksGraphRoutes } from './modules/webhooks/index.js';
import { createMemoryBus } from './platform/bus.js';
import { type Clock, systemClock } from './platform/clock.js';
import { openDb } from './platform/db.js';
import { createHttpFetcher } from './platform/http-fetch.js';
import { createIds } from './platform/ids.js';
import { createLogger, type Logger } from './platform/logger.js';
import { createMetrics } from './platform/metrics.js';
import { migrateToLatest } from './platform/migrate.js';
import { createPresenceRegistry } from './platform/presence.js';
import { createMemoryRateLimiter } from './platform/rate-limit.js';
import { loadOrCreateSecrets } from './platform/secrets.js';
import { createLogCodeSender, createWebhookCodeSender } from './platform/sms.js';
import { createWorker } from './worker/worker.js';

export const VERSION: string = (
  JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

export interface PlatformOptions {
  /** Where logs go; defaults to stdout. CLI commands log to stderr so stdout stays JSON. */
  logDestination?: NodeJS.WritableStream;
  logger?: Logger;
  clock?: Clock;
}

export async function openPlatform(config: Config, options: PlatformOptions = {}) {
  const logger = options.logger ?? createLogger(config.logLevel, options.logDestination);
  const clock = options.clock ?? systemClock;
  const secrets = loadOrCreateSecrets(config.dataDir);
  const db = openDb({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    sqliteSync: config.sqliteSync,
    onPoolError: (e) => logger.warn({ err: e }, 'an idle database connection failed; the pool replaces it'),
  });
  try {
    const applied = await migrateToLatest(db);
    if (applied.length > 0) logger.info({ migrations: applied }, 'database migrated');
  } catch (e: unknown) {
    await db.close();
    throw e;
  }
  const bus = createMemoryBus((e) => logger.error({ err: e }, 'bus handler failed'));
  // Where the server listens, once it does (startRoles): the public base URL unless
  // PARLEY_PUBLIC_URL says otherwise. Until then, the configured host and port.
  const listening = { url: `http://${config.host}:${config.port}` };
  return {
    config,
    logger,
    clock,
    db,
    bus,
    secrets,
    ids: createIds(clock),
    metrics: createMetrics(),
    rateLimiter: createMemoryRateLimiter,
    listening,
    /** Base of public URLs (short links): PARLEY_PUBLIC_URL, else where the server listens. */
    publicUrl: () => config.publicUrl ?? listening.url,
    presence: createPresenceRegistry(bus),
    codeSender: config.smsWebhookUrl
      ? createWebhookCodeSender(config.smsWebhookUrl, logger)
      : createLogCodeSender(logger),
    async close() {
      await bus.close();
      await db.close();
    },
  };
}

export type Platform = Awaited<ReturnType<typeof openPlatform>>;

export function createModules(p: Platform) {
  const events = createEventWriter({ caps: p.db.caps, bus: p.bus, clock: p.clock, ids: p.ids });
  const chats = createChatsModule({ db: p.db, clock: p.clock, events });
  const contacts = createContactsModule({
    db: p.db,
    clock: p.clock,
    ids: p.ids,
    rateLimiter: p.rateLimiter,
    presence: p.presence,
    settingsSync: chats.service,
    // A person blocking or reporting a business number counts against the templates it sent
    // them (quality-based pausing).
    onNegativeFeedback: async (tx, { person, target, at }) => {
      const number = await business.repo.numberByAccount(target, tx);
      if (!number) return;
      await templates.service.recordNegativeFeedback(tx, {
        businessId: number.business_id,
        phoneNumberId: number.phone_number_id,
        personPhone: person.phone,
        at,
      });
    },
  });
  const media = createMediaModule({
    canSeePhoto: (viewer, owner) => contacts.service.canSee(viewer, owner, 'photo'),
    db: p.db,
    dataDir: p.config.dataDir,
    clock: p.clock,
    ids: p.ids,
    logger: p.logger,
  });
  const accounts = createAccountsModule({
    // The business behind a number, with the ice breakers and commands its API set.
    businessOf: async (accountId) => {
      const view = await business.service.publicOf(accountId);
      return view ? { ...view, ...(await manage.publicExtras(accountId)) } : undefined;
    },
    requireOwnImage: (accountId, mediaId) => media.service.requireOwnImage(accountId, mediaId),
    canSee: (viewer, owner, field) => contacts.service.canSee(viewer, owner, field),
    db: p.db,
    clock: p.clock,
    ids: p.ids,
    bus: p.bus,
    codeSender: p.codeSender,
    rateLimiter: p.rateLimiter,
    otpKey: p.secrets.otp_key,
    logger: p.logger,
    settingsSync: chats.service,
  });
  const delivery = createDeliveryModule({
    db: p.db,
    // SQLite commits are synchronous: run them in a writer thread so sockets never wait on them.
    executor: p.config.databaseUrl
      ? undefined
      : createWorkerCommitExecutor({ dataDir: p.config.dataDir, sqliteSync: p.config.sqliteSync }, p.logger),
    clock: p.clock,
    ids: p.ids,
    bus: p.bus,
    logger: p.logger,
    onAccepted: (n) => p.metrics.messagesAccepted.inc(n),
    onDelivered: (n) => p.metrics.messagesDelivered.inc(n),
    onQueueDepth: (n) => p.metrics.writeQueue.set(n),
    // The consumer plan (issue 6, off by default) may pause a person's sending, never receiving.
    sendGate: (actor) => billing.consumerPlan.requireCanSend(actor),
    onCommit: (sends, seconds) => {
      p.metrics.commitBatch.observe(sends);
      p.metrics.commitDuration.observe(seconds);
    },
  });
  const groups = createGroupsModule({
    db: p.db,
    clock: p.clock,
    ids: p.ids,
    events,
    requireOwnImage: (accountId, mediaId) => media.service.requireOwnImage(accountId, mediaId),
  });
  const receipts = createReceiptsModule({ db: p.db, clock: p.clock, events });
  const disappearing = createDisappearingModule({
    db: p.db,
    clock: p.clock,
    events,
    groups: groups.service,
  });
  const plans = createPlansModule({ db: p.db, clock: p.clock });
  // The rules Meta enforces on API sends (throughput, window, tiers, quality, opt-outs). Built
  // early: it needs only storage and the clock, and the inbox's ingest records opt-outs in it.
  const limits = createLimitsModule({ db: p.db, clock: p.clock, logger: p.logger });
  // Labels and links need the business module and the inbox needs them: each side reaches the
  // other through functions called only once everything is built.
  const labels = createLabelsModule({
    db: p.db,
    business: { requireAgent: (...a) => business.service.requireAgent(...a) },
    inbox: {
      agentEvent: (...a) => business.inbox.agentEvent(...a),
      get: (...a) => business.inbox.get(...a),
    },
    agentDevices: (businessId, tx) => business.repo.agentDevices(businessId, tx),
    events,
    plans: plans.service,
    clock: p.clock,
    ids: p.ids,
  });
  const links = createLinksModule({
    db: p.db,
    business: {
      requireAgent: (...a) => business.service.requireAgent(...a),
      requireManager: (...a) => business.service.requireManager(...a),
    },
    businessRepo: {
      numbers: (...a) => business.repo.numbers(...a),
      numberById: (...a) => business.repo.numberById(...a),
      find: (...a) => business.repo.find(...a),
    },
    plans: plans.service,
    publicUrl: p.publicUrl,
    clock: p.clock,
    ids: p.ids,
  });
  // The Business Messaging API hears of the inbox's messages in its transactions (statuses,
  // message webhooks, billing records); it is built before the business module for that.
  // Webhooks reach the business module through functions called only once it is built.
  const webhooksModule = createWebhooksModule({
    db: p.db,
    businessRepo: { find: (...a) => business.repo.find(...a) },
    business: { requireManager: (...a) => business.service.requireManager(...a) },
    clock: p.clock,
    ids: p.ids,
    logger: p.logger,
    publicUrl: p.publicUrl,
  });
  const webhooks: WebhookPort = webhooksModule.port;
  // The ledger (issue 6): double-entry accounts and transfers that billing posts to.
  const ledger = createLedger({ db: p.db, clock: p.clock, ids: p.ids });
  // Billing (issue 6): rate cards, pricing models, billing accounts and metering. Sends are
  // reserved against the account when accepted and charged in the delivery's transaction.
  const billing = createBillingModule({
    db: p.db,
    ledger,
    clock: p.clock,
    ids: p.ids,
    logger: p.logger,
    webhooks,
    defaults: { currency: p.config.billingCurrency, creditLimitMinor: p.config.billingCreditLimit },
    testProvider: p.config.billingTestProvider,
    // The business module is built after billing (billing meters its deliveries): reached lazily.
    business: {
      requireManager: (...a) => business.service.requireManager(...a),
      directory: {
        find: (...a) => business.repo.find(...a),
        accountByKey: (...a) => business.repo.accountByKey(...a),
      },
      setPlan: async (tx, businessId, planId) => {
        await business.repo.update(tx, businessId, { plan_id: planId });
      },
    },
    plans: plans.repo,
  });
  const apiMessagesRepo = createApiMessagesRepo(p.db.kysely);
  const apiObserver = createApiObserver({
    repo: apiMessagesRepo,
    webhooks,
    inboundMessage: createInboundMapper({
      media: { inboundMedia: (...a) => graphMedia.inboundMedia(...a) },
      senderOf: (tx, id) => apiMessagesRepo.senderPhone(tx, id),
    }),
    limits: limits.service,
    billing: {
      meter: (tx, events) => billing.metering.meter(tx, events),
      release: (tx, messageIds) => billing.accounts.release(tx, messageIds),
    },
    pricingModel: (at) => billing.pricingModels.modelAtCached(at),
  });
  const business = createBusinessModule({
    observer: apiObserver,
    labels: labels.port,
    entryPointOf: links.entryPointOf,
    plans: plans.service,
    db: p.db,
    accounts: accounts.service,
    delivery: delivery.service,
    events,
    bus: p.bus,
    clock: p.clock,
    ids: p.ids,
    logger: p.logger,
    requireOwnImage: (accountId, mediaId) => media.service.requireOwnImage(accountId, mediaId),
  });
  const manage = createManageService({
    db: p.db,
    repo: createManageRepo(p.db.kysely),
    businessRepo: business.repo,
    business: business.service,
    contacts: contacts.service,
    links: links.service,
    clock: p.clock,
  });
  // Media: uploads, media ids, download URLs, and the media a send names (resolveMedia).
  const graphMedia = createGraphMediaService({
    repo: createGraphMediaRepo(p.db.kysely),
    media: media.service,
    businessRepo: business.repo,
    fetcher: createHttpFetcher({
      allowPrivate: p.config.mediaFetchPrivate,
      userAgent: `Parley/${VERSION} (media link fetch)`,
    }),
    clock: p.clock,
    ids: p.ids,
    secret: p.secrets.otp_key,
    publicUrl: p.publicUrl,
  });
  const templates = createTemplatesModule({
    db: p.db,
    businessRepo: business.repo,
    webhooks,
    clock: p.clock,
    ids: p.ids,
  });
  const cloudApiService = createCloudApiService({
    templates: templates.service,
    media: graphMedia,
    db: p.db,
    limits: limits.service,
    businessRepo: business.repo,
    inbox: business.inbox,
    receipts: receipts.service,
    delivery: delivery.service,
    repo: apiMessagesRepo,
    webhooks,
    clock: p.clock,
    ids: p.ids,
    logger: p.logger,
    billing: {
      precheck: (send) => billing.accounts.precheck(send),
      reserve: (tx, sends) => billing.accounts.reserve(tx, sends),
    },
    tokenUsed: (hash) => business.tokens.used(hash),
    numberFields: (ids) => manage.numberFields(ids),
  });
  // The Business Messaging API's parts each add their Graph paths and objects here.
  const cloudApi: CloudApiRoutesDeps = {
    cloudApi: cloudApiService,
    routes: [manageRoutes(manage), templatesGraphRoutes(templates.service)],
    objects: [templateObjects(templates.service)],
    registration: manage,
  };
  cloudApi.routes?.push(
    graphMediaRoutes({ graphMedia, authenticate: (token) => cloudApiService.authenticate(token) }),
  );
  cloudApi.objects?.push(graphMediaObjects(graphMedia));
  cloudApi.routes?.push(webhooksGraphRoutes(webhooksModule.service));
  return {
    accounts: accounts.service,
    delivery: delivery.service,
    cloudApi,
    graphMedia,
    limits: limits.service,
    templates: templates.service,
    /** Cloud API webhooks: subscriptions, the outbox (`port`) and its dispatcher. */
    webhooks: webhooksModule,
    business: business.service,
    inbox: business.inbox,
    automations: business.automations,
    stats: business.stats,
    broadcasts: business.broadcasts,
    tokens: business.tokens,
    manage,
    hostedEndpoint: business.endpoint,
    plans: plans.service,
    labels: labels.service,
    links: links.service,
    groups: groups.service,
    contacts: contacts.service,
    receipts: receipts.service,
    disappearing: disappearing.service,
    media: media.service,
    chats: chats.service,
    ledger,
    billing,
  };
}

export type Modules = ReturnType<typeof createModules>;

export interface RunningServer {
  /** http://host:port the server listens on. */
  url: string;
  /** Graceful stop: refuse new work, commit what was accepted, close connections and storage. */
  close(): Promise<void>;
}

/** Starts the configured roles on an open platform. */
export async function startRoles(p: Platform, modules: Modules, roles: Role[]): Promise<RunningServer> {
  const { config, logger, metrics } = p;
  metrics.setQueueDepthSource(() => modules.delivery.countQueued());

  const worker = roles.includes('worker')
    ? createWorker({
        logger,
        intervalMs: 60_000,
        tasks: [
          {
            name: 'expire-envelopes',
            run: async () => {
              const expired = await modules.delivery.expire();
              metrics.envelopesExpired.inc(expired.envelopes);
              return expired;
            },
          },
          { name: 'expire-codes', run: () => modules.accounts.purgeExpiredCodes() },
          { name: 'unlink-idle-companions', run: () => modules.accounts.unlinkIdleCompanions() },
          { name: 'expire-media', run: () => modules.media.expire() },
          { name: 'expire-graph-media-ids', run: () => modules.graphMedia.expire() },
          { name: 'expire-link-opens', run: () => modules.links.expireOpens() },
          // Each business at most every 6 h (the evaluation stores when it last ran).
          { name: 'evaluate-messaging-limits', run: () => modules.limits.evaluate() },
          { name: 'unpause-templates', run: () => modules.templates.unpauseDue() },
          { name: 'purge-webhook-deliveries', run: () => modules.webhooks.service.purge() },
          // Holds past their expiry are voided, releasing the money they held (issue 6).
          { name: 'expire-ledger-holds', run: () => modules.ledger.expireHolds() },
          // Month closing, renewals, dunning and consumer-plan reminders (issue 6).
          ...modules.billing.tasks,
          {
            name: 'expire-business-inbox',
            run: () => modules.business.expireInbox((id, before) => modules.inbox.deleteBefore(id, before)),
          },
        ],
      })
    : undefined;

  const gateway = roles.includes('gateway')
    ? createGateway({
        accounts: modules.accounts,
        delivery: modules.delivery,
        contacts: modules.contacts,
        receipts: modules.receipts,
        presence: p.presence,
        bus: p.bus,
        clock: p.clock,
        logger,
        metrics,
        config: {
          heartbeatMs: config.heartbeatMs,
          framesPerSecond: config.wsFramesPerSecond,
          window: config.wsWindow,
        },
      })
    : undefined;

  // The api role serves the REST API; every role serves /healthz and /metrics so that a
  // gateway-only or worker-only process can be probed and scraped too.
  const app = await createHttpServer({
    logger,
    metrics,
    accounts: modules.accounts,
    groups: modules.groups,
    contacts: modules.contacts,
    receipts: modules.receipts,
    disappearing: modules.disappearing,
    media: modules.media,
    chats: modules.chats,
    business: modules.business,
    cloudApi: modules.cloudApi,
    inbox: modules.inbox,
    automations: modules.automations,
    stats: modules.stats,
    broadcasts: modules.broadcasts,
    tokens: modules.tokens,
    plans: modules.plans,
    labels: modules.labels,
    links: modules.links,
    webhooks: modules.webhooks.service,
    operatorToken: p.secrets.operator_token,
    extraRoutes: modules.billing.routes,
    pingStorage: () => p.db.ping(),
    trustProxy: config.trustProxy,
    version: VERSION,
    apiRoutes: roles.includes('api'),
  });
  app.server.on('upgrade', (request, socket, head) => {
    const path = (request.url ?? '').split('?')[0];
    if (gateway && path === WS_PATH) gateway.handleUpgrade(request, socket, head);
    else socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
  });
  await app.listen({ host: config.host, port: config.port });
  const address = app.server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  p.listening.url = url;
  worker?.start();
  // Webhook deliveries go out from the worker role.
  if (worker) modules.webhooks.dispatcher.start();
  // Business numbers are devices too; their endpoint runs where sends are committed and
  // announced (the gateway role), so it hears of new envelopes at once.
  if (gateway) await modules.hostedEndpoint.start();

  let closing: Promise<void> | undefined;
  return {
    url,
    close() {
      closing ??= (async () => {
        gateway?.stopAccepting();
        // Pages in hand are stored and their replies sent before delivery stops taking sends.
        if (gateway) await modules.hostedEndpoint.stop();
        // Sends already read are committed and acknowledged before their connections close.
        await modules.delivery.close();
        await gateway?.closeAll();
        await app.close();
        await worker?.stop();
        if (worker) await modules.webhooks.dispatcher.stop();
        modules.webhooks.http.close();
      })();
      return closing;
    },
  };
}
