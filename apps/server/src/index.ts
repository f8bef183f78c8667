/**
 * Programmatic entry points of the server, for benchmarks and embedding. The `parley`
 * program itself starts from main.ts.
 */
export { createModules, type Modules, openPlatform, type Platform, startRoles, VERSION } from './app.js';
export { type Config, parseConfig } from './config.js';
export { main } from './main.js';
// Billing benchmark (issue 6): the billing module and invoices, driven without a server.
export { createBillingModule } from './modules/billing/index.js';
export { createInvoicesRepo } from './modules/billing/invoices.repo.js';
export { createInvoicesService } from './modules/billing/invoices.service.js';
export { createTaxRepo } from './modules/billing/tax.repo.js';
export { createTaxService } from './modules/billing/tax.service.js';
// The ledger and what a benchmark needs to drive it without a server (issue 6).
export { createLedger, type Ledger } from './modules/ledger/index.js';
export { systemClock } from './platform/clock.js';
export { openDb } from './platform/db.js';
export { createIds } from './platform/ids.js';
export { migrateToLatest } from './platform/migrate.js';
// End of the billing benchmark's exports.
