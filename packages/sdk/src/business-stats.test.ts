import { describe, expect, it } from 'vitest';
import { createBusinessStatsApi } from './business-stats.js';
import { createHttp } from './http.js';

function recording() {
  const calls: { method: string; url: string; body: unknown }[] = [];
  const fetch = (async (url: string, init: RequestInit) => {
    calls.push({
      method: init.method ?? 'GET',
      url,
      body: init.body === undefined ? undefined : JSON.parse(String(init.body)),
    });
    return new Response(JSON.stringify({ broadcast_lists: [], broadcasts: [] }), { status: 200 });
  }) as typeof globalThis.fetch;
  return {
    calls,
    api: createBusinessStatsApi(createHttp({ baseUrl: 'http://parley.test', token: 't', fetch })),
  };
}

describe('business stats and broadcasts over REST', () => {
  it('puts the range and the zone in the query, encoded', async () => {
    const { calls, api } = recording();
    await api.stats('biz_1', { from: '2026-03-01', to: '2026-03-31', tz: 'America/Argentina/Buenos_Aires' });
    await api.stats('biz_1', { from: '2026-03-01', to: '2026-03-01' });
    expect(calls.map((c) => c.url)).toEqual([
      'http://parley.test/api/v1/businesses/biz_1/stats?from=2026-03-01&to=2026-03-31&tz=America%2FArgentina%2FBuenos_Aires',
      'http://parley.test/api/v1/businesses/biz_1/stats?from=2026-03-01&to=2026-03-01',
    ]);
  });

  it('sends list and broadcast calls with the server’s field names', async () => {
    const { calls, api } = recording();
    await api.broadcasts.create('biz_1', { name: 'News' });
    await api.broadcasts.removeMember('biz_1', 'bcl_1', '+15550001111');
    await api.broadcasts.send('biz_1', 'bcl_1', { text: 'Hi', phoneNumberId: '1234' });
    expect(await api.broadcasts.list('biz_1')).toEqual([]);
    expect(calls.map((c) => [c.method, c.url.replace('http://parley.test/api/v1', ''), c.body])).toEqual([
      ['POST', '/businesses/biz_1/broadcast-lists', { name: 'News', members: [] }],
      ['DELETE', '/businesses/biz_1/broadcast-lists/bcl_1/members/%2B15550001111', undefined],
      ['POST', '/businesses/biz_1/broadcast-lists/bcl_1/messages', { text: 'Hi', phone_number_id: '1234' }],
      ['GET', '/businesses/biz_1/broadcast-lists', undefined],
    ]);
  });
});
