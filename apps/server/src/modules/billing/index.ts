/**
 * The billing module: rate cards and pricing models, billing accounts and metering, and the
 * reconciliation of a month. Invoices, subscriptions and partners plug in here as they land.
 */
import type { Clock } from '../../platform/clock.js';
import type { Db, Executor } from '../../platform/db.js';
import type { Ids } from '../../platform/ids.js';
import type { Logger } from '../../platform/logger.js';
import type { WebhookChange } from '../cloud-api/webhook-port.js';
import type { Ledger } from '../ledger/index.js';
import type { NoticesPort, PartnersPort } from './billing.ports.js';
import { createBillingAccountsRepo } from './billing-accounts.repo.js';
import { createBillingAccounts } from './billing-accounts.service.js';
import { createMetering } from './metering.js';
import { createPricingModelsService } from './pricing-models.service.js';
import { createRateCardsService } from './rate-cards.service.js';
import { createReconciler, type InvoiceCheckPort } from './reconcile.js';
import { createUsageService } from './usage.service.js';

export { billingRoutes } from './billing.routes.js';
export type { BillingAccounts, BillingAccountView } from './billing-accounts.service.js';
export type { Metering } from './metering.js';
export type { ReconcileReport } from './reconcile.js';

export interface BillingModuleDeps {
  db: Pick<Db, 'kysely' | 'caps'>;
  ledger: Ledger;
  clock: Clock;
  ids: Ids;
  logger?: Pick<Logger, 'warn'>;
  webhooks?: { enqueue(tx: Executor, changes: WebhookChange[]): Promise<void> };
  /** New accounts' currency and credit line (PARLEY_BILLING_CURRENCY, PARLEY_BILLING_CREDIT_LIMIT). */
  defaults: { currency: string; creditLimitMinor: bigint };
  partners?: PartnersPort;
  notices?: NoticesPort;
  invoices?: InvoiceCheckPort;
}

export function createBillingModule(deps: BillingModuleDeps) {
  const { db, ledger, clock, ids } = deps;
  const repo = createBillingAccountsRepo(db.kysely, db.caps);
  const rateCards = createRateCardsService({ db, clock, ids });
  const pricingModels = createPricingModelsService({
    db,
    clock,
    ...(deps.logger ? { logger: deps.logger } : {}),
  });
  const accounts = createBillingAccounts({
    db,
    repo,
    ledger,
    rateCards,
    pricingModels,
    partners: deps.partners,
    notices: deps.notices,
    webhooks: deps.webhooks,
    clock,
    ids,
    defaults: deps.defaults,
  });
  const metering = createMetering({
    repo,
    ledger,
    rateCards,
    pricingModels,
    partners: deps.partners,
    clock,
    ids,
    ensureAccounts: (tx, businessIds) => accounts.ensureBusinesses(tx, businessIds),
    revenueAccount: (tx, currency) => accounts.revenueAccount(tx, currency),
    partnerAccount: (tx, partnerId, currency) => accounts.partnerAccount(tx, partnerId, currency),
    afterPosting: (tx, rows) => accounts.checkLowBalance(tx, rows),
  });
  const reconciler = createReconciler({
    db,
    repo,
    ledger,
    rateCards,
    pricingModels,
    invoices: deps.invoices,
  });
  const usage = createUsageService({ db, repo });
  return { repo, rateCards, pricingModels, accounts, metering, reconciler, usage };
}

export type BillingModule = ReturnType<typeof createBillingModule>;
