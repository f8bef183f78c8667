/** The business module: business accounts, the shared inbox and the hosted endpoint. */
import type { Db } from '../../platform/db.js';
import { createBusinessRepo } from './business.repo.js';
import { type BusinessServiceDeps, createBusinessService } from './business.service.js';
import { createHostedEndpoint, type HostedEndpointDeps } from './hosted-endpoint.js';
import { createInboxRepo } from './inbox.repo.js';
import { createInboxService, type InboxServiceDeps } from './inbox.service.js';

export { businessRoutes } from './business.routes.js';
export type { BusinessService } from './business.service.js';
export type { HostedEndpoint } from './hosted-endpoint.js';
export { presentMessage } from './inbox.present.js';
export type {
  AutomationInput,
  AutomationOutcome,
  Automations,
  InboxService,
  InboxServiceDeps,
  LabelsPort,
} from './inbox.service.js';

export interface BusinessModuleDeps
  extends Omit<BusinessServiceDeps, 'repo' | 'onNumberCreated'>,
    Omit<InboxServiceDeps, 'repo' | 'businessRepo' | 'business' | 'db' | 'delivery'>,
    Pick<HostedEndpointDeps, 'bus' | 'sweepMs'> {
  db: Pick<Db, 'kysely'>;
  delivery: InboxServiceDeps['delivery'] & HostedEndpointDeps['delivery'];
}

export function createBusinessModule(deps: BusinessModuleDeps) {
  const repo = createBusinessRepo(deps.db.kysely);
  const inboxRepo = createInboxRepo(deps.db.kysely);
  let endpoint: ReturnType<typeof createHostedEndpoint> | undefined;
  const service = createBusinessService({ ...deps, repo, onNumberCreated: (n) => endpoint?.attach(n) });
  const inbox = createInboxService({ ...deps, repo: inboxRepo, businessRepo: repo, business: service });
  endpoint = createHostedEndpoint({
    businessRepo: repo,
    inbox,
    delivery: deps.delivery,
    bus: deps.bus,
    logger: deps.logger,
    sweepMs: deps.sweepMs,
  });
  return { repo, inboxRepo, service, inbox, endpoint };
}
export { businessParams, conversationView, messageView, profileShape } from './business.schemas.js';
