/**
 * Wires rate cards, pricing models and the price preview for the billing module's index: one
 * instance of each per process, so the caches are shared and this process's writes drop them.
 */
import type { FastifyInstance } from 'fastify';
import type { RouteAuth } from '../../http/server.js';
import type { Clock } from '../../platform/clock.js';
import type { Db } from '../../platform/db.js';
import type { Ids } from '../../platform/ids.js';
import type { Logger } from '../../platform/logger.js';
import type { BusinessService } from '../business/index.js';
import { createPricingModelsService } from './pricing-models.service.js';
import { createPricePreview } from './rate-cards.preview.js';
import { rateCardsRoutes } from './rate-cards.routes.js';
import { createRateCardsService } from './rate-cards.service.js';

export function createRateCardsModule(deps: {
  db: Pick<Db, 'kysely' | 'caps'>;
  clock: Clock;
  ids: Ids;
  logger?: Pick<Logger, 'warn'>;
  business?: Pick<BusinessService, 'requireManager'>;
}) {
  const rateCards = createRateCardsService(deps);
  const pricingModels = createPricingModelsService(deps);
  const preview = createPricePreview({ ...deps, rateCards, pricingModels });
  return {
    rateCards,
    pricingModels,
    preview,
    /** For `HttpServerDeps.extraRoutes`. */
    routes: (app: FastifyInstance, auth: RouteAuth) =>
      rateCardsRoutes(app, auth, { rateCards, pricingModels, preview }),
  };
}

export type RateCardsModule = ReturnType<typeof createRateCardsModule>;
