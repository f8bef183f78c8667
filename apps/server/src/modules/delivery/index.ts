/** The delivery module: per-device queues, group commit, expiry. The only import others use. */
import { createDeliveryRepo } from './delivery.repo.js';
import { createDeliveryService, type DeliveryServiceDeps } from './delivery.service.js';

export { type CommitExecutor, createWorkerCommitExecutor } from './commit-executor.js';
export {
  DELETE_WINDOW_MS,
  EDIT_WINDOW_MS,
  FORWARDED_MANY_HOPS,
  pairKey,
} from './delivery.commit.js';
export type { EnvelopeRow } from './delivery.repo.js';
export {
  base64DecodedLength,
  type DeliveryService,
  type DeviceEvent,
  deviceChannel,
  ENVELOPE_TTL_MS,
  type SendInput,
  type SendResult,
} from './delivery.service.js';
export { createEventWriter, type EventWriter, type QueuedEvent } from './event-writer.js';

export function createDeliveryModule(deps: Omit<DeliveryServiceDeps, 'repo'>) {
  const repo = createDeliveryRepo(deps.db.caps);
  return { repo, service: createDeliveryService({ ...deps, repo }) };
}
