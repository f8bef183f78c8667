/**
 * Outbound HTTP behind an interface (webhook deliveries, the webhook handshake), so tests can
 * replace it and every request has a timeout and a bounded response. Built on node:http and
 * node:https with keep-alive agents: repeated deliveries to one receiver reuse connections,
 * and `maxSocketsPerHost` bounds how many requests go to one host at once.
 */
import http from 'node:http';
import https from 'node:https';

export interface OutboundRequest {
  method: 'GET' | 'POST';
  url: string;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs: number;
  /** Bytes of the response body kept; the rest is read and dropped. */
  maxResponseBytes?: number;
}

export interface OutboundResponse {
  status: number;
  body: string;
}

/** A request that got no HTTP answer: refused, reset, timed out, bad URL. */
export class OutboundHttpError extends Error {
  constructor(
    message: string,
    readonly reason: 'timeout' | 'network' | 'url',
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'OutboundHttpError';
  }
}

export interface HttpClient {
  request(request: OutboundRequest): Promise<OutboundResponse>;
  close(): void;
}

export function createHttpClient(
  options: { maxSocketsPerHost?: number; userAgent?: string } = {},
): HttpClient {
  const agentOptions = {
    keepAlive: true,
    maxSockets: options.maxSocketsPerHost ?? 16,
    maxFreeSockets: options.maxSocketsPerHost ?? 16,
  };
  const agents = { 'http:': new http.Agent(agentOptions), 'https:': new https.Agent(agentOptions) };
  return {
    request(req) {
      return new Promise((resolve, reject) => {
        let url: URL;
        try {
          url = new URL(req.url);
        } catch (e: unknown) {
          reject(new OutboundHttpError(`invalid URL ${req.url}`, 'url', { cause: e }));
          return;
        }
        if (url.protocol !== 'http:' && url.protocol !== 'https:') {
          reject(new OutboundHttpError(`unsupported protocol ${url.protocol}`, 'url'));
          return;
        }
        const body = req.body === undefined ? undefined : Buffer.from(req.body, 'utf8');
        const limit = req.maxResponseBytes ?? 64 * 1024;
        const send = url.protocol === 'https:' ? https.request : http.request;
        const outgoing = send(
          url,
          {
            method: req.method,
            agent: agents[url.protocol],
            headers: {
              'user-agent': options.userAgent ?? 'Parley',
              ...req.headers,
              ...(body ? { 'content-length': String(body.length) } : {}),
            },
          },
          (res) => {
            const chunks: Buffer[] = [];
            let kept = 0;
            res.on('data', (chunk: Buffer) => {
              if (kept < limit) {
                chunks.push(chunk.subarray(0, limit - kept));
                kept += Math.min(chunk.length, limit - kept);
              }
            });
            res.on('end', () => {
              clearTimeout(timer);
              resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
            });
            res.on('error', (e) => {
              clearTimeout(timer);
              reject(new OutboundHttpError(e.message, 'network', { cause: e }));
            });
          },
        );
        // One deadline for the whole exchange, answer body included.
        const timer = setTimeout(() => {
          outgoing.destroy(new OutboundHttpError(`no answer within ${req.timeoutMs} ms`, 'timeout'));
        }, req.timeoutMs);
        outgoing.on('error', (e: unknown) => {
          clearTimeout(timer);
          reject(
            e instanceof OutboundHttpError
              ? e
              : new OutboundHttpError(e instanceof Error ? e.message : String(e), 'network', { cause: e }),
          );
        });
        outgoing.end(body);
      });
    },
    close() {
      agents['http:'].destroy();
      agents['https:'].destroy();
    },
  };
}
