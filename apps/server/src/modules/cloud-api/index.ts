/** The Business Messaging API (Cloud API compatible). */
export { type CloudApiRoutesDeps, cloudApiRoutes } from './cloud-api.routes.js';
export { type CloudApiService, createCloudApiService } from './cloud-api.service.js';
export { GraphError, graphErrors } from './graph-error.js';
export type { GraphCaller, GraphObjects, GraphRouteContext, GraphRoutes } from './graph-routes.js';
export {
  type CheckInput,
  type CheckResult,
  createLimitsModule,
  type LimitsService,
  type NumberStatus,
} from './limits/index.js';
export { fromWamid, toWamid } from './wamid.js';
export { NO_WEBHOOKS, type WebhookChange, type WebhookPort } from './webhook-port.js';
