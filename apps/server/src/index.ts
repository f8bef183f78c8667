/**
 * Programmatic entry points of the server, for benchmarks and embedding. The `parley`
 * program itself starts from main.ts.
 */
export { createModules, openPlatform, startRoles, VERSION, type Modules, type Platform } from './app.js';
export { type Config, parseConfig } from './config.js';
export { main } from './main.js';
