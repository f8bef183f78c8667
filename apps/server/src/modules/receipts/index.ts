/** The receipts module: delivered and read receipts. */
import { createReceiptsRepo } from './receipts.repo.js';
import { createReceiptsService, type ReceiptsServiceDeps } from './receipts.service.js';

export { receiptsRoutes } from './receipts.routes.js';
export { MAX_RECEIPT_IDS, type ReceiptsService } from './receipts.service.js';

export function createReceiptsModule(deps: Omit<ReceiptsServiceDeps, 'repo'>) {
  const repo = createReceiptsRepo(deps.db.kysely);
  return { repo, service: createReceiptsService({ ...deps, repo }) };
}
