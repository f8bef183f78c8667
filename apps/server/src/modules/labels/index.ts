/** The labels module: a business's labels on its conversations and messages. */
import { createLabelsRepo } from './labels.repo.js';
import { createLabelsService, type LabelsServiceDeps } from './labels.service.js';

export { labelsRoutes } from './labels.routes.js';
export type { LabelsService } from './labels.service.js';

export function createLabelsModule(deps: Omit<LabelsServiceDeps, 'repo'>) {
  const repo = createLabelsRepo(deps.db.kysely);
  const service = createLabelsService({ ...deps, repo });
  return { repo, service, port: service.port };
}
