/** The accounts module: the only import other modules use. */
import { createAccountsRepo } from './accounts.repo.js';
import { type AccountsServiceDeps, createAccountsService } from './accounts.service.js';

export { accountsRoutes } from './accounts.routes.js';
export {
  type AccountsService,
  type AnonymousActor,
  DEVICE_REVOKED_EVENT,
  type DeviceActor,
  type DeviceRevokedEvent,
} from './accounts.service.js';
export { displayPhone, normalizePhone, phoneHash } from './phone.js';

export function createAccountsModule(deps: Omit<AccountsServiceDeps, 'repo'>) {
  const repo = createAccountsRepo(deps.db.kysely);
  return { repo, service: createAccountsService({ ...deps, repo }) };
}
