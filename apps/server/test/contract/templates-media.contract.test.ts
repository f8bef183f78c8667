/**
 * Contract tests of template management and media against Meta's OpenAPI document (oas.ts):
 * each call made over real HTTP as a Cloud API client makes it, the request checked against
 * the operation's request schema and the answer against its response schema.
 *
 * Meta's document gives these operations only a 200 response, so refusals are checked against
 * its Graph error envelope (GraphAPIError), the schema it gives every error elsewhere.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newPhone } from '../harness/builders.js';
import { makePdf, makePng } from '../harness/media-fixtures.js';
import { startTestServer, type TestServer } from '../harness/server.js';
import { expectGraphError, expectOas, expectOasRequest } from './oas.js';

const TEMPLATES = '/{Version}/{WABA-ID}/message_templates';
const TEMPLATE = '/{Version}/{TEMPLATE_ID}';
const MEDIA = '/{Version}/{Phone-Number-ID}/media';
const MEDIA_ID = '/{Version}/{Media-ID}';

type Body = Record<string, unknown>;

describe('templates and media against Meta’s OpenAPI document', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  const call = async (method: string, path: string, token: string | undefined, body?: unknown) => {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Body };
  };

  /** An error answer: its HTTP status and Meta's envelope. */
  const expectRefused = (res: { status: number; body: Body }, status: number, code: number) => {
    expect(res.status, JSON.stringify(res.body)).toBe(status);
    expectGraphError(res.body);
    expect((res.body.error as Body).code).toBe(code);
  };

  it('the document’s schemas for these operations are loose, but still bind the types', () => {
    // Meta derived these schemas from its examples: no required members, but typed ones. A
    // numeric id (as the template status webhook carries it) or a numeric file_size must fail.
    expect(() => expectOas(`POST ${TEMPLATES}`, 200, { id: 1689556908129832, status: 'PENDING' })).toThrow();
    expect(() => expectOas(`GET ${TEMPLATES}`, 200, { data: [{ components: [{ text: 1 }] }] })).toThrow();
    expect(() => expectOas(`GET ${MEDIA_ID}`, 200, { id: '1', file_size: 1234 })).toThrow();
    expect(() => expectOas(`DELETE ${MEDIA_ID}`, 200, { success: 'true' })).toThrow();
  });

  describe('message templates', () => {
    const utility = {
      name: 'order_confirmation',
      language: 'en_US',
      category: 'UTILITY',
      components: [
        { type: 'HEADER', format: 'TEXT', text: 'Order {{1}}', example: { header_text: ['A-1'] } },
        {
          type: 'BODY',
          text: 'Hi {{1}}, your order of {{2}} ships on {{3}}.',
          example: { body_text: [['Pat', '$10.00', 'May 1']] },
        },
        { type: 'FOOTER', text: 'Reply STOP to opt out' },
        {
          type: 'BUTTONS',
          buttons: [
            { type: 'QUICK_REPLY', text: 'Thanks' },
            { type: 'PHONE_NUMBER', text: 'Call us', phone_number: '15550001111' },
            {
              type: 'URL',
              text: 'Track',
              url: 'https://acme.test/track/{{1}}',
              example: ['https://acme.test/track/A-1'],
            },
          ],
        },
      ],
    };
    const marketing = {
      name: 'seasonal_promotion',
      language: 'en',
      category: 'MARKETING',
      components: [
        { type: 'HEADER', format: 'IMAGE', example: { header_handle: ['4::aW1hZ2UvanBn:ARYytyb0kLp5'] } },
        {
          type: 'BODY',
          text: 'Shop now through {{1}} and use code {{2}} to get {{3}} off.',
          example: { body_text: [['the end of August', '25OFF', '25%']] },
        },
        { type: 'BUTTONS', buttons: [{ type: 'QUICK_REPLY', text: 'Unsubscribe from Promos' }] },
      ],
    };
    // Meta's own example body (copy-code authentication template).
    const authentication = {
      name: 'authentication_code_copy_code_button',
      language: 'en_US',
      category: 'AUTHENTICATION',
      components: [
        { type: 'BODY', add_security_recommendation: true },
        { type: 'FOOTER', code_expiration_minutes: 10 },
        { type: 'BUTTONS', buttons: [{ type: 'OTP', otp_type: 'COPY_CODE', text: 'Copy Code' }] },
      ],
    };
    const named = {
      name: 'named_greeting',
      language: 'en_US',
      category: 'UTILITY',
      parameter_format: 'NAMED',
      components: [
        {
          type: 'BODY',
          text: 'Hello {{first_name}}, your table is ready.',
          example: { body_text_named_params: [{ param_name: 'first_name', example: 'Pat' }] },
        },
      ],
    };

    it('create, list (with and without filters), read, edit and delete', async () => {
      const biz = await server.modules.business.create({ name: 'Acme', phone: newPhone() });
      const t = biz.access_token;
      const path = `/v23.0/${biz.waba_id}/message_templates`;

      const ids: Record<string, string> = {};
      for (const body of [utility, marketing, authentication, named]) {
        expectOasRequest(`POST ${TEMPLATES}`, body);
        const created = await call('POST', path, t, body);
        expect(created.status, JSON.stringify(created.body)).toBe(200);
        expectOas(`POST ${TEMPLATES}`, 200, created.body);
        ids[body.name] = created.body.id as string;
      }
      // The marketing one waits for the operator; approve it so every status filter finds one.
      await server.modules.templates.approve(ids.seasonal_promotion ?? '');

      const all = await call('GET', path, t);
      expect(all.status).toBe(200);
      expect((all.body.data as unknown[]).length).toBe(4);
      expectOas(`GET ${TEMPLATES}`, 200, all.body);
      for (const query of [
        'name=order_confirmation',
        'status=APPROVED&category=UTILITY&language=en_US',
        'category=MARKETING',
        'fields=name,status,quality_score&limit=1',
        'name=no_such_template',
      ]) {
        const listed = await call('GET', `${path}?${query}`, t);
        expect(listed.status, query).toBe(200);
        expectOas(`GET ${TEMPLATES}`, 200, listed.body);
      }
      const page = await call('GET', `${path}?limit=1`, t);
      expect(page.body.paging).toMatchObject({ next: expect.any(String) });
      const next = await fetch((page.body.paging as { next: string }).next, {
        headers: { authorization: `Bearer ${t}` },
      });
      expectOas(`GET ${TEMPLATES}`, 200, await next.json());

      for (const id of Object.values(ids)) {
        const one = await call('GET', `/v23.0/${id}`, t);
        expect(one.status).toBe(200);
        expectOas(`GET ${TEMPLATE}`, 200, one.body);
      }
      expectOas(
        `GET ${TEMPLATE}`,
        200,
        (await call('GET', `/v23.0/${ids.order_confirmation}?fields=name`, t)).body,
      );

      const edit = {
        components: [
          {
            type: 'BODY',
            text: 'Hi {{1}}, your order of {{2}} is on its way, arriving {{3}}.',
            example: { body_text: [['Pat', '$10.00', 'May 1']] },
          },
        ],
      };
      expectOasRequest(`POST ${TEMPLATE}`, edit);
      const edited = await call('POST', `/v23.0/${ids.order_confirmation}`, t, edit);
      expect(edited).toEqual({ status: 200, body: { success: true } });
      expectOas(`POST ${TEMPLATE}`, 200, edited.body);

      const byId = await call('DELETE', `${path}?name=named_greeting&hsm_id=${ids.named_greeting}`, t);
      expect(byId.status).toBe(200);
      expectOas(`DELETE ${TEMPLATES}`, 200, byId.body);
      const byName = await call('DELETE', `${path}?name=seasonal_promotion`, t);
      expect(byName).toEqual({ status: 200, body: { success: true } });
      expectOas(`DELETE ${TEMPLATES}`, 200, byName.body);
      expect(((await call('GET', path, t)).body.data as unknown[]).length).toBe(2);
    });

    it('refusals are Graph error envelopes', async () => {
      const biz = await server.modules.business.create({ name: 'Acme', phone: newPhone() });
      const other = await server.modules.business.create({ name: 'Other', phone: newPhone() });
      const t = biz.access_token;
      const path = `/v23.0/${biz.waba_id}/message_templates`;
      const id = (await call('POST', path, t, utility)).body.id as string;

      // A body a client could send (it fits Meta's loose request schema) that Meta refuses.
      const badName = { ...utility, name: 'Not A Valid Name' };
      expectOasRequest(`POST ${TEMPLATES}`, badName);
      expectRefused(await call('POST', path, t, badName), 400, 100);
      const duplicate = await call('POST', path, t, utility);
      expectRefused(duplicate, 400, 100);
      expect((duplicate.body.error as Body).error_subcode).toBe(2388024);
      expectRefused(
        await call('POST', path, t, {
          ...utility,
          name: 'no_body',
          components: [{ type: 'FOOTER', text: 'x' }],
        }),
        400,
        100,
      );
      expectRefused(await call('POST', path, t, 'not an object'), 400, 100);
      expectRefused(await call('GET', `${path}?limit=0`, t), 400, 100);
      expectRefused(await call('DELETE', path, t), 400, 100);
      expectRefused(await call('POST', `/v23.0/${id}`, t, {}), 400, 100);
      expectRefused(await call('POST', `/v23.0/${id}`, t, { category: 'MARKETING' }), 400, 100);
      expectRefused(await call('GET', `/v23.0/${other.waba_id}/message_templates`, t), 400, 100);
      expectRefused(await call('GET', `/v23.0/${id}`, other.access_token), 400, 100);
      expectRefused(await call('GET', path, undefined), 401, 104);
      expectRefused(await call('GET', path, 'pbt_wrong'), 401, 190);
    });
  });

  describe('media', () => {
    async function upload(pnid: string, token: string, file: Buffer, type?: string) {
      const form = new FormData();
      form.append('messaging_product', 'whatsapp');
      if (type) form.append('type', type);
      form.append(
        'file',
        new Blob([new Uint8Array(file)], { type: type ?? 'application/octet-stream' }),
        'f',
      );
      // The form's fields as the document's multipart schema names them (the file as binary).
      expectOasRequest(
        `POST ${MEDIA}`,
        { messaging_product: 'whatsapp', file: 'f', ...(type ? { type } : {}) },
        'multipart/form-data',
      );
      const res = await fetch(`${server.url}/v23.0/${pnid}/media`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
        body: form,
      });
      return { status: res.status, body: (await res.json()) as Body };
    }

    it('upload, read and delete', async () => {
      const biz = await server.modules.business.create({ name: 'Acme', phone: newPhone() });
      const t = biz.access_token;
      for (const [file, type] of [
        [await makePng(), 'image/png'],
        [makePdf(), 'application/pdf'],
      ] as const) {
        const up = await upload(biz.phone_number_id, t, file, type);
        expect(up.status, JSON.stringify(up.body)).toBe(200);
        expectOas(`POST ${MEDIA}`, 200, up.body);
        const id = up.body.id as string;

        const info = await call('GET', `/v23.0/${id}`, t);
        expect(info.status).toBe(200);
        expect(info.body).toMatchObject({ id, mime_type: type, file_size: String(file.length) });
        expectOas(`GET ${MEDIA_ID}`, 200, info.body);
        const scoped = await call('GET', `/v23.0/${id}?phone_number_id=${biz.phone_number_id}`, t);
        expectOas(`GET ${MEDIA_ID}`, 200, scoped.body);

        const deleted = await call('DELETE', `/v23.0/${id}`, t);
        expect(deleted).toEqual({ status: 200, body: { success: true } });
        expectOas(`DELETE ${MEDIA_ID}`, 200, deleted.body);
        expectRefused(await call('GET', `/v23.0/${id}`, t), 400, 100);
      }
    });

    it('refusals are Graph error envelopes', async () => {
      const biz = await server.modules.business.create({ name: 'Acme', phone: newPhone() });
      const other = await server.modules.business.create({ name: 'Other', phone: newPhone() });
      const t = biz.access_token;
      const png = await makePng();
      expectRefused(await upload(biz.phone_number_id, t, png, 'image/jpeg'), 400, 131053);
      expectRefused(await upload(biz.phone_number_id, t, png, 'application/x-msdownload'), 400, 100);
      expectRefused(await upload(other.phone_number_id, t, png, 'image/png'), 400, 100);
      expectRefused(await upload(biz.phone_number_id, 'pbt_wrong', png, 'image/png'), 401, 190);
      const noFile = await fetch(`${server.url}/v23.0/${biz.phone_number_id}/media`, {
        method: 'POST',
        headers: { authorization: `Bearer ${t}` },
        body: (() => {
          const form = new FormData();
          form.append('messaging_product', 'whatsapp');
          return form;
        })(),
      });
      expectRefused({ status: noFile.status, body: (await noFile.json()) as Body }, 400, 131008);

      const id = (await upload(biz.phone_number_id, t, png, 'image/png')).body.id as string;
      expectRefused(await call('GET', `/v23.0/${id}`, other.access_token), 400, 100);
      expectRefused(await call('GET', `/v23.0/${id}?phone_number_id=${other.phone_number_id}`, t), 400, 100);
      expectRefused(await call('DELETE', `/v23.0/${id}`, other.access_token), 400, 100);
    });
  });
});
