/**
 * Partners and revenue over HTTP: the operator manages partners with the admin token, a
 * partner's member reads its clients' usage as JSON and CSV with a device token, and other
 * people get 404; revenue reports answer as JSON and CSV; the same through `parley partner` and
 * `parley billing revenue`.
 */
import { Writable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/main.js';
import { newPhone } from '../harness/builders.js';
import { insertCharges } from '../harness/partner-charges.js';
import { startTestServer, type TestServer } from '../harness/server.js';

describe('partners and revenue over HTTP', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  const call = async (
    method: string,
    path: string,
    token: string | undefined,
    body?: unknown,
    accept?: string,
  ) => {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (accept) headers.accept = accept;
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    const type = res.headers.get('content-type') ?? '';
    return { status: res.status, type, body: type.includes('json') ? JSON.parse(text) : text };
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

  it('parley partner and parley billing revenue', async () => {
    const biz = (await server.modules.business.create({ name: 'Cli Co', phone: newPhone() })).business_id;
    const person = await server.newPerson('Pia');
    const made = await parley('partner', 'create', '--name', 'Cli Partner', '--markup-bps', '1500', '--json');
    expect(made.code).toBe(0);
    const id: string = JSON.parse(made.stdout).partner_id;
    expect((await parley('partner', 'attach', id, biz)).code).toBe(0);
    expect(
      (await parley('partner', 'markup', id, '--category', 'utility', '--bps', '250', '--micros', '40')).code,
    ).toBe(0);
    expect((await parley('partner', 'member', 'add', id, person.phone, '--role', 'admin')).code).toBe(0);
    const list = JSON.parse((await parley('partner', 'list', '--json')).stdout) as {
      partners: { partner_id: string }[];
    };
    expect(list.partners.find((p) => p.partner_id === id)).toMatchObject({
      markup_bps: 1500,
      markups: [{ category: 'utility', markup_bps: 250, markup_micros: '40' }],
      clients: [{ business_id: biz }],
      members: [{ account_id: person.account_id, role: 'admin' }],
    });
    const text = await parley('partner', 'list');
    expect(text.stdout).toContain(`${id}\tCli Partner\t1500 bps + 0 micros`);
    const refused = await parley('partner', 'markup', id, '--bps', '100001');
    expect([refused.code, refused.stderr]).toEqual([1, expect.stringContaining('BILLING_PARTNER_INVALID')]);
    expect((await parley('partner', 'attach', id)).code).toBe(2);
    expect((await parley('partner', 'detach', biz)).stdout).toBe(`${biz} detached from ${id}\n`);

    await insertCharges(server.platform.db.kysely, [
      {
        businessId: biz,
        stream: 'premium_plan',
        category: null,
        market: null,
        unitPriceMicros: 19_990_000n,
        occurredAt: Date.parse('2027-02-01T00:00:00Z'),
      },
    ]);
    const csv = await parley('billing', 'revenue', '--period', '2027-02', '--granularity', 'day', '--csv');
    expect(csv.code).toBe(0);
    expect(parse(csv.stdout, { columns: true })).toEqual([
      expect.objectContaining({
        bucket: '2027-02-01',
        stream: 'premium_plan',
        category: '',
        operator_minor: '1999',
      }),
    ]);
    const report = await parley('billing', 'revenue', '--period', '2027-02');
    expect(report.stdout).toContain('premium_plan\tUSD\t1\t1999\t0\t1999');
    expect((await parley('billing', 'revenue')).code).toBe(2);
  });

  it('the operator manages partners; members see their clients’ usage and nobody else does', async () => {
    const op = server.platform.secrets.operator_token;
    const acme = (await server.modules.business.create({ name: 'Acme', phone: newPhone() })).business_id;
    const member = await server.newPerson('Mia');
    const stranger = await server.newPerson('Sam');

    expect((await call('GET', '/api/v1/admin/partners', undefined)).body.error.code).toBe(
      'OPERATOR_UNAUTHENTICATED',
    );
    expect((await call('GET', '/api/v1/admin/partners', member.token)).status).toBe(401);

    const created = await call('POST', '/api/v1/admin/partners', op, { name: 'Resell', markup_bps: 1000 });
    expect(created.status).toBe(201);
    const id: string = created.body.partner_id;
    expect(id).toMatch(/^ptn_/);
    const bad = await call('PUT', `/api/v1/admin/partners/${id}/markup`, op, { markup_bps: 100_001 });
    expect([bad.status, bad.body.error.code]).toEqual([400, 'BILLING_PARTNER_INVALID']);
    await call('PUT', `/api/v1/admin/partners/${id}/markup`, op, {
      category: 'marketing',
      markup_bps: 2000,
      markup_micros: '300',
    });
    expect((await call('PUT', `/api/v1/admin/partners/${id}/clients/${acme}`, op)).status).toBe(200);
    expect((await call('PUT', `/api/v1/admin/partners/ptn_nope/clients/${acme}`, op)).status).toBe(404);
    const withMember = await call('PUT', `/api/v1/admin/partners/${id}/members`, op, {
      member: member.phone,
    });
    expect(withMember.body).toMatchObject({
      markups: [{ category: 'marketing', markup_bps: 2000, markup_micros: '300' }],
      clients: [{ business_id: acme, name: 'Acme' }],
      members: [{ account_id: member.account_id, role: 'viewer' }],
    });
    expect(
      (await call('GET', '/api/v1/admin/partners', op)).body.partners.map(
        (p: { partner_id: string }) => p.partner_id,
      ),
    ).toContain(id);

    await insertCharges(server.platform.db.kysely, [
      {
        businessId: acme,
        partnerId: id,
        quantity: 2,
        partnerMarkupMicros: 880n,
        occurredAt: Date.parse('2026-11-03T08:00:00Z'),
      },
      {
        businessId: acme,
        partnerId: id,
        category: 'utility',
        market: 'DE',
        unitPriceMicros: 10_000n,
        partnerMarkupMicros: 1000n,
        occurredAt: Date.parse('2026-11-04T08:00:00Z'),
      },
      { businessId: 'biz_direct', occurredAt: Date.parse('2026-11-04T09:00:00Z') },
    ]);

    expect((await call('GET', '/api/v1/partners', member.token)).body).toEqual({
      partners: [{ partner_id: id, name: 'Resell', role: 'viewer' }],
    });
    expect((await call('GET', `/api/v1/partners/${id}`, member.token)).body.clients).toHaveLength(1);
    const usage = await call('GET', `/api/v1/partners/${id}/usage?period=2026-11`, member.token);
    expect(usage.body.totals).toEqual([
      {
        currency: 'USD',
        count: 3,
        billable: 3,
        operator_minor: '2',
        partner_minor: '0',
        operator_micros: '18800',
        partner_micros: '1880',
      },
    ]);
    const csv = await call(
      'GET',
      `/api/v1/partners/${id}/usage?period=2026-11`,
      member.token,
      undefined,
      'text/csv',
    );
    expect(csv.type).toMatch(/^text\/csv/);
    expect(parse(csv.body as string, { columns: true })).toEqual([
      expect.objectContaining({
        business_id: acme,
        business_name: 'Acme',
        category: 'marketing',
        count: '2',
        operator_micros: '8800',
      }),
      expect.objectContaining({
        business_id: acme,
        category: 'utility',
        count: '1',
        operator_micros: '10000',
        partner_micros: '1000',
      }),
    ]);
    for (const path of [`/api/v1/partners/${id}`, `/api/v1/partners/${id}/usage?period=2026-11`]) {
      const denied = await call('GET', path, stranger.token);
      expect([denied.status, denied.body.error.code]).toEqual([404, 'BILLING_PARTNER_NOT_FOUND']);
    }
    expect((await call('GET', `/api/v1/partners/${id}`, undefined)).status).toBe(401);

    // Revenue, JSON and CSV.
    const report = await call(
      'GET',
      '/api/v1/admin/billing/revenue?from=2026-11-01&to=2026-11-30&granularity=day',
      op,
    );
    expect(report.status).toBe(200);
    expect(report.body.rows).toHaveLength(3);
    expect(report.body.totals[0]).toMatchObject({
      stream: 'api_messages',
      currency: 'USD',
      count: 4,
      operator_micros: '23200',
      partner_micros: '1880',
    });
    const reportCsv = await call('GET', '/api/v1/admin/billing/revenue?period=2026-11&format=csv', op);
    expect(parse(reportCsv.body as string, { columns: true })).toHaveLength(2);
    const split = await call('GET', '/api/v1/admin/billing/revenue/partners?period=2026-11', op);
    expect(
      split.body.rows.map((r: { partner_id: string | null; partner_micros: string }) => [
        r.partner_id,
        r.partner_micros,
      ]),
    ).toEqual([
      [id, '1880'],
      [null, '0'],
    ]);
    const top = await call(
      'GET',
      '/api/v1/admin/billing/revenue/top-businesses?period=2026-11&limit=1',
      op,
      undefined,
      'text/csv',
    );
    expect(parse(top.body as string, { columns: true })).toEqual([
      expect.objectContaining({ business_id: acme, name: 'Acme' }),
    ]);
    expect((await call('GET', '/api/v1/admin/billing/outstanding', op)).body).toEqual({ rows: [] });
    const invalid = await call('GET', '/api/v1/admin/billing/revenue?from=2026-11-01&to=2026-10-01', op);
    expect([invalid.status, invalid.body.error.code]).toEqual([400, 'VALIDATION_FAILED']);
    expect((await call('GET', '/api/v1/admin/billing/revenue?period=2026-11', member.token)).status).toBe(
      401,
    );

    // Detaching through the wrong partner is refused; through the right one it works.
    expect((await call('DELETE', `/api/v1/admin/partners/ptn_nope/clients/${acme}`, op)).status).toBe(404);
    expect((await call('DELETE', `/api/v1/admin/partners/${id}/clients/${acme}`, op)).body).toEqual({
      business_id: acme,
      partner_id: id,
    });
  });
});
