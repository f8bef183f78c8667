/**
 * ParleyClient: one device's connection to a Parley server.
 *
 * Lifecycle: connect() opens a connection (connection.ts) and resolves at `welcome`. Any loss of
 * it (network, heartbeat silence, server restart, close codes other than 4401/4409) leads to a
 * reconnect with exponential backoff and full jitter; the backoff restarts after each `welcome`.
 * 4401 (token refused) ends in 'closed' with an UNAUTHENTICATED error and 4409 (this device
 * connected elsewhere) in 'displaced'; neither reconnects on its own.
 *
 * The receive side (ordering, dedupe, acks) lives in inbox.ts and the send side (window,
 * resend, retry when the server stored nothing) in outbox.ts; this class wires them to the
 * connection and the app.
 */
import {
  CLOSE_CODES,
  type ClientFrame,
  type DisappearingTimer,
  type DisappearingView,
  MAX_PAYLOAD_BYTES,
  type WelcomeFrame,
} from '@parley/protocol';
import { type Backoff, createBackoff, DEFAULT_BACKOFF } from './backoff.js';
import { createLabelsApi, createLinksApi, type LabelsApi, type LinksApi } from './business-labels.js';
import { createWebhooksApi, type WebhooksApi } from './business-webhooks.js';
import { type Connection, closeOutcome, openConnection } from './connection.js';
import { createDeferred, createWaiters, type Deferred, withTimeout } from './deferred.js';
import { ParleyError } from './errors.js';
import type { ParsedServerFrame } from './frames.js';
import {
  type AccountApi,
  createAccountApi,
  createHttp,
  type LogoutResponse,
  type UpdateProfileInput,
} from './http.js';
import { newClientId } from './ids.js';
import { createInbox, type Inbox, type MessageHandler } from './inbox.js';
import { createListeners, type Listeners } from './listeners.js';
import {
  createOutbox,
  type Outbox,
  type SendFields,
  type SendResult,
  type UnansweredSend,
  validateSend,
} from './outbox.js';
import { encodeText } from './payload.js';
import { type Scheduler, systemScheduler, type TimerHandle } from './scheduler.js';
import { resolveWebSocket, toWebSocketUrl, type WebSocketConstructor } from './socket.js';
import type {
  ClientEvents,
  ConnectionState,
  ParleyClientOptions,
  SendOptions,
  SessionInfo,
} from './types.js';

/** How long close() waits for answers to sends already on the wire. */
const CLOSE_GRACE_MS = 2_000;
/** How long close() waits for the server to answer the closing handshake. */
const CLOSE_HANDSHAKE_MS = 1_000;
/** Pause after a connection-level RATE_LIMITED frame without `retry_after_ms`. */
const DEFAULT_THROTTLE_MS = 1_000;

export class ParleyClient {
  readonly #token: string;
  readonly #wsUrl: string;
  readonly #api: AccountApi;
  readonly #business: AccountApi['business'] & { labels: LabelsApi; links: LinksApi; webhooks: WebhooksApi };
  readonly #scheduler: Scheduler = systemScheduler;
  readonly #backoff: Backoff;
  readonly #inbox: Inbox;
  readonly #outbox: Outbox;
  readonly #listeners: { [K in keyof ClientEvents]: Listeners<ClientEvents[K]> } = {
    state: createListeners(),
    error: createListeners(),
    typing: createListeners(),
    presence: createListeners(),
  };
  #WebSocket: Promise<WebSocketConstructor> | undefined;

  #state: ConnectionState = 'idle';
  #conn: Connection | undefined;
  /** Increments per connection attempt, so late callbacks of an older one are recognised. */
  #connectionId = 0;
  #synced = false;
  #session: SessionInfo | undefined;
  #maxPayloadBytes = MAX_PAYLOAD_BYTES;
  #reconnectTimer: TimerHandle | undefined;
  /** `retry_after_ms` of a connection-level RATE_LIMITED frame, honoured by the next reconnect. */
  #retryAfterMs = 0;
  /** The last connection-level error frame on the current connection (already emitted), to explain its close. */
  #lastConnectionError: ParleyError | undefined;
  #loggingOut = false;
  #connectWaiter: Deferred<void> | undefined;
  readonly #syncedWaiters = createWaiters();
  #closing: Promise<void> | undefined;
  #socketClosed: (() => void) | undefined;
  /** Why the client is 'closed' or 'displaced'; new calls fail with it. */
  #endError: ParleyError | undefined;

  constructor(options: ParleyClientOptions) {
    this.#token = options.token;
    // Validates baseUrl now, so a typo throws here rather than looping through reconnects.
    this.#wsUrl = toWebSocketUrl(options.baseUrl);
    const http = createHttp({ baseUrl: options.baseUrl, token: options.token, fetch: options.fetch });
    this.#api = createAccountApi(http);
    this.#business = {
      ...this.#api.business,
      labels: createLabelsApi(http),
      webhooks: createWebhooksApi(http),
      links: createLinksApi(http, {
        baseUrl: options.baseUrl,
        ...(options.fetch ? { fetch: options.fetch } : {}),
      }),
    };
    if (options.WebSocket) this.#WebSocket = Promise.resolve(options.WebSocket);
    const retry = { ...DEFAULT_BACKOFF, ...options.reconnect };
    this.#backoff = createBackoff(retry);
    this.#inbox = createInbox({
      scheduler: this.#scheduler,
      dedupeSize: options.dedupeSize ?? 10_000,
      lastHandledSeq: options.lastHandledSeq,
      sendAck: (seq) => this.#sendWelcomed({ op: 'ack', seq }),
      onHandlerError: (error) => this.#emitError(error),
      onSynced: (connectionId) => this.#onSynced(connectionId),
    });
    this.#outbox = createOutbox({
      scheduler: this.#scheduler,
      maxInFlight: Math.max(1, options.maxInFlightSends ?? 256),
      retry,
      transmit: (frame) => this.#sendWelcomed(frame),
    });
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** The highest seq handed to the app; persist it and pass it back as `lastHandledSeq` to resume. */
  get lastHandledSeq(): number {
    return this.#inbox.lastHandledSeq;
  }

  /** Account and device of the last `welcome`; undefined before the first one. */
  get session(): SessionInfo | undefined {
    return this.#session;
  }

  /** Subscribes to 'state' changes or 'error's; returns an unsubscribe function. */
  on<K extends keyof ClientEvents>(event: K, listener: (...args: ClientEvents[K]) => void): () => void {
    return this.#listeners[event].add(listener);
  }

  /**
   * Reports that messages you received were delivered or read; their senders' devices get a
   * `receipt` system event. Best effort: returns false when not connected (send again later).
   */
  sendReceipt(type: 'delivered' | 'read', messageIds: string[]): boolean {
    return this.#sendWelcomed({ op: 'receipt', type, message_ids: messageIds });
  }

  /** Who has received and read a message you sent. */
  messageReceipts(messageId: string) {
    return this.#api.messageReceipts(messageId);
  }

  /**
   * Asks for an account's online status and last seen now and on every change, reported on
   * `on('presence', …)`, for as long as this connection lasts (call again after a reconnect).
   * Returns false when not connected.
   */
  watchPresence(to: string): boolean {
    return this.#sendWelcomed({ op: 'presence', to });
  }

  /**
   * Tells a person or a group that you are typing (`composing`) or stopped (`paused`). Best
   * effort and never stored: returns false when not connected.
   */
  sendTyping(to: string, state: 'composing' | 'paused' = 'composing'): boolean {
    return this.#sendWelcomed({ op: 'typing', to, state });
  }

  /**
   * Subscribes to incoming messages; returns an unsubscribe function. Messages arrive one at a
   * time in seq order, and the next waits until every handler of the previous one has settled.
   * A handler that throws or rejects is reported on 'error' (HANDLER_FAILED) and the message
   * still counts as handled and is acked: one poison message must not block the queue forever.
   * While no handler is subscribed, messages wait (unacked) instead of being dropped.
   */
  onMessage(handler: MessageHandler): () => void {
    return this.#inbox.subscribe(handler);
  }

  /**
   * Connects and resolves at the first `welcome`. Keeps retrying through network failures;
   * rejects with UNAUTHENTICATED if the server refuses the token, or CLIENT_CLOSED on close().
   * From 'displaced' it connects again (taking the device back from the other connection).
   */
  connect(): Promise<void> {
    if (this.#closing || this.#state === 'closed')
      return Promise.reject(this.#endError ?? this.#closedError());
    if (this.#connectWaiter && this.#state !== 'displaced') return this.#connectWaiter.promise;
    this.#connectWaiter = createDeferred();
    this.#endError = undefined;
    this.#backoff.reset();
    this.#setState('connecting');
    void this.#open();
    return this.#connectWaiter.promise;
  }

  /**
   * Resolves once the current connection's `synced` has been reached, i.e. the backlog queued
   * when it connected has been handed to (and handled by) the onMessage handlers. If the
   * connection drops first, it waits for the next connection's `synced`.
   */
  whenSynced(): Promise<void> {
    if (this.#synced) return Promise.resolve();
    const ended = this.#closing ? this.#closedError() : this.#endError;
    if (ended) return Promise.reject(ended);
    return this.#syncedWaiters.wait();
  }

  /**
   * Sends an opaque payload (standard base64) to an E.164 number or account id. Resolves when the
   * server has durably stored it. Survives reconnects: unanswered sends are resent with the same
   * client id, which the server dedupes. SERVER_BUSY and STORAGE_UNAVAILABLE answers are retried
   * after a backoff rather than rejected. Sends made before connect() wait for the connection.
   */
  send(to: string, payload: string, options: SendOptions = {}): Promise<SendResult> {
    const fields: SendFields = {};
    if (options.replyTo !== undefined) fields.reply_to = options.replyTo;
    if (options.media !== undefined) fields.media = options.media;
    if (options.viewOnce !== undefined) fields.view_once = options.viewOnce;
    return this.#enqueue(to, payload, fields, options.clientId);
  }

  #enqueue(to: string, payload: string, fields: SendFields, clientId?: string): Promise<SendResult> {
    const ended = this.#closing ? this.#closedError() : this.#endError;
    if (ended) return Promise.reject(ended);
    const send = { clientId: clientId ?? newClientId(), to, payload, fields };
    const invalid = validateSend(send, this.#maxPayloadBytes);
    if (invalid) return Promise.reject(invalid);
    return this.#outbox.enqueue(send);
  }

  /** Sends a Parley text message (payload `{"text": …}` as UTF-8 JSON). */
  sendText(to: string, text: string, options: SendOptions = {}): Promise<SendResult> {
    return this.send(to, encodeText(text), options);
  }

  /**
   * Reacts to message `messageId` of the chat `to` with an emoji; one reaction per person, so a
   * new one replaces the last and an empty string removes it. Receivers get kind `reaction`
   * with `ref` = the message and `text` = the emoji ('' when removed).
   */
  react(
    to: string,
    messageId: string,
    emoji: string,
    options: { clientId?: string } = {},
  ): Promise<SendResult> {
    const payload = emoji === '' ? '' : encodeText(emoji);
    return this.#enqueue(to, payload, { kind: 'reaction', ref: messageId }, options.clientId);
  }

  /** Replaces the text of your message `messageId` (within 15 minutes); receivers get kind `edit`. */
  edit(
    to: string,
    messageId: string,
    text: string,
    options: { clientId?: string } = {},
  ): Promise<SendResult> {
    return this.#enqueue(to, encodeText(text), { kind: 'edit', ref: messageId }, options.clientId);
  }

  /**
   * Deletes your message `messageId` for everyone (within 2 days; group admins may delete any
   * message of their group). Copies not yet delivered are removed; receivers get kind `delete`.
   */
  deleteForEveryone(to: string, messageId: string, options: { clientId?: string } = {}): Promise<SendResult> {
    return this.#enqueue(to, '', { kind: 'delete', ref: messageId }, options.clientId);
  }

  /**
   * Forwards a message you sent or received to `to`: its payload and media travel again, and
   * the server counts the hops (receivers see `forwarded`, and `forwardedMany` from 5 hops).
   */
  forward(
    to: string,
    original: { messageId: string; payload: string; media?: string[] },
    options: { clientId?: string } = {},
  ): Promise<SendResult> {
    const fields: SendFields = { forward_of: original.messageId };
    if (original.media && original.media.length > 0) fields.media = original.media;
    return this.#enqueue(to, original.payload, fields, options.clientId);
  }

  /** The disappearing-messages timer of a chat (an account id or a group id). */
  disappearing(chatId: string): Promise<DisappearingView> {
    return this.#api.disappearing(chatId);
  }

  /** Turns disappearing messages off or on (24h, 7d, 90d) for a chat; both sides see the change. */
  setDisappearing(chatId: string, timer: DisappearingTimer): Promise<DisappearingView> {
    return this.#api.setDisappearing(chatId, timer);
  }

  /**
   * Stops reconnecting and closes with code 1000. Handled messages are acked first; sends not
   * yet on the wire reject with CLIENT_CLOSED at once, and sends on the wire get a short grace
   * period to be answered before they reject too (`details.maybe_sent: true`: retry with the
   * same clientId to be safe). A message handler still running finishes, but no further
   * messages are delivered.
   */
  close(): Promise<void> {
    if (this.#state === 'closed') return Promise.resolve();
    this.#closing ??= this.#close();
    return this.#closing;
  }

  me() {
    return this.#api.me();
  }

  updateProfile(input: UpdateProfileInput) {
    return this.#api.updateProfile(input);
  }

  /** By account id (`acc_…`) or E.164 phone number. */
  getProfile(idOrPhone: string) {
    return this.#api.getProfile(idOrPhone);
  }

  listDevices() {
    return this.#api.listDevices();
  }

  /** Contact discovery (hashed), blocks, privacy settings and reports. */
  get contacts() {
    return this.#api.contacts;
  }

  /** Upload and download media (`upload`, `download`, `thumbnail`). */
  get media() {
    return this.#api.media;
  }

  /**
   * Chat state shared by the account's devices (archive, pin, mute, read position) and starred
   * messages. Other devices' changes arrive through onMessage as `event`s; see createChatMirror.
   */
  get chats() {
    return this.#api.chats;
  }

  /**
   * Business calls for agents: profile, agents, the shared inbox, automations, plans,
   * statistics and broadcast lists, `labels` and `links` (short links and QR codes;
   * `links.open` is for a person following one), `webhooks` (deliveries and replay). Live inbox changes arrive through onMessage
   * as `business.conversation` events.
   */
  get business() {
    return this.#business;
  }

  /** Group management (create, members, admins, settings, invite links). */
  get groups() {
    return this.#api.groups;
  }

  /** Primary device only: a code (and QR payload) that links a new companion device for 2 minutes. */
  createLinkCode() {
    return this.#api.createLinkCode();
  }

  /** Logs out one device of this account. Logging out this very device ends its connection with 4401. */
  logoutDevice(deviceId: string) {
    return this.#api.logoutDevice(deviceId);
  }

  /** Revokes this device's token and closes the client. */
  logout(): Promise<LogoutResponse> {
    return this.#logoutWith(() => this.#api.logout());
  }

  /** Revokes every device token of the account and closes the client. */
  logoutAll(): Promise<LogoutResponse> {
    return this.#logoutWith(() => this.#api.logoutAll());
  }

  async #logoutWith(call: () => Promise<LogoutResponse>): Promise<LogoutResponse> {
    // The server may close our socket with 4401 before the HTTP answer arrives; that is expected.
    this.#loggingOut = true;
    try {
      const result = await call();
      await this.close();
      return result;
    } finally {
      this.#loggingOut = false;
    }
  }

  async #close(): Promise<void> {
    this.#clearReconnectTimer();
    const closedError = this.#closedError();
    this.#connectWaiter?.reject(closedError);
    this.#syncedWaiters.rejectAll(closedError);
    this.#inbox.stop();
    this.#outbox.hold();
    this.#outbox.rejectWaiting(closedSendError);
    if (this.#conn?.welcomed) await withTimeout(this.#outbox.whenIdle(), CLOSE_GRACE_MS);
    this.#outbox.rejectAll(closedSendError);
    this.#inbox.flushAck();
    const conn = this.#conn;
    if (conn) {
      const closed = new Promise<void>((resolve) => {
        this.#socketClosed = resolve;
      });
      conn.close(CLOSE_CODES.normal, 'client closed');
      await withTimeout(closed, CLOSE_HANDSHAKE_MS);
      if (this.#conn === conn) {
        conn.abandon();
        this.#detach();
      }
    }
    this.#endError = closedError;
    this.#setState('closed');
  }

  /** Opens one connection. Never rejects: every failure becomes a reconnect or an end state. */
  async #open(): Promise<void> {
    const connectionId = ++this.#connectionId;
    let WebSocket: WebSocketConstructor;
    try {
      this.#WebSocket ??= resolveWebSocket();
      WebSocket = await this.#WebSocket;
    } catch (cause: unknown) {
      this.#end(
        'closed',
        new ParleyError('NETWORK_ERROR', 'No WebSocket implementation is available', { cause }),
      );
      return;
    }
    if (connectionId !== this.#connectionId || this.#closing || this.#endError) return;
    const current = () => connectionId === this.#connectionId && this.#conn !== undefined;
    this.#lastConnectionError = undefined;
    try {
      this.#conn = openConnection({
        WebSocket,
        url: this.#wsUrl,
        token: this.#token,
        scheduler: this.#scheduler,
        onWelcome: (frame) => current() && this.#onWelcome(frame),
        onFrame: (frame) => current() && this.#onFrame(frame),
        onError: (error) => this.#emitError(error),
        onClosed: (code) => current() && this.#onClosed(code),
      });
    } catch (cause: unknown) {
      this.#emitError(new ParleyError('NETWORK_ERROR', `Could not open ${this.#wsUrl}`, { cause }));
      this.#scheduleReconnect();
    }
  }

  #onWelcome(frame: WelcomeFrame): void {
    this.#session = { accountId: frame.account_id, deviceId: frame.device_id };
    this.#maxPayloadBytes = frame.max_payload_bytes > 0 ? frame.max_payload_bytes : MAX_PAYLOAD_BYTES;
    this.#backoff.reset();
    this.#retryAfterMs = 0;
    this.#inbox.onConnected();
    this.#outbox.setConnected(true);
    this.#setState('open');
    this.#connectWaiter?.resolve();
  }

  #onFrame(frame: Exclude<ParsedServerFrame, WelcomeFrame>): void {
    switch (frame.op) {
      case 'msg':
        this.#inbox.receive(frame);
        return;
      case 'synced':
        this.#inbox.synced(this.#connectionId);
        return;
      case 'sent':
        // An unknown id was already settled (e.g. answered on an earlier connection): ignore it.
        this.#outbox.onSent(frame);
        return;
      case 'error': {
        if (frame.id !== undefined && this.#outbox.onError(frame.id, frame.error)) return;
        this.#lastConnectionError = frame.error;
        if (frame.error.code === 'RATE_LIMITED' && frame.id === undefined) this.#throttle(frame.error);
        if (!(this.#loggingOut && frame.error.code === 'UNAUTHENTICATED')) this.#emitError(frame.error);
        return;
      }
      case 'pong':
        // Liveness was recorded by the connection; there is nothing else in a pong.
        return;
      case 'presence':
        this.#listeners.presence.emit({
          accountId: frame.account_id,
          online: frame.online,
          lastSeen: frame.last_seen,
        });
        return;
      case 'typing':
        this.#listeners.typing.emit({
          chatId: frame.chat,
          from: frame.from,
          fromAccount: frame.from_account,
          state: frame.state,
        });
        return;
    }
  }

  /**
   * A connection-level RATE_LIMITED says this connection sends frames faster than the server
   * allows. The server drops nothing: it stops reading the connection until the rate allows,
   * so every send is still answered. Halve the in-flight window (it grows back by one per
   * answer) so the client stops pushing into a throttled socket.
   */
  #throttle(error: ParleyError): void {
    const after = error.details?.retry_after_ms;
    this.#retryAfterMs =
      typeof after === 'number' && Number.isFinite(after) && after > 0 ? after : DEFAULT_THROTTLE_MS;
    this.#outbox.slowDown();
  }

  #onSynced(connectionId: number): void {
    // A marker from a connection that has since dropped proves nothing about the current one.
    if (connectionId !== this.#connectionId || !this.#conn?.welcomed) return;
    this.#synced = true;
    this.#syncedWaiters.resolveAll();
  }

  #onClosed(code: number): void {
    this.#detach();
    if (this.#closing) {
      this.#socketClosed?.();
      return;
    }
    const seen = this.#lastConnectionError;
    switch (closeOutcome(code, seen, this.#loggingOut)) {
      case 'reconnect':
        this.#scheduleReconnect();
        return;
      case 'logged-out':
        this.#end('closed', this.#closedError());
        return;
      case 'displaced':
        this.#end(
          'displaced',
          new ParleyError(
            'DEVICE_DISPLACED',
            'Another connection of this device took over; reconnect with connect()',
          ),
        );
        return;
      case 'unauthenticated': {
        const error =
          seen?.code === 'UNAUTHENTICATED'
            ? seen
            : new ParleyError('UNAUTHENTICATED', seen?.message ?? 'The server refused the device token', {
                cause: seen,
              });
        // An error frame before the close was emitted already; a bare 4401 still deserves one.
        if (!seen) this.#emitError(error);
        this.#end('closed', error);
        return;
      }
    }
  }

  /** Ends in 'closed' or 'displaced': no reconnect, everything pending fails with `error`. */
  #end(state: 'closed' | 'displaced', error: ParleyError): void {
    this.#clearReconnectTimer();
    this.#conn?.abandon();
    this.#detach();
    this.#endError = error;
    this.#connectWaiter?.reject(error);
    this.#syncedWaiters.rejectAll(error);
    this.#outbox.rejectAll(
      (send) =>
        new ParleyError(error.code, error.message, {
          cause: error,
          details: { client_id: send.clientId, maybe_sent: send.transmitted },
        }),
    );
    // Unhandled messages now belong to whichever connection of this device comes next.
    if (state === 'closed') this.#inbox.stop();
    else this.#inbox.clear();
    this.#setState(state);
  }

  #scheduleReconnect(): void {
    this.#setState('reconnecting');
    const delay = Math.max(this.#backoff.next(), this.#retryAfterMs);
    this.#retryAfterMs = 0;
    this.#clearReconnectTimer();
    this.#reconnectTimer = this.#scheduler.setTimeout(() => {
      this.#reconnectTimer = undefined;
      void this.#open();
    }, delay);
  }

  /** Forgets the current connection and everything tied to it. */
  #detach(): void {
    this.#conn = undefined;
    this.#synced = false;
    this.#clearThrottleTimer();
    this.#inbox.onDisconnected();
    this.#outbox.setConnected(false);
  }

  /** Acks and sends go only over a welcomed connection; before that the server would refuse them. */
  #sendWelcomed(frame: ClientFrame): boolean {
    const conn = this.#conn;
    return conn?.welcomed === true && conn.send(frame);
  }

  #setState(state: ConnectionState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.#listeners.state.emit(state);
  }

  #emitError(error: ParleyError): void {
    if (this.#listeners.error.size > 0) this.#listeners.error.emit(error);
    // Without an 'error' listener the error would vanish; the console is the last place to show it.
    else console.error(error);
  }

  #closedError(): ParleyError {
    return new ParleyError('CLIENT_CLOSED', 'The client is closed');
  }

  #clearReconnectTimer(): void {
    if (this.#reconnectTimer !== undefined) this.#scheduler.clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
  }

  #clearThrottleTimer(): void {}
}

function closedSendError(send: UnansweredSend): ParleyError {
  return new ParleyError('CLIENT_CLOSED', 'The client was closed before this send was answered', {
    details: { client_id: send.clientId, maybe_sent: send.transmitted },
  });
}
