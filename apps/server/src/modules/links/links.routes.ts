/**
 * REST edge of short links: management by the business's agents, `open` by signed-in people,
 * and the public `/c/{code}` (JSON or a small HTML page) with its QR images, without a token.
 */
import { LINK_TEXT_MAX } from '@parley/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { isAppError } from '../../errors.js';
import { errorResponse } from '../../http/schemas.js';
import type { DeviceActor } from '../accounts/index.js';
import { businessParams } from '../business/index.js';
import { linkPage, notFoundPage } from './links.present.js';
import { QR_PNG_SIZE } from './links.qr.js';
import type { LinksService } from './links.service.js';

const errors = {
  400: errorResponse,
  401: errorResponse,
  403: errorResponse,
  404: errorResponse,
  409: errorResponse,
};
const text = z.string().max(LINK_TEXT_MAX * 2);
const source = z.enum(['link', 'qr']);

const linkView = z.object({
  code: z.string(),
  url: z.string(),
  qr_png_url: z.string(),
  qr_svg_url: z.string(),
  text: z.string(),
  phone_number_id: z.string(),
  chats_started: z.number(),
  created_at: z.string(),
  updated_at: z.string(),
});
const resolutionView = z.object({
  code: z.string(),
  phone: z.string(),
  business_name: z.string(),
  verified: z.boolean(),
  text: z.string(),
  chat_url: z.string(),
  source,
});

export interface LinksRoutesDeps {
  links: LinksService;
  authenticate(request: FastifyRequest): Promise<DeviceActor>;
}

function wantsJson(request: FastifyRequest): boolean {
  return /\bapplication\/json\b/i.test(request.headers.accept ?? '');
}

export async function linksRoutes(app: FastifyInstance, deps: LinksRoutesDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { links, authenticate } = deps;
  const secured = { tags: ['business'], security: [{ bearer: [] }] };
  const base = '/api/v1/businesses/:business_id/links';
  const linkParams = businessParams.extend({ code: z.string().min(1).max(64) });

  r.get(
    base,
    {
      schema: {
        ...secured,
        summary: 'The business’s short links, with the chats each started',
        params: businessParams,
        response: { 200: z.object({ links: z.array(linkView) }), ...errors },
      },
    },
    async (request) => ({ links: await links.list(await authenticate(request), request.params.business_id) }),
  );
  r.post(
    base,
    {
      schema: {
        ...secured,
        summary:
          'Create a short link with a prefilled message (owners and admins; a custom code is a plan feature)',
        params: businessParams,
        body: z
          .object({
            text,
            phone_number_id: z.string().min(1).max(32).optional(),
            code: z.string().min(1).max(64).optional(),
          })
          .strict(),
        response: { 201: linkView, ...errors },
      },
    },
    async (request, reply) =>
      reply.code(201).send(
        await links.create(await authenticate(request), request.params.business_id, {
          text: request.body.text,
          phoneNumberId: request.body.phone_number_id,
          code: request.body.code,
        }),
      ),
  );
  r.get(
    `${base}/:code`,
    {
      schema: {
        ...secured,
        summary: 'One short link',
        params: linkParams,
        response: { 200: linkView, ...errors },
      },
    },
    async (request) =>
      links.get(await authenticate(request), request.params.business_id, request.params.code),
  );
  r.patch(
    `${base}/:code`,
    {
      schema: {
        ...secured,
        summary: 'Change a link’s prefilled text or number (owners and admins)',
        params: linkParams,
        body: z
          .object({ text, phone_number_id: z.string().min(1).max(32) })
          .partial()
          .strict(),
        response: { 200: linkView, ...errors },
      },
    },
    async (request) =>
      links.update(await authenticate(request), request.params.business_id, request.params.code, {
        text: request.body.text,
        phoneNumberId: request.body.phone_number_id,
      }),
  );
  r.delete(
    `${base}/:code`,
    {
      schema: {
        ...secured,
        summary: 'Delete a link (owners and admins); its code is never given to another business',
        params: linkParams,
        response: { 204: z.null(), ...errors },
      },
    },
    async (request, reply) => {
      await links.remove(await authenticate(request), request.params.business_id, request.params.code);
      return reply.code(204).send(null);
    },
  );

  r.post(
    '/api/v1/links/:code/open',
    {
      schema: {
        ...secured,
        summary: 'You followed a link (or scanned its QR code): a chat you start within 24 h counts for it',
        params: z.object({ code: z.string().min(1).max(64) }),
        body: z
          .object({ source: source.default('link') })
          .strict()
          .default({ source: 'link' }),
        response: { 200: resolutionView, ...errors },
      },
    },
    async (request) => links.open(await authenticate(request), request.params.code, request.body.source),
  );

  const publicParams = z.object({ code: z.string().min(1).max(64) });
  r.get(
    '/c/:code',
    {
      schema: {
        tags: ['business'],
        summary:
          'Public: the chat a short link opens. JSON with `Accept: application/json`, otherwise a small HTML page',
        params: publicParams,
        querystring: z.object({ src: source.optional() }),
        response: {
          200: resolutionView.or(z.string().describe('the HTML page (text/html)')),
          404: errorResponse.or(z.string().describe('the HTML page (text/html)')),
        },
      },
    },
    async (request, reply) => {
      const src = request.query.src ?? 'link';
      if (wantsJson(request)) return links.resolve(request.params.code, src);
      reply.header(
        'content-security-policy',
        "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'",
      );
      reply.header('cache-control', 'no-cache');
      try {
        const page = linkPage(await links.resolve(request.params.code, src));
        return reply.type('text/html; charset=utf-8').send(page);
      } catch (e: unknown) {
        if (isAppError(e) && e.code === 'LINK_NOT_FOUND') {
          return reply.code(404).type('text/html; charset=utf-8').send(notFoundPage());
        }
        throw e;
      }
    },
  );
  r.get(
    '/c/:code/qr.png',
    {
      schema: {
        tags: ['business'],
        summary: 'Public: the link’s QR code as PNG (`size` in pixels, 128 to 1024)',
        params: publicParams,
        querystring: z.object({
          size: z.coerce.number().int().min(QR_PNG_SIZE.min).max(QR_PNG_SIZE.max).optional(),
        }),
      },
    },
    async (request, reply) => {
      const png = await links.qr(request.params.code, 'png', request.query.size);
      return reply.type('image/png').header('cache-control', 'public, max-age=3600').send(png);
    },
  );
  r.get(
    '/c/:code/qr.svg',
    { schema: { tags: ['business'], summary: 'Public: the link’s QR code as SVG', params: publicParams } },
    async (request, reply) => {
      const svg = await links.qr(request.params.code, 'svg');
      return reply.type('image/svg+xml').header('cache-control', 'public, max-age=3600').send(svg);
    },
  );
}
