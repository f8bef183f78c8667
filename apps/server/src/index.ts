/**
 * Programmatic entry points of the server, for benchmarks and embedding. The `parley`
 * program itself starts from main.ts.
 */
export { createModules, type Modules, openPlatform, type Platform, startRoles, VERSION } from './app.js';
export { type Config, parseConfig } from './config.js';
export { main } from './main.js';
// The billing module, for the billing benchmark (issue 6).
export { createBillingModule } from './modules/billing/index.js';
// The ledger and what a benchmark needs to drive it without a server (issue 6).
export { createLedger, type Ledger } from './modules/ledger/index.js';
export { systemClock } from './platform/clock.js';
export { openDb } from './platform/db.js';
export { createIds } from './platform/ids.js';
export { migrateToLatest } from './platform/migrate.js';
