/** The plans module: operator-editable plans and the limits they enforce. */
import { createPlansRepo } from './plans.repo.js';
import { createPlansService, type PlansServiceDeps } from './plans.service.js';

export { plansRoutes } from './plans.routes.js';
export { type PlansService, presentPlan } from './plans.service.js';

export function createPlansModule(deps: Omit<PlansServiceDeps, 'repo'>) {
  const repo = createPlansRepo(deps.db.kysely);
  return { repo, service: createPlansService({ ...deps, repo }) };
}
