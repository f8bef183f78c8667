/**
 * The rules Meta enforces on the Business Messaging API: throughput, pair rate, the 24-hour
 * window, messaging-limit tiers, quality rating and opt-outs (see limits.service.ts).
 */
import type { Clock } from '../../../platform/clock.js';
import type { Db } from '../../../platform/db.js';
import type { Logger } from '../../../platform/logger.js';
import { createLimitsRepo } from './limits.repo.js';
import { createLimitsService } from './limits.service.js';

export type { Quality, Tier } from './limits.policy.js';
export { parseTier, TIERS, wireTier } from './limits.policy.js';
export type { LimitsRepo } from './limits.repo.js';
export type {
  CheckInput,
  CheckResult,
  LimitsService,
  NumberStatus,
  TemplateCategory,
} from './limits.service.js';

export function createLimitsModule(deps: {
  db: Pick<Db, 'kysely'>;
  clock: Clock;
  logger?: Pick<Logger, 'info'>;
}) {
  const repo = createLimitsRepo(deps.db.kysely);
  const service = createLimitsService({ ...deps, repo });
  return { repo, service };
}
