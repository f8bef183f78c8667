/**
 * Media through real SDK clients and real HTTP: upload, send with a message, download and
 * thumbnail by the recipient, refusals for everyone else, view-once, and the documented errors
 * (also for an oversized upload cut off mid-request).
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { ParleyError } from '@parley/sdk';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeExe, makeJpeg, makePng, makeWebp } from '../harness/media-fixtures.js';
import { createSdkPool } from '../harness/sdk.js';
import { startTestServer, type TestServer } from '../harness/server.js';
import { until } from '../harness/wait.js';

describe('media through the SDK', () => {
  let server: TestServer;
  const sdk = createSdkPool(() => server.url);
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await sdk.closeAll();
    await server?.close();
  });

  const refusal = (promise: Promise<unknown>) =>
    promise.then(
      () => undefined,
      (e: unknown) => {
        expect(e).toBeInstanceOf(ParleyError);
        return { code: (e as ParleyError).code, status: (e as ParleyError).status };
      },
    );

  it('profile and group photos: set from uploads, seen by whom privacy and membership allow', async () => {
    const [a, b, c] = [await server.newPerson('A'), await server.newPerson('B'), await server.newPerson('C')];
    const alice = await sdk.connect(a.token, { synced: true });
    const bob = await sdk.connect(b.token, { synced: true });
    const carol = await sdk.connect(c.token, { synced: true });

    const png = new Uint8Array(await makePng(200, 200));
    const avatar = await alice.client.media.upload(png, { contentType: 'image/png' });
    expect((await alice.client.updateProfile({ photo: avatar.id })).photo).toBe(avatar.id);
    expect((await bob.client.getProfile(a.account_id)).photo).toBe(avatar.id);
    expect((await bob.client.media.download(avatar.id)).bytes).toEqual(png);

    const group = await alice.client.groups.create({ subject: 'Team', members: [b.account_id] });
    const cover = await alice.client.media.upload(new Uint8Array(await makeJpeg()), {
      contentType: 'image/jpeg',
    });
    await alice.client.groups.update(group.group_id, { photo: cover.id });
    await until(() => bob.inbox.some((m) => m.event?.type === 'group.info_changed'));
    expect(bob.inbox.find((m) => m.event?.type === 'group.info_changed')?.event).toMatchObject({
      photo: cover.id,
    });
    expect((await bob.client.groups.get(group.group_id)).photo).toBe(cover.id);
    expect(await refusal(carol.client.media.download(cover.id))).toEqual({
      code: 'MEDIA_NOT_FOUND',
      status: 404,
    });

    await alice.client.contacts.setPrivacy({ photo: 'nobody' });
    expect((await carol.client.getProfile(a.account_id)).photo).toBeNull();
    expect(await refusal(carol.client.media.download(avatar.id))).toEqual({
      code: 'MEDIA_NOT_FOUND',
      status: 404,
    });
  });

  it('a photo sent in a message: the recipient gets the same bytes and a thumbnail, others get 404', async () => {
    const [a, b, c] = [await server.newPerson('A'), await server.newPerson('B'), await server.newPerson('C')];
    const alice = await sdk.connect(a.token, { synced: true });
    const bob = await sdk.connect(b.token, { synced: true });
    const carol = await sdk.connect(c.token, { synced: true });

    const jpeg = new Uint8Array(await makeJpeg(1280, 960));
    const photo = await alice.client.media.upload(jpeg, { contentType: 'image/jpeg', fileName: 'beach.jpg' });
    expect(photo).toMatchObject({
      kind: 'image',
      content_type: 'image/jpeg',
      size: jpeg.byteLength,
      width: 1280,
      height: 960,
      has_thumbnail: true,
    });
    // Before any message carries it, only the uploader may fetch it.
    expect(await refusal(bob.client.media.download(photo.id))).toEqual({
      code: 'MEDIA_NOT_FOUND',
      status: 404,
    });

    const sent = await alice.client.sendText(b.account_id, 'look', { media: [photo.id] });
    await until(() => bob.inbox.some((m) => m.messageId === sent.messageId));
    const received = bob.inbox.find((m) => m.messageId === sent.messageId);
    expect(received?.media).toEqual([photo.id]);

    const got = await bob.client.media.download(photo.id);
    expect(got.contentType).toBe('image/jpeg');
    expect(Buffer.from(got.bytes).equals(Buffer.from(jpeg))).toBe(true);
    const thumb = await bob.client.media.thumbnail(photo.id);
    expect(thumb.contentType).toBe('image/jpeg');
    const meta = await sharp(thumb.bytes).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 320, 240]);

    for (const call of [carol.client.media.download(photo.id), carol.client.media.thumbnail(photo.id)]) {
      expect(await refusal(call)).toEqual({ code: 'MEDIA_NOT_FOUND', status: 404 });
    }
    // Bob's link is no use with Carol's token: the check is on the account asking.
    const asCarol = await fetch(`${server.url}/api/v1/media/${photo.id}`, {
      headers: { authorization: `Bearer ${c.token}` },
    });
    expect(asCarol.status).toBe(404);
    const anonymous = await fetch(`${server.url}/api/v1/media/${photo.id}`);
    expect(anonymous.status).toBe(401);
  });

  it('view-once: the recipient opens it once, then 410; the sender is not limited', async () => {
    const [a, b] = [await server.newPerson('A'), await server.newPerson('B')];
    const alice = await sdk.connect(a.token, { synced: true });
    const bob = await sdk.connect(b.token, { synced: true });
    const png = new Uint8Array(await makePng(300, 200));
    const secret = await alice.client.media.upload(new Blob([png], { type: 'image/png' }), {
      contentType: 'image/png',
    });
    const sent = await alice.client.sendText(b.account_id, '', { media: [secret.id], viewOnce: true });
    await until(() => bob.inbox.some((m) => m.messageId === sent.messageId));
    expect(bob.inbox.find((m) => m.messageId === sent.messageId)?.viewOnce).toBe(true);

    const once = await bob.client.media.download(secret.id);
    expect(Buffer.from(once.bytes).equals(Buffer.from(png))).toBe(true);
    expect(await refusal(bob.client.media.download(secret.id))).toEqual({
      code: 'MEDIA_VIEW_ONCE_CONSUMED',
      status: 410,
    });
    expect(await refusal(bob.client.media.thumbnail(secret.id))).toEqual({
      code: 'MEDIA_VIEW_ONCE_CONSUMED',
      status: 410,
    });
    for (let i = 0; i < 2; i++)
      expect((await alice.client.media.download(secret.id)).bytes.length).toBe(png.length);
  });

  it('refuses mis-typed, unsupported and oversized uploads with their documented errors, storing nothing', async () => {
    const a = await server.newPerson('A');
    const alice = await sdk.connect(a.token);
    const countRows = async () =>
      Number(
        (
          await server.platform.db.kysely
            .selectFrom('media')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    const mediaDir = path.join(server.platform.config.dataDir, 'media');
    const files = () =>
      fs.existsSync(mediaDir)
        ? fs.readdirSync(mediaDir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).length
        : 0;
    const rows = await countRows();
    const before = files();

    const png = new Uint8Array(await makePng());
    expect(await refusal(alice.client.media.upload(png, { contentType: 'image/jpeg' }))).toEqual({
      code: 'MEDIA_TYPE_MISMATCH',
      status: 415,
    });
    expect(
      await refusal(alice.client.media.upload(new Uint8Array(makeExe()), { contentType: 'image/png' })),
    ).toEqual({
      code: 'MEDIA_TYPE_UNSUPPORTED',
      status: 415,
    });
    expect(
      await refusal(
        alice.client.media.upload(new Uint8Array(await makeWebp(600, 600)), {
          contentType: 'image/webp',
          kind: 'sticker',
        }),
      ),
    ).toEqual({ code: 'MEDIA_TOO_LARGE', status: 413 });

    // 64 MiB declared as an image: the server answers 413 once 16 MiB have arrived, while the
    // client is still sending.
    const form = new FormData();
    const huge = new Uint8Array(64 * 1024 * 1024).fill(0x41);
    form.append('file', new Blob([huge], { type: 'image/png' }), 'huge.png');
    const response = await fetch(`${server.url}/api/v1/media`, {
      method: 'POST',
      headers: { authorization: `Bearer ${a.token}` },
      body: form,
    });
    expect(response.status).toBe(413);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('MEDIA_TOO_LARGE');

    // Announced as larger than any upload: refused before the body is read.
    const announced = await new Promise<number>((resolve, reject) => {
      const request = http.request(`${server.url}/api/v1/media`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${a.token}`,
          'content-type': 'multipart/form-data; boundary=x',
          'content-length': String(200 * 1024 * 1024),
        },
      });
      request.on('response', (res) => {
        resolve(res.statusCode ?? 0);
        res.resume();
        request.destroy();
      });
      request.on('error', reject);
      request.write(Buffer.alloc(1024));
    });
    expect(announced).toBe(413);

    const notMultipart = await fetch(`${server.url}/api/v1/media`, {
      method: 'POST',
      headers: { authorization: `Bearer ${a.token}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(notMultipart.status).toBe(400);
    expect(await countRows()).toBe(rows);
    expect(files()).toBe(before);
  });

  it('serves ranges, ETags and private caching; a sticker has its own limits and a thumbnail', async () => {
    const a = await server.newPerson('A');
    const alice = await sdk.connect(a.token);
    const webp = new Uint8Array(await makeWebp(512, 512));
    const sticker = await alice.client.media.upload(webp, { contentType: 'image/webp', kind: 'sticker' });
    expect(sticker).toMatchObject({ kind: 'sticker', width: 512, height: 512, has_thumbnail: true });

    const url = `${server.url}/api/v1/media/${sticker.id}`;
    const auth = { authorization: `Bearer ${a.token}` };
    const whole = await fetch(url, { headers: auth });
    expect(whole.status).toBe(200);
    expect(whole.headers.get('content-length')).toBe(String(webp.byteLength));
    expect(whole.headers.get('etag')).toBe(`"${sticker.sha256}"`);
    expect(whole.headers.get('cache-control')).toMatch(/^private/);
    expect(whole.headers.get('x-content-type-options')).toBe('nosniff');
    await whole.arrayBuffer();

    const part = await fetch(url, { headers: { ...auth, range: 'bytes=4-11' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 4-11/${webp.byteLength}`);
    expect(Buffer.from(await part.arrayBuffer()).equals(Buffer.from(webp.subarray(4, 12)))).toBe(true);

    const beyond = await fetch(url, { headers: { ...auth, range: `bytes=${webp.byteLength}-` } });
    expect(beyond.status).toBe(416);
    expect(((await beyond.json()) as { error: { code: string } }).error.code).toBe(
      'MEDIA_RANGE_NOT_SATISFIABLE',
    );

    const cached = await fetch(url, { headers: { ...auth, 'if-none-match': `"${sticker.sha256}"` } });
    expect(cached.status).toBe(304);

    const thumb = await alice.client.media.thumbnail(sticker.id);
    expect((await sharp(thumb.bytes).metadata()).width).toBe(320);

    const doc = (await (await fetch(`${server.url}/api/docs/json`)).json()) as { paths: object };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/api/v1/media', '/api/v1/media/{id}', '/api/v1/media/{id}/thumbnail']),
    );
  });
});
