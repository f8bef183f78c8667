/** REST edge of business accounts and their shared inbox (agents, with their device tokens). */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponse } from '../../http/schemas.js';
import type { DeviceActor } from '../accounts/index.js';
import {
  agentView,
  businessParams,
  businessView,
  conversationParams,
  conversationView,
  createdView,
  messageView,
  noteView,
  profilePatch,
} from './business.schemas.js';
import type { BusinessService } from './business.service.js';
import type { InboxService } from './inbox.service.js';

const errors = {
  400: errorResponse,
  401: errorResponse,
  403: errorResponse,
  404: errorResponse,
  409: errorResponse,
};
const role = z.enum(['owner', 'admin', 'agent']);

export interface BusinessRoutesDeps {
  business: BusinessService;
  inbox: InboxService;
  authenticate(request: FastifyRequest): Promise<DeviceActor>;
}

export async function businessRoutes(app: FastifyInstance, deps: BusinessRoutesDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { business, inbox, authenticate } = deps;
  const secured = { tags: ['business'], security: [{ bearer: [] }] };
  const base = '/api/v1/businesses/:business_id';

  r.post(
    '/api/v1/businesses',
    {
      schema: {
        ...secured,
        summary: 'Create a business with its first phone number; you become its owner',
        body: z.object({ name: z.string().min(1).max(128), phone: z.string().min(2).max(32) }).strict(),
        response: { 201: createdView, ...errors },
      },
    },
    async (request, reply) =>
      reply.code(201).send(await business.createAsOwner(await authenticate(request), request.body)),
  );
  r.get(
    '/api/v1/businesses',
    {
      schema: {
        ...secured,
        summary: 'The businesses you work for',
        response: { 200: z.object({ businesses: z.array(businessView) }), 401: errorResponse },
      },
    },
    async (request) => ({ businesses: await business.listMine(await authenticate(request)) }),
  );
  r.get(
    base,
    {
      schema: {
        ...secured,
        summary: 'A business you work for',
        params: businessParams,
        response: { 200: businessView, ...errors },
      },
    },
    async (request) => business.get(await authenticate(request), request.params.business_id),
  );
  r.patch(
    `${base}/profile`,
    {
      schema: {
        ...secured,
        summary: 'Edit the name and profile (owners and admins); a new name needs verifying again',
        params: businessParams,
        body: profilePatch,
        response: { 200: businessView, ...errors },
      },
    },
    async (request) =>
      business.updateProfile(await authenticate(request), request.params.business_id, request.body),
  );

  r.post(
    `${base}/numbers`,
    {
      schema: {
        ...secured,
        summary: 'Add a phone number to the business (owners and admins)',
        params: businessParams,
        body: z.object({ phone: z.string().min(2).max(32) }).strict(),
        response: { 201: businessView, ...errors },
      },
    },
    async (request, reply) =>
      reply
        .code(201)
        .send(
          await business.addNumber(
            await authenticate(request),
            request.params.business_id,
            request.body.phone,
          ),
        ),
  );

  r.get(
    `${base}/agents`,
    {
      schema: {
        ...secured,
        summary: 'Agents',
        params: businessParams,
        response: { 200: z.object({ agents: z.array(agentView) }), ...errors },
      },
    },
    async (request) => ({
      agents: await business.listAgents(await authenticate(request), request.params.business_id),
    }),
  );
  r.post(
    `${base}/agents`,
    {
      schema: {
        ...secured,
        summary: 'Add (or change the role of) an agent, by phone or account id',
        params: businessParams,
        body: z.object({ account: z.string().min(2).max(64), role: role.default('agent') }).strict(),
        response: { 200: z.object({ agents: z.array(agentView) }), ...errors },
      },
    },
    async (request) => ({
      agents: await business.addAgent(
        await authenticate(request),
        request.params.business_id,
        request.body.account,
        request.body.role,
      ),
    }),
  );
  r.delete(
    `${base}/agents/:account_id`,
    {
      schema: {
        ...secured,
        summary: 'Remove an agent',
        params: businessParams.extend({ account_id: z.string().min(5).max(64) }),
        response: { 204: z.null(), ...errors },
      },
    },
    async (request, reply) => {
      await business.removeAgent(
        await authenticate(request),
        request.params.business_id,
        request.params.account_id,
      );
      return reply.code(204).send(null);
    },
  );

  r.get(
    `${base}/conversations`,
    {
      schema: {
        ...secured,
        summary: 'The shared inbox, newest first; filter by status, assignee or label',
        params: businessParams,
        querystring: z.object({
          status: z.enum(['open', 'pending', 'closed']).optional(),
          assignee: z.string().max(64).optional(),
          label: z.string().max(64).optional(),
          before: z.coerce.number().int().positive().optional(),
          limit: z.coerce.number().int().min(1).max(200).optional(),
        }),
        response: { 200: z.object({ conversations: z.array(conversationView) }), ...errors },
      },
    },
    async (request) => ({
      conversations: await inbox.list(await authenticate(request), request.params.business_id, request.query),
    }),
  );
  r.get(
    `${base}/conversations/:conversation_id`,
    {
      schema: {
        ...secured,
        summary: 'One conversation',
        params: conversationParams,
        response: { 200: conversationView, ...errors },
      },
    },
    async (request) =>
      inbox.get(await authenticate(request), request.params.business_id, request.params.conversation_id),
  );
  r.patch(
    `${base}/conversations/:conversation_id`,
    {
      schema: {
        ...secured,
        summary: 'Set the status (open, pending, closed) or the assigned agent (null: nobody)',
        params: conversationParams,
        body: z
          .object({
            status: z.enum(['open', 'pending', 'closed']),
            assignee: z.string().min(5).max(64).nullable(),
          })
          .partial()
          .strict(),
        response: { 200: conversationView, ...errors },
      },
    },
    async (request) =>
      inbox.update(
        await authenticate(request),
        request.params.business_id,
        request.params.conversation_id,
        request.body,
      ),
  );
  r.post(
    `${base}/conversations/:conversation_id/read`,
    {
      schema: {
        ...secured,
        summary: 'Mark the conversation read (unread back to 0)',
        params: conversationParams,
        response: { 200: conversationView, ...errors },
      },
    },
    async (request) =>
      inbox.markRead(await authenticate(request), request.params.business_id, request.params.conversation_id),
  );
  r.get(
    `${base}/conversations/:conversation_id/messages`,
    {
      schema: {
        ...secured,
        summary: 'The conversation’s messages, newest first (page with `before`, epoch ms)',
        params: conversationParams,
        querystring: z.object({
          before: z.coerce.number().int().positive().optional(),
          limit: z.coerce.number().int().min(1).max(200).optional(),
        }),
        response: { 200: z.object({ messages: z.array(messageView) }), ...errors },
      },
    },
    async (request) => ({
      messages: await inbox.messages(
        await authenticate(request),
        request.params.business_id,
        request.params.conversation_id,
        request.query,
      ),
    }),
  );
  r.post(
    `${base}/conversations/:conversation_id/messages`,
    {
      schema: {
        ...secured,
        summary: 'Reply as the business (`/shortcut` quick replies expand); answered once sent',
        params: conversationParams,
        body: z
          .object({
            text: z.string().min(1).max(4096),
            client_id: z
              .string()
              .min(1)
              .max(48)
              .regex(/^[A-Za-z0-9._:-]+$/)
              .optional(),
          })
          .strict(),
        response: { 201: messageView, ...errors, 503: errorResponse },
      },
    },
    async (request, reply) =>
      reply.code(201).send(
        await inbox.reply(
          await authenticate(request),
          request.params.business_id,
          request.params.conversation_id,
          {
            text: request.body.text,
            clientId: request.body.client_id,
          },
        ),
      ),
  );
  r.get(
    `${base}/conversations/:conversation_id/notes`,
    {
      schema: {
        ...secured,
        summary: 'Internal notes (agents only)',
        params: conversationParams,
        response: { 200: z.object({ notes: z.array(noteView) }), ...errors },
      },
    },
    async (request) => ({
      notes: await inbox.notes(
        await authenticate(request),
        request.params.business_id,
        request.params.conversation_id,
      ),
    }),
  );
  r.post(
    `${base}/conversations/:conversation_id/notes`,
    {
      schema: {
        ...secured,
        summary: 'Add an internal note (never sent to the person)',
        params: conversationParams,
        body: z.object({ text: z.string().min(1).max(4096) }).strict(),
        response: { 201: noteView, ...errors },
      },
    },
    async (request, reply) =>
      reply
        .code(201)
        .send(
          await inbox.addNote(
            await authenticate(request),
            request.params.business_id,
            request.params.conversation_id,
            request.body.text,
          ),
        ),
  );
}
