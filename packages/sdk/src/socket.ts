/**
 * The slice of the WebSocket API the client uses, satisfied both by the browser's WebSocket and by
 * the `ws` package (which implements the browser-style on* attributes and delivers text frames
 * to `onmessage` as strings). Keeping to this slice is what lets one client run in both places.
 */

/**
 * A handler type compared bivariantly (as methods are), so that the DOM's
 * `(ev: MessageEvent) => any` and ws's `(event: WebSocket.MessageEvent) => void` both fit a
 * handler that only reads the fields declared here.
 */
type Handler<E> = { bivarianceHack(event: E): void }['bivarianceHack'];

export interface SocketMessageEvent {
  readonly data: unknown;
}

export interface SocketCloseEvent {
  readonly code: number;
  readonly reason: string;
}

export interface WebSocketLike {
  readonly readyState: number;
  onopen: Handler<unknown> | null;
  onmessage: Handler<SocketMessageEvent> | null;
  onclose: Handler<SocketCloseEvent> | null;
  onerror: Handler<unknown> | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  /** ws only: drops the TCP connection without a closing handshake. */
  terminate?: () => void;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** readyState value meaning "open" in both implementations. */
export const SOCKET_OPEN = 1;

/**
 * The global WebSocket (browsers, Node 22+), else the `ws` package. `ws` is imported dynamically
 * so browser bundles never pull it in (package.json also maps it to false for bundlers).
 */
export async function resolveWebSocket(): Promise<WebSocketConstructor> {
  const global: WebSocketConstructor | undefined = globalThis.WebSocket;
  if (typeof global === 'function') return global;
  const mod = await import('ws');
  return mod.WebSocket;
}

/** `<base>/ws` with http→ws and https→wss; ws: and wss: bases are kept as they are. */
export function toWebSocketUrl(baseUrl: string): string {
  const url = new URL(baseUrl);
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  else if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new TypeError(`baseUrl must be http(s) or ws(s), got ${url.protocol}`);
  }
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/ws`;
  url.search = '';
  url.hash = '';
  return url.toString();
}

/** The base URL without trailing slashes, so `${base}/api/v1/...` never has `//`. */
export function normalizeBaseUrl(baseUrl: string): string {
  const url = new URL(baseUrl);
  url.search = '';
  url.hash = '';
  return url.toString().replace(/\/+$/, '');
}
