/** The groups module: the only import other modules use. */
import { createGroupsRepo } from './groups.repo.js';
import { createGroupsService, type GroupsServiceDeps } from './groups.service.js';

export { groupsRoutes } from './groups.routes.js';
export { type GroupsService, MAX_GROUP_MEMBERS } from './groups.service.js';

export function createGroupsModule(deps: Omit<GroupsServiceDeps, 'repo'>) {
  const repo = createGroupsRepo(deps.db.kysely);
  return { repo, service: createGroupsService({ ...deps, repo }) };
}
