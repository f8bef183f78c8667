/**
 * Graph edge of templates: `/{v}/{waba-id}/message_templates` (list, create, delete) and
 * template ids at `/{v}/{template-id}` (get, edit). Validation and rules live in the service.
 */
import type { FastifyRequest } from 'fastify';
import type { GraphObjects, GraphRoutes } from '../cloud-api/index.js';
import type { ListQuery, TemplatesService } from './templates.service.js';

const query = (request: FastifyRequest) => (request.query ?? {}) as Record<string, string | undefined>;

/** The absolute URL of this list with one cursor replaced, as Graph's `paging.next`. */
function pageUrl(request: FastifyRequest, cursor: { after?: string; before?: string }): string {
  const url = new URL(request.url, `${request.protocol}://${request.host}`);
  url.searchParams.delete('after');
  url.searchParams.delete('before');
  url.searchParams.delete('access_token');
  for (const [k, v] of Object.entries(cursor)) if (v !== undefined) url.searchParams.set(k, v);
  return url.toString();
}

export function templatesGraphRoutes(templates: TemplatesService): GraphRoutes {
  return (app, ctx) => {
    app.get(
      '/:version/:waba_id/message_templates',
      ctx.schema('The message templates of the WhatsApp Business Account'),
      async (request, reply) => {
        const caller = await ctx.caller(request);
        if (!caller) return reply.callNotFound();
        const { waba_id } = request.params as { waba_id: string };
        const page = await templates.list(caller, waba_id, query(request) as ListQuery);
        if (!page.paging) return { data: page.data };
        const { before, after } = page.paging.cursors;
        return {
          data: page.data,
          paging: {
            cursors: page.paging.cursors,
            ...(page.hasPrevious ? { previous: pageUrl(request, { before }) } : {}),
            ...(page.hasNext ? { next: pageUrl(request, { after }) } : {}),
          },
        };
      },
    );
    app.post(
      '/:version/:waba_id/message_templates',
      ctx.schema('Create a message template (it enters review)'),
      async (request, reply) => {
        const caller = await ctx.caller(request);
        if (!caller) return reply.callNotFound();
        const { waba_id } = request.params as { waba_id: string };
        return templates.create(caller, waba_id, request.body);
      },
    );
    app.delete(
      '/:version/:waba_id/message_templates',
      ctx.schema('Delete a template by name (all languages) or by name and hsm_id (one)'),
      async (request, reply) => {
        const caller = await ctx.caller(request);
        if (!caller) return reply.callNotFound();
        const { waba_id } = request.params as { waba_id: string };
        const q = query(request);
        return templates.delete(caller, waba_id, {
          ...(q.name === undefined ? {} : { name: q.name }),
          ...(q.hsm_id === undefined ? {} : { hsm_id: q.hsm_id }),
        });
      },
    );
  };
}

/** Template ids at `/{v}/{template-id}`. */
export function templateObjects(templates: TemplatesService): GraphObjects {
  return {
    get: (caller, id, request) => templates.get(caller, id, query(request).fields),
    post: (caller, id, request) => templates.edit(caller, id, request.body),
  };
}
