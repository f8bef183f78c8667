import { describe, expect, it } from 'vitest';
import { createWebhooksApi } from './business-webhooks.js';
import { createHttp, type FetchLike } from './http.js';

describe('business webhook deliveries over REST', () => {
  it('names each call’s path and query, encoding the business id', async () => {
    const calls: [string, string, unknown][] = [];
    const fetch: FetchLike = async (input, init) => {
      calls.push([
        init?.method ?? 'GET',
        String(input),
        typeof init?.body === 'string' ? JSON.parse(init.body) : undefined,
      ]);
      return new Response(JSON.stringify({ deliveries: [], next_before: null, queued: 0 }), {
        status: 200,
        headers: { 'content-type': 'application/json' },
      });
    };
    const api = createWebhooksApi(createHttp({ baseUrl: 'https://p.test/', token: 't', fetch }));
    await api.deliveries('biz/1');
    await api.deliveries('biz_1', { state: 'failed', limit: 20, before: '99' });
    await api.replay('biz_1');
    await api.replay('biz_1', ['4', '5']);
    expect(calls).toEqual([
      ['GET', 'https://p.test/api/v1/businesses/biz%2F1/webhooks/deliveries', undefined],
      [
        'GET',
        'https://p.test/api/v1/businesses/biz_1/webhooks/deliveries?state=failed&limit=20&before=99',
        undefined,
      ],
      ['POST', 'https://p.test/api/v1/businesses/biz_1/webhooks/deliveries/replay', {}],
      ['POST', 'https://p.test/api/v1/businesses/biz_1/webhooks/deliveries/replay', { ids: ['4', '5'] }],
    ]);
  });
});
