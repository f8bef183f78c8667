/**
 * Business management on the Business Messaging API over real HTTP: access tokens (REST and
 * Graph), registration, the business profile, block_users, message_qrdls and conversational
 * automation; and a token of one business against every id of another.
 */
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/main.js';
import { newPhone } from '../harness/builders.js';
import { createSdkPool } from '../harness/sdk.js';
import { startTestServer, type TestServer } from '../harness/server.js';
import { untilAsync } from '../harness/wait.js';

type Answer = { status: number; body: Record<string, unknown> };

describe('Business Messaging API: business management', () => {
  let server: TestServer;
  const sdk = createSdkPool(() => server.url);
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await sdk.closeAll();
    await server?.close();
  });

  const call = async (method: string, path: string, token?: string, body?: unknown): Promise<Answer> => {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  };
  const errorOf = (a: Answer) => a.body.error as Record<string, unknown> | undefined;
  const text = (to: string, body: string) => ({
    messaging_product: 'whatsapp',
    to,
    type: 'text',
    text: { body },
  });

  /** A business with a person as its owner (for the REST calls), and a person to talk to. */
  async function setup(name = 'Acme') {
    const owner = await server.newPerson('Owner');
    const phone = newPhone();
    const biz = await server.modules.business.create({ name, phone, owner: owner.phone });
    return { biz, owner, phone };
  }

  it('creates, lists and revokes access tokens; a revoked token answers 190 at once', async () => {
    const { biz, owner } = await setup();
    const agent = await server.newPerson('Agent');
    const base = `/api/v1/businesses/${biz.business_id}/tokens`;

    const made = await call('POST', base, owner.token, { name: 'crm' });
    expect(made.status).toBe(201);
    const token = made.body.access_token as string;
    expect(made.body).toMatchObject({
      token_id: expect.stringMatching(/^tok_/),
      name: 'crm',
      last_used_at: null,
    });
    expect(token.startsWith(made.body.prefix as string)).toBe(true);

    // The new token works on the Graph paths, and its use is recorded.
    expect((await call('GET', `/v23.0/${biz.phone_number_id}`, token)).status).toBe(200);
    const listed = await call('GET', base, owner.token);
    const tokens = listed.body.tokens as Record<string, unknown>[];
    expect(tokens.map((t) => t.name)).toEqual(['default', 'crm']);
    expect(tokens[1]?.last_used_at).toEqual(expect.any(String));
    expect(JSON.stringify(listed.body)).not.toContain(token);

    // Agents cannot manage tokens; another business's token id is unknown here.
    await server.modules.business.setPlan(biz.business_id, 'premium');
    await server.modules.business.addAgent(
      { accountId: owner.account_id, deviceId: owner.device_id, phone: owner.phone, role: 'primary' },
      biz.business_id,
      agent.phone,
      'agent',
    );
    expect((await call('GET', base, agent.token)).body).toMatchObject({
      error: { code: 'BUSINESS_ROLE_REQUIRED' },
    });
    const other = await setup('Other');
    const theirs = await call('GET', `/api/v1/businesses/${other.biz.business_id}/tokens`, other.owner.token);
    const theirId = (theirs.body.tokens as { token_id: string }[])[0]?.token_id ?? '';
    expect((await call('DELETE', `${base}/${theirId}`, owner.token)).body).toMatchObject({
      error: { code: 'TOKEN_NOT_FOUND' },
    });

    expect((await call('DELETE', `${base}/${made.body.token_id}`, owner.token)).status).toBe(204);
    const after = await call('GET', `/v23.0/${biz.phone_number_id}`, token);
    expect(after.status).toBe(401);
    expect(errorOf(after)).toMatchObject({ code: 190 });
    // The first token is untouched, and revoking twice finds nothing.
    expect((await call('GET', `/v23.0/${biz.phone_number_id}`, biz.access_token)).status).toBe(200);
    expect((await call('DELETE', `${base}/${made.body.token_id}`, owner.token)).status).toBe(404);
    expect(((await call('GET', base, owner.token)).body.tokens as unknown[]).length).toBe(1);
  });

  it('the operator CLI creates, lists and revokes tokens: `parley business token …`', async () => {
    const { biz } = await setup();
    const cli = async (...args: string[]) => {
      const stdout = new PassThrough();
      const chunks: Buffer[] = [];
      stdout.on('data', (c: Buffer) => chunks.push(c));
      const code = await main(['business', 'token', ...args], {
        env: { PARLEY_DATA_DIR: server.platform.config.dataDir, PARLEY_LOG_LEVEL: 'silent' },
        cwd: process.cwd(),
        stdout,
        stderr: new PassThrough(),
      });
      return { code, out: Buffer.concat(chunks).toString('utf8') };
    };
    const made = await cli('create', biz.business_id, '--name', 'cli', '--json');
    expect(made.code).toBe(0);
    const token = JSON.parse(made.out) as { token_id: string; access_token: string };
    expect((await call('GET', `/v23.0/${biz.phone_number_id}`, token.access_token)).status).toBe(200);
    const listed = await cli('list', biz.business_id, '--json');
    expect((JSON.parse(listed.out) as { name: string }[]).map((x) => x.name)).toEqual(['default', 'cli']);
    expect((await cli('revoke', biz.business_id, token.token_id)).code).toBe(0);
    expect(errorOf(await call('GET', `/v23.0/${biz.phone_number_id}`, token.access_token))).toMatchObject({
      code: 190,
    });
    expect((await cli('revoke', biz.business_id)).code).toBe(2);
  });

  it('deregisters a number (DISCONNECTED, sends refused with 133010) and registers it with its PIN', async () => {
    const { biz } = await setup();
    const p = await server.newPerson('Pat');
    const to = p.phone.slice(1);
    const pn = `/v23.0/${biz.phone_number_id}`;

    expect((await call('GET', pn, biz.access_token)).body.status).toBe('CONNECTED');
    expect(await call('POST', `${pn}/deregister`, biz.access_token, {})).toEqual({
      status: 200,
      body: { success: true },
    });
    expect((await call('GET', pn, biz.access_token)).body.status).toBe('DISCONNECTED');
    const listed = await call('GET', `/v23.0/${biz.waba_id}/phone_numbers`, biz.access_token);
    expect((listed.body.data as { status: string }[])[0]?.status).toBe('DISCONNECTED');
    const refused = await call('POST', `${pn}/messages`, biz.access_token, text(to, 'hello'));
    expect(refused.status).toBe(400);
    expect(errorOf(refused)).toMatchObject({ code: 133010 });
    expect(errorOf(await call('POST', `${pn}/deregister`, biz.access_token, {}))).toMatchObject({
      code: 100,
    });

    for (const bad of [
      { messaging_product: 'whatsapp', pin: '12345' },
      { pin: '123456' },
      { messaging_product: 'whatsapp', pin: '123456', data_localization_region: 'XX' },
    ]) {
      const res = await call('POST', `${pn}/register`, biz.access_token, bad);
      expect(res.status, JSON.stringify(bad)).toBe(400);
      expect(errorOf(res)).toMatchObject({ code: 100 });
    }
    expect((await call('GET', pn, biz.access_token)).body.status).toBe('DISCONNECTED');

    const register = (pin: string) =>
      call('POST', `${pn}/register`, biz.access_token, { messaging_product: 'whatsapp', pin });
    expect(await register('123456')).toEqual({ status: 200, body: { success: true } });
    expect((await call('GET', pn, biz.access_token)).body.status).toBe('CONNECTED');
    expect((await call('POST', `${pn}/messages`, biz.access_token, text(to, 'hello'))).status).toBe(200);

    // The PIN set by the first registration is the two-step PIN from then on.
    const mismatch = await register('654321');
    expect(mismatch.status).toBe(400);
    expect(errorOf(mismatch)).toMatchObject({ code: 133005 });
    expect((await register('123456')).status).toBe(200);
  });

  it('updates the business profile as the Cloud API does, and refuses what Meta refuses', async () => {
    const { biz } = await setup();
    const path = `/v23.0/${biz.phone_number_id}/whatsapp_business_profile`;
    const update = {
      messaging_product: 'whatsapp',
      about: 'Anvils since 1949',
      address: '1 Main St',
      description: 'We sell anvils.',
      email: 'hello@acme.test',
      websites: ['https://acme.test'],
      vertical: 'RETAIL',
    };
    expect(await call('POST', path, biz.access_token, update)).toEqual({
      status: 200,
      body: { success: true },
    });
    const { messaging_product: _, ...fields } = update;
    expect((await call('GET', path, biz.access_token)).body).toEqual({
      data: [{ messaging_product: 'whatsapp', ...fields }],
    });

    for (const bad of [
      { about: 'x'.repeat(140) },
      { about: '' },
      { vertical: 'UNDEFINED' },
      { websites: ['https://a.test', 'https://b.test', 'https://c.test'] },
      { websites: ['ftp://a.test'] },
      { email: 'not-an-email' },
      { description: 'x'.repeat(257) },
      { profile_picture_handle: '4::aW1hZ2UvanBlZw==:x' },
      { nickname: 'x' },
    ]) {
      const res = await call('POST', path, biz.access_token, { messaging_product: 'whatsapp', ...bad });
      expect(res.status, JSON.stringify(bad)).toBe(400);
      expect(errorOf(res)).toMatchObject({ code: 100 });
    }
    expect(errorOf(await call('POST', path, biz.access_token, { about: 'x' }))).toMatchObject({ code: 100 });
    expect(((await call('GET', path, biz.access_token)).body.data as unknown[])[0]).toMatchObject(fields);
  });

  it('blocks users with Parley blocks: their messages stop reaching the number until unblocked', async () => {
    const { biz, owner, phone } = await setup();
    const p = await server.newPerson('Pat');
    const person = await sdk.connect(p.token, { synced: true });
    const path = `/v23.0/${biz.phone_number_id}/block_users`;
    const users = (...u: string[]) => ({
      messaging_product: 'whatsapp',
      block_users: u.map((user) => ({ user })),
    });

    const blocked = await call('POST', path, biz.access_token, users(`+${p.phone.slice(1)}`));
    expect(blocked).toEqual({
      status: 200,
      body: {
        messaging_product: 'whatsapp',
        block_users: { added_users: [{ input: `+${p.phone.slice(1)}`, wa_id: p.phone.slice(1) }] },
      },
    });
    expect((await call('GET', path, biz.access_token)).body).toMatchObject({
      data: [{ messaging_product: 'whatsapp', wa_id: p.phone.slice(1) }],
    });

    // Unknown numbers, the number itself and a business fail one by one; the rest is done.
    const other = await setup('Other');
    const mixed = await call(
      'POST',
      path,
      biz.access_token,
      users('15559990000', phone.slice(1), other.phone.slice(1), 'abc', p.phone.slice(1)),
    );
    expect(mixed.status).toBe(400);
    expect(errorOf(mixed)).toMatchObject({ code: 139100 });
    const result = mixed.body.block_users as {
      added_users: unknown[];
      failed_users: { input: string; errors: { code: number }[] }[];
    };
    expect(result.added_users).toEqual([{ input: p.phone.slice(1), wa_id: p.phone.slice(1) }]);
    expect(result.failed_users.map((f) => [f.input, f.errors[0]?.code])).toEqual([
      ['15559990000', 131047],
      [phone.slice(1), 131021],
      [other.phone.slice(1), 131047],
      ['abc', 131047],
    ]);

    // While blocked, the person's message does not reach the business; after unblocking it does.
    await person.client.sendText(phone, 'while blocked');
    const unblocked = await call('DELETE', path, biz.access_token, users(p.phone.slice(1)));
    expect(unblocked.body).toEqual({
      messaging_product: 'whatsapp',
      block_users: { removed_users: [{ input: p.phone.slice(1), wa_id: p.phone.slice(1) }] },
    });
    expect((await call('GET', path, biz.access_token)).body.data).toEqual([]);
    await person.client.sendText(phone, 'after unblock');
    const base = `/api/v1/businesses/${biz.business_id}`;
    const texts = async () => {
      const list = await call('GET', `${base}/conversations`, owner.token);
      const conv = (list.body.conversations as { conversation_id: string }[] | undefined)?.[0];
      if (!conv) return [];
      const msgs = await call('GET', `${base}/conversations/${conv.conversation_id}/messages`, owner.token);
      return (msgs.body.messages as { text: string | null }[]).map((m) => m.text);
    };
    await untilAsync(async () => (await texts()).includes('after unblock'));
    // Delivery keeps order: had the first message gone through, it would be there already.
    expect(await texts()).not.toContain('while blocked');
  });

  it('creates, reads, changes and deletes QR codes backed by short links', async () => {
    const { biz } = await setup();
    const path = `/v23.0/${biz.phone_number_id}/message_qrdls`;
    const made = await call('POST', path, biz.access_token, {
      prefilled_message: 'Show me the anvils',
      generate_qr_image: 'SVG',
    });
    expect(made.status).toBe(200);
    const code = made.body.code as string;
    expect(code).toMatch(/^[A-Z2-7]{14}$/);
    expect(made.body).toMatchObject({
      prefilled_message: 'Show me the anvils',
      deep_link_url: `${server.url}/c/${code.toLowerCase()}`,
      qr_image_url: `${server.url}/c/${code.toLowerCase()}/qr.svg`,
    });
    // The deep link is this server's short-link page, and the QR image is served.
    const page = await fetch(made.body.deep_link_url as string);
    expect(await page.text()).toContain('Show me the anvils');
    expect((await fetch(made.body.qr_image_url as string)).headers.get('content-type')).toContain('svg');

    expect((await call('GET', path, biz.access_token)).body).toEqual({
      data: [{ code, prefilled_message: 'Show me the anvils', deep_link_url: made.body.deep_link_url }],
    });
    const one = await call('GET', `${path}/${code}?fields=code,qr_image_url.format(PNG)`, biz.access_token);
    expect((one.body.data as Record<string, unknown>[])[0]?.qr_image_url).toMatch(/qr\.png$/);

    const changed = await call('POST', path, biz.access_token, { code, prefilled_message: 'Price list?' });
    expect(changed.body).toMatchObject({ code, prefilled_message: 'Price list?' });
    const again = await call('POST', `${path}/${code}`, biz.access_token, {
      prefilled_message: 'Opening hours?',
    });
    expect(again.body).toMatchObject({ code, prefilled_message: 'Opening hours?' });
    expect(
      errorOf(await call('POST', path, biz.access_token, { prefilled_message: 'x'.repeat(141) })),
    ).toMatchObject({ code: 100 });
    expect(
      errorOf(
        await call('POST', path, biz.access_token, { prefilled_message: 'x', generate_qr_image: 'GIF' }),
      ),
    ).toMatchObject({ code: 100 });

    expect(await call('DELETE', `${path}/${code}`, biz.access_token)).toEqual({
      status: 200,
      body: { success: true },
    });
    expect((await call('GET', path, biz.access_token)).body).toEqual({ data: [] });
    expect(errorOf(await call('GET', `${path}/${code}`, biz.access_token))).toMatchObject({
      code: 100,
      error_subcode: 33,
    });
    expect((await fetch(made.body.deep_link_url as string)).status).toBe(404);
  });

  it('stores conversational automation, reads it back with fields, and shows it to people', async () => {
    const { biz, phone } = await setup();
    const p = await server.newPerson('Pat');
    const pn = `/v23.0/${biz.phone_number_id}`;
    const automation = {
      enable_welcome_message: true,
      prompts: ['Where is my order?', 'Opening hours'],
      commands: [{ command_name: 'track', command_description: 'Track an order' }],
    };
    expect(await call('POST', `${pn}/conversational_automation`, biz.access_token, automation)).toEqual({
      status: 200,
      body: { success: true },
    });
    expect((await call('GET', `${pn}?fields=conversational_automation`, biz.access_token)).body).toEqual({
      id: biz.phone_number_id,
      conversational_automation: automation,
    });
    // Left-out fields keep their value.
    await call('POST', `${pn}/conversational_automation`, biz.access_token, {
      enable_welcome_message: false,
    });
    const read = await call('GET', `${pn}?fields=conversational_automation,status`, biz.access_token);
    expect(read.body).toEqual({
      id: biz.phone_number_id,
      status: 'CONNECTED',
      conversational_automation: { ...automation, enable_welcome_message: false },
    });

    const profile = await call('GET', `/api/v1/accounts/${encodeURIComponent(phone)}`, p.token);
    expect(profile.body.business).toMatchObject({
      ice_breakers: automation.prompts,
      commands: [{ name: 'track', description: 'Track an order' }],
    });

    for (const bad of [
      { prompts: ['a', 'b', 'c', 'd', 'e'] },
      { prompts: ['x'.repeat(81)] },
      { commands: [{ command_name: 'has space', command_description: 'x' }] },
      {
        commands: [
          { command_name: 'a', command_description: 'x' },
          { command_name: 'A', command_description: 'y' },
        ],
      },
      {
        commands: Array.from({ length: 31 }, (_, i) => ({ command_name: `c${i}`, command_description: 'x' })),
      },
      { enable_welcome_message: 'yes' },
      {},
    ]) {
      const res = await call('POST', `${pn}/conversational_automation`, biz.access_token, bad);
      expect(res.status, JSON.stringify(bad).slice(0, 60)).toBe(400);
      expect(errorOf(res)).toMatchObject({ code: 100 });
    }
    expect(
      (await call('GET', `${pn}?fields=conversational_automation`, biz.access_token)).body
        .conversational_automation,
    ).toEqual({
      ...automation,
      enable_welcome_message: false,
    });
  });

  it('a token of business A can do nothing to business B: every id answers 100/33 and nothing changes', async () => {
    const a = await setup('A');
    const b = await setup('B');
    const p = await server.newPerson('Pat');
    const bp = `/v23.0/${b.biz.phone_number_id}`;
    const qr = await call('POST', `${bp}/message_qrdls`, b.biz.access_token, { prefilled_message: 'B only' });
    const bCode = qr.body.code as string;
    await call('POST', `${bp}/conversational_automation`, b.biz.access_token, { prompts: ['B prompt'] });
    await call('POST', `${bp}/block_users`, b.biz.access_token, {
      messaging_product: 'whatsapp',
      block_users: [{ user: p.phone }],
    });
    // B's template and media (the other parts of the Graph surface).
    const template = await call('POST', `/v23.0/${b.biz.waba_id}/message_templates`, b.biz.access_token, {
      name: 'b_only',
      language: 'en_US',
      category: 'UTILITY',
      components: [{ type: 'BODY', text: 'Order {{1}} shipped.', example: { body_text: [['B1']] } }],
    });
    const bTemplate = String(template.body.id);
    const form = new FormData();
    form.set('messaging_product', 'whatsapp');
    form.set('type', 'text/plain');
    form.set('file', new Blob(['B only'], { type: 'text/plain' }), 'b.txt');
    const upload = await fetch(`${server.url}${bp}/media`, {
      method: 'POST',
      headers: { authorization: `Bearer ${b.biz.access_token}` },
      body: form,
    });
    expect(upload.status).toBe(200);
    const bMedia = ((await upload.json()) as { id: string }).id;
    const bw = `/v23.0/${b.biz.waba_id}`;
    const snapshot = () =>
      Promise.all([
        call('GET', `${bp}?fields=conversational_automation,status`, b.biz.access_token),
        call('GET', `${bp}/whatsapp_business_profile`, b.biz.access_token),
        call('GET', `${bp}/block_users`, b.biz.access_token),
        call('GET', `${bp}/message_qrdls`, b.biz.access_token),
        call('GET', `${bw}/message_templates`, b.biz.access_token),
        call('GET', `/v23.0/${bMedia}`, b.biz.access_token).then((r) => ({
          status: r.status,
          id: r.body.id,
        })),
        call('GET', `${bw}/subscribed_apps`, b.biz.access_token),
      ]);
    const before = await snapshot();

    const users = { messaging_product: 'whatsapp', block_users: [{ user: p.phone }] };
    const ap = `/v23.0/${a.biz.phone_number_id}`;
    const attempts: [string, string, unknown?][] = [
      ['GET', bp],
      ['GET', `/v23.0/${b.biz.waba_id}`],
      ['GET', `/v23.0/${b.biz.waba_id}/phone_numbers`],
      ['GET', `${bp}/whatsapp_business_profile`],
      ['POST', `${bp}/whatsapp_business_profile`, { messaging_product: 'whatsapp', about: 'hijacked' }],
      ['POST', `${bp}/messages`, text(p.phone.slice(1), 'hi')],
      ['POST', `${bp}/register`, { messaging_product: 'whatsapp', pin: '000000' }],
      ['POST', `${bp}/deregister`, {}],
      ['GET', `${bp}/block_users`],
      ['POST', `${bp}/block_users`, users],
      ['DELETE', `${bp}/block_users`, users],
      ['GET', `${bp}/message_qrdls`],
      ['POST', `${bp}/message_qrdls`, { prefilled_message: 'x' }],
      ['GET', `${bp}/message_qrdls/${bCode}`],
      ['POST', `${bp}/message_qrdls/${bCode}`, { prefilled_message: 'x' }],
      ['DELETE', `${bp}/message_qrdls/${bCode}`],
      ['POST', `${bp}/conversational_automation`, { prompts: [] }],
      ['GET', `${bw}/message_templates`],
      [
        'POST',
        `${bw}/message_templates`,
        { name: 'hijack', language: 'en_US', category: 'UTILITY', components: [{ type: 'BODY', text: 'x' }] },
      ],
      ['DELETE', `${bw}/message_templates?name=b_only`],
      ['GET', `/v23.0/${bTemplate}`],
      ['POST', `/v23.0/${bTemplate}`, { components: [{ type: 'BODY', text: 'changed' }] }],
      ['DELETE', `/v23.0/${bTemplate}`],
      ['GET', `/v23.0/${bMedia}`],
      ['DELETE', `/v23.0/${bMedia}`],
      ['GET', `${bw}/subscribed_apps`],
      ['POST', `${bw}/subscribed_apps`, { override_callback_uri: 'http://127.0.0.1:9/x', verify_token: 't' }],
      ['DELETE', `${bw}/subscribed_apps`],
      // B's code under A's own number is unknown too.
      ['GET', `${ap}/message_qrdls/${bCode}`],
      ['POST', `${ap}/message_qrdls/${bCode}`, { prefilled_message: 'x' }],
      ['POST', `${ap}/message_qrdls`, { code: bCode, prefilled_message: 'x' }],
      ['DELETE', `${ap}/message_qrdls/${bCode}`],
    ];
    for (const [method, path, body] of attempts) {
      const res = await call(method, path, a.biz.access_token, body);
      expect(res.status, `${method} ${path}`).toBe(400);
      expect(errorOf(res), `${method} ${path}`).toMatchObject({ code: 100, error_subcode: 33 });
    }
    const after = await snapshot();
    expect(after).toEqual(before);
    // And B's REST token endpoints are not A's owner's either.
    expect(
      (await call('GET', `/api/v1/businesses/${b.biz.business_id}/tokens`, a.owner.token)).body,
    ).toMatchObject({ error: { code: 'BUSINESS_NOT_FOUND' } });
  });
});
