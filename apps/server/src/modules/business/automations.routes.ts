/** REST edge of business automations: greeting and away messages, keyword rules, quick replies. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponse } from '../../http/schemas.js';
import type { DeviceActor } from '../accounts/index.js';
import type { AutomationsService } from './automations.service.js';
import { businessParams } from './business.schemas.js';

const errors = {
  400: errorResponse,
  401: errorResponse,
  403: errorResponse,
  404: errorResponse,
  409: errorResponse,
};
const greeting = z.object({ enabled: z.boolean(), text: z.string().max(4096) });
// The schedule is checked by the service, so a bad one answers AUTOMATION_SCHEDULE_INVALID.
const away = z.object({ enabled: z.boolean(), schedule: z.unknown(), text: z.string().max(4096) });
const settings = z.object({ greeting, away: away.extend({ schedule: z.record(z.string(), z.unknown()) }) });
const rule = z.object({
  rule_id: z.string(),
  position: z.number(),
  match: z.enum(['exact', 'contains', 'starts_with', 'word']),
  keywords: z.array(z.string()),
  action: z.record(z.string(), z.unknown()),
  enabled: z.boolean(),
});
const quickReply = z.object({ shortcut: z.string(), text: z.string() });

export async function automationsRoutes(
  app: FastifyInstance,
  deps: { automations: AutomationsService; authenticate(request: FastifyRequest): Promise<DeviceActor> },
): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { automations, authenticate } = deps;
  const secured = { tags: ['business'], security: [{ bearer: [] }] };
  const base = '/api/v1/businesses/:business_id';

  r.get(
    `${base}/automations`,
    {
      schema: {
        ...secured,
        summary: 'Greeting and away message settings',
        params: businessParams,
        response: { 200: settings, ...errors },
      },
    },
    async (request) => automations.getSettings(await authenticate(request), request.params.business_id),
  );
  r.patch(
    `${base}/automations`,
    {
      schema: {
        ...secured,
        summary: 'Change the greeting and/or away message (owners and admins)',
        params: businessParams,
        body: z.object({ greeting: greeting.partial(), away: away.partial() }).partial().strict(),
        response: { 200: settings, ...errors },
      },
    },
    async (request) =>
      automations.setSettings(await authenticate(request), request.params.business_id, request.body as never),
  );
  r.get(
    `${base}/keyword-rules`,
    {
      schema: {
        ...secured,
        summary: 'Keyword rules, in the order they apply',
        params: businessParams,
        response: { 200: z.object({ rules: z.array(rule) }), ...errors },
      },
    },
    async (request) => ({
      rules: await automations.listRules(await authenticate(request), request.params.business_id),
    }),
  );
  r.post(
    `${base}/keyword-rules`,
    {
      schema: {
        ...secured,
        summary: 'Add a keyword rule (match → reply, label or assign); counts against the plan',
        params: businessParams,
        body: z.record(z.string(), z.unknown()),
        response: { 201: rule, ...errors },
      },
    },
    async (request, reply) =>
      reply
        .code(201)
        .send(
          await automations.addRule(await authenticate(request), request.params.business_id, request.body),
        ),
  );
  r.delete(
    `${base}/keyword-rules/:rule_id`,
    {
      schema: {
        ...secured,
        summary: 'Delete a keyword rule',
        params: businessParams.extend({ rule_id: z.string().min(1).max(64) }),
        response: { 204: z.null(), ...errors },
      },
    },
    async (request, reply) => {
      await automations.deleteRule(
        await authenticate(request),
        request.params.business_id,
        request.params.rule_id,
      );
      return reply.code(204).send(null);
    },
  );
  r.get(
    `${base}/quick-replies`,
    {
      schema: {
        ...secured,
        summary: 'Quick replies (`/shortcut`)',
        params: businessParams,
        response: { 200: z.object({ quick_replies: z.array(quickReply) }), ...errors },
      },
    },
    async (request) => ({
      quick_replies: await automations.listQuickReplies(
        await authenticate(request),
        request.params.business_id,
      ),
    }),
  );
  r.put(
    `${base}/quick-replies/:shortcut`,
    {
      schema: {
        ...secured,
        summary: 'Save a quick reply: agents typing /shortcut send this text',
        params: businessParams.extend({ shortcut: z.string().min(1).max(32) }),
        body: z.object({ text: z.string().min(1).max(4096) }).strict(),
        response: { 200: quickReply, ...errors },
      },
    },
    async (request) =>
      automations.setQuickReply(
        await authenticate(request),
        request.params.business_id,
        request.params.shortcut,
        request.body.text,
      ),
  );
  r.delete(
    `${base}/quick-replies/:shortcut`,
    {
      schema: {
        ...secured,
        summary: 'Delete a quick reply',
        params: businessParams.extend({ shortcut: z.string().min(1).max(32) }),
        response: { 204: z.null(), ...errors },
      },
    },
    async (request, reply) => {
      await automations.deleteQuickReply(
        await authenticate(request),
        request.params.business_id,
        request.params.shortcut,
      );
      return reply.code(204).send(null);
    },
  );
}
