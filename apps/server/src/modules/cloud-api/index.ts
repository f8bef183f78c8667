/** The Business Messaging API (Cloud API compatible). */

export { type ApiMessagesRepo, createApiMessagesRepo } from './api-messages.repo.js';
export { createApiObserver } from './api-observer.js';
export { type CloudApiRoutesDeps, cloudApiRoutes } from './cloud-api.routes.js';
export { type CloudApiService, createCloudApiService } from './cloud-api.service.js';
export { GraphError, graphErrors } from './graph-error.js';
export type { GraphCaller, GraphObjects, GraphRouteContext, GraphRoutes } from './graph-routes.js';
export { inboundText } from './inbound.js';
export { createManageRepo } from './manage.repo.js';
export { manageRoutes } from './manage.routes.js';
export { createManageService, type ManageService } from './manage.service.js';
export { fromWamid, toWamid } from './wamid.js';
export { NO_WEBHOOKS, type WebhookChange, type WebhookPort } from './webhook-port.js';
