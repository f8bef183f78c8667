/** The Business Messaging API (Cloud API compatible). */

export { type ApiMessagesRepo, createApiMessagesRepo } from './api-messages.repo.js';
export { createApiObserver } from './api-observer.js';
export { type CloudApiRoutesDeps, cloudApiRoutes } from './cloud-api.routes.js';
export { type CloudApiService, createCloudApiService } from './cloud-api.service.js';
export { GraphError, graphErrors } from './graph-error.js';
export { createGraphMediaRepo } from './graph-media.repo.js';
export { graphMediaObjects, graphMediaRoutes } from './graph-media.routes.js';
export { createGraphMediaService, type GraphMediaService } from './graph-media.service.js';
export type { GraphCaller, GraphObjects, GraphRouteContext, GraphRoutes } from './graph-routes.js';
export { inboundText } from './inbound.js';
export { createManageRepo } from './manage.repo.js';
export { manageRoutes } from './manage.routes.js';
export { createManageService, type ManageService } from './manage.service.js';
export {
  bindMedia,
  type CloudMessageType,
  encodePayload,
  type MediaRef,
  type OutgoingMessage,
  parseOutgoing,
  type ResolvedMedia,
} from './message-content.js';
export { fromWamid, toWamid } from './wamid.js';
export {
  type InboundMedia,
  type InboundMessageInput,
  toWebhookMessage,
  type WebhookMessage,
} from './webhook-message.js';
export { NO_WEBHOOKS, type WebhookChange, type WebhookPort } from './webhook-port.js';
