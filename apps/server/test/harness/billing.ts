/** Subscriptions, the consumer plan, payments and notices over a test context, with stand-ins. */

import { createConsumerPlanRepo } from '../../src/modules/billing/consumer-plan.repo.js';
import { createConsumerPlan } from '../../src/modules/billing/consumer-plan.service.js';
import { createNoticesRepo } from '../../src/modules/billing/notices.repo.js';
import { createNoticesService } from '../../src/modules/billing/notices.service.js';
import {
  createManualProvider,
  createPaymentProviders,
  createTestProvider,
} from '../../src/modules/billing/payment-provider.js';
import { createReceiptsRepo } from '../../src/modules/billing/payment-provider.repo.js';
import { createPayments } from '../../src/modules/billing/payment-provider.service.js';
import { createSubscriptionsRepo } from '../../src/modules/billing/subscriptions.repo.js';
import { createSubscriptions } from '../../src/modules/billing/subscriptions.service.js';
import { createPlansRepo } from '../../src/modules/plans/plans.repo.js';
import { createIds } from '../../src/platform/ids.js';
import { createTestBillingAccounts, createTestLedger } from './billing-standins.js';
import type { TestContext } from './builders.js';
import type { StorageContext } from './storage.js';

export async function createBillingHarness(storage: StorageContext, t: TestContext) {
  const db = storage.db;
  const ids = createIds(t.clock);
  const ledger = await createTestLedger(db, t.clock, ids);
  const accounts = createTestBillingAccounts(ledger, t.clock, ids);
  const testProvider = createTestProvider();
  const providers = createPaymentProviders([createManualProvider(), testProvider]);
  const notices = createNoticesService({ repo: createNoticesRepo(db.kysely), clock: t.clock, ids });
  const payments = createPayments({
    db,
    repo: createReceiptsRepo(db.kysely),
    ledger,
    accounts,
    providers,
    clock: t.clock,
    ids,
  });
  const subscriptionsRepo = createSubscriptionsRepo(db.kysely, db.caps.rowLocks);
  const subscriptions = createSubscriptions({
    db,
    repo: subscriptionsRepo,
    accounts,
    payments,
    notices,
    plans: createPlansRepo(db.kysely),
    setBusinessPlan: (tx, businessId, planId) => t.businessRepo.update(tx, businessId, { plan_id: planId }),
    clock: t.clock,
    ids,
  });
  const consumerPlan = createConsumerPlan({
    db,
    repo: createConsumerPlanRepo(db.kysely),
    settingsRepo: subscriptionsRepo,
    accounts,
    payments,
    notices,
    clock: t.clock,
  });
  return { ledger, accounts, testProvider, providers, notices, payments, subscriptions, consumerPlan };
}
