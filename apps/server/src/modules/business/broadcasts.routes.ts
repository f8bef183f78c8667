/** REST edge of broadcast lists (owners and admins manage and send; agents look). */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponse } from '../../http/schemas.js';
import type { DeviceActor } from '../accounts/index.js';
import type { BroadcastsService } from './broadcasts.service.js';
import { businessParams } from './business.schemas.js';

const errors = {
  400: errorResponse,
  401: errorResponse,
  403: errorResponse,
  404: errorResponse,
  409: errorResponse,
};
const summary = z.object({
  list_id: z.string(),
  business_id: z.string(),
  name: z.string(),
  member_count: z.number(),
  created_at: z.string(),
  updated_at: z.string(),
});
const listView = summary.extend({
  members: z.array(
    z.object({ account_id: z.string(), phone: z.string(), display_name: z.string(), added_at: z.string() }),
  ),
});
const broadcastView = z.object({
  broadcast_id: z.string(),
  list_id: z.string(),
  phone_number_id: z.string(),
  text: z.string(),
  created_at: z.string(),
  recipients: z.number(),
  pending: z.number(),
  skipped: z.array(z.object({ account_id: z.string(), reason: z.enum(['blocked', 'not_opted_in']) })),
});
/** Phone numbers (E.164) or account ids; the plan's broadcast_size is the real limit. */
const members = z.array(z.string().min(2).max(64)).max(10_000);
const listParams = businessParams.extend({ list_id: z.string().min(5).max(64) });

export interface BroadcastsRoutesDeps {
  broadcasts: BroadcastsService;
  authenticate(request: FastifyRequest): Promise<DeviceActor>;
}

export async function broadcastsRoutes(app: FastifyInstance, deps: BroadcastsRoutesDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { broadcasts, authenticate } = deps;
  const secured = { tags: ['business'], security: [{ bearer: [] }] };
  const base = '/api/v1/businesses/:business_id/broadcast-lists';

  r.post(
    base,
    {
      schema: {
        ...secured,
        summary: 'Create a broadcast list of opted-in people (owners and admins)',
        params: businessParams,
        body: z.object({ name: z.string().min(1).max(64), members: members.default([]) }).strict(),
        response: { 201: listView, ...errors },
      },
    },
    async (request, reply) =>
      reply
        .code(201)
        .send(await broadcasts.create(await authenticate(request), request.params.business_id, request.body)),
  );
  r.get(
    base,
    {
      schema: {
        ...secured,
        summary: 'The business’s broadcast lists (without members)',
        params: businessParams,
        response: { 200: z.object({ broadcast_lists: z.array(summary) }), ...errors },
      },
    },
    async (request) => ({
      broadcast_lists: await broadcasts.list(await authenticate(request), request.params.business_id),
    }),
  );
  r.get(
    `${base}/:list_id`,
    {
      schema: {
        ...secured,
        summary: 'A broadcast list with its members',
        params: listParams,
        response: { 200: listView, ...errors },
      },
    },
    async (request) =>
      broadcasts.get(await authenticate(request), request.params.business_id, request.params.list_id),
  );
  r.delete(
    `${base}/:list_id`,
    {
      schema: {
        ...secured,
        summary: 'Delete a broadcast list (its sent broadcasts stay in the chats)',
        params: listParams,
        response: { 204: z.null(), ...errors },
      },
    },
    async (request, reply) => {
      await broadcasts.delete(
        await authenticate(request),
        request.params.business_id,
        request.params.list_id,
      );
      return reply.code(204).send(null);
    },
  );
  r.post(
    `${base}/:list_id/members`,
    {
      schema: {
        ...secured,
        summary: 'Add opted-in people (all or none)',
        params: listParams,
        body: z.object({ members: members.min(1) }).strict(),
        response: { 200: listView, ...errors },
      },
    },
    async (request) =>
      broadcasts.addMembers(
        await authenticate(request),
        request.params.business_id,
        request.params.list_id,
        request.body.members,
      ),
  );
  r.delete(
    `${base}/:list_id/members/:member`,
    {
      schema: {
        ...secured,
        summary: 'Remove a member (account id or phone number)',
        params: listParams.extend({ member: z.string().min(2).max(64) }),
        response: { 200: listView, ...errors },
      },
    },
    async (request) =>
      broadcasts.removeMember(
        await authenticate(request),
        request.params.business_id,
        request.params.list_id,
        request.params.member,
      ),
  );
  r.post(
    `${base}/:list_id/messages`,
    {
      schema: {
        ...secured,
        summary:
          'Broadcast a text (owners and admins): one 1:1 message from the business number to each ' +
          'member still opted in and not blocking it; the others are reported as skipped',
        params: listParams,
        body: z
          .object({
            text: z.string().min(1).max(4096),
            phone_number_id: z.string().min(1).max(32).optional(),
            client_id: z
              .string()
              .min(1)
              .max(64)
              .regex(/^[A-Za-z0-9._:-]+$/)
              .optional()
              .describe('idempotency key: a retry with the same id answers with the same broadcast'),
          })
          .strict(),
        response: { 201: broadcastView, ...errors },
      },
    },
    async (request, reply) =>
      reply.code(201).send(
        await broadcasts.send(
          await authenticate(request),
          request.params.business_id,
          request.params.list_id,
          {
            text: request.body.text,
            phoneNumberId: request.body.phone_number_id,
            clientKey: request.body.client_id,
          },
        ),
      ),
  );
  r.get(
    `${base}/:list_id/messages`,
    {
      schema: {
        ...secured,
        summary: 'The list’s broadcasts, newest first',
        params: listParams,
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(200).optional() }),
        response: { 200: z.object({ broadcasts: z.array(broadcastView) }), ...errors },
      },
    },
    async (request) => ({
      broadcasts: await broadcasts.history(
        await authenticate(request),
        request.params.business_id,
        request.params.list_id,
        request.query.limit,
      ),
    }),
  );
}
