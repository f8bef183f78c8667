/** The disappearing-messages module: per-chat timers. */
import { createDisappearingRepo } from './disappearing.repo.js';
import { createDisappearingService, type DisappearingServiceDeps } from './disappearing.service.js';

export { disappearingRoutes } from './disappearing.routes.js';
export { type DisappearingService, TIMERS } from './disappearing.service.js';

export function createDisappearingModule(deps: Omit<DisappearingServiceDeps, 'repo'>) {
  const repo = createDisappearingRepo(deps.db.kysely);
  return { repo, service: createDisappearingService({ ...deps, repo }) };
}
