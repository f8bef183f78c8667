/**
 * The Business Messaging API over real HTTP, as an unmodified Cloud API client calls it:
 * Graph paths, bearer tokens, the exact success shape and the Graph error envelope.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toWamid } from '../../src/modules/cloud-api/index.js';
import { newPhone } from '../harness/builders.js';
import { createSdkPool } from '../harness/sdk.js';
import { startTestServer, type TestServer } from '../harness/server.js';
import { until } from '../harness/wait.js';

describe('the Business Messaging API', () => {
  let server: TestServer;
  const sdk = createSdkPool(() => server.url);
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await sdk.closeAll();
    await server?.close();
  });

  const post = async (path: string, body: unknown, token?: string) => {
    const res = await fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('sends a text to a person, who receives it from the business number, and marks theirs read', async () => {
    const bizPhone = newPhone();
    const biz = await server.modules.business.create({ name: 'Acme', phone: bizPhone });
    const p = await server.newPerson('Pat');
    const person = await sdk.connect(p.token, { synced: true });
    const to = p.phone.slice(1); // Cloud API clients send digits without '+'
    // Free-form messages go only to people who wrote in the last 24 hours.
    await person.client.sendText(bizPhone, 'Hello?');
    await until(
      async () =>
        (
          await server.platform.db.kysely
            .selectFrom('conversations')
            .select('id')
            .where('person_account_id', '=', p.account_id)
            .where('last_inbound_at', 'is not', null)
            .execute()
        ).length === 1,
    );

    const sent = await post(
      `/v23.0/${biz.phone_number_id}/messages`,
      {
        messaging_product: 'whatsapp',
        recipient_type: 'individual',
        to,
        type: 'text',
        text: { body: 'Your order shipped', preview_url: false },
      },
      biz.access_token,
    );
    expect(sent.status).toBe(200);
    expect(sent.body).toEqual({
      messaging_product: 'whatsapp',
      contacts: [{ input: to, wa_id: to }],
      messages: [{ id: expect.stringMatching(/^wamid\.[A-Za-z0-9_-]+$/), message_status: 'accepted' }],
    });
    await until(() => person.inbox.some((m) => m.text === 'Your order shipped'));
    const got = person.inbox.find((m) => m.text === 'Your order shipped');
    expect(got?.from).toBe(bizPhone);
    expect(toWamid(got?.messageId ?? '')).toBe((sent.body.messages as { id: string }[])[0]?.id);

    // The person answers; the business marks the answer read, and the person is told.
    const answer = await person.client.sendText(bizPhone, 'Thanks!');
    const read = await post(
      `/v21.0/${biz.phone_number_id}/messages`,
      { messaging_product: 'whatsapp', status: 'read', message_id: toWamid(answer.messageId) },
      biz.access_token,
    );
    expect(read).toEqual({ status: 200, body: { success: true } });
    await until(() => person.inbox.some((m) => m.event?.type === 'receipt' && m.event.receipt === 'read'));
  });

  it('follows an API message from accepted to read, with its reply context, callback data and billing record', async () => {
    const bizPhone = newPhone();
    const biz = await server.modules.business.create({ name: 'Acme', phone: bizPhone });
    const p = await server.newPerson('Pat');
    const person = await sdk.connect(p.token, { synced: true });
    const question = await person.client.sendText(bizPhone, 'Where is my order?');
    await until(
      async () =>
        (
          await server.platform.db.kysely
            .selectFrom('business_messages')
            .select('message_id')
            .where('message_id', '=', question.messageId)
            .execute()
        ).length === 1,
    );

    // The business reads the question and shows it is typing.
    const typing = await post(
      `/v23.0/${biz.phone_number_id}/messages`,
      {
        messaging_product: 'whatsapp',
        status: 'read',
        message_id: toWamid(question.messageId),
        typing_indicator: { type: 'text' },
      },
      biz.access_token,
    );
    expect(typing).toEqual({ status: 200, body: { success: true } });
    await until(() => person.typing.some((t) => t.from === bizPhone));

    const sent = await post(
      `/v23.0/${biz.phone_number_id}/messages`,
      {
        messaging_product: 'whatsapp',
        to: `+${p.phone.slice(1)}`,
        type: 'text',
        context: { message_id: toWamid(question.messageId) },
        biz_opaque_callback_data: 'order-42',
        text: { body: 'On its way' },
      },
      biz.access_token,
    );
    expect(sent.status).toBe(200);
    const wamid = (sent.body.messages as { id: string }[])[0]?.id ?? '';
    await until(() => person.inbox.some((m) => m.text === 'On its way'));
    const got = person.inbox.find((m) => m.text === 'On its way');
    expect(got?.replyTo).toBe(question.messageId);
    expect(toWamid(got?.messageId ?? '')).toBe(wamid);

    const db = server.platform.db.kysely;
    const row = async () =>
      db
        .selectFrom('api_messages')
        .selectAll()
        .where('message_id', '=', got?.messageId ?? '')
        .executeTakeFirst();
    await until(async () => (await row())?.status === 'sent');
    person.client.sendReceipt('delivered', [got?.messageId ?? '']);
    await until(async () => (await row())?.status === 'delivered');
    expect(await row()).toMatchObject({
      callback_data: 'order-42',
      window_open: 1,
      type: 'text',
      category: null,
    });
    person.client.sendReceipt('read', [got?.messageId ?? '']);
    await until(async () => (await row())?.status === 'read');
    const events = await db
      .selectFrom('message_events')
      .selectAll()
      .where('message_id', '=', got?.messageId ?? '')
      .execute();
    expect(events).toEqual([
      expect.objectContaining({
        kind: 'delivered',
        category: 'service',
        source: 'api',
        business_id: biz.business_id,
      }),
    ]);
  });

  it('sends an approved template outside the window; a block counts against the template', async () => {
    const bizPhone = newPhone();
    const biz = await server.modules.business.create({ name: 'Acme', phone: bizPhone });
    const p = await server.newPerson('Pat');
    const person = await sdk.connect(p.token, { synced: true });
    const created = await post(
      `/v23.0/${biz.waba_id}/message_templates`,
      {
        name: 'shipping_update',
        language: 'en_US',
        category: 'UTILITY',
        components: [
          { type: 'BODY', text: 'Order {{1}} ships {{2}}.', example: { body_text: [['A1', 'today']] } },
        ],
      },
      biz.access_token,
    );
    expect(created.status).toBe(200);
    const templateId = String(created.body.id);
    if (created.body.status === 'PENDING') await server.modules.templates.approve(templateId);

    const template = (params: string[]) => ({
      messaging_product: 'whatsapp',
      to: p.phone.slice(1),
      type: 'template',
      template: {
        name: 'shipping_update',
        language: { code: 'en_US' },
        components: [{ type: 'body', parameters: params.map((text) => ({ type: 'text', text })) }],
      },
    });
    // Meta's checks: the parameter count, and an unknown template.
    const wrong = await post(`/v23.0/${biz.phone_number_id}/messages`, template(['A7']), biz.access_token);
    expect(wrong).toMatchObject({ status: 400, body: { error: { code: 132000 } } });
    const unknown = await post(
      `/v23.0/${biz.phone_number_id}/messages`,
      { ...template(['A7', 'now']), template: { name: 'nope', language: { code: 'en_US' } } },
      biz.access_token,
    );
    expect(unknown).toMatchObject({ status: 404, body: { error: { code: 132001 } } });

    const sent = await post(
      `/v23.0/${biz.phone_number_id}/messages`,
      template(['A7', 'tomorrow']),
      biz.access_token,
    );
    expect(sent.status).toBe(200);
    await until(() => person.inbox.some((m) => m.text === 'Order A7 ships tomorrow.'));
    const got = person.inbox.find((m) => m.text === 'Order A7 ships tomorrow.');
    const db = server.platform.db.kysely;
    const row = () =>
      db
        .selectFrom('api_messages')
        .selectAll()
        .where('message_id', '=', got?.messageId ?? '')
        .executeTakeFirst();
    expect(await row()).toMatchObject({
      type: 'template',
      category: 'utility',
      template_id: templateId,
      window_open: 0,
    });
    person.client.sendReceipt('delivered', [got?.messageId ?? '']);
    await until(async () => (await row())?.status === 'delivered');
    const [event] = await db
      .selectFrom('message_events')
      .selectAll()
      .where('message_id', '=', got?.messageId ?? '')
      .execute();
    expect(event).toMatchObject({ category: 'utility', window_open: 0, source: 'api', market: 'US' });

    // The person blocks the number: the template's negative feedback.
    await person.client.contacts.block(bizPhone);
    const feedback = await db
      .selectFrom('template_feedback')
      .selectAll()
      .where('template_id', '=', templateId)
      .execute();
    expect(feedback).toEqual([expect.objectContaining({ message_id: got?.messageId })]);
  });

  it('accepts a send to a number not on Parley, then fails it as the Cloud API does', async () => {
    const biz = await server.modules.business.create({ name: 'Acme', phone: newPhone() });
    const to = newPhone().slice(1);
    const sent = await post(
      `/v23.0/${biz.phone_number_id}/messages`,
      { messaging_product: 'whatsapp', to, type: 'text', text: { body: 'hello?' } },
      biz.access_token,
    );
    expect(sent.status).toBe(200);
    const rows = await server.platform.db.kysely
      .selectFrom('api_messages')
      .selectAll()
      .where('business_id', '=', biz.business_id)
      .execute();
    expect(rows).toEqual([
      expect.objectContaining({ status: 'failed', error_code: 131026, to_phone: `+${to}` }),
    ]);
  });

  it('shows the business’s phone numbers, its account and its profile, and nobody else’s', async () => {
    const get = async (path: string, token?: string) => {
      const res = await fetch(`${server.url}${path}`, {
        headers: token ? { authorization: `Bearer ${token}` } : {},
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const phone = newPhone();
    const biz = await server.modules.business.create({ name: 'Acme Anvils', phone });
    const other = await server.modules.business.create({ name: 'Other', phone: newPhone() });
    await server.modules.business.setPlan(biz.business_id, 'premium');
    await server.modules.business.setVerified(biz.business_id, true);

    const number = await get(`/v23.0/${biz.phone_number_id}`, biz.access_token);
    expect(number).toMatchObject({
      status: 200,
      body: {
        id: biz.phone_number_id,
        verified_name: 'Acme Anvils',
        quality_rating: 'GREEN',
        code_verification_status: 'VERIFIED',
        is_official_business_account: true,
      },
    });
    expect(String(number.body.display_phone_number).replace(/\D/g, '')).toBe(phone.slice(1));
    expect(await get(`/v23.0/${biz.waba_id}`, biz.access_token)).toEqual({
      status: 200,
      body: { id: biz.waba_id, name: 'Acme Anvils' },
    });
    const list = await get(`/v23.0/${biz.waba_id}/phone_numbers`, biz.access_token);
    expect((list.body.data as { id: string }[]).map((n) => n.id)).toEqual([biz.phone_number_id]);
    const profile = await get(`/v23.0/${biz.phone_number_id}/whatsapp_business_profile`, biz.access_token);
    // Nothing set yet: Meta leaves unset fields out.
    expect(profile.body).toEqual({ data: [{ messaging_product: 'whatsapp' }] });

    for (const path of [
      `/v23.0/${other.phone_number_id}`,
      `/v23.0/${other.waba_id}`,
      `/v23.0/${other.waba_id}/phone_numbers`,
      `/v23.0/${other.phone_number_id}/whatsapp_business_profile`,
    ]) {
      const res = await get(path, biz.access_token);
      expect(res.status, path).toBe(400);
      expect(res.body.error).toMatchObject({ code: 100, error_subcode: 33 });
    }
    expect((await get(`/v23.0/${biz.phone_number_id}`)).body.error).toMatchObject({ code: 104 });
    // Parley's own paths keep their answers.
    expect(await get('/api/v1')).toMatchObject({ status: 404, body: { error: { code: 'ROUTE_NOT_FOUND' } } });
    expect((await get('/api/docs/json')).status).toBe(200);
  });

  it('answers bad requests in the Graph error envelope with Meta’s codes and statuses', async () => {
    const biz = await server.modules.business.create({ name: 'Acme', phone: newPhone() });
    const other = await server.modules.business.create({ name: 'Other', phone: newPhone() });
    const p = await server.newPerson('Pat');
    const to = p.phone.slice(1);
    const text = (body: string) => ({ messaging_product: 'whatsapp', to, type: 'text', text: { body } });
    const path = `/v23.0/${biz.phone_number_id}/messages`;

    const cases: [string, unknown, string | undefined, number, number, number?][] = [
      [path, text('x'), undefined, 401, 104],
      [path, text('x'), 'pbt_not-a-token', 401, 190],
      [`/v23.0/${other.phone_number_id}/messages`, text('x'), biz.access_token, 400, 100, 33],
      [path, { ...text('x'), messaging_product: 'sms' }, biz.access_token, 400, 100],
      [
        path,
        { messaging_product: 'whatsapp', type: 'text', text: { body: 'x' } },
        biz.access_token,
        400,
        131008,
      ],
      [path, { messaging_product: 'whatsapp', to, type: 'text', text: {} }, biz.access_token, 400, 131008],
      [
        path,
        { messaging_product: 'whatsapp', to, type: 'hologram', hologram: {} },
        biz.access_token,
        400,
        131051,
      ],
      [
        path,
        { messaging_product: 'whatsapp', to, type: 'image', image: { id: '1' } },
        biz.access_token,
        400,
        100,
      ],
      [path, text('x'.repeat(4097)), biz.access_token, 400, 131009],
      [path, '{"messaging_product":', biz.access_token, 400, 100],
      [`/v12.0/${biz.phone_number_id}/messages`, text('x'), biz.access_token, 400, 100],
    ];
    for (const [url, body, token, status, code, subcode] of cases) {
      const res = await post(url, body, token);
      expect(res.status, `${url} ${JSON.stringify(body).slice(0, 60)}`).toBe(status);
      const error = res.body.error as Record<string, unknown>;
      expect(error).toMatchObject({ code, type: 'OAuthException', fbtrace_id: expect.any(String) });
      expect(typeof error.message).toBe('string');
      if (subcode !== undefined) expect(error.error_subcode).toBe(subcode);
    }
    // Nothing reached the person, and Parley's own API is untouched by the Graph paths.
    const parley = await post('/api/v1/messages', {});
    expect(parley.status).toBe(404);
    expect(parley.body).toMatchObject({ error: { code: 'ROUTE_NOT_FOUND' } });
  });
});
