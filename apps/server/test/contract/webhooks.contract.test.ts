/**
 * Contract tests of webhooks against Meta's OpenAPI document: the subscribed_apps operations
 * (request and answers, errors included) and the body of a delivered webhook as a receiver
 * gets it (WebhookPayload), checked on the bytes that arrived.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newPhone } from '../harness/builders.js';
import { startTestServer, type TestServer } from '../harness/server.js';
import { expectGraphError, expectOas, expectOasRequest, expectOasSchema } from './oas.js';

const OP = '/{Version}/{WABA-ID}/subscribed_apps';

describe('webhooks against Meta’s OpenAPI document', () => {
  let server: TestServer;
  let receiver: http.Server;
  let receiverUrl = '';
  const bodies: string[] = [];
  beforeAll(async () => {
    server = await startTestServer();
    receiver = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (req.method === 'GET') return res.end(url.searchParams.get('hub.challenge'));
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        bodies.push(Buffer.concat(chunks).toString('utf8'));
        res.end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  });
  afterAll(async () => {
    await server?.close();
    await new Promise<void>((r) => receiver.close(() => r()));
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
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('subscribed_apps: subscribe, list, unsubscribe and errors', async () => {
    const biz = await server.modules.business.create({ name: 'Acme', phone: newPhone() });
    const other = await server.modules.business.create({ name: 'Other', phone: newPhone() });
    const path = `/v23.0/${biz.waba_id}/subscribed_apps`;
    expectOas(`GET ${OP}`, 200, (await call('GET', path, biz.access_token)).body);

    const subscribe = { override_callback_uri: receiverUrl, verify_token: 'tok' };
    expectOasRequest(`POST ${OP}`, subscribe);
    const subscribed = await call('POST', path, biz.access_token, subscribe);
    expect(subscribed.status).toBe(200);
    expectOas(`POST ${OP}`, 200, subscribed.body);
    const listed = await call('GET', path, biz.access_token);
    expect((listed.body.data as unknown[]).length).toBe(1);
    expectOas(`GET ${OP}`, 200, listed.body);

    const refused = await call('POST', path, biz.access_token, {
      override_callback_uri: 'ftp://example.com/',
      verify_token: 'tok',
    });
    expect(refused.status).toBe(400);
    expectOas(`POST ${OP}`, 400, refused.body);
    // Another business's account: Graph's unknown-object answer (100, subcode 33), HTTP 400.
    const foreign = await call('GET', `/v23.0/${other.waba_id}/subscribed_apps`, biz.access_token);
    expect(foreign.status).toBe(400);
    expectOas(`GET ${OP}`, 400, foreign.body);
    const noToken = await call('GET', path, 'nope');
    expect(noToken.status).toBe(401);
    expectOas(`GET ${OP}`, 401, noToken.body);
    expectGraphError(noToken.body);

    const removed = await call('DELETE', path, biz.access_token);
    expect(removed).toEqual({ status: 200, body: { success: true } });
    expectOas(`DELETE ${OP}`, 200, removed.body);
  });

  it('a delivered status webhook is a WebhookPayload', async () => {
    const biz = await server.modules.business.create({ name: 'Statuses', phone: newPhone() });
    await call('POST', `/v23.0/${biz.waba_id}/subscribed_apps`, biz.access_token, {
      override_callback_uri: receiverUrl,
      verify_token: 'tok',
    });
    const value = {
      messaging_product: 'whatsapp',
      metadata: { display_phone_number: '15550001111', phone_number_id: biz.phone_number_id },
      statuses: [
        {
          id: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBJDQjZCMzlEQUE4OTJBMTE4RTUA',
          status: 'delivered',
          timestamp: '1767225600',
          recipient_id: '15551234567',
        },
      ],
    };
    expectOasSchema('StatusMessageValue', value);
    await server.platform.db.kysely
      .transaction()
      .execute((tx) =>
        server.modules.webhooks.port.enqueue(tx, [{ businessId: biz.business_id, field: 'messages', value }]),
      );
    await server.modules.webhooks.dispatcher.drain();
    const raw = bodies.find((b) => b.includes(biz.waba_id));
    if (!raw) throw new Error('no webhook delivered');
    expectOasSchema('WebhookPayload', JSON.parse(raw));
  });
});
