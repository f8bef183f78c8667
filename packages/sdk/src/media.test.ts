import { describe, expect, it } from 'vitest';
import { ParleyError } from './errors.js';
import { createHttp } from './http.js';
import { createMediaApi } from './media.js';

/** A fetch that records each request and answers with `respond`. */
function recordingFetch(respond: () => Response) {
  const calls: { url: string; init: RequestInit }[] = [];
  const fetch = (async (url: string, init: RequestInit) => {
    calls.push({ url, init });
    return respond();
  }) as typeof globalThis.fetch;
  return { calls, fetch };
}

const view = {
  id: 'med_1',
  kind: 'sticker',
  content_type: 'image/webp',
  size: 3,
  sha256: 'ab',
  width: 1,
  height: 1,
  has_thumbnail: true,
  expires_at: null,
};

describe('media api', () => {
  it('uploads multipart with the kind before the file, typed as declared', async () => {
    const f = recordingFetch(() => new Response(JSON.stringify(view), { status: 201 }));
    const media = createMediaApi(createHttp({ baseUrl: 'http://h', token: 'tok', fetch: f.fetch }));
    expect(
      await media.upload(new Uint8Array([1, 2, 3]), { contentType: 'image/webp', kind: 'sticker' }),
    ).toEqual(view);
    const [call] = f.calls;
    expect(call?.url).toBe('http://h/api/v1/media');
    expect(call?.init.method).toBe('POST');
    expect(call?.init.headers).toEqual({ authorization: 'Bearer tok' });
    const form = call?.init.body as FormData;
    const keys: string[] = [];
    form.forEach((_, key) => {
      keys.push(key);
    });
    expect(keys).toEqual(['kind', 'file']);
    const file = form.get('file') as File;
    expect([file.type, file.size, file.name]).toEqual(['image/webp', 3, 'upload']);
  });

  it('refuses a file over its kind limit without sending it', async () => {
    const f = recordingFetch(() => new Response(null, { status: 500 }));
    const media = createMediaApi(createHttp({ baseUrl: 'http://h', fetch: f.fetch }));
    const big = new Blob([new Uint8Array(512 * 1024 + 1)]);
    await expect(media.upload(big, { contentType: 'image/webp', kind: 'sticker' })).rejects.toMatchObject({
      code: 'MEDIA_TOO_LARGE',
    });
    expect(f.calls).toEqual([]);
  });

  it('answers bytes and type, and the server error as a ParleyError', async () => {
    const ok = recordingFetch(
      () =>
        new Response(new Uint8Array([9, 8, 7]), { status: 200, headers: { 'content-type': 'image/jpeg' } }),
    );
    const got = await createMediaApi(createHttp({ baseUrl: 'http://h', fetch: ok.fetch })).thumbnail(
      'med_x/y',
    );
    expect(ok.calls[0]?.url).toBe('http://h/api/v1/media/med_x%2Fy/thumbnail');
    expect(got).toEqual({ bytes: new Uint8Array([9, 8, 7]), contentType: 'image/jpeg' });

    const gone = recordingFetch(
      () =>
        new Response(JSON.stringify({ error: { code: 'MEDIA_VIEW_ONCE_CONSUMED', message: 'opened' } }), {
          status: 410,
        }),
    );
    const error = await createMediaApi(createHttp({ baseUrl: 'http://h', fetch: gone.fetch }))
      .download('med_1')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ParleyError);
    expect(error).toMatchObject({ code: 'MEDIA_VIEW_ONCE_CONSUMED', status: 410 });
  });
});
