/**
 * One WebSocket and its handshake: open, send `hello`, wait for `welcome`, then keep the link
 * honest with a heartbeat. It reports frames and its own end, and knows nothing of reconnects,
 * sends or acks (client.ts decides those).
 *
 * A stuck handshake or a silent link is abandoned without waiting for a closing handshake, which
 * on a dead network would never come; that is reported as close code 1006 like any other drop.
 */
import { CLOSE_CODES, type ClientFrame, PROTOCOL_VERSION, type WelcomeFrame } from '@parley/protocol';
import { ParleyError } from './errors.js';
import { encodeClientFrame, type ParsedServerFrame, parseServerFrame } from './frames.js';
import { createHeartbeat, type Heartbeat } from './heartbeat.js';
import type { Scheduler, TimerHandle } from './scheduler.js';
import { SOCKET_OPEN, type WebSocketConstructor, type WebSocketLike } from './socket.js';

/** From opening the socket to `welcome`; the server itself allows 10 s for `hello`. */
const HANDSHAKE_TIMEOUT_MS = 15_000;
/** Used if a welcome carries no usable heartbeat interval. */
const FALLBACK_HEARTBEAT_MS = 30_000;
/** What a dropped connection reports, as browsers do when no close frame was received. */
export const CLOSE_ABNORMAL = 1006;

export type CloseOutcome = 'reconnect' | 'unauthenticated' | 'logged-out' | 'displaced';

/**
 * What a close code means for the client. 4401 refuses the token, except when the server said
 * just before that it could not check it (a retryable error such as STORAGE_UNAVAILABLE); 4409
 * hands the device to another connection; everything else (1000, 1001, 1006, 1009, 4429…) is a
 * loss worth reconnecting after.
 */
export function closeOutcome(
  code: number,
  lastError: ParleyError | undefined,
  loggingOut: boolean,
): CloseOutcome {
  if (code === CLOSE_CODES.displaced) return 'displaced';
  if (code !== CLOSE_CODES.unauthenticated) return 'reconnect';
  if (lastError?.retryable) return 'reconnect';
  return loggingOut ? 'logged-out' : 'unauthenticated';
}

export interface ConnectionDeps {
  WebSocket: WebSocketConstructor;
  url: string;
  token: string;
  scheduler: Scheduler;
  onWelcome(frame: WelcomeFrame): void;
  /** Every frame after `welcome` (and any before it other than welcome). */
  onFrame(frame: Exclude<ParsedServerFrame, WelcomeFrame>): void;
  /** Unreadable frames and failed writes; the connection carries on. */
  onError(error: ParleyError): void;
  /** The socket is gone, closed by either side or abandoned. Called at most once, never after abandon(). */
  onClosed(code: number): void;
}

export interface Connection {
  readonly welcomed: boolean;
  /** Writes a frame if the socket is open; false otherwise. */
  send(frame: ClientFrame): boolean;
  /** Starts a closing handshake; onClosed follows when the server answers. */
  close(code: number, reason: string): void;
  /** Drops the socket at once and silently: no onClosed. */
  abandon(): void;
}

/** Opens a socket; throws if the WebSocket constructor does (e.g. a malformed URL). */
export function openConnection(deps: ConnectionDeps): Connection {
  const { scheduler } = deps;
  const socket: WebSocketLike = new deps.WebSocket(deps.url);
  let welcomed = false;
  let ended = false;
  let heartbeat: Heartbeat | undefined;
  let handshakeTimer: TimerHandle | undefined = scheduler.setTimeout(() => drop(), HANDSHAKE_TIMEOUT_MS);

  function stopTimers(): void {
    if (handshakeTimer !== undefined) scheduler.clearTimeout(handshakeTimer);
    handshakeTimer = undefined;
    heartbeat?.stop();
    heartbeat = undefined;
  }

  function send(frame: ClientFrame): boolean {
    if (ended || socket.readyState !== SOCKET_OPEN) return false;
    try {
      socket.send(encodeClientFrame(frame));
      return true;
    } catch (cause: unknown) {
      deps.onError(new ParleyError('NETWORK_ERROR', `Could not send a '${frame.op}' frame`, { cause }));
      return false;
    }
  }

  function abandon(): void {
    if (ended) return;
    ended = true;
    stopTimers();
    socket.onopen = null;
    socket.onmessage = null;
    socket.onclose = null;
    // Keep an error listener: ws emits 'error' when closed mid-handshake, and an unheard one throws.
    socket.onerror = () => {};
    try {
      if (socket.terminate) socket.terminate();
      else socket.close(4000, 'connection abandoned');
    } catch (cause: unknown) {
      deps.onError(new ParleyError('NETWORK_ERROR', 'Dropping the socket failed', { cause }));
    }
  }

  function drop(): void {
    if (ended) return;
    abandon();
    deps.onClosed(CLOSE_ABNORMAL);
  }

  function onData(data: unknown): void {
    heartbeat?.received();
    let frame: ParsedServerFrame | null;
    try {
      frame = parseServerFrame(data);
    } catch (error: unknown) {
      deps.onError(
        error instanceof ParleyError
          ? error
          : new ParleyError('PROTOCOL_ERROR', 'Unreadable frame', { cause: error }),
      );
      return;
    }
    if (frame === null) return;
    if (frame.op !== 'welcome') {
      deps.onFrame(frame);
      return;
    }
    if (welcomed) return;
    welcomed = true;
    if (handshakeTimer !== undefined) scheduler.clearTimeout(handshakeTimer);
    handshakeTimer = undefined;
    heartbeat = createHeartbeat({
      scheduler,
      intervalMs: frame.heartbeat_ms > 0 ? frame.heartbeat_ms : FALLBACK_HEARTBEAT_MS,
      sendPing: () => send({ op: 'ping', t: Date.now() }),
      onTimeout: drop,
    });
    deps.onWelcome(frame);
  }

  socket.onopen = () => {
    send({ op: 'hello', token: deps.token, v: PROTOCOL_VERSION });
  };
  socket.onmessage = (event) => {
    if (!ended) onData(event.data);
  };
  socket.onclose = (event) => {
    if (ended) return;
    ended = true;
    stopTimers();
    deps.onClosed(event.code);
  };
  // A close event always follows an error event, and browsers put no detail in the error.
  socket.onerror = () => {};

  return {
    get welcomed() {
      return welcomed;
    },
    send,
    close(code, reason) {
      if (ended) return;
      try {
        socket.close(code, reason);
      } catch (cause: unknown) {
        deps.onError(new ParleyError('NETWORK_ERROR', 'Closing the socket failed', { cause }));
        drop();
      }
    },
    abandon,
  };
}
