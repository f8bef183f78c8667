/** REST edge of the Business Messaging API's access tokens (owners and admins). */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponse } from '../../http/schemas.js';
import type { DeviceActor } from '../accounts/index.js';
import { businessParams } from './business.schemas.js';
import type { TokensService } from './tokens.service.js';

const errors = { 400: errorResponse, 401: errorResponse, 403: errorResponse, 404: errorResponse };

export const tokenView = z.object({
  token_id: z.string(),
  name: z.string(),
  prefix: z.string().nullable(),
  created_at: z.string(),
  last_used_at: z.string().nullable(),
});

export interface TokensRoutesDeps {
  tokens: TokensService;
  authenticate(request: FastifyRequest): Promise<DeviceActor>;
}

export async function tokensRoutes(app: FastifyInstance, deps: TokensRoutesDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { tokens, authenticate } = deps;
  const secured = { tags: ['business'], security: [{ bearer: [] }] };
  const base = '/api/v1/businesses/:business_id/tokens';

  r.post(
    base,
    {
      schema: {
        ...secured,
        summary: 'Create a Business Messaging API access token; `access_token` is shown this once',
        params: businessParams,
        body: z.object({ name: z.string().trim().min(1).max(64).optional() }).strict(),
        response: { 201: tokenView.extend({ access_token: z.string() }), ...errors },
      },
    },
    async (request, reply) =>
      reply
        .code(201)
        .send(
          await tokens.create(await authenticate(request), request.params.business_id, request.body.name),
        ),
  );
  r.get(
    base,
    {
      schema: {
        ...secured,
        summary: 'The live access tokens (never the tokens themselves)',
        params: businessParams,
        response: { 200: z.object({ tokens: z.array(tokenView) }), ...errors },
      },
    },
    async (request) => ({
      tokens: await tokens.list(await authenticate(request), request.params.business_id),
    }),
  );
  r.delete(
    `${base}/:token_id`,
    {
      schema: {
        ...secured,
        summary: 'Revoke an access token: its next request answers Graph error 190',
        params: businessParams.extend({ token_id: z.string().min(5).max(64) }),
        response: { 204: z.null(), ...errors },
      },
    },
    async (request, reply) => {
      await tokens.revoke(await authenticate(request), request.params.business_id, request.params.token_id);
      return reply.code(204).send(null);
    },
  );
}
