/** REST edge of receipts. Receipts themselves are sent over the WebSocket. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponse } from '../../http/schemas.js';
import type { DeviceActor } from '../accounts/index.js';
import type { ReceiptsService } from './receipts.service.js';

const who = z.array(z.object({ account_id: z.string(), at: z.string() }));

export async function receiptsRoutes(
  app: FastifyInstance,
  deps: { receipts: ReceiptsService; authenticate(request: FastifyRequest): Promise<DeviceActor> },
): Promise<void> {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/api/v1/messages/:id/receipts',
    {
      schema: {
        tags: ['messages'],
        security: [{ bearer: [] }],
        summary: 'Who has received and read a message you sent (groups: by whom)',
        params: z.object({ id: z.string().min(5).max(64) }),
        response: {
          200: z.object({ message_id: z.string(), delivered: who, read: who }),
          401: errorResponse,
          404: errorResponse,
        },
      },
    },
    async (request) => deps.receipts.forMessage(await deps.authenticate(request), request.params.id),
  );
}
