/** The Business Messaging API (Cloud API compatible). */
export { cloudApiRoutes } from './cloud-api.routes.js';
export { type CloudApiService, createCloudApiService } from './cloud-api.service.js';
export { fromWamid, toWamid } from './wamid.js';
