/**
 * Graph paths of business management (see manage.service.ts): registration, the business
 * profile update, block_users, message_qrdls and conversational_automation.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { graphBody } from './graph-error.js';
import type { GraphCaller, GraphRoutes } from './graph-routes.js';
import type { ManageService } from './manage.service.js';

type Params = { phone_number_id: string; code?: string };

export function manageRoutes(manage: ManageService): GraphRoutes {
  return (app, ctx) => {
    /** A handler that runs only for a Graph caller; other first segments get Parley's 404. */
    const graph =
      (
        run: (
          caller: GraphCaller,
          params: Params,
          request: FastifyRequest,
          reply: FastifyReply,
        ) => Promise<unknown>,
      ) =>
      async (request: FastifyRequest, reply: FastifyReply) => {
        const caller = await ctx.caller(request);
        if (!caller) return reply.callNotFound();
        return run(caller, request.params as Params, request, reply);
      };
    const query = (request: FastifyRequest) => (request.query ?? {}) as Record<string, unknown>;
    /**
     * Graph takes parameters in the query string as well as in the body (whatsapp-api-js
     * creates QR codes with `?prefilled_message=…&generate_qr_image=png` and no body).
     */
    const params = (request: FastifyRequest) => {
      const { access_token: _, ...rest } = query(request);
      const body = request.body;
      return body && typeof body === 'object' && !Array.isArray(body) ? { ...rest, ...body } : (body ?? rest);
    };
    const pn = '/:version/:phone_number_id';

    app.post(
      `${pn}/register`,
      ctx.schema('Register the phone number (sets its two-step verification PIN the first time)'),
      graph((c, p, r) => manage.register(c.businessId, p.phone_number_id, r.body)),
    );
    app.post(
      `${pn}/deregister`,
      ctx.schema('Deregister the phone number: it cannot send until registered again'),
      graph((c, p) => manage.deregister(c.businessId, p.phone_number_id)),
    );
    app.post(
      `${pn}/whatsapp_business_profile`,
      ctx.schema('Update the business profile'),
      graph((c, p, r) => manage.updateProfile(c.businessId, p.phone_number_id, r.body)),
    );

    const blocking =
      (op: 'block' | 'unblock') => (c: GraphCaller, p: Params, r: FastifyRequest, reply: FastifyReply) =>
        manage[op](c.businessId, p.phone_number_id, r.body).then((result) => {
          if ('ok' in result) return result.ok;
          const trace = randomBytes(12).toString('base64url');
          return reply
            .code(result.error.status)
            .header('x-fb-trace-id', trace)
            .send({ ...result.partial, ...graphBody(result.error, trace) });
        });
    app.get(
      `${pn}/block_users`,
      ctx.schema('The users this number blocked'),
      graph((c, p, r) => manage.blockedUsers(c.businessId, p.phone_number_id, query(r))),
    );
    app.post(`${pn}/block_users`, ctx.schema('Block users'), graph(blocking('block')));
    app.delete(`${pn}/block_users`, ctx.schema('Unblock users'), graph(blocking('unblock')));

    app.get(
      `${pn}/message_qrdls`,
      ctx.schema('The QR codes and short links of this number'),
      graph((c, p, r) => manage.qrCodes(c.businessId, p.phone_number_id, query(r))),
    );
    app.post(
      `${pn}/message_qrdls`,
      ctx.schema('Create a QR code and short link (or change one: body with code)'),
      graph((c, p, r) => manage.saveQrCode(c.businessId, p.phone_number_id, params(r))),
    );
    app.get(
      `${pn}/message_qrdls/:code`,
      ctx.schema('A QR code and short link'),
      graph((c, p, r) => manage.qrCode(c.businessId, p.phone_number_id, p.code ?? '', query(r))),
    );
    app.post(
      `${pn}/message_qrdls/:code`,
      ctx.schema('Change the prefilled message of a QR code'),
      graph((c, p, r) => manage.saveQrCode(c.businessId, p.phone_number_id, params(r), p.code ?? '')),
    );
    app.delete(
      `${pn}/message_qrdls/:code`,
      ctx.schema('Delete a QR code: its link stops resolving'),
      graph((c, p) => manage.deleteQrCode(c.businessId, p.phone_number_id, p.code ?? '')),
    );

    app.post(
      `${pn}/conversational_automation`,
      ctx.schema('Welcome message, ice breakers and commands of the number'),
      graph((c, p, r) => manage.setAutomation(c.businessId, p.phone_number_id, r.body)),
    );
  };
}
