export * from './api.js';
export * from './business.js';
export * from './business-labels.js';
export * from './business-stats.js';
export * from './errors.js';
export * from './frames.js';
export * from './media.js';
export * from './plans.js';
