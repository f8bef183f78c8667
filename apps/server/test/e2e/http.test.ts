/**
 * The REST edge against a real server: sign-up through an SMS gateway webhook, profiles,
 * devices, health, metrics, the OpenAPI document and the error envelope.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newPhone } from '../harness/builders.js';
import { startTestServer, type TestServer } from '../harness/server.js';

describe('http api', () => {
  let server: TestServer;
  let sms: http.Server;
  let smsStatus = 200;
  const texts: { phone: string; code: string }[] = [];

  beforeAll(async () => {
    sms = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        if (smsStatus === 200) texts.push(JSON.parse(body));
        res.writeHead(smsStatus).end();
      });
    });
    await new Promise<void>((r) => sms.listen(0, '127.0.0.1', r));
    const port = (sms.address() as AddressInfo).port;
    server = await startTestServer({ env: { PARLEY_SMS_WEBHOOK_URL: `http://127.0.0.1:${port}/sms` } });
  });
  afterAll(async () => {
    await server?.close();
    sms?.close();
  });

  const call = async (method: string, path: string, body?: unknown, token?: string) => {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (token) headers.authorization = `Bearer ${token}`;
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
  };

  it('signs up through the SMS gateway and uses the token', async () => {
    const phone = newPhone();
    const requested = await call('POST', '/api/v1/auth/code', { phone });
    expect(requested).toMatchObject({ status: 202, body: { phone, expires_in: 600, resend_in: 30 } });
    const code = texts.find((t) => t.phone === phone)?.code;
    expect(code).toMatch(/^\d{6}$/);

    const wrong = await call('POST', '/api/v1/auth/verify', {
      phone,
      code: code === '000000' ? '111111' : '000000',
    });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error).toMatchObject({ code: 'CODE_INVALID', details: { attempts_left: 4 } });
    expect(wrong.body.error.request_id).toEqual(expect.any(String));

    const verified = await call('POST', '/api/v1/auth/verify', { phone, code, device_name: 'Laptop' });
    expect(verified.status).toBe(200);
    expect(verified.body).toMatchObject({ new_account: true, token: expect.stringMatching(/^pdt_/) });
    const token = verified.body.token as string;

    expect(
      (await call('PATCH', '/api/v1/me', { display_name: 'Zoe', about: 'hi' }, token)).body,
    ).toMatchObject({
      phone,
      display_name: 'Zoe',
      about: 'hi',
    });
    const devices = await call('GET', '/api/v1/devices', undefined, token);
    expect(devices.body.devices).toEqual([
      expect.objectContaining({ device_id: verified.body.device_id, name: 'Laptop', current: true }),
    ]);
    expect((await call('POST', '/api/v1/auth/logout-all', undefined, token)).body).toEqual({
      logged_out: [verified.body.device_id],
    });
    expect((await call('GET', '/api/v1/me', undefined, token)).status).toBe(401);
  });

  it('reports a failing SMS gateway as 502 SMS_DELIVERY_FAILED', async () => {
    smsStatus = 503;
    try {
      const r = await call('POST', '/api/v1/auth/code', { phone: newPhone() });
      expect(r).toMatchObject({ status: 502, body: { error: { code: 'SMS_DELIVERY_FAILED' } } });
    } finally {
      smsStatus = 200;
    }
  });

  it('rate limits repeated code requests with 429 and Retry-After', async () => {
    const phone = newPhone();
    expect((await call('POST', '/api/v1/auth/code', { phone })).status).toBe(202);
    const again = await call('POST', '/api/v1/auth/code', { phone });
    expect(again.status).toBe(429);
    expect(again.body.error.code).toBe('RATE_LIMITED');
    expect(Number(again.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('answers bad input with documented errors', async () => {
    expect((await call('POST', '/api/v1/auth/code', { phone: '12345' })).body.error.code).toBe(
      'PHONE_INVALID',
    );
    const missing = await call('POST', '/api/v1/auth/code', {});
    expect(missing.status).toBe(400);
    expect(missing.body.error).toMatchObject({
      code: 'VALIDATION_FAILED',
      details: { issues: [expect.anything()] },
    });
    const broken = await call('POST', '/api/v1/auth/code', '{"phone":');
    expect(broken).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_FAILED' } } });
    const extra = await call('PATCH', '/api/v1/me', { role: 'admin' }, (await server.newPerson()).token);
    expect(extra.body.error.code).toBe('VALIDATION_FAILED');
    expect((await call('GET', '/api/v1/me')).body.error.code).toBe('UNAUTHENTICATED');
    expect((await call('GET', '/api/v1/me', undefined, 'pdt_nope')).status).toBe(401);
    const nowhere = await call('GET', '/api/v1/nowhere');
    expect(nowhere).toMatchObject({ status: 404, body: { error: { code: 'ROUTE_NOT_FOUND' } } });
    const huge = await call('POST', '/api/v1/auth/code', { phone: 'x'.repeat(300 * 1024) });
    expect(huge).toMatchObject({ status: 413, body: { error: { code: 'PAYLOAD_TOO_LARGE' } } });
  });

  it('serves health, metrics and the OpenAPI document', async () => {
    expect(await call('GET', '/healthz')).toMatchObject({ status: 200, body: { status: 'ok' } });
    const metrics = await fetch(`${server.url}/metrics`);
    const text = await metrics.text();
    for (const name of [
      'parley_ws_connections',
      'parley_messages_accepted_total',
      'parley_messages_delivered_total',
      'parley_queue_depth',
      'parley_http_request_duration_seconds_bucket',
    ]) {
      expect(text).toContain(name);
    }
    const doc = await call('GET', '/api/docs/json');
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining(['/api/v1/auth/code', '/api/v1/auth/verify', '/api/v1/me', '/api/v1/devices']),
    );
    // Admin routes take the operator token, and the document says so for every one of them.
    const paths = doc.body.paths as Record<string, Record<string, { security?: Record<string, unknown>[] }>>;
    const admin = Object.entries(paths).filter(([path]) => path.startsWith('/api/v1/admin/'));
    expect(admin.length).toBeGreaterThan(20);
    const schemes = (path: string, op: { security?: Record<string, unknown>[] }) =>
      `${path}: ${(op.security ?? []).flatMap((s) => Object.keys(s)).join(',')}`;
    for (const [path, ops] of admin)
      for (const op of Object.values(ops)) expect(schemes(path, op)).toBe(`${path}: operator`);
    const ui = await fetch(`${server.url}/api/docs`);
    expect(ui.status).toBe(200);
    expect(await ui.text()).toContain('<html');
  });
});

describe('health when storage is gone', () => {
  it('answers 503 when the database does not answer', async () => {
    const server = await startTestServer();
    try {
      await server.platform.db.close();
      const r = await fetch(`${server.url}/healthz`);
      expect(r.status).toBe(503);
      expect(await r.json()).toMatchObject({ status: 'unavailable' });
    } finally {
      await server.close().catch(() => {});
    }
  });
});
