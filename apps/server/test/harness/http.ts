/** One HTTP call to a test server as a client makes it: bearer token, JSON in, the answer read whole. */

export interface Answer {
  status: number;
  type: string;
  // biome-ignore lint/suspicious/noExplicitAny: JSON bodies are checked field by field.
  body: any;
  raw: Buffer;
  headers: Headers;
}

/** A `call(method, path, token?, body?)` against the server at `baseUrl()` (read per call). */
export function apiCaller(baseUrl: () => string) {
  return async (method: string, path: string, token?: string, body?: unknown): Promise<Answer> => {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${baseUrl()}${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const raw = Buffer.from(await res.arrayBuffer());
    const type = res.headers.get('content-type') ?? '';
    const body_ = type.includes('json') && raw.length > 0 ? JSON.parse(raw.toString('utf8')) : undefined;
    return { status: res.status, type, body: body_, raw, headers: res.headers };
  };
}
