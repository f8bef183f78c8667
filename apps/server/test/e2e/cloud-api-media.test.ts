/**
 * Media on the Business Messaging API over real HTTP, as a Cloud API client uses it: multipart
 * upload, the media id's URL, the download with the bearer token, delete; media a person sent
 * to the number; links fetched from a real HTTP server; and nothing of business A visible to B.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostedActor } from '../../src/modules/business/index.js';
import { encodePayload, type MediaRef } from '../../src/modules/cloud-api/index.js';
import { newPhone } from '../harness/builders.js';
import { makeJpeg, makePdf, makePng, makeWebp } from '../harness/media-fixtures.js';
import { createSdkPool } from '../harness/sdk.js';
import { startTestServer, type TestServer } from '../harness/server.js';
import { until } from '../harness/wait.js';

/** What the Graph paths answer: a result, or the error envelope. */
interface GraphBody {
  id?: string;
  url: string;
  error: { code: number; error_subcode?: number };
  [key: string]: unknown;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('Business Messaging API media', () => {
  let server: TestServer;
  let files: http.Server;
  let filesUrl: string;
  const served = new Map<string, { type: string; body: Buffer; status?: number }>();
  const sdk = createSdkPool(() => server.url);

  beforeAll(async () => {
    // Links in these tests point at this local server, which the default refuses (SSRF).
    server = await startTestServer({ env: { PARLEY_MEDIA_FETCH_PRIVATE: 'true' } });
    files = http.createServer((req, res) => {
      const path = req.url ?? '/';
      if (path.startsWith('/redirect/')) {
        res.writeHead(302, { location: `/${path.slice('/redirect/'.length)}` }).end();
        return;
      }
      const file = served.get(path);
      if (!file) {
        res.writeHead(404).end('not found');
        return;
      }
      res
        .writeHead(file.status ?? 200, { 'content-type': file.type, 'content-length': file.body.length })
        .end(file.body);
    });
    await new Promise<void>((resolve) => files.listen(0, '127.0.0.1', resolve));
    filesUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await sdk.closeAll();
    await server?.close();
    await new Promise((resolve) => files?.close(resolve));
  });

  const business = (name = 'Acme') => server.modules.business.create({ name, phone: newPhone() });

  async function upload(
    pnid: string,
    token: string,
    file: Buffer,
    options: { type?: string; partType?: string; product?: string | null } = {},
  ) {
    const form = new FormData();
    form.append(
      'file',
      new Blob([new Uint8Array(file)], { type: options.partType ?? 'application/octet-stream' }),
      'upload.bin',
    );
    if (options.type !== undefined) form.append('type', options.type);
    if (options.product !== null) form.append('messaging_product', options.product ?? 'whatsapp');
    const res = await fetch(`${server.url}/v23.0/${pnid}/media`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body: form,
    });
    return { status: res.status, body: (await res.json()) as GraphBody };
  }

  const call = async (method: string, url: string, token?: string) => {
    const res = await fetch(url.startsWith('http') ? url : `${server.url}${url}`, {
      method,
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
    return res;
  };
  const json = async (method: string, url: string, token?: string) => {
    const res = await call(method, url, token);
    return { status: res.status, body: (await res.json()) as GraphBody };
  };

  it('uploads, tells the URL, downloads with the token, and deletes', async () => {
    const biz = await business();
    const png = await makePng();
    // As Meta's curl example: the type field after the file, the file part untyped.
    const up = await upload(biz.phone_number_id, biz.access_token, png, { type: 'image/png' });
    expect(up).toEqual({ status: 200, body: { id: expect.stringMatching(/^\d{15,16}$/) } });
    const id = up.body.id as string;

    const info = await json('GET', `/v23.0/${id}`, biz.access_token);
    expect(info).toEqual({
      status: 200,
      body: {
        messaging_product: 'whatsapp',
        url: expect.stringMatching(new RegExp(`^${server.url}/whatsapp_business/attachments/\\?mid=${id}&`)),
        mime_type: 'image/png',
        sha256: sha(png),
        file_size: String(png.length),
        id,
      },
    });
    expect(
      (await json('GET', `/v23.0/${id}?phone_number_id=${biz.phone_number_id}`, biz.access_token)).status,
    ).toBe(200);
    expect((await json('GET', `/v23.0/${id}?phone_number_id=123456789012345`, biz.access_token)).status).toBe(
      400,
    );

    const download = await call('GET', info.body.url, biz.access_token);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await download.arrayBuffer()).equals(png)).toBe(true);

    // The URL wants the token, and a URL that was tampered with is no URL.
    expect(await json('GET', info.body.url)).toMatchObject({ status: 401, body: { error: { code: 104 } } });
    const forged = info.body.url.replace(/ext=\d+/, 'ext=9999999999');
    expect((await call('GET', forged, biz.access_token)).status).toBe(404);

    expect(await json('DELETE', `/v23.0/${id}`, biz.access_token)).toEqual({
      status: 200,
      body: { success: true },
    });
    expect(await json('GET', `/v23.0/${id}`, biz.access_token)).toMatchObject({
      status: 400,
      body: { error: { code: 100, error_subcode: 33 } },
    });
    expect((await call('GET', info.body.url, biz.access_token)).status).toBe(404);
    expect(await json('DELETE', `/v23.0/${id}`, biz.access_token)).toMatchObject({
      status: 400,
      body: { error: { code: 100 } },
    });
  });

  it('shows nothing of business A to business B', async () => {
    const a = await business('A');
    const b = await business('B');
    const { body } = await upload(a.phone_number_id, a.access_token, await makeJpeg(), {
      partType: 'image/jpeg',
    });
    const info = await json('GET', `/v23.0/${body.id}`, a.access_token);
    expect(info.status).toBe(200);
    expect(await json('GET', `/v23.0/${body.id}`, b.access_token)).toMatchObject({
      status: 400,
      body: { error: { code: 100, error_subcode: 33 } },
    });
    expect((await json('DELETE', `/v23.0/${body.id}`, b.access_token)).status).toBe(400);
    expect((await call('GET', info.body.url, b.access_token)).status).toBe(404);
    // Nor may B upload through A's number.
    expect((await upload(a.phone_number_id, b.access_token, await makePng())).body.error.code).toBe(100);
    // And B cannot send A's media.
    const refs: MediaRef[] = [{ slot: 'message', kind: 'image', source: { id: body.id as string } }];
    await expect(
      server.modules.graphMedia.resolveMedia(b.business_id, b.phone_number_id, refs),
    ).rejects.toMatchObject({ code: 100 });
    expect((await call('GET', info.body.url, a.access_token)).status).toBe(200);
  });

  it('refuses types and sizes the Cloud API refuses', async () => {
    const biz = await business();
    const up = (file: Buffer, options: Parameters<typeof upload>[3] = {}) =>
      upload(biz.phone_number_id, biz.access_token, file, options);
    // A GIF is a Parley image, not a Cloud API one.
    const gif = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');
    expect((await up(gif)).body.error).toMatchObject({ code: 100 });
    expect((await up(await makePng(), { type: 'image/gif' })).body.error).toMatchObject({ code: 100 });
    // Declared a JPEG, is a PNG.
    expect((await up(await makePng(), { type: 'image/jpeg' })).body.error).toMatchObject({ code: 131053 });
    // Over an image's 5 MB, cut off while it streams.
    const big = Buffer.concat([await makePng(), Buffer.alloc(5 * 1024 * 1024 + 1)]);
    expect(await up(big, { type: 'image/png' })).toMatchObject({
      status: 400,
      body: { error: { code: 131053 } },
    });
    expect((await up(await makePng(), { product: null })).body.error).toMatchObject({ code: 131008 });
    // A WebP is a sticker; a PDF a document.
    expect((await up(await makeWebp(), { type: 'image/webp' })).status).toBe(200);
    expect((await up(makePdf(), { type: 'application/pdf' })).status).toBe(200);
  });

  it('a medium of the business goes out from its number, and the person downloads it', async () => {
    const biz = await business();
    const p = await server.newPerson('Pat');
    const person = await sdk.connect(p.token, { synced: true });
    const png = await makePng();
    const { body } = await upload(biz.phone_number_id, biz.access_token, png, { type: 'image/png' });
    const [resolved] = await server.modules.graphMedia.resolveMedia(biz.business_id, biz.phone_number_id, [
      { slot: 'message', kind: 'image', source: { id: body.id as string } },
    ]);
    expect(resolved).toMatchObject({ mimeType: 'image/png', sha256: sha(png), size: png.length });
    // As the send pipeline will send it: from the number's hosted device, naming the media.
    const number = await server.platform.db.kysely
      .selectFrom('business_numbers')
      .selectAll()
      .where('phone_number_id', '=', biz.phone_number_id)
      .executeTakeFirstOrThrow();
    await server.modules.delivery.send(hostedActor(number), {
      clientId: 'media-1',
      to: p.account_id,
      payload: encodePayload({ type: 'image', image: { media_id: resolved?.mediaId } }),
      media: [resolved?.mediaId as string],
    });
    await until(() => person.inbox.some((m) => m.media.length > 0));
    const got = person.inbox.find((m) => m.media.length > 0);
    const bytes = await person.client.media.download(got?.media[0] as string);
    expect(Buffer.from(bytes.bytes).equals(png)).toBe(true);

    // Not a sticker, and not an image of another kind.
    await expect(
      server.modules.graphMedia.resolveMedia(biz.business_id, biz.phone_number_id, [
        { slot: 'message', kind: 'sticker', source: { id: body.id as string } },
      ]),
    ).rejects.toMatchObject({ code: 131053 });
    // Another business may not send it.
    const other = await business('Other');
    await expect(
      server.modules.graphMedia.resolveMedia(other.business_id, other.phone_number_id, [
        { slot: 'message', kind: 'image', source: { id: body.id as string } },
      ]),
    ).rejects.toMatchObject({ code: 100 });
  });

  it('another number of the business sends the same media as a row of its own on the same file', async () => {
    const owner = await server.newPerson('Owner');
    const biz = await server.modules.business.create({
      name: 'Two numbers',
      phone: newPhone(),
      owner: owner.account_id,
    });
    const actor = {
      accountId: owner.account_id,
      deviceId: owner.device_id,
      phone: owner.phone,
      role: 'primary' as const,
    };
    await server.modules.business.addNumber(actor, biz.business_id, newPhone());
    const second = await server.platform.db.kysely
      .selectFrom('business_numbers')
      .selectAll()
      .where('business_id', '=', biz.business_id)
      .where('phone_number_id', '!=', biz.phone_number_id)
      .executeTakeFirstOrThrow();
    const png = await makePng();
    const { body } = await upload(biz.phone_number_id, biz.access_token, png, { type: 'image/png' });
    const [first] = await server.modules.graphMedia.resolveMedia(biz.business_id, biz.phone_number_id, [
      { slot: 'message', kind: 'image', source: { id: body.id as string } },
    ]);
    const [other] = await server.modules.graphMedia.resolveMedia(biz.business_id, second.phone_number_id, [
      { slot: 'message', kind: 'image', source: { id: body.id as string } },
    ]);
    expect(other?.mediaId).not.toBe(first?.mediaId);
    expect(other?.sha256).toBe(sha(png));
    const p = await server.newPerson('Pat');
    const person = await sdk.connect(p.token, { synced: true });
    await server.modules.delivery.send(hostedActor(second), {
      clientId: 'media-2',
      to: p.account_id,
      payload: encodePayload({ type: 'image', image: { media_id: other?.mediaId } }),
      media: [other?.mediaId as string],
    });
    await until(() => person.inbox.some((m) => m.media.length > 0));
    const got = person.inbox.find((m) => m.media.length > 0);
    expect(Buffer.from((await person.client.media.download(got?.media[0] as string)).bytes).equals(png)).toBe(
      true,
    );
  });

  it('fetches a link, checks it by content and stores it; refuses what it cannot use', async () => {
    const biz = await business();
    const png = await makePng();
    served.set('/a.png', { type: 'image/png', body: png });
    served.set('/mislabelled', { type: 'application/octet-stream', body: png });
    served.set('/page.html', { type: 'text/html', body: Buffer.from('<html><body>hi</body></html>') });
    served.set('/big.png', { type: 'image/png', body: Buffer.concat([png, Buffer.alloc(5 * 1024 * 1024)]) });
    served.set('/gone', { type: 'text/plain', body: Buffer.from('x'), status: 500 });
    const resolve = (link: string, kind: MediaRef['kind'] = 'image') =>
      server.modules.graphMedia.resolveMedia(biz.business_id, biz.phone_number_id, [
        { slot: 'message', kind, source: { link } },
      ]);

    const [fromLink] = await resolve(`${filesUrl}/a.png`);
    expect(fromLink).toMatchObject({
      mediaId: expect.stringMatching(/^med_/),
      mimeType: 'image/png',
      sha256: sha(png),
    });
    expect((await resolve(`${filesUrl}/mislabelled`))[0]?.mimeType).toBe('image/png');
    expect((await resolve(`${filesUrl}/redirect/a.png`))[0]?.sha256).toBe(sha(png));

    for (const [link, kind] of [
      [`${filesUrl}/missing.png`, 'image'],
      [`${filesUrl}/gone`, 'image'],
      [`${filesUrl}/page.html`, 'document'],
      [`${filesUrl}/big.png`, 'image'],
      [`${filesUrl}/a.png`, 'video'],
      ['http://127.0.0.1:1/refused.png', 'image'],
    ] as const) {
      await expect(resolve(link, kind), link).rejects.toMatchObject({
        code: 131053,
        extra: { details: expect.any(String) },
      });
    }
  });

  it('media a person sends to the number is the business’s to download, by a Graph id', async () => {
    const biz = await business();
    const other = await business('Other');
    const p = await server.newPerson('Pat');
    const person = await sdk.connect(p.token, { synced: true });
    const jpeg = await makeJpeg();
    const view = await person.client.media.upload(jpeg, { contentType: 'image/jpeg' });
    const numberPhone = (
      await server.platform.db.kysely
        .selectFrom('business_numbers')
        .select('phone')
        .where('phone_number_id', '=', biz.phone_number_id)
        .executeTakeFirstOrThrow()
    ).phone;
    await person.client.send(numberPhone, encodePayload({ text: 'my receipt' }), { media: [view.id] });

    const id = await server.modules.graphMedia.graphMediaIdFor(biz.business_id, biz.phone_number_id, view.id);
    expect(id).toMatch(/^\d{15,16}$/);
    expect(
      await server.modules.graphMedia.graphMediaIdFor(biz.business_id, biz.phone_number_id, view.id),
    ).toBe(id);
    expect(
      await server.modules.graphMedia.inboundMedia(biz.business_id, biz.phone_number_id, [
        view.id,
        'med_gone',
      ]),
    ).toEqual([{ graphId: id, mime_type: 'image/jpeg', sha256: sha(jpeg) }]);
    const info = await json('GET', `/v23.0/${id}`, biz.access_token);
    expect(info.body).toMatchObject({ mime_type: 'image/jpeg', sha256: sha(jpeg), id });
    const download = await call('GET', info.body.url, biz.access_token);
    expect(download.status).toBe(200);
    expect(Buffer.from(await download.arrayBuffer()).equals(jpeg)).toBe(true);
    expect((await json('GET', `/v23.0/${id}`, other.access_token)).status).toBe(400);

    // The business may send it back (to the same person, from the number that received it).
    const [again] = await server.modules.graphMedia.resolveMedia(biz.business_id, biz.phone_number_id, [
      { slot: 'message', kind: 'image', source: { id } },
    ]);
    expect(again?.mediaId).toBe(view.id);
  });
});
