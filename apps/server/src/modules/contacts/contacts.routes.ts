/** REST edge of contacts and privacy. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponse } from '../../http/schemas.js';
import type { DeviceActor } from '../accounts/index.js';
import type { ContactsService } from './contacts.service.js';
import { MAX_HASHES_PER_REQUEST } from './contacts.service.js';

const visibility = z.enum(['everyone', 'contacts', 'nobody']);
const privacy = z.object({
  last_seen: visibility,
  online: visibility,
  photo: visibility,
  about: visibility,
  read_receipts: z.boolean(),
});
const errors = { 400: errorResponse, 401: errorResponse, 404: errorResponse, 429: errorResponse };
const account = z.object({ account: z.string().min(2).max(64).describe('account id or E.164 phone number') });

export interface ContactsRoutesDeps {
  contacts: ContactsService;
  authenticate(request: FastifyRequest): Promise<DeviceActor>;
}

export async function contactsRoutes(app: FastifyInstance, deps: ContactsRoutesDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { contacts, authenticate } = deps;
  const secured = { tags: ['contacts'], security: [{ bearer: [] }] };

  r.post(
    '/api/v1/contacts/discover',
    {
      schema: {
        ...secured,
        summary: 'Which of these phone-number hashes (SHA-256 of E.164, base64url) are on Parley',
        body: z
          .object({ hashes: z.array(z.string().regex(/^[A-Za-z0-9_-]{43}$/)).max(MAX_HASHES_PER_REQUEST) })
          .strict(),
        response: {
          200: z.object({ matches: z.array(z.object({ hash: z.string(), account_id: z.string() })) }),
          ...errors,
        },
      },
    },
    async (request) => ({
      matches: await contacts.discover(await authenticate(request), request.body.hashes),
    }),
  );

  r.get(
    '/api/v1/blocks',
    {
      schema: {
        ...secured,
        summary: 'Accounts you blocked',
        response: {
          200: z.object({
            blocked: z.array(z.object({ account_id: z.string(), phone: z.string(), blocked_at: z.string() })),
          }),
          401: errorResponse,
        },
      },
    },
    async (request) => ({ blocked: await contacts.listBlocked(await authenticate(request)) }),
  );

  r.put(
    '/api/v1/blocks/:account',
    {
      schema: {
        ...secured,
        summary:
          'Block an account: its messages to you are no longer delivered, it sees no more of your profile',
        params: account,
        response: { 204: z.null(), ...errors },
      },
    },
    async (request, reply) => {
      await contacts.block(await authenticate(request), request.params.account);
      return reply.code(204).send(null);
    },
  );

  r.delete(
    '/api/v1/blocks/:account',
    {
      schema: {
        ...secured,
        summary: 'Unblock an account',
        params: account,
        response: { 204: z.null(), ...errors },
      },
    },
    async (request, reply) => {
      await contacts.unblock(await authenticate(request), request.params.account);
      return reply.code(204).send(null);
    },
  );

  r.get(
    '/api/v1/me/privacy',
    {
      schema: {
        ...secured,
        summary: 'Your privacy settings',
        response: { 200: privacy, 401: errorResponse },
      },
    },
    async (request) => contacts.getPrivacy(await authenticate(request)),
  );

  r.patch(
    '/api/v1/me/privacy',
    {
      schema: {
        ...secured,
        summary: 'Change who sees your last seen, online status, photo and about, and read receipts',
        body: privacy.partial().strict(),
        response: {
          200: privacy.extend({
            version: z
              .number()
              .optional()
              .describe('the account’s state version after the change (absent when nothing changed)'),
          }),
          ...errors,
        },
      },
    },
    async (request) => contacts.setPrivacy(await authenticate(request), request.body),
  );

  r.get(
    '/api/v1/presence/:account',
    {
      schema: {
        ...secured,
        summary: 'Online status and last seen of an account, as its privacy settings let you see them',
        params: account,
        response: {
          200: z.object({
            account_id: z.string(),
            online: z.boolean().nullable(),
            last_seen: z.string().nullable(),
          }),
          ...errors,
        },
      },
    },
    async (request) => contacts.presence(await authenticate(request), request.params.account),
  );

  r.post(
    '/api/v1/reports',
    {
      schema: {
        ...secured,
        summary: 'Report an account (spam or abuse), optionally blocking it',
        body: z
          .object({
            account: z.string().min(2).max(64),
            reason: z.string().max(500).optional(),
            block: z.boolean().optional(),
          })
          .strict(),
        response: { 201: z.object({ report_id: z.string(), blocked: z.boolean() }), ...errors },
      },
    },
    async (request, reply) =>
      reply.code(201).send(await contacts.report(await authenticate(request), request.body)),
  );
}
