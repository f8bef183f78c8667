/** The contacts module: discovery, blocks, privacy settings, reports. */
import { createContactsRepo } from './contacts.repo.js';
import { type ContactsServiceDeps, createContactsService } from './contacts.service.js';

export { contactsRoutes } from './contacts.routes.js';
export { type ContactsService, MAX_HASHES_PER_DAY, MAX_HASHES_PER_REQUEST } from './contacts.service.js';

export function createContactsModule(deps: Omit<ContactsServiceDeps, 'repo'>) {
  const repo = createContactsRepo(deps.db.kysely);
  return { repo, service: createContactsService({ ...deps, repo }) };
}
