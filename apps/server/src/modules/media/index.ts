/** The media module: uploads stored by content hash, downloads for those who may see them. */
import path from 'node:path';
import type { Db } from '../../platform/db.js';
import { createMediaRepo } from './media.repo.js';
import { createMediaService, type MediaServiceDeps } from './media.service.js';
import { createMediaStore } from './media.store.js';

export { mediaRoutes } from './media.routes.js';
export {
  type FinishOptions,
  MEDIA_EXPIRY_GRACE_MS,
  type MediaDownload,
  type MediaService,
  type ReceivedUpload,
} from './media.service.js';
export { ACCEPTED_TYPES } from './media.types.js';

export interface MediaModuleDeps extends Omit<MediaServiceDeps, 'repo' | 'store'> {
  db: Pick<Db, 'kysely'>;
  /** The data folder: files live under its `media/`. */
  dataDir: string;
}

export function createMediaModule(deps: MediaModuleDeps) {
  const repo = createMediaRepo(deps.db.kysely);
  const store = createMediaStore(path.join(deps.dataDir, 'media'));
  return { repo, store, service: createMediaService({ ...deps, repo, store }) };
}
