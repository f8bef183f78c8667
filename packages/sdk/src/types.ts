/** Public option and state types of ParleyClient. */
import type { BackoffOptions } from './backoff.js';
import type { ParleyError } from './errors.js';
import type { FetchLike } from './http.js';
import type { WebSocketConstructor } from './socket.js';

/**
 * - idle: created, connect() not called yet.
 * - connecting: first connection attempt, before the first `welcome`.
 * - open: welcomed; sends and acks flow.
 * - reconnecting: the connection was lost; retrying with backoff.
 * - displaced: another connection of this device took over (close 4409); no automatic
 *   reconnect, but connect() may be called again (e.g. a "use here" button).
 * - closed: close() was called or the token was rejected (close 4401); final.
 */
export type ConnectionState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'displaced' | 'closed';

export interface ParleyClientOptions {
  /** The server's base URL, e.g. `https://chat.example.org`; `/api/v1` and `/ws` are appended. */
  baseUrl: string;
  /** The device token from verifyCode. */
  token: string;
  /** Defaults to globalThis.WebSocket, else the `ws` package. In Node 20 pass `WebSocket` from `ws`. */
  WebSocket?: WebSocketConstructor;
  /** Defaults to the global fetch. */
  fetch?: FetchLike;
  /** Reconnect backoff bounds; defaults 250 ms and 30 s. */
  reconnect?: Partial<BackoffOptions>;
  /** Most sends on the wire unanswered at once; the rest wait in order. Default 256. */
  maxInFlightSends?: number;
  /** How many recent message ids are remembered to drop duplicates. Default 10 000. */
  dedupeSize?: number;
  /**
   * The `lastHandledSeq` an earlier run of this app persisted for this device. Messages at or
   * below it are treated as handled: never delivered, and acked after connecting.
   */
  lastHandledSeq?: number;
}

export interface SendOptions {
  /**
   * The client message id (1–64 of `A-Z a-z 0-9 . _ : -`); random when omitted. Reusing the id
   * of an earlier send makes a retry idempotent: the server returns the original message.
   */
  clientId?: string;
  /** The message of the same chat this one replies to (put the quote in the payload). */
  replyTo?: string;
  /** Uploaded media ids this message carries. */
  media?: string[];
  /** Each recipient can open the media once. */
  viewOnce?: boolean;
}

/** Who this connection is signed in as, from the server's `welcome`. */
export interface SessionInfo {
  accountId: string;
  deviceId: string;
}

export interface ClientEvents {
  state: [state: ConnectionState];
  /** Connection-level error frames, failing message handlers, unreadable frames, auth failure. */
  error: [error: ParleyError];
  /** Someone is typing (or stopped) in a chat: ephemeral, only while connected. */
  typing: [typing: TypingEvent];
  /** A watched account's presence (see watchPresence); null fields are hidden or unknown. */
  presence: [presence: PresenceEvent];
}

export interface PresenceEvent {
  accountId: string;
  online: boolean | null;
  lastSeen: string | null;
}

export interface TypingEvent {
  /** The chat: the typist's account id, or the group id. */
  chatId: string;
  from: string;
  fromAccount: string;
  state: 'composing' | 'paused';
}
