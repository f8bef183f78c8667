/** REST edge of chat state and starred messages. Changes reach the other devices as events. */
import { MUTE_FOREVER } from '@parley/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponse } from '../../http/schemas.js';
import type { DeviceActor } from '../accounts/index.js';
import type { ChatsService } from './chats.service.js';

const visibility = z.enum(['everyone', 'contacts', 'nobody']);
const chatState = z.object({
  chat_id: z.string(),
  archived: z.boolean(),
  pinned: z.boolean(),
  pinned_at: z.number().nullable(),
  muted_until: z.number().nullable(),
  read_up_to: z.string().nullable(),
  read_at: z.number().nullable(),
  version: z.number(),
});
const settings = z.object({
  profile: z.object({ display_name: z.string(), about: z.string(), photo: z.string().nullable() }),
  privacy: z.object({
    last_seen: visibility,
    online: visibility,
    photo: visibility,
    about: visibility,
    read_receipts: z.boolean(),
  }),
  version: z.number(),
});
const star = z.object({
  message_id: z.string(),
  chat_id: z.string(),
  starred: z.boolean(),
  starred_at: z.number().nullable(),
  version: z.number(),
});
const messageId = z.object({ id: z.string().min(5).max(64) });
const errors = { 400: errorResponse, 401: errorResponse, 404: errorResponse, 409: errorResponse };

export interface ChatsRoutesDeps {
  chats: ChatsService;
  authenticate(request: FastifyRequest): Promise<DeviceActor>;
}

export async function chatsRoutes(app: FastifyInstance, deps: ChatsRoutesDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { chats, authenticate } = deps;
  const secured = { tags: ['chats'], security: [{ bearer: [] }] };

  r.get(
    '/api/v1/chats',
    {
      schema: {
        ...secured,
        summary:
          'Your chat states (archive, pin, mute, read position) and settings, the same on all your devices; ' +
          'with `since`, only chats changed after that version',
        querystring: z
          .object({ since: z.coerce.number().int().min(0).optional().describe('a `version` from earlier') })
          .strict(),
        response: {
          200: z.object({ chats: z.array(chatState), settings, version: z.number() }),
          ...errors,
        },
      },
    },
    async (request) => chats.list(await authenticate(request), request.query.since),
  );

  r.patch(
    '/api/v1/chats/:id',
    {
      schema: {
        ...secured,
        summary: 'Archive, pin (at most 3), mute or mark read a chat (an account id or a group id)',
        params: z.object({ id: z.string().min(1).max(64) }),
        body: z
          .object({
            archived: z.boolean().optional(),
            pinned: z.boolean().optional(),
            muted_until: z
              .number()
              .int()
              .min(MUTE_FOREVER)
              .nullable()
              .optional()
              .describe(`epoch ms in the future; ${MUTE_FOREVER}: until unmuted; null: unmute`),
            read_up_to: z.string().min(5).max(64).optional().describe('a message id of this chat'),
          })
          .strict(),
        response: { 200: chatState, ...errors },
      },
    },
    async (request) => chats.update(await authenticate(request), request.params.id, request.body),
  );

  r.put(
    '/api/v1/messages/:id/star',
    {
      schema: {
        ...secured,
        summary: 'Star a message you can see; starring it again changes nothing',
        params: messageId,
        response: { 200: star, ...errors },
      },
    },
    async (request) => chats.star(await authenticate(request), request.params.id),
  );

  r.delete(
    '/api/v1/messages/:id/star',
    {
      schema: {
        ...secured,
        summary: 'Unstar a message; unstarring one that is not starred changes nothing',
        params: messageId,
        response: { 200: star, ...errors },
      },
    },
    async (request) => chats.unstar(await authenticate(request), request.params.id),
  );

  r.get(
    '/api/v1/starred',
    {
      schema: {
        ...secured,
        summary: 'Your starred messages, newest first',
        response: {
          200: z.object({
            starred: z.array(
              z.object({ message_id: z.string(), chat_id: z.string(), starred_at: z.number() }),
            ),
            version: z.number(),
          }),
          401: errorResponse,
        },
      },
    },
    async (request) => chats.starred(await authenticate(request)),
  );
}
