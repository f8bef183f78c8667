/** REST edge of labels (agents of the business, with their device tokens). */
import { LABEL_NAME_MAX } from '@parley/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponse } from '../../http/schemas.js';
import type { DeviceActor } from '../accounts/index.js';
import { businessParams, conversationView, messageView } from '../business/index.js';
import type { LabelsService } from './labels.service.js';

const errors = {
  400: errorResponse,
  401: errorResponse,
  403: errorResponse,
  404: errorResponse,
  409: errorResponse,
};
const id = z.string().min(5).max(64);
const color = z
  .string()
  .max(16)
  .describe(
    '`#RRGGBB` or a palette color: red, orange, yellow, green, teal, blue, indigo, purple, pink, gray',
  );

export const labelView = z.object({
  label_id: z.string(),
  name: z.string(),
  color: z.string(),
  hex: z.string(),
  conversation_count: z.number(),
  message_count: z.number(),
  created_at: z.string(),
  updated_at: z.string(),
});
const messageLabelsView = z.object({
  message_id: z.string(),
  conversation_id: z.string(),
  labels: z.array(z.string()),
});

export interface LabelsRoutesDeps {
  labels: LabelsService;
  authenticate(request: FastifyRequest): Promise<DeviceActor>;
}

export async function labelsRoutes(app: FastifyInstance, deps: LabelsRoutesDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { labels, authenticate } = deps;
  const secured = { tags: ['business'], security: [{ bearer: [] }] };
  const base = '/api/v1/businesses/:business_id';
  const labelParams = businessParams.extend({ label_id: id });

  r.get(
    `${base}/labels`,
    {
      schema: {
        ...secured,
        summary: 'The business’s labels, by name',
        params: businessParams,
        response: { 200: z.object({ labels: z.array(labelView) }), ...errors },
      },
    },
    async (request) => ({
      labels: await labels.list(await authenticate(request), request.params.business_id),
    }),
  );
  r.post(
    `${base}/labels`,
    {
      schema: {
        ...secured,
        summary: 'Create a label (names are unique per business, ignoring case; the plan limits how many)',
        params: businessParams,
        body: z
          .object({
            name: z
              .string()
              .min(1)
              .max(LABEL_NAME_MAX * 2),
            color: color.optional(),
          })
          .strict(),
        response: { 201: labelView, ...errors },
      },
    },
    async (request, reply) =>
      reply
        .code(201)
        .send(await labels.create(await authenticate(request), request.params.business_id, request.body)),
  );
  r.patch(
    `${base}/labels/:label_id`,
    {
      schema: {
        ...secured,
        summary: 'Rename and/or recolor a label',
        params: labelParams,
        body: z
          .object({
            name: z
              .string()
              .min(1)
              .max(LABEL_NAME_MAX * 2),
            color,
          })
          .partial()
          .strict(),
        response: { 200: labelView, ...errors },
      },
    },
    async (request) =>
      labels.update(
        await authenticate(request),
        request.params.business_id,
        request.params.label_id,
        request.body,
      ),
  );
  r.delete(
    `${base}/labels/:label_id`,
    {
      schema: {
        ...secured,
        summary: 'Delete a label; it comes off every conversation and message',
        params: labelParams,
        response: { 204: z.null(), ...errors },
      },
    },
    async (request, reply) => {
      await labels.remove(await authenticate(request), request.params.business_id, request.params.label_id);
      return reply.code(204).send(null);
    },
  );
  r.get(
    `${base}/labels/:label_id/messages`,
    {
      schema: {
        ...secured,
        summary: 'Messages carrying the label, newest first (page with `before`, epoch ms)',
        params: labelParams,
        querystring: z.object({
          before: z.coerce.number().int().positive().optional(),
          limit: z.coerce.number().int().min(1).max(200).optional(),
        }),
        response: { 200: z.object({ messages: z.array(messageView) }), ...errors },
      },
    },
    async (request) => ({
      messages: await labels.messages(
        await authenticate(request),
        request.params.business_id,
        request.params.label_id,
        request.query,
      ),
    }),
  );

  const conversationLabelParams = businessParams.extend({ conversation_id: id, label_id: id });
  r.put(
    `${base}/conversations/:conversation_id/labels/:label_id`,
    {
      schema: {
        ...secured,
        summary: 'Put a label on a conversation (again: no change)',
        params: conversationLabelParams,
        response: { 200: conversationView, ...errors },
      },
    },
    async (request) => {
      const p = request.params;
      return labels.applyToConversation(
        await authenticate(request),
        p.business_id,
        p.conversation_id,
        p.label_id,
      );
    },
  );
  r.delete(
    `${base}/conversations/:conversation_id/labels/:label_id`,
    {
      schema: {
        ...secured,
        summary: 'Take a label off a conversation',
        params: conversationLabelParams,
        response: { 200: conversationView, ...errors },
      },
    },
    async (request) => {
      const p = request.params;
      return labels.removeFromConversation(
        await authenticate(request),
        p.business_id,
        p.conversation_id,
        p.label_id,
      );
    },
  );

  const messageLabelParams = businessParams.extend({ message_id: id, label_id: id });
  r.put(
    `${base}/messages/:message_id/labels/:label_id`,
    {
      schema: {
        ...secured,
        summary: 'Put a label on one message of the inbox (again: no change)',
        params: messageLabelParams,
        response: { 200: messageLabelsView, ...errors },
      },
    },
    async (request) => {
      const p = request.params;
      return labels.applyToMessage(await authenticate(request), p.business_id, p.message_id, p.label_id);
    },
  );
  r.delete(
    `${base}/messages/:message_id/labels/:label_id`,
    {
      schema: {
        ...secured,
        summary: 'Take a label off a message',
        params: messageLabelParams,
        response: { 200: messageLabelsView, ...errors },
      },
    },
    async (request) => {
      const p = request.params;
      return labels.removeFromMessage(await authenticate(request), p.business_id, p.message_id, p.label_id);
    },
  );
}
