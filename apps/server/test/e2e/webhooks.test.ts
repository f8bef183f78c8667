/**
 * Webhooks over real HTTP: a receiver on 127.0.0.1 (node:http) that answers the hub.challenge
 * handshake and verifies X-Hub-Signature-256 over the exact bytes it received, as a Cloud API
 * integration does. Time is simulated: retries and the 7-day dead-letter limit are reached by
 * moving the server's clock, never by waiting.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toWamid } from '../../src/modules/cloud-api/index.js';
import { createManualClock } from '../../src/platform/clock.js';
import { newPhone } from '../harness/builders.js';
import { createSdkPool } from '../harness/sdk.js';
import { startTestServer, type TestServer } from '../harness/server.js';
import { until } from '../harness/wait.js';

interface Received {
  headers: http.IncomingHttpHeaders;
  raw: Buffer;
  body: {
    entry: { id: string; time?: number; changes: { field: string; value: Record<string, unknown> }[] }[];
  };
}

/** A webhook receiver as an integration writes one. */
async function startReceiver(verifyToken: string) {
  const received: Received[] = [];
  const state = {
    /** What the handshake answers: the challenge, something else, or an HTTP error. */
    handshake: 'echo' as 'echo' | 'wrong' | 'forbidden',
    /** What deliveries get. */
    status: 200,
  };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'GET') {
      const ok =
        url.searchParams.get('hub.mode') === 'subscribe' &&
        url.searchParams.get('hub.verify_token') === verifyToken;
      if (!ok || state.handshake === 'forbidden') return res.writeHead(403).end();
      return res
        .writeHead(200)
        .end(state.handshake === 'echo' ? url.searchParams.get('hub.challenge') : '12345');
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (state.status !== 200) return res.writeHead(state.status).end('not now');
      const raw = Buffer.concat(chunks);
      received.push({ headers: req.headers, raw, body: JSON.parse(raw.toString('utf8')) });
      res.writeHead(200).end('EVENT_RECEIVED');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhook`;
  return {
    url,
    received,
    state,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** The parts of Graph and REST answers these tests read. */
interface Answer {
  success?: boolean;
  queued?: number;
  data?: { override_callback_uri?: string }[];
  error?: { code: number; type?: string; error_subcode?: number; error_data?: { details: string } };
  deliveries?: { state: string; attempts: number; last_status: number | null }[];
}

/** What a receiver checks: HMAC-SHA256 of the exact bytes with the app secret. */
function signatureValid(r: Received, appSecret: string): boolean {
  const header = String(r.headers['x-hub-signature-256'] ?? '');
  const expected = `sha256=${createHmac('sha256', appSecret).update(r.raw).digest('hex')}`;
  return header.length === expected.length && timingSafeEqual(Buffer.from(header), Buffer.from(expected));
}

describe('webhooks', () => {
  const clock = createManualClock(Date.UTC(2026, 2, 1));
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ clock });
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
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Answer };
  };
  const enqueue = (
    businessId: string,
    changes: { field?: string; value: Record<string, unknown>; orderKey?: string }[],
  ) =>
    server.platform.db.kysely.transaction().execute((tx) =>
      server.modules.webhooks.port.enqueue(
        tx,
        changes.map((c) => ({
          businessId,
          field: c.field ?? 'messages',
          value: c.value,
          orderKey: c.orderKey,
        })),
      ),
    );
  const drain = () => server.modules.webhooks.dispatcher.drain();

  async function subscribedBusiness(name: string) {
    const owner = await server.newPerson('Owner');
    const biz = await server.modules.business.create({ name, phone: newPhone(), owner: owner.account_id });
    const receiver = await startReceiver('my-verify-token');
    const sub = await call('POST', `/v23.0/${biz.waba_id}/subscribed_apps`, biz.access_token, {
      override_callback_uri: receiver.url,
      verify_token: 'my-verify-token',
    });
    expect(sub).toEqual({ status: 200, body: { success: true } });
    return { biz, owner, receiver };
  }

  it('subscribes after the handshake, and refuses a callback that fails it without changing anything', async () => {
    const owner = await server.newPerson('Owner');
    const biz = await server.modules.business.create({
      name: 'Acme',
      phone: newPhone(),
      owner: owner.account_id,
    });
    const receiver = await startReceiver('tok');
    try {
      expect(await call('GET', `/v23.0/${biz.waba_id}/subscribed_apps`, biz.access_token)).toEqual({
        status: 200,
        body: { data: [] },
      });
      // Wrong challenge echoed, a 403, a bad verify token, nothing listening: each refused.
      receiver.state.handshake = 'wrong';
      const wrong = await call('POST', `/v23.0/${biz.waba_id}/subscribed_apps`, biz.access_token, {
        override_callback_uri: receiver.url,
        verify_token: 'tok',
      });
      expect(wrong.status).toBe(400);
      expect(wrong.body.error).toMatchObject({ code: 100, type: 'OAuthException' });
      expect(wrong.body.error?.error_data?.details).toMatch(/hub\.challenge/);
      receiver.state.handshake = 'echo';
      const badToken = await call('POST', `/v23.0/${biz.waba_id}/subscribed_apps`, biz.access_token, {
        override_callback_uri: receiver.url,
        verify_token: 'not-the-token',
      });
      expect(badToken.status).toBe(400);
      expect(badToken.body.error?.error_data?.details).toMatch(/HTTP 403/);
      const closed = await call('POST', `/v23.0/${biz.waba_id}/subscribed_apps`, biz.access_token, {
        override_callback_uri: 'http://127.0.0.1:1/webhook',
        verify_token: 'tok',
      });
      expect(closed.status).toBe(400);
      expect(closed.body.error?.error_data?.details).toMatch(/could not be reached/);
      const ftp = await call('POST', `/v23.0/${biz.waba_id}/subscribed_apps`, biz.access_token, {
        override_callback_uri: 'ftp://example.com/x',
        verify_token: 'tok',
      });
      expect(ftp.status).toBe(400);
      expect(await call('GET', `/v23.0/${biz.waba_id}/subscribed_apps`, biz.access_token)).toEqual({
        status: 200,
        body: { data: [] },
      });
      // Nothing stored, so nothing queued.
      await enqueue(biz.business_id, [{ value: { n: 0 } }]);
      await drain();
      expect(receiver.received).toEqual([]);

      // Query parameters work as well as a JSON body (Graph takes both).
      const ok = await fetch(
        `${server.url}/v23.0/${biz.waba_id}/subscribed_apps?override_callback_uri=${encodeURIComponent(receiver.url)}&verify_token=tok`,
        { method: 'POST', headers: { authorization: `Bearer ${biz.access_token}` } },
      );
      expect(ok.status).toBe(200);
      const listed = await call('GET', `/v23.0/${biz.waba_id}/subscribed_apps`, biz.access_token);
      expect(listed.body).toEqual({
        data: [
          {
            whatsapp_business_api_data: {
              id: expect.stringMatching(/^\d+$/),
              link: expect.any(String),
              name: expect.any(String),
            },
            override_callback_uri: receiver.url,
          },
        ],
      });
      expect(await call('DELETE', `/v23.0/${biz.waba_id}/subscribed_apps`, biz.access_token)).toEqual({
        status: 200,
        body: { success: true },
      });
      expect((await call('GET', `/v23.0/${biz.waba_id}/subscribed_apps`, biz.access_token)).body).toEqual({
        data: [],
      });
    } finally {
      await receiver.close();
    }
  });

  it('delivers a queued change in the Cloud API envelope, ASCII-only and signed over the exact bytes', async () => {
    const { biz, receiver } = await subscribedBusiness('Café Ünïcode');
    try {
      const value = {
        messaging_product: 'whatsapp',
        metadata: { display_phone_number: '15550001111', phone_number_id: biz.phone_number_id },
        messages: [
          {
            from: '15551234567',
            id: 'wamid.X',
            timestamp: '1767225600',
            type: 'text',
            text: { body: 'Olá 👋 https://x.test/a' },
          },
        ],
      };
      await enqueue(biz.business_id, [
        { value, orderKey: `${biz.phone_number_id}:15551234567` },
        { field: 'message_template_status_update', value: { event: 'APPROVED', message_template_id: 1 } },
      ]);
      await drain();
      expect(receiver.received).toHaveLength(2);
      const [message, template] = receiver.received;
      if (!message || !template) throw new Error('missing deliveries');
      for (const r of receiver.received) {
        expect(signatureValid(r, biz.app_secret)).toBe(true);
        expect(signatureValid(r, 'another secret')).toBe(false);
        expect(r.headers['content-type']).toBe('application/json');
        expect([...r.raw].every((b) => b >= 0x20 && b <= 0x7e)).toBe(true);
      }
      expect(message.raw.toString()).toContain('Ol\\u00e1 \\ud83d\\udc4b https:\\/\\/x.test\\/a');
      expect(message.body).toEqual({
        object: 'whatsapp_business_account',
        entry: [{ id: biz.waba_id, changes: [{ value, field: 'messages' }] }],
      });
      expect(template.body.entry[0]?.time).toBe(Math.floor(clock.now() / 1000));
      expect(template.body.entry[0]?.changes[0]?.field).toBe('message_template_status_update');
    } finally {
      await receiver.close();
    }
  });

  it('a receiver down for an hour receives everything afterwards, in order', async () => {
    const { biz, receiver } = await subscribedBusiness('Down Ltd');
    try {
      receiver.state.status = 500;
      const key = `${biz.phone_number_id}:15550009999`;
      await enqueue(
        biz.business_id,
        ['sent', 'delivered', 'read'].map((status) => ({
          value: { statuses: [{ id: 'wamid.1', status }] },
          orderKey: key,
        })),
      );
      const start = clock.now();
      while (clock.now() - start < 60 * 60_000) {
        await drain();
        clock.advance(60_000);
      }
      expect(receiver.received).toEqual([]);
      receiver.state.status = 200;
      clock.advance(60 * 60_000); // past the longest backoff step
      await drain();
      expect(
        receiver.received.map(
          (r) =>
            (r.body.entry[0]?.changes[0]?.value.statuses as { status: string }[] | undefined)?.[0]?.status,
        ),
      ).toEqual(['sent', 'delivered', 'read']);
      expect(receiver.received.every((r) => signatureValid(r, biz.app_secret))).toBe(true);
    } finally {
      await receiver.close();
    }
  });

  it('dead-letters after 7 days; the business lists and replays it over REST', async () => {
    const { biz, owner, receiver } = await subscribedBusiness('Dead Letters Inc');
    try {
      receiver.state.status = 503;
      await enqueue(biz.business_id, [{ value: { n: 'lost-for-a-week' } }]);
      const start = clock.now();
      while (clock.now() - start <= 7 * 24 * 60 * 60_000 + 60 * 60_000) {
        await drain();
        clock.advance(60 * 60_000);
      }
      const base = `/api/v1/businesses/${biz.business_id}/webhooks/deliveries`;
      const failed = await call('GET', `${base}?state=failed`, owner.token);
      expect(failed.status).toBe(200);
      expect(failed.body.deliveries).toHaveLength(1);
      expect(failed.body.deliveries?.[0]).toMatchObject({
        state: 'failed',
        last_status: 503,
        next_attempt_at: null,
      });
      expect(failed.body.deliveries?.[0]?.attempts).toBeGreaterThan(100);
      expect(receiver.received).toEqual([]);

      receiver.state.status = 200;
      expect(await call('POST', `${base}/replay`, owner.token, {})).toEqual({
        status: 200,
        body: { queued: 1 },
      });
      await drain();
      expect(receiver.received.map((r) => r.body.entry[0]?.changes[0]?.value)).toEqual([
        { n: 'lost-for-a-week' },
      ]);
      expect((await call('GET', `${base}?state=failed`, owner.token)).body.deliveries).toEqual([]);
      const delivered = await call('GET', `${base}?state=delivered`, owner.token);
      expect(delivered.body.deliveries?.[0]).toMatchObject({ state: 'delivered', last_status: 200 });

      // Someone who does not manage the business sees nothing of it.
      const stranger = await server.newPerson('Stranger');
      expect((await call('GET', base, stranger.token)).status).toBe(404);
      expect((await call('POST', `${base}/replay`, stranger.token, {})).status).toBe(404);
    } finally {
      await receiver.close();
    }
  });

  it('a token of business A can neither read nor change B’s subscription', async () => {
    const a = await subscribedBusiness('A Corp');
    const b = await subscribedBusiness('B Corp');
    try {
      const path = `/v23.0/${b.biz.waba_id}/subscribed_apps`;
      for (const [method, body] of [
        ['GET', undefined],
        ['POST', { override_callback_uri: a.receiver.url, verify_token: 'my-verify-token' }],
        ['DELETE', undefined],
      ] as const) {
        const res = await call(method, path, a.biz.access_token, body);
        expect(res.status).toBe(400);
        expect(res.body.error).toMatchObject({ code: 100, error_subcode: 33 });
      }
      expect((await call('GET', path, b.biz.access_token)).body.data?.[0]?.override_callback_uri).toBe(
        b.receiver.url,
      );
      expect((await call('GET', path, 'not-a-token')).status).toBe(401);
      // B's webhooks still go to B's receiver only.
      await enqueue(b.biz.business_id, [{ value: { for: 'b' } }]);
      await drain();
      expect(b.receiver.received.map((r) => r.body.entry[0]?.changes[0]?.value)).toEqual([{ for: 'b' }]);
      expect(a.receiver.received).toEqual([]);
    } finally {
      await a.receiver.close();
      await b.receiver.close();
    }
  });
});

describe('webhooks of the Business Messaging API’s own changes', () => {
  let server: TestServer;
  const sdk = createSdkPool(() => server.url);
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await sdk.closeAll();
    await server?.close();
  });

  it('a person’s message, then a reply’s sent, delivered and read, and failures, reach the receiver signed', async () => {
    const bizPhone = newPhone();
    const biz = await server.modules.business.create({ name: 'Live', phone: bizPhone });
    const receiver = await startReceiver('tok');
    try {
      const sub = await fetch(`${server.url}/v23.0/${biz.waba_id}/subscribed_apps`, {
        method: 'POST',
        headers: { authorization: `Bearer ${biz.access_token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ override_callback_uri: receiver.url, verify_token: 'tok' }),
      });
      expect(sub.status).toBe(200);
      const send = async (to: string, text: string) => {
        const res = await fetch(`${server.url}/v23.0/${biz.phone_number_id}/messages`, {
          method: 'POST',
          headers: { authorization: `Bearer ${biz.access_token}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            messaging_product: 'whatsapp',
            to,
            type: 'text',
            biz_opaque_callback_data: 'cb-1',
            text: { body: text },
          }),
        });
        expect(res.status).toBe(200);
        return ((await res.json()) as { messages: { id: string }[] }).messages[0]?.id ?? '';
      };
      const values = () => receiver.received.map((r) => r.body.entry[0]?.changes[0]?.value ?? {});
      const statuses = () =>
        values().flatMap(
          (v) =>
            (v.statuses as
              | {
                  id: string;
                  status: string;
                  recipient_id: string;
                  biz_opaque_callback_data?: string;
                  pricing?: unknown;
                  errors?: { code: number }[];
                }[]
              | undefined) ?? [],
        );
      const p = await server.newPerson('Pat');
      const person = await sdk.connect(p.token, { synced: true });

      // Before the person wrote, a free-form message is accepted and then fails (131047).
      const early = await send(p.phone.slice(1), 'Too early');
      await until(() => statuses().some((st) => st.id === early && st.status === 'failed'));
      expect(statuses().find((st) => st.id === early)?.errors?.[0]?.code).toBe(131047);
      // A number not on Parley: accepted, then failed with 131026.
      const nobody = await send(newPhone().slice(1), 'Anyone?');
      await until(() => statuses().some((st) => st.id === nobody && st.status === 'failed'));
      expect(statuses().find((st) => st.id === nobody)?.errors?.[0]?.code).toBe(131026);

      // The person writes: a messages webhook with their profile name and the text.
      const question = await person.client.sendText(bizPhone, 'Do you ship to José?');
      await until(() => values().some((v) => (v.messages as unknown[] | undefined)?.length));
      const inbound = values().find((v) => v.messages);
      expect(inbound).toMatchObject({
        messaging_product: 'whatsapp',
        metadata: { phone_number_id: biz.phone_number_id, display_phone_number: bizPhone.slice(1) },
        contacts: [{ profile: { name: 'Pat' }, wa_id: p.phone.slice(1) }],
        messages: [
          {
            from: p.phone.slice(1),
            id: toWamid(question.messageId),
            type: 'text',
            text: { body: 'Do you ship to José?' },
            timestamp: expect.stringMatching(/^\d+$/),
          },
        ],
      });

      // The reply: sent, then delivered and read as the person's device reports them.
      const reply = await send(p.phone.slice(1), 'We do!');
      await until(() => statuses().some((st) => st.id === reply && st.status === 'sent'));
      await until(() => person.inbox.some((m) => m.text === 'We do!'));
      const got = person.inbox.find((m) => m.text === 'We do!');
      person.client.sendReceipt('delivered', [got?.messageId ?? '']);
      await until(() => statuses().some((st) => st.id === reply && st.status === 'delivered'));
      person.client.sendReceipt('read', [got?.messageId ?? '']);
      await until(() => statuses().some((st) => st.id === reply && st.status === 'read'));
      const mine = statuses().filter((st) => st.id === reply);
      expect(mine.map((st) => st.status)).toEqual(['sent', 'delivered', 'read']);
      for (const st of mine) {
        expect(st).toMatchObject({
          recipient_id: p.phone.slice(1),
          biz_opaque_callback_data: 'cb-1',
          pricing: {
            billable: false,
            pricing_model: 'PMP',
            category: 'service',
            type: 'free_customer_service',
          },
        });
      }
      expect(receiver.received.every((r) => signatureValid(r, biz.app_secret))).toBe(true);
    } finally {
      await receiver.close();
    }
  });
});
