import fs from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpServer } from '../../src/http/server.js';
import { createRateCardsModule } from '../../src/modules/billing/rate-cards.module.js';
import { createManualClock } from '../../src/platform/clock.js';
import { newPhone } from '../harness/builders.js';
import { startTestServer, type TestServer } from '../harness/server.js';

const EXAMPLE = fs.readFileSync(new URL('../../../../docs/rate-card.example.csv', import.meta.url), 'utf8');

/** The HTTP server as the api role builds it, with the rate-card routes mounted. */
async function httpWithRateCards(server: TestServer): Promise<FastifyInstance> {
  const p = server.platform;
  const m = server.modules;
  const rates = createRateCardsModule({ db: p.db, clock: p.clock, ids: p.ids, business: m.business });
  return createHttpServer({
    logger: p.logger,
    metrics: p.metrics,
    accounts: m.accounts,
    groups: m.groups,
    contacts: m.contacts,
    receipts: m.receipts,
    disappearing: m.disappearing,
    media: m.media,
    chats: m.chats,
    business: m.business,
    cloudApi: m.cloudApi,
    inbox: m.inbox,
    automations: m.automations,
    stats: m.stats,
    broadcasts: m.broadcasts,
    tokens: m.tokens,
    plans: m.plans,
    labels: m.labels,
    links: m.links,
    webhooks: m.webhooks.service,
    operatorToken: p.secrets.operator_token,
    extraRoutes: [rates.routes],
    pingStorage: () => p.db.ping(),
    trustProxy: false,
    version: 'test',
    apiRoutes: true,
  });
}

describe('rate cards over HTTP', () => {
  let server: TestServer;
  let app: FastifyInstance;
  let operator: Record<string, string>;
  const clock = createManualClock(Date.parse('2026-11-10T12:00:00Z'));

  beforeAll(async () => {
    server = await startTestServer({ clock });
    app = await httpWithRateCards(server);
    operator = { authorization: `Bearer ${server.platform.secrets.operator_token}` };
  });
  afterAll(async () => {
    await app?.close();
    await server?.close();
  });

  it('imports CSV, lists, exports CSV, refuses overlaps, and deletes a scheduled version', async () => {
    const anonymous = await app.inject({
      method: 'POST',
      url: '/api/v1/admin/billing/rate-cards?currency=USD',
      headers: { 'content-type': 'text/csv' },
      payload: EXAMPLE,
    });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json().error.code).toBe('OPERATOR_UNAUTHENTICATED');

    const created = await app.inject({
      method: 'POST',
      url: '/api/v1/admin/billing/rate-cards?currency=USD&name=example',
      headers: { ...operator, 'content-type': 'text/csv' },
      payload: EXAMPLE,
    });
    expect(created.statusCode).toBe(201);
    const card = created.json();
    expect(card).toMatchObject({ currency: 'USD', status: 'in_force', rows: 26, name: 'example' });

    const csv = await app.inject({
      method: 'GET',
      url: `/api/v1/admin/billing/rate-cards/${card.id}`,
      headers: { ...operator, accept: 'text/csv' },
    });
    expect(csv.headers['content-type']).toContain('text/csv');
    expect(csv.body).toBe(EXAMPLE);

    const overlap = await app.inject({
      method: 'POST',
      url: '/api/v1/admin/billing/rate-cards',
      headers: operator,
      payload: {
        currency: 'USD',
        effective_from: '2026-12-01T00:00:00Z',
        rows: [{ category: 'marketing', market: '*', unit_price: '0.07' }],
      },
    });
    expect(overlap.statusCode).toBe(409);
    expect(overlap.json().error).toMatchObject({
      code: 'BILLING_RATE_CARD_OVERLAP',
      details: { clash: { id: card.id } },
    });

    const bad = await app.inject({
      method: 'POST',
      url: '/api/v1/admin/billing/rate-cards',
      headers: operator,
      payload: { currency: 'USD', rows: [{ category: 'marketing', market: 'XX1', unit_price: '1.5e-3' }] },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.details.errors).toHaveLength(2);

    const next = await app.inject({
      method: 'POST',
      url: '/api/v1/admin/billing/rate-cards',
      headers: operator,
      payload: {
        currency: 'USD',
        effective_from: '2026-12-01T00:00:00Z',
        supersede: true,
        rows: [{ category: 'marketing', market: '*', unit_price: '0.07' }],
      },
    });
    expect(next.statusCode).toBe(201);
    const listed = await app.inject({
      method: 'GET',
      url: '/api/v1/admin/billing/rate-cards?currency=USD',
      headers: operator,
    });
    expect(listed.json().rate_cards.map((v: { status: string }) => v.status)).toEqual([
      'in_force',
      'scheduled',
    ]);

    const removed = await app.inject({
      method: 'DELETE',
      url: `/api/v1/admin/billing/rate-cards/${next.json().id}`,
      headers: operator,
    });
    expect(removed.statusCode).toBe(204);
    const inForce = await app.inject({
      method: 'DELETE',
      url: `/api/v1/admin/billing/rate-cards/${card.id}`,
      headers: operator,
    });
    expect(inForce.json().error.code).toBe('BILLING_RATE_CARD_IN_FORCE');
  });

  it('previews a send for the business’s managers under the model in force', async () => {
    const owner = await server.newPerson('Owner');
    const stranger = await server.newPerson('Stranger');
    const { business_id: businessId } = await server.modules.business.create({
      name: 'Acme',
      phone: newPhone(),
      owner: owner.phone,
    });
    const ask = (token: string, query: string) =>
      app.inject({
        method: 'GET',
        url: `/api/v1/businesses/${businessId}/billing/price-preview?${query}`,
        headers: { authorization: `Bearer ${token}` },
      });

    const marketing = await ask(owner.token, 'to=%2B4917612345678&category=marketing');
    expect(marketing.statusCode).toBe(200);
    expect(marketing.json()).toMatchObject({
      currency: 'USD',
      market: 'DE',
      pricing_model: 'PMP',
      billable: true,
      category: 'marketing',
      type: 'regular',
      unit_price_micros: '150200',
      unit_price: '0.1502',
    });
    const utilityInWindow = await ask(owner.token, 'to=%2B14155550123&category=utility&window_open=true');
    expect(utilityInWindow.json()).toMatchObject({
      billable: false,
      unit_price_micros: '0',
      type: 'free_customer_service',
    });

    // From a switch to the 2026 model on, utility inside the window is charged.
    const switched = await app.inject({
      method: 'POST',
      url: '/api/v1/admin/billing/pricing-models',
      headers: operator,
      payload: { model: 'PMP_2026' },
    });
    expect(switched.statusCode).toBe(200);
    const after = await ask(owner.token, 'to=%2B14155550123&category=utility&window_open=true');
    expect(after.json()).toMatchObject({ billable: true, unit_price: '0.0044', market: 'US' });

    // A stranger learns nothing, not even that the business exists.
    const refused = await ask(stranger.token, 'to=%2B14155550123&category=utility');
    expect(refused.json().error.code).toBe('BUSINESS_NOT_FOUND');
    expect((await ask(owner.token, 'to=12&category=utility')).json().error.code).toBe('VALIDATION_FAILED');
    expect((await ask(owner.token, 'to=%2B1555&category=utility')).json().error.code).toBe('PHONE_INVALID');
  });
});
