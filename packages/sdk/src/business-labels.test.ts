import { describe, expect, it } from 'vitest';
import { createLabelsApi, createLinksApi, resolveLink } from './business-labels.js';
import { ParleyError } from './errors.js';
import { createHttp, type FetchLike } from './http.js';

function recorder(answer: (url: string) => Response) {
  const calls: { method: string; url: string; body: unknown; accept: string | undefined }[] = [];
  const fetch: FetchLike = async (input, init) => {
    const url = String(input);
    const headers = (init?.headers ?? {}) as Record<string, string>;
    calls.push({
      method: init?.method ?? 'GET',
      url,
      body: typeof init?.body === 'string' ? JSON.parse(init.body) : undefined,
      accept: headers.accept,
    });
    return answer(url);
  };
  return { calls, fetch };
}

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

describe('business labels and links over REST', () => {
  it('names each call’s path, encoding ids, and sends the wire field names', async () => {
    const { calls, fetch } = recorder((url) =>
      json(url.includes('/labels') && !url.includes('/conversations') ? { labels: [] } : {}),
    );
    const http = createHttp({ baseUrl: 'https://p.test/', token: 't', fetch });
    const labels = createLabelsApi(http);
    const links = createLinksApi(http, { baseUrl: 'https://p.test', fetch });
    await labels.list('biz_1');
    await labels.applyToConversation('biz_1', 'cnv/2', 'lbl_3');
    await labels.removeFromMessage('biz_1', 'msg_4', 'lbl_3');
    await links.create('biz_1', { text: 'hi', phoneNumberId: '155', code: 'sale' });
    await links.update('biz_1', 'sale', { text: 'new' });
    await links.open('sale', 'qr');
    expect(calls.map((c) => [c.method, c.url, c.body])).toEqual([
      ['GET', 'https://p.test/api/v1/businesses/biz_1/labels', undefined],
      ['PUT', 'https://p.test/api/v1/businesses/biz_1/conversations/cnv%2F2/labels/lbl_3', undefined],
      ['DELETE', 'https://p.test/api/v1/businesses/biz_1/messages/msg_4/labels/lbl_3', undefined],
      [
        'POST',
        'https://p.test/api/v1/businesses/biz_1/links',
        { text: 'hi', phone_number_id: '155', code: 'sale' },
      ],
      ['PATCH', 'https://p.test/api/v1/businesses/biz_1/links/sale', { text: 'new' }],
      ['POST', 'https://p.test/api/v1/links/sale/open', { source: 'qr' }],
    ]);
  });

  it('resolves a link without a token, asking for JSON, and turns a 404 into the server’s error', async () => {
    const { calls, fetch } = recorder((url) =>
      url.includes('gone')
        ? json({ error: { code: 'LINK_NOT_FOUND', message: 'No link "gone".' } }, 404)
        : json({ code: 'sale', phone: '+15550001111', business_name: 'Acme', verified: true, text: 'hi' }),
    );
    expect(await resolveLink('https://p.test', 'sale', { fetch, source: 'qr' })).toMatchObject({
      business_name: 'Acme',
    });
    expect(calls[0]).toMatchObject({ url: 'https://p.test/c/sale?src=qr', accept: 'application/json' });
    const error = await resolveLink('https://p.test', 'gone', { fetch }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ParleyError);
    expect(error).toMatchObject({ code: 'LINK_NOT_FOUND', status: 404 });
  });
});
