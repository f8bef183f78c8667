/**
 * Message templates over real HTTP, as a Cloud API client manages them, with the operator's
 * review through the `parley template` program (run in-process on the server's database).
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/main.js';
import { newPhone } from '../harness/builders.js';
import { startTestServer, type TestServer } from '../harness/server.js';

/** What the Graph paths answer (the fields these tests read). */
interface GraphBody {
  id?: string;
  status?: string;
  category?: string;
  data?: { id: string; language: string }[];
  paging?: { cursors: { before: string; after: string } };
  error?: { code: number; error_subcode?: number; error_data?: { details: string } };
  [key: string]: unknown;
}

describe('message templates over the Business Messaging API', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  const call = async (method: string, path: string, token: string, body?: unknown) => {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as GraphBody };
  };

  /** Runs `parley …` against the test server's database; answers exit code and output. */
  const parley = async (...argv: string[]) => {
    let stdout = '';
    let stderr = '';
    const sink = (write: (s: string) => void) =>
      new Writable({
        write(chunk, _enc, done) {
          write(String(chunk));
          done();
        },
      });
    const code = await main(argv, {
      env: { PARLEY_DATA_DIR: server.platform.config.dataDir, PARLEY_LOG_LEVEL: 'silent' },
      cwd: process.cwd(),
      stdout: sink((s) => {
        stdout += s;
      }),
      stderr: sink((s) => {
        stderr += s;
      }),
    });
    return { code, stdout, stderr };
  };

  const marketing = (name: string) => ({
    name,
    language: 'en_US',
    category: 'MARKETING',
    components: [
      { type: 'HEADER', format: 'TEXT', text: 'Our {{1}} is on!', example: { header_text: ['Summer Sale'] } },
      {
        type: 'BODY',
        text: 'Shop now through {{1}} and use code {{2}} to get {{3}} off of all merchandise.',
        example: { body_text: [['the end of August', '25OFF', '25%']] },
      },
      { type: 'FOOTER', text: 'Use the buttons below to manage your marketing subscriptions' },
      { type: 'BUTTONS', buttons: [{ type: 'QUICK_REPLY', text: 'Unsubscribe from Promos' }] },
    ],
  });

  it('creates a template that waits for review, the operator approves it, and it is listed approved', async () => {
    const biz = await server.modules.business.create({ name: 'Acme', phone: newPhone() });
    const path = `/v23.0/${biz.waba_id}/message_templates`;
    const created = await call('POST', path, biz.access_token, marketing('seasonal_promotion'));
    expect(created).toEqual({
      status: 200,
      body: { id: expect.stringMatching(/^\d+$/), status: 'PENDING', category: 'MARKETING' },
    });
    const id = created.body.id ?? '';

    const queue = await parley('template', 'list', '--status', 'PENDING', '--json');
    expect(queue.code).toBe(0);
    expect(JSON.parse(queue.stdout).templates.map((t: { id: string }) => t.id)).toContain(id);
    const approved = await parley('template', 'approve', id);
    expect(approved).toMatchObject({ code: 0, stdout: expect.stringContaining(`${id}\tAPPROVED`) });

    const list = await call('GET', `${path}?status=APPROVED`, biz.access_token);
    expect(list.status).toBe(200);
    expect(list.body.data).toEqual([
      expect.objectContaining({
        id,
        name: 'seasonal_promotion',
        language: 'en_US',
        status: 'APPROVED',
        category: 'MARKETING',
      }),
    ]);
    expect(list.body.paging?.cursors).toEqual({ before: expect.any(String), after: expect.any(String) });
    const one = await call('GET', `/v21.0/${id}?fields=name,status`, biz.access_token);
    expect(one).toEqual({ status: 200, body: { id, name: 'seasonal_promotion', status: 'APPROVED' } });

    const again = await parley('template', 'approve', id);
    expect(again.code).toBe(1);
    expect(JSON.parse(again.stderr).error.code).toBe('TEMPLATE_NOT_REVIEWABLE');
  });

  it('rejects through the operator with a reason, refuses malformed templates and duplicates as Meta does', async () => {
    const biz = await server.modules.business.create({ name: 'Bolt', phone: newPhone() });
    const path = `/v23.0/${biz.waba_id}/message_templates`;
    const id = (await call('POST', path, biz.access_token, marketing('to_reject'))).body.id ?? '';
    const rejected = await parley('template', 'reject', id, '--reason', 'TAG_CONTENT_MISMATCH', '--json');
    expect(rejected.code).toBe(0);
    expect(JSON.parse(rejected.stdout)).toMatchObject({
      id,
      status: 'REJECTED',
      rejected_reason: 'TAG_CONTENT_MISMATCH',
    });
    expect((await call('GET', `/v23.0/${id}`, biz.access_token)).body).toMatchObject({
      status: 'REJECTED',
      rejected_reason: 'TAG_CONTENT_MISMATCH',
    });
    expect((await parley('template', 'reject', id)).code).toBe(2);

    const duplicate = await call('POST', path, biz.access_token, marketing('to_reject'));
    expect(duplicate.status).toBe(400);
    expect(duplicate.body.error).toMatchObject({ code: 100, error_subcode: 2388024, type: 'OAuthException' });

    const malformed = marketing('malformed');
    malformed.components[1] = {
      type: 'BODY',
      text: '{{1}} is at the start',
      example: { body_text: [['x']] },
    };
    const bad = await call('POST', path, biz.access_token, malformed);
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({
      code: 100,
      error_data: { details: expect.stringMatching(/may not start with a variable/) },
    });

    const promo = await call('POST', path, biz.access_token, {
      name: 'promo_utility',
      language: 'en_US',
      category: 'UTILITY',
      components: [{ type: 'BODY', text: 'Your order shipped. Buy now and get a discount on the next!' }],
    });
    expect(promo.body).toMatchObject({ status: 'REJECTED', category: 'UTILITY' });
  });

  it('edits within Meta’s limits and deletes by name', async () => {
    const biz = await server.modules.business.create({ name: 'Cog', phone: newPhone() });
    const path = `/v23.0/${biz.waba_id}/message_templates`;
    const utility = {
      name: 'order_update',
      language: 'en_US',
      category: 'UTILITY',
      components: [{ type: 'BODY', text: 'Your order {{1}} has shipped.', example: { body_text: [['42']] } }],
    };
    const created = await call('POST', path, biz.access_token, utility);
    expect(created.body).toMatchObject({ status: 'APPROVED', category: 'UTILITY' });
    const id = created.body.id ?? '';
    const components = [
      { type: 'BODY', text: 'Your parcel {{1}} has shipped.', example: { body_text: [['42']] } },
    ];
    expect(await call('POST', `/v23.0/${id}`, biz.access_token, { components })).toEqual({
      status: 200,
      body: { success: true },
    });
    const second = await call('POST', `/v23.0/${id}`, biz.access_token, { components });
    expect(second.status).toBe(400);
    expect(second.body.error?.error_data?.details).toMatch(/once in 24 hours/);

    await call('POST', path, biz.access_token, { ...utility, language: 'es' });
    expect(await call('DELETE', `${path}?name=order_update&hsm_id=${id}`, biz.access_token)).toEqual({
      status: 200,
      body: { success: true },
    });
    expect(
      (await call('GET', `${path}?name=order_update`, biz.access_token)).body.data?.map((t) => t.language),
    ).toEqual(['es']);
    await call('DELETE', `${path}?name=order_update`, biz.access_token);
    expect((await call('GET', `${path}?name=order_update`, biz.access_token)).body).toEqual({ data: [] });
    expect((await call('GET', `/v23.0/${id}`, biz.access_token)).body.error).toMatchObject({
      code: 100,
      error_subcode: 33,
    });
  });

  it('business A can do nothing to business B’s templates', async () => {
    const a = await server.modules.business.create({ name: 'Alpha', phone: newPhone() });
    const b = await server.modules.business.create({ name: 'Beta', phone: newPhone() });
    const bPath = `/v23.0/${b.waba_id}/message_templates`;
    const id = (await call('POST', bPath, b.access_token, marketing('secret_plan'))).body.id ?? '';
    const unknown = { code: 100, error_subcode: 33 };
    expect((await call('GET', bPath, a.access_token)).body.error).toMatchObject(unknown);
    expect((await call('POST', bPath, a.access_token, marketing('hijack'))).body.error).toMatchObject(
      unknown,
    );
    expect((await call('DELETE', `${bPath}?name=secret_plan`, a.access_token)).body.error).toMatchObject(
      unknown,
    );
    expect((await call('GET', `/v23.0/${id}`, a.access_token)).body.error).toMatchObject(unknown);
    expect(
      (await call('POST', `/v23.0/${id}`, a.access_token, { category: 'UTILITY' })).body.error,
    ).toMatchObject(unknown);
    expect((await call('GET', `/v23.0/${id}`, b.access_token)).body).toMatchObject({ id, status: 'PENDING' });
    expect((await call('GET', `/v23.0/${a.waba_id}/message_templates`, a.access_token)).body).toEqual({
      data: [],
    });
  });

  it('shows and changes the review rules through the program', async () => {
    const shown = await parley('template', 'rules', '--json');
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({
      auto_approve_categories: ['UTILITY', 'AUTHENTICATION'],
    });
    const set = await parley(
      'template',
      'rules',
      'set',
      '{"auto_approve_categories":["UTILITY","AUTHENTICATION","MARKETING"]}',
    );
    expect(set.code).toBe(0);
    const biz = await server.modules.business.create({ name: 'Delta', phone: newPhone() });
    const created = await call('POST', `/v23.0/${biz.waba_id}/message_templates`, biz.access_token, {
      name: 'new_arrivals',
      language: 'en',
      category: 'MARKETING',
      components: [{ type: 'BODY', text: 'New spring colours are in.' }],
    });
    expect(created.body.status).toBe('APPROVED');
    const bad = await parley('template', 'rules', 'set', '{"auto_approve":true}');
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stderr).error.code).toBe('VALIDATION_FAILED');
    await parley('template', 'rules', 'set', '{"auto_approve_categories":["UTILITY","AUTHENTICATION"]}');
  });
});
