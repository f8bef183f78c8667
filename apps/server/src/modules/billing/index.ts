/**
 * The billing module: rate cards and pricing models, billing accounts and metering,
 * invoices and tax, subscriptions and the consumer plan, payments and notices, partners and
 * revenue reporting, and the reconciliation of a month. `routes` are mounted by the HTTP
 * server; `tasks` run in the worker role.
 */
import type { FastifyInstance } from 'fastify';
import type { RouteAuth } from '../../http/server.js';
import type { Clock } from '../../platform/clock.js';
import type { Db, Executor } from '../../platform/db.js';
import type { Ids } from '../../platform/ids.js';
import type { Logger } from '../../platform/logger.js';
import type { BusinessService } from '../business/index.js';
import type { WebhookChange } from '../cloud-api/webhook-port.js';
import type { Ledger } from '../ledger/index.js';
import type { PlanRow } from '../plans/plans.repo.js';
import { billingRoutes } from './billing.routes.js';
import { createBillingAccountsRepo } from './billing-accounts.repo.js';
import { createBillingAccounts } from './billing-accounts.service.js';
import { createConsumerPlanRepo } from './consumer-plan.repo.js';
import { createConsumerPlan } from './consumer-plan.service.js';
import { createInvoicesRepo } from './invoices.repo.js';
import { invoicesRoutes } from './invoices.routes.js';
import { createInvoicesService } from './invoices.service.js';
import { createCloseBillingPeriodTask } from './invoices.task.js';
import { createInvoiceVerifier } from './invoices.verify.js';
import { createMetering } from './metering.js';
import { createNoticesRepo } from './notices.repo.js';
import { createNoticesService } from './notices.service.js';
import { createPartnersRepo } from './partners.repo.js';
import { partnersRoutes } from './partners.routes.js';
import { createPartnersService, type PartnersServiceDeps } from './partners.service.js';
import {
  createManualProvider,
  createPaymentProviders,
  createTestProvider,
  type PaymentProvider,
} from './payment-provider.js';
import { createReceiptsRepo } from './payment-provider.repo.js';
import { createPayments } from './payment-provider.service.js';
import { createRateCardsModule } from './rate-cards.module.js';
import { createReconciler } from './reconcile.js';
import { createRevenueRepo } from './revenue.repo.js';
import { revenueRoutes } from './revenue.routes.js';
import { createRevenueService } from './revenue.service.js';
import { createSubscriptionsRepo } from './subscriptions.repo.js';
import { subscriptionRoutes } from './subscriptions.routes.js';
import { createSubscriptions } from './subscriptions.service.js';
import { createTaxRepo } from './tax.repo.js';
import { createTaxService } from './tax.service.js';
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
  /** The business module, reached lazily (billing is built before it). */
  business?: {
    requireManager: BusinessService['requireManager'];
    directory: PartnersServiceDeps['directory'];
    setPlan(tx: Executor, businessId: string, planId: string): Promise<void>;
  };
  plans?: { find(id: string, tx?: Executor): Promise<PlanRow | undefined> };
  /** Payment providers besides the built-in manual one. */
  providers?: PaymentProvider[];
  /** Registers the built-in `test` provider (PARLEY_BILLING_TEST_PROVIDER; tests and demos only). */
  testProvider?: boolean;
  /** Shown at the top of invoice PDFs. */
  operatorName?: string;
}

export function createBillingModule(deps: BillingModuleDeps) {
  const { db, ledger, clock, ids } = deps;
  const repo = createBillingAccountsRepo(db.kysely, db.caps);
  const rates = createRateCardsModule({
    db,
    clock,
    ids,
    ...(deps.logger ? { logger: deps.logger } : {}),
    ...(deps.business
      ? { business: { requireManager: (a, b, tx) => deps.business!.requireManager(a, b, tx) } }
      : {}),
  });
  const { rateCards, pricingModels } = rates;
  const notices = createNoticesService({ repo: createNoticesRepo(db.kysely), clock, ids });
  const missingBusiness = () => {
    throw new Error('billing: the business module is not wired');
  };
  const partners = createPartnersService({
    db,
    repo: createPartnersRepo(db.kysely),
    directory: {
      find: (id, tx) => (deps.business ? deps.business.directory.find(id, tx) : missingBusiness()),
      accountByKey: (key, tx) =>
        deps.business ? deps.business.directory.accountByKey(key, tx) : missingBusiness(),
    },
    clock,
    ids,
  });
  const accounts = createBillingAccounts({
    db,
    repo,
    ledger,
    rateCards,
    pricingModels,
    partners,
    notices,
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
    partners,
    clock,
    ids,
    ensureAccounts: (tx, businessIds) => accounts.ensureBusinesses(tx, businessIds),
    revenueAccount: (tx, currency) => accounts.revenueAccount(tx, currency),
    partnerAccount: (tx, partnerId, currency) => accounts.partnerAccount(tx, partnerId, currency),
    afterPosting: (tx, rows) => accounts.checkLowBalance(tx, rows),
  });
  const tax = createTaxService({ db, repo: createTaxRepo(db.kysely), clock });
  const invoices = createInvoicesService({
    db,
    repo: createInvoicesRepo(db.kysely),
    tax,
    ledger,
    clock,
    ids,
  });
  const reconciler = createReconciler({
    db,
    repo,
    ledger,
    rateCards,
    pricingModels,
    invoices: createInvoiceVerifier(),
  });
  const usage = createUsageService({ db, repo });

  // Subscriptions, the consumer plan and top-ups see accounts through this adapter.
  const accountsPort = {
    ensure: accounts.ensure,
    get: (tx: Executor, ownerType: 'business' | 'person', ownerId: string) =>
      accounts.get(ownerType, ownerId, tx),
    charge: accounts.charge,
  };
  // The `test` provider collects money that does not exist: registered only when asked for.
  const testProvider = deps.testProvider ? createTestProvider() : undefined;
  const providers = createPaymentProviders([
    createManualProvider(),
    ...(testProvider ? [testProvider] : []),
    ...(deps.providers ?? []),
  ]);
  const payments = createPayments({
    db,
    repo: createReceiptsRepo(db.kysely),
    ledger,
    accounts: accountsPort,
    providers,
    clock,
    ids,
  });
  const subscriptionsRepo = createSubscriptionsRepo(db.kysely, db.caps.rowLocks);
  const subscriptions = createSubscriptions({
    db,
    repo: subscriptionsRepo,
    accounts: accountsPort,
    payments,
    notices,
    plans: deps.plans ?? { find: async () => undefined },
    setBusinessPlan: (tx, businessId, planId) =>
      deps.business ? deps.business.setPlan(tx, businessId, planId) : missingBusiness(),
    clock,
    ids,
  });
  const consumerPlan = createConsumerPlan({
    db,
    repo: createConsumerPlanRepo(db.kysely),
    settingsRepo: subscriptionsRepo,
    accounts: accountsPort,
    payments,
    notices,
    clock,
  });
  const revenue = createRevenueService({
    repo: createRevenueRepo(db.kysely),
    outstanding: async () => {
      const rows = await db.kysely
        .selectFrom('billing_accounts')
        .select(['owner_id', 'currency', 'ledger_account_id'])
        .where('owner_type', '=', 'business')
        .execute();
      const out = [];
      for (const r of rows) {
        const b = await ledger.balance(r.ledger_account_id);
        if (b.posted < 0n) out.push({ businessId: r.owner_id, currency: r.currency, balanceMinor: b.posted });
      }
      return out;
    },
  });
  const closePeriod = createCloseBillingPeriodTask({ invoices, clock });

  const requireManager: BusinessService['requireManager'] = (actor, businessId, tx) =>
    deps.business ? deps.business.requireManager(actor, businessId, tx) : missingBusiness();

  return {
    repo,
    rateCards,
    pricingModels,
    preview: rates.preview,
    accounts,
    metering,
    reconciler,
    usage,
    tax,
    invoices,
    notices,
    payments,
    providers,
    /** The `test` provider when registered: tests make it decline an account (`failFor`). */
    testProvider,
    subscriptions,
    consumerPlan,
    partners,
    revenue,
    /** Route plugins for `HttpServerDeps.extraRoutes`. */
    routes: [
      rates.routes,
      (app: FastifyInstance, auth: RouteAuth) =>
        billingRoutes(app, auth, { accounts, usage, reconciler, business: { requireManager } }),
      (app: FastifyInstance, auth: RouteAuth) =>
        invoicesRoutes(app, auth, {
          invoices,
          tax,
          requireManager,
          ...(deps.operatorName ? { operatorName: deps.operatorName } : {}),
        }),
      (app: FastifyInstance, auth: RouteAuth) =>
        subscriptionRoutes(app, auth, {
          business: { requireManager },
          subscriptions,
          payments,
          notices,
          consumerPlan,
          accounts: accountsPort,
          db,
        }),
      (app: FastifyInstance, auth: RouteAuth) => partnersRoutes(app, auth, { partners }),
      (app: FastifyInstance, auth: RouteAuth) => revenueRoutes(app, auth, { revenue }),
    ],
    /** Worker tasks. */
    tasks: [
      closePeriod,
      { name: 'renew-subscriptions', run: () => subscriptions.tick(clock.now()) },
      { name: 'consumer-plan-reminders', run: () => consumerPlan.tick(clock.now()) },
    ],
  };
}

export type BillingModule = ReturnType<typeof createBillingModule>;
