/** REST edge of accounts: validate, call the service, present. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponse } from '../../http/schemas.js';
import { profileShape } from '../business/index.js';
import type { AccountsService, DeviceActor } from './accounts.service.js';

const phoneBody = z.string().min(2).max(32).describe('E.164 phone number, e.g. +15550001111');
const profile = z.object({
  account_id: z.string(),
  phone: z.string(),
  display_name: z.string(),
  about: z.string(),
  photo: z.string().nullable().describe('media id of the profile photo; null when none or hidden'),
  business: z
    .object({
      business_id: z.string(),
      name: z.string(),
      verified: z.boolean(),
      hosted: z.literal(true),
      profile: profileShape,
      ice_breakers: z.array(z.string()).optional().describe('suggested first messages to offer'),
      commands: z
        .array(z.object({ name: z.string(), description: z.string() }))
        .optional()
        .describe('commands the business answers (`/name`)'),
    })
    .optional()
    .describe('present when the number is a business hosted on the platform'),
});
const device = z.object({
  device_id: z.string(),
  name: z.string(),
  role: z.enum(['primary', 'companion', 'hosted']),
  created_at: z.string(),
  last_seen_at: z.string().nullable(),
  current: z.boolean(),
});

export interface AccountsRoutesDeps {
  accounts: AccountsService;
  /** Resolves the bearer token of a request to its device, or throws UNAUTHENTICATED. */
  authenticate(request: FastifyRequest): Promise<DeviceActor>;
}

export async function accountsRoutes(app: FastifyInstance, deps: AccountsRoutesDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { accounts, authenticate } = deps;
  const secured = { security: [{ bearer: [] }] };

  r.post(
    '/api/v1/auth/code',
    {
      schema: {
        tags: ['auth'],
        summary: 'Send a one-time sign-in code to a phone number',
        body: z.object({ phone: phoneBody }),
        response: {
          202: z.object({ phone: z.string(), expires_in: z.number(), resend_in: z.number() }),
          400: errorResponse,
          429: errorResponse,
          502: errorResponse,
        },
      },
    },
    async (request, reply) => {
      const result = await accounts.requestCode({ ip: request.ip }, request.body);
      return reply.code(202).send(result);
    },
  );

  r.post(
    '/api/v1/auth/verify',
    {
      schema: {
        tags: ['auth'],
        summary: 'Confirm a one-time code; returns a device token (created account if new)',
        body: z.object({
          phone: phoneBody,
          code: z.string().min(1).max(12),
          device_name: z.string().max(64).optional(),
        }),
        response: {
          200: z.object({
            account_id: z.string(),
            device_id: z.string(),
            token: z.string(),
            new_account: z.boolean(),
          }),
          400: errorResponse,
          409: errorResponse,
          429: errorResponse,
        },
      },
    },
    async (request) => accounts.verifyCode({ ip: request.ip }, request.body),
  );

  r.get(
    '/api/v1/me',
    {
      schema: {
        tags: ['account'],
        summary: 'The signed-in account',
        ...secured,
        response: { 200: profile, 401: errorResponse },
      },
    },
    async (request) => accounts.getOwnProfile(await authenticate(request)),
  );

  r.patch(
    '/api/v1/me',
    {
      schema: {
        tags: ['account'],
        summary: 'Update the profile: display name, about and photo',
        ...secured,
        body: z
          .object({
            display_name: z.string().max(64).optional(),
            about: z.string().max(140).optional(),
            photo: z
              .string()
              .min(1)
              .max(64)
              .nullable()
              .optional()
              .describe('an image you uploaded (media id), or null to remove the photo'),
          })
          .strict(),
        response: {
          200: profile.extend({
            version: z
              .number()
              .optional()
              .describe('the account’s state version after the change (absent when nothing changed)'),
          }),
          400: errorResponse,
          401: errorResponse,
          404: errorResponse,
        },
      },
    },
    async (request) => accounts.updateProfile(await authenticate(request), request.body),
  );

  r.get(
    '/api/v1/accounts/:id',
    {
      schema: {
        tags: ['account'],
        summary: 'Another account’s profile, by account id or E.164 phone number',
        ...secured,
        params: z.object({ id: z.string().min(2).max(64) }),
        response: { 200: profile, 401: errorResponse, 404: errorResponse },
      },
    },
    async (request) => accounts.getProfile(await authenticate(request), request.params.id),
  );

  r.get(
    '/api/v1/devices',
    {
      schema: {
        tags: ['devices'],
        summary: 'Devices signed in to this account',
        ...secured,
        response: { 200: z.object({ devices: z.array(device) }), 401: errorResponse },
      },
    },
    async (request) => ({ devices: await accounts.listDevices(await authenticate(request)) }),
  );

  r.post(
    '/api/v1/devices/link-codes',
    {
      schema: {
        tags: ['devices'],
        summary: 'Show a code (or QR payload) that links a new companion device; primary device only',
        ...secured,
        response: {
          201: z.object({ code: z.string(), qr_payload: z.string(), expires_in: z.number() }),
          401: errorResponse,
          403: errorResponse,
          409: errorResponse,
          429: errorResponse,
        },
      },
    },
    async (request, reply) =>
      reply.code(201).send(await accounts.createLinkCode(await authenticate(request))),
  );

  r.post(
    '/api/v1/devices/link',
    {
      schema: {
        tags: ['devices'],
        summary: 'Link this device as a companion with a code shown on the primary; returns its token',
        body: z.object({
          code: z.string().min(1).max(40).describe('XXXX-XXXX, or the QR payload parley:link:XXXX-XXXX'),
          device_name: z.string().max(64).optional(),
        }),
        response: {
          200: z.object({ account_id: z.string(), device_id: z.string(), token: z.string() }),
          400: errorResponse,
          409: errorResponse,
          429: errorResponse,
        },
      },
    },
    async (request) => accounts.linkDevice({ ip: request.ip }, request.body),
  );

  const loggedOut = z.object({ logged_out: z.array(z.string()) });

  r.delete(
    '/api/v1/devices/:id',
    {
      schema: {
        tags: ['devices'],
        summary:
          'Log out (unlink) one device: its token stops working and its queue is dropped. A companion may log out only itself',
        ...secured,
        params: z.object({ id: z.string().min(1).max(64) }),
        response: { 200: loggedOut, 401: errorResponse, 404: errorResponse },
      },
    },
    async (request) => accounts.logout(await authenticate(request), { deviceId: request.params.id }),
  );

  r.post(
    '/api/v1/auth/logout',
    {
      schema: {
        tags: ['auth'],
        summary: 'Log out the calling device',
        ...secured,
        response: { 200: loggedOut, 401: errorResponse },
      },
    },
    async (request) => {
      const actor = await authenticate(request);
      return accounts.logout(actor, { deviceId: actor.deviceId });
    },
  );

  r.post(
    '/api/v1/auth/logout-all',
    {
      schema: {
        tags: ['auth'],
        summary: 'Log out every device of this account; primary device only',
        ...secured,
        response: { 200: loggedOut, 401: errorResponse },
      },
    },
    async (request) => accounts.logout(await authenticate(request), 'all'),
  );
}
