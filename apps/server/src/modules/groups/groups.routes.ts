/** REST edge of groups: validate, call the service, present. Messages go over the WebSocket. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponse } from '../../http/schemas.js';
import type { DeviceActor } from '../accounts/index.js';
import type { GroupsService } from './groups.service.js';

const group = z.object({
  group_id: z.string(),
  subject: z.string(),
  description: z.string(),
  photo: z.string().nullable(),
  created_by: z.string(),
  created_at: z.string(),
  only_admins_send: z.boolean(),
  only_admins_edit: z.boolean(),
  invite_code: z.string().nullable(),
  members: z.array(
    z.object({
      account_id: z.string(),
      phone: z.string(),
      role: z.enum(['admin', 'member']),
      joined_at: z.string(),
    }),
  ),
});
const groupId = z.object({ id: z.string().min(5).max(64).startsWith('grp_') });
const memberParams = groupId.extend({ accountId: z.string().min(5).max(64) });
const memberKeys = z
  .array(z.string().min(2).max(64))
  .max(1023)
  .describe('E.164 phone numbers or account ids');
const errors = {
  400: errorResponse,
  401: errorResponse,
  403: errorResponse,
  404: errorResponse,
  409: errorResponse,
};

export interface GroupsRoutesDeps {
  groups: GroupsService;
  authenticate(request: FastifyRequest): Promise<DeviceActor>;
}

export async function groupsRoutes(app: FastifyInstance, deps: GroupsRoutesDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { groups, authenticate } = deps;
  const secured = { tags: ['groups'], security: [{ bearer: [] }] };

  r.post(
    '/api/v1/groups',
    {
      schema: {
        ...secured,
        summary: 'Create a group (up to 1,024 members); the creator is its first admin',
        body: z
          .object({
            subject: z.string().min(1).max(100),
            description: z.string().max(2048).optional(),
            members: memberKeys,
          })
          .strict(),
        response: { 201: group, ...errors },
      },
    },
    async (request, reply) =>
      reply.code(201).send(await groups.create(await authenticate(request), request.body)),
  );

  r.get(
    '/api/v1/groups',
    {
      schema: {
        ...secured,
        summary: 'Groups you belong to',
        response: { 200: z.object({ groups: z.array(group) }), 401: errorResponse },
      },
    },
    async (request) => ({ groups: await groups.listMine(await authenticate(request)) }),
  );

  r.get(
    '/api/v1/groups/:id',
    {
      schema: {
        ...secured,
        summary: 'A group you belong to',
        params: groupId,
        response: { 200: group, ...errors },
      },
    },
    async (request) => groups.get(await authenticate(request), request.params.id),
  );

  r.patch(
    '/api/v1/groups/:id',
    {
      schema: {
        ...secured,
        summary: 'Change subject, description, photo (admins only if restricted) or settings (admins only)',
        params: groupId,
        body: z
          .object({
            subject: z.string().min(1).max(100).optional(),
            description: z.string().max(2048).optional(),
            only_admins_send: z.boolean().optional(),
            only_admins_edit: z.boolean().optional(),
            photo: z
              .string()
              .min(1)
              .max(64)
              .nullable()
              .optional()
              .describe('an image you uploaded (media id), or null to remove the photo'),
          })
          .strict(),
        response: { 200: group, ...errors },
      },
    },
    async (request) => groups.update(await authenticate(request), request.params.id, request.body),
  );

  r.post(
    '/api/v1/groups/:id/members',
    {
      schema: {
        ...secured,
        summary: 'Add members (admins only)',
        params: groupId,
        body: z.object({ members: memberKeys.min(1) }).strict(),
        response: { 200: group, ...errors },
      },
    },
    async (request) =>
      groups.addMembers(await authenticate(request), request.params.id, request.body.members),
  );

  r.delete(
    '/api/v1/groups/:id/members/:accountId',
    {
      schema: {
        ...secured,
        summary: 'Remove a member (admins only), or leave when accountId is your own',
        params: memberParams,
        response: { 204: z.null(), ...errors },
      },
    },
    async (request, reply) => {
      await groups.removeMember(await authenticate(request), request.params.id, request.params.accountId);
      return reply.code(204).send(null);
    },
  );

  r.post(
    '/api/v1/groups/:id/leave',
    {
      schema: {
        ...secured,
        summary: 'Leave the group',
        params: groupId,
        response: { 204: z.null(), ...errors },
      },
    },
    async (request, reply) => {
      const actor = await authenticate(request);
      await groups.removeMember(actor, request.params.id, actor.accountId);
      return reply.code(204).send(null);
    },
  );

  r.put(
    '/api/v1/groups/:id/admins/:accountId',
    {
      schema: {
        ...secured,
        summary: 'Make a member an admin (admins only)',
        params: memberParams,
        response: { 200: group, ...errors },
      },
    },
    async (request) =>
      groups.setRole(await authenticate(request), request.params.id, request.params.accountId, 'admin'),
  );

  r.delete(
    '/api/v1/groups/:id/admins/:accountId',
    {
      schema: {
        ...secured,
        summary: 'Make an admin a plain member (admins only)',
        params: memberParams,
        response: { 200: group, ...errors },
      },
    },
    async (request) =>
      groups.setRole(await authenticate(request), request.params.id, request.params.accountId, 'member'),
  );

  r.post(
    '/api/v1/groups/:id/invite',
    {
      schema: {
        ...secured,
        summary: 'Create or replace the invite link (admins only); the old link stops working',
        params: groupId,
        response: { 201: z.object({ code: z.string() }), ...errors },
      },
    },
    async (request, reply) =>
      reply.code(201).send(await groups.createInvite(await authenticate(request), request.params.id)),
  );

  r.delete(
    '/api/v1/groups/:id/invite',
    {
      schema: {
        ...secured,
        summary: 'Revoke the invite link (admins only)',
        params: groupId,
        response: { 204: z.null(), ...errors },
      },
    },
    async (request, reply) => {
      await groups.revokeInvite(await authenticate(request), request.params.id);
      return reply.code(204).send(null);
    },
  );

  r.post(
    '/api/v1/groups/join',
    {
      schema: {
        ...secured,
        summary: 'Join a group by its invite link code',
        body: z.object({ code: z.string().min(1).max(64) }).strict(),
        response: { 200: group, ...errors },
      },
    },
    async (request) => groups.join(await authenticate(request), request.body.code),
  );
}
