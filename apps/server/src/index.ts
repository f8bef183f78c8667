/**
 * Programmatic entry points of the server, for benchmarks and embedding. The `parley`
 * program itself starts from main.ts.
 */
export { createModules, type Modules, openPlatform, type Platform, startRoles, VERSION } from './app.js';
export { type Config, parseConfig } from './config.js';
export { main } from './main.js';
