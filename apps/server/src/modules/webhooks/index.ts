/**
 * The webhooks module: Cloud API webhooks for businesses (subscription with the handshake,
 * the durable signed outbox, its dispatcher on the worker role, dead letters and replay).
 * Other parts queue webhooks only through `port` (a WebhookPort), inside their transactions.
 */
import { createHttpClient, type HttpClient } from '../../platform/http-client.js';
import { createDispatcher, type DispatcherDeps } from './webhooks.dispatcher.js';
import { createWebhooksRepo } from './webhooks.repo.js';
import { createWebhooksService, type WebhooksServiceDeps } from './webhooks.service.js';

export { SIGNATURE_HEADER, serializeWebhookBody, signWebhookBody } from './webhook-body.js';
export type { Dispatcher } from './webhooks.dispatcher.js';
export { webhooksGraphRoutes, webhooksRoutes } from './webhooks.routes.js';
export type { WebhooksService } from './webhooks.service.js';

export interface WebhooksModuleDeps
  extends Omit<WebhooksServiceDeps, 'repo' | 'http' | 'onQueued'>,
    Pick<DispatcherDeps, 'logger' | 'random' | 'concurrency' | 'perEndpoint' | 'timeoutMs' | 'pollMs'> {
  /** Outbound HTTP; a keep-alive client by default. */
  http?: HttpClient;
}

export function createWebhooksModule(deps: WebhooksModuleDeps) {
  const repo = createWebhooksRepo(deps.db);
  const http = deps.http ?? createHttpClient({ userAgent: 'Parley-Webhooks', maxSocketsPerHost: 64 });
  const dispatcher = createDispatcher({ ...deps, repo, http });
  const service = createWebhooksService({ ...deps, repo, http, onQueued: () => dispatcher.wake() });
  return { repo, service, port: service.port, dispatcher, http };
}

export type WebhooksModule = ReturnType<typeof createWebhooksModule>;
