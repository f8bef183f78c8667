/** The links module: short links and QR codes of business numbers, and the chats they start. */
import { createLinksRepo } from './links.repo.js';
import { createLinksService, type LinksServiceDeps } from './links.service.js';

export { linksRoutes } from './links.routes.js';
export { LINK_ATTRIBUTION_MS, type LinksService } from './links.service.js';

export function createLinksModule(deps: Omit<LinksServiceDeps, 'repo'>) {
  const repo = createLinksRepo(deps.db.kysely);
  const service = createLinksService({ ...deps, repo });
  return { repo, service, entryPointOf: service.entryPointOf };
}
