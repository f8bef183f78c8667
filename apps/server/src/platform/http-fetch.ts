/**
 * Outbound HTTP GETs the server makes on a client's behalf (media the Business Messaging API
 * is given by `link`). The URL comes from outside, so the fetch is bounded every way it can
 * run away: one deadline for connecting, redirects and the whole body; a fixed number of
 * redirects, each checked again; http(s) only; and, unless the operator allows it, no address
 * on the server's own networks (loopback, private, link-local), so a link cannot make the
 * server read its neighbours (SSRF). The size limit is the reader's: the body is a stream.
 */
import { lookup as dnsLookup } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import type { Readable } from 'node:stream';

export interface FetchOptions {
  /** For everything: connecting, redirects, headers and the body. */
  timeoutMs: number;
  maxRedirects: number;
}

export interface FetchedResponse {
  status: number;
  /** The final URL, after redirects. */
  url: string;
  contentType: string | undefined;
  /** Content-Length when the server sent one. */
  length: number | undefined;
  /** Errors (timeout included) surface as the stream's error. */
  body: Readable;
}

export class FetchError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FetchError';
  }
}

export interface HttpFetcher {
  get(url: string, options: FetchOptions): Promise<FetchedResponse>;
}

/** Loopback, private, shared, link-local, unspecified and multicast addresses. */
export function isPrivateAddress(address: string): boolean {
  const ip = address.toLowerCase().replace(/^::ffff:(?=\d+\.)/, '');
  if (isIP(ip) === 4) {
    const [a = 0, b = 0] = ip.split('.').map(Number);
    return (
      a === 0 ||
      a === 10 ||
      a === 127 ||
      a >= 224 ||
      (a === 100 && b >= 64 && b <= 127) ||
      (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168)
    );
  }
  if (isIP(ip) === 6) {
    return (
      ip === '::' ||
      ip === '::1' ||
      /^f[cd]/.test(ip) ||
      /^fe[89ab]/.test(ip) ||
      ip.startsWith('ff') ||
      ip.startsWith('::ffff:')
    );
  }
  return true;
}

export function createHttpFetcher(config: { allowPrivate: boolean; userAgent: string }): HttpFetcher {
  // Checked on the resolved address, where the connection really goes (a public name may
  // resolve to a private address).
  const lookup: LookupFunction = (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: false }, (err, address, family) => {
      if (err) return callback(err, '', 0);
      if (!config.allowPrivate && isPrivateAddress(address as string)) {
        return callback(new FetchError(`${hostname} is on a private network`), '', 0);
      }
      callback(null, address as string, family);
    });
  };

  function once(url: URL, deadline: number): Promise<http.IncomingMessage> {
    return new Promise((resolve, reject) => {
      const host = url.hostname.replace(/^\[|\]$/g, '');
      if (isIP(host) && !config.allowPrivate && isPrivateAddress(host)) {
        reject(new FetchError(`${host} is on a private network`));
        return;
      }
      const client = url.protocol === 'https:' ? https : http;
      const request = client.get(url, {
        lookup,
        headers: { 'user-agent': config.userAgent, accept: '*/*' },
        timeout: Math.max(1, deadline - Date.now()),
      });
      request.on('timeout', () => request.destroy(new FetchError('the server did not answer in time')));
      request.on('error', (e) =>
        reject(e instanceof FetchError ? e : new FetchError(e.message, { cause: e })),
      );
      request.on('response', resolve);
    });
  }

  return {
    async get(input, options) {
      const deadline = Date.now() + options.timeoutMs;
      let url = new URL(input);
      for (let hop = 0; ; hop++) {
        if (url.protocol !== 'http:' && url.protocol !== 'https:') {
          throw new FetchError(`${url.protocol} links are not fetched`);
        }
        const response = await once(url, deadline);
        const location = response.headers.location;
        if (response.statusCode && response.statusCode >= 300 && response.statusCode < 400 && location) {
          response.resume();
          if (hop >= options.maxRedirects)
            throw new FetchError(`more than ${options.maxRedirects} redirects`);
          url = new URL(location, url);
          continue;
        }
        // The body shares the deadline: a server trickling bytes is cut off.
        const timer = setTimeout(
          () => response.destroy(new FetchError('the download did not finish in time')),
          Math.max(1, deadline - Date.now()),
        );
        response.once('close', () => clearTimeout(timer));
        const length = Number(response.headers['content-length']);
        return {
          status: response.statusCode ?? 0,
          url: url.toString(),
          contentType: response.headers['content-type'],
          length: Number.isFinite(length) ? length : undefined,
          body: response,
        };
      }
    },
  };
}
