/** REST edge of plans: what each plan costs and allows (any signed-in device may ask). */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponse } from '../../http/schemas.js';
import type { DeviceActor } from '../accounts/index.js';
import type { PlansService } from './plans.service.js';

const plan = z.object({
  plan_id: z.string(),
  name: z.string(),
  price_minor: z.number(),
  currency: z.string(),
  limits: z.record(z.string(), z.number()),
  features: z.record(z.string(), z.boolean()),
});

export async function plansRoutes(
  app: FastifyInstance,
  deps: { plans: PlansService; authenticate(request: FastifyRequest): Promise<DeviceActor> },
): Promise<void> {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/api/v1/plans',
    {
      schema: {
        tags: ['business'],
        security: [{ bearer: [] }],
        summary: 'Business plans: monthly price, limits and features',
        response: { 200: z.object({ plans: z.array(plan) }), 401: errorResponse },
      },
    },
    async (request) => {
      await deps.authenticate(request);
      return { plans: await deps.plans.list() };
    },
  );
}
