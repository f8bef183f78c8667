/** Message templates of the Business Messaging API: management, review, quality, send side. */
import { createTemplatesRepo } from './templates.repo.js';
import { createTemplatesService, type TemplatesServiceDeps } from './templates.service.js';

export type { OperatorTemplateView } from './templates.present.js';
export type { Rendered, RenderedButton, RenderedHeader } from './templates.render.js';
export { DEFAULT_RULES, REJECTION_REASONS, type ReviewRules } from './templates.review.js';
export { templateObjects, templatesGraphRoutes } from './templates.routes.js';
export type { PreparedTemplate, TemplatesService } from './templates.service.js';

export function createTemplatesModule(deps: Omit<TemplatesServiceDeps, 'repo'>) {
  const repo = createTemplatesRepo(deps.db.kysely);
  return { repo, service: createTemplatesService({ ...deps, repo }) };
}
