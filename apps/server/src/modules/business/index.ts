/**
 * The business module: business accounts, the shared inbox and the hosted endpoint, statistics
 * and broadcast lists.
 */
import type { Db } from '../../platform/db.js';
import { createAutomationsRepo } from './automations.repo.js';
import { createAutomationsService } from './automations.service.js';
import { createBroadcastsRepo } from './broadcasts.repo.js';
import { createBroadcastsService } from './broadcasts.service.js';
import { createBusinessRepo } from './business.repo.js';
import { type BusinessServiceDeps, createBusinessService } from './business.service.js';
import { createHostedEndpoint, type HostedEndpointDeps } from './hosted-endpoint.js';
import { createInboxRepo } from './inbox.repo.js';
import { createInboxService, type InboxServiceDeps } from './inbox.service.js';
import { createStatsRepo } from './stats.repo.js';
import { createStatsService } from './stats.service.js';
import { createTokensRepo } from './tokens.repo.js';
import { createTokensService } from './tokens.service.js';

export { automationsRoutes } from './automations.routes.js';
export type { AutomationsService } from './automations.service.js';
export { broadcastsRoutes } from './broadcasts.routes.js';
export type { BroadcastsService } from './broadcasts.service.js';
export { parseProfile } from './business.present.js';
export type { BusinessRepo } from './business.repo.js';
export { businessRoutes } from './business.routes.js';
export type { BusinessService } from './business.service.js';
export type { HostedEndpoint } from './hosted-endpoint.js';
export { presentMessage } from './inbox.present.js';
export type {
  AutomationInput,
  AutomationOutcome,
  Automations,
  InboxObserver,
  InboxService,
  InboxServiceDeps,
  LabelsPort,
  OutboundRecord,
  OutboxFields,
} from './inbox.service.js';
export { hostedActor } from './inbox.service.js';
export { statsRoutes } from './stats.routes.js';
export type { StatsService } from './stats.service.js';
export { tokensRoutes } from './tokens.routes.js';
export type { TokensService } from './tokens.service.js';

export interface BusinessModuleDeps
  extends Omit<BusinessServiceDeps, 'repo' | 'onNumberCreated'>,
    Omit<InboxServiceDeps, 'repo' | 'businessRepo' | 'business' | 'db' | 'delivery' | 'automations'>,
    Pick<HostedEndpointDeps, 'bus' | 'sweepMs'> {
  db: Pick<Db, 'kysely' | 'caps'>;
  delivery: InboxServiceDeps['delivery'] & HostedEndpointDeps['delivery'];
  /** Required here: broadcast lists are limited by the plan's broadcast_size. */
  plans: NonNullable<BusinessServiceDeps['plans']>;
}

export function createBusinessModule(deps: BusinessModuleDeps) {
  const repo = createBusinessRepo(deps.db.kysely);
  const inboxRepo = createInboxRepo(deps.db.kysely);
  let endpoint: ReturnType<typeof createHostedEndpoint> | undefined;
  const service = createBusinessService({ ...deps, repo, onNumberCreated: (n) => endpoint?.attach(n) });
  const automations = createAutomationsService({
    db: deps.db,
    repo: createAutomationsRepo(deps.db.kysely),
    business: service,
    businessRepo: repo,
    plans: deps.plans,
    clock: deps.clock,
    ids: deps.ids,
  });
  const inbox = createInboxService({
    ...deps,
    repo: inboxRepo,
    businessRepo: repo,
    business: service,
    automations: automations.automations,
  });
  endpoint = createHostedEndpoint({
    businessRepo: repo,
    inbox,
    delivery: deps.delivery,
    bus: deps.bus,
    logger: deps.logger,
    sweepMs: deps.sweepMs,
  });
  // Statistics and broadcast lists: read the inbox's rows, send through its outbox.
  const stats = createStatsService({
    repo: createStatsRepo(deps.db.kysely),
    business: service,
    clock: deps.clock,
  });
  const broadcasts = createBroadcastsService({
    db: deps.db,
    repo: createBroadcastsRepo(deps.db.kysely),
    businessRepo: repo,
    inboxRepo,
    inbox,
    business: service,
    plans: deps.plans,
    clock: deps.clock,
    ids: deps.ids,
  });
  const tokens = createTokensService({
    db: deps.db,
    repo: createTokensRepo(deps.db.kysely),
    businessRepo: repo,
    business: service,
    clock: deps.clock,
    ids: deps.ids,
  });
  return { repo, inboxRepo, service, inbox, automations, endpoint, stats, broadcasts, tokens };
}
export { businessParams, conversationView, messageView, profileShape } from './business.schemas.js';
