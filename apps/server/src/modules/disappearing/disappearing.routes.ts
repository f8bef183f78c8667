/** REST edge of disappearing messages. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponse } from '../../http/schemas.js';
import type { DeviceActor } from '../accounts/index.js';
import { type DisappearingService, TIMERS, type TimerName } from './disappearing.service.js';

const timerName = z.enum(Object.keys(TIMERS) as [TimerName, ...TimerName[]]);
const view = z.object({
  chat_id: z.string(),
  timer: timerName,
  timer_ms: z.number(),
  set_by: z.string().nullable(),
  set_at: z.string().nullable(),
});
const params = z.object({ chat_id: z.string().min(5).max(64) });

export async function disappearingRoutes(
  app: FastifyInstance,
  deps: { disappearing: DisappearingService; authenticate(request: FastifyRequest): Promise<DeviceActor> },
): Promise<void> {
  const api = app.withTypeProvider<ZodTypeProvider>();
  api.get(
    '/api/v1/chats/:chat_id/disappearing',
    {
      schema: {
        tags: ['chats'],
        security: [{ bearer: [] }],
        summary: 'The disappearing-messages timer of a chat (account id or group id)',
        params,
        response: { 200: view, 401: errorResponse, 403: errorResponse, 404: errorResponse },
      },
    },
    async (request) => deps.disappearing.get(await deps.authenticate(request), request.params.chat_id),
  );
  api.put(
    '/api/v1/chats/:chat_id/disappearing',
    {
      schema: {
        tags: ['chats'],
        security: [{ bearer: [] }],
        summary: 'Turn disappearing messages off or on (24h, 7d, 90d) for a chat',
        params,
        body: z.object({ timer: timerName }),
        response: {
          200: view,
          400: errorResponse,
          401: errorResponse,
          403: errorResponse,
          404: errorResponse,
        },
      },
    },
    async (request) =>
      deps.disappearing.set(await deps.authenticate(request), request.params.chat_id, request.body.timer),
  );
}
