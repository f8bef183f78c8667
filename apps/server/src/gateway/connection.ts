/**
 * One device's WebSocket connection: the protocol state machine and the delivery pump.
 *
 * Delivery pump model. The database queue is the source of truth; the bus only says "something
 * new was committed". The connection sends envelopes in seq order, at most `window` unacked and
 * at most MAX_BUFFERED_BYTES not yet written to the socket, so a slow reader costs bounded
 * memory (the backlog stays in the database, never in this process).
 * - catch-up: read the queue after `lastSent`, page by page, while there is room. A page
 *   shorter than asked means the queue is drained: switch to live, and send `synced` once.
 * - live: a bus envelope with the next expected seq is sent directly. A gap (an event missed or
 *   from another node arriving late), no room, or any doubt falls back to catch-up.
 * Events arriving during a read mark the read dirty, so the next page is read before going live.
 *
 * A class rather than a factory closure: tens of thousands exist at once and sharing methods
 * through the prototype keeps each idle connection to a few hundred bytes.
 */
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import {
  ackFrame,
  CLIENT_OPS,
  CLOSE_CODES,
  ERROR_CODES,
  type ErrorCode,
  helloFrame,
  MAX_PAYLOAD_BYTES,
  PROTOCOL_VERSION,
  pingFrame,
  presenceFrame,
  receiptFrame,
  type SendFrame,
  type ServerFrame,
  sendFrame,
  typingFrame,
} from '@parley/protocol';
import type { WebSocket } from 'ws';
import type { z } from 'zod';
import { isAppError } from '../errors.js';
import type { DeviceActor } from '../modules/accounts/index.js';
import { base64DecodedLength, type DeviceEvent, type EnvelopeRow } from '../modules/delivery/index.js';
import { presenceChannel } from '../platform/presence.js';
import type { GatewayContext } from './gateway.js';

const MAX_BUFFERED_BYTES = 1024 * 1024;
const PAGE = 256;
/** Sends awaiting their commit before the connection stops reading frames (TCP back-pressure). */
const MAX_OUTSTANDING_SENDS = 512;
/** Accounts one connection may watch the presence of at once. */
const MAX_PRESENCE_WATCHES = 256;
/** Seconds between two RATE_LIMITED notices to a connection that keeps flooding. */
const THROTTLE_NOTICE_MS = 1000;

type Phase = 'hello' | 'authenticating' | 'open' | 'closed';

function uncork(connection: DeviceConnection): void {
  connection.uncork();
}

export class DeviceConnection {
  phase: Phase = 'hello';
  actor: DeviceActor | undefined;
  alive = true;
  readonly openedAt: number;
  /** When last_seen_at was last written for this device (the gateway refreshes it hourly). */
  touchedAt = 0;

  private unsubscribe: (() => void) | undefined;
  private mode: 'catchup' | 'live' = 'catchup';
  private reading = false;
  private dirty = false;
  private synced = false;
  private lastSent = 0;
  private lastAcked = 0;
  private nextExpected = 0;
  /** Seqs sent and not yet acked, ascending; `inflightHead` is the first live index. */
  private inflight: number[] = [];
  private inflightHead = 0;
  private outstandingSends = 0;
  private tokens: number;
  private refilledAt: number;
  private throttled = false;
  private lastThrottleNotice = 0;

  private corked = false;
  /** Accounts whose presence this connection watches, with their unsubscribe functions. */
  private presenceWatches: Map<string, () => void> | undefined;

  constructor(
    readonly ctx: GatewayContext,
    readonly ws: WebSocket,
    /** The TCP socket under ws, corked per tick so that frames written together leave together. */
    private readonly socket: Duplex,
    readonly id: string,
  ) {
    this.openedAt = ctx.clock.now();
    this.refilledAt = this.openedAt;
    this.tokens = ctx.config.framesPerSecond * 2;
    ws.on('message', (data, isBinary) => this.onFrame(data, isBinary));
    ws.on('pong', () => {
      this.alive = true;
    });
    ws.on('close', () => this.onClose());
    socket.on('drain', () => {
      if (this.mode === 'catchup') this.pump();
    });
    ws.on('error', (e) => ctx.logger.debug({ err: e, connection: id }, 'websocket error'));
  }

  // ---- frames in ----

  private onFrame(data: unknown, isBinary: boolean): void {
    this.alive = true;
    if (this.phase === 'closed') return;
    this.takeToken();
    if (isBinary) {
      this.error('FRAME_MALFORMED', 'Frames must be JSON text, not binary.');
      return;
    }
    let frame: unknown;
    try {
      frame = JSON.parse(String(data));
    } catch {
      this.error('FRAME_MALFORMED', 'The frame is not valid JSON.');
      return;
    }
    if (typeof frame !== 'object' || frame === null || Array.isArray(frame)) {
      this.error('FRAME_MALFORMED', 'A frame must be a JSON object with a string "op".');
      return;
    }
    const op = (frame as { op?: unknown }).op;
    const rawId = (frame as { id?: unknown }).id;
    const id = typeof rawId === 'string' && rawId.length <= 64 ? rawId : undefined;
    if (typeof op !== 'string') {
      this.error('FRAME_MALFORMED', 'A frame must have a string "op".');
      return;
    }

    if (this.phase !== 'open') {
      if (op !== 'hello' || this.phase === 'authenticating') {
        this.error('HELLO_REQUIRED', 'Send {"op":"hello","token":…} first and wait for "welcome".');
        this.close(CLOSE_CODES.unauthenticated, 'hello required');
        return;
      }
      const hello = this.parse(helloFrame, frame, undefined);
      if (hello) this.onHello(hello.token);
      return;
    }
    switch (op) {
      case 'send': {
        const payload = (frame as { payload?: unknown }).payload;
        if (typeof payload === 'string' && base64DecodedLength(payload) > MAX_PAYLOAD_BYTES) {
          this.error('PAYLOAD_TOO_LARGE', `Payloads are limited to ${MAX_PAYLOAD_BYTES} bytes.`, id, {
            max_bytes: MAX_PAYLOAD_BYTES,
          });
          return;
        }
        const send = this.parse(sendFrame, frame, id);
        if (send) this.onSend(send);
        return;
      }
      case 'ack': {
        const ack = this.parse(ackFrame, frame, undefined);
        if (ack) this.onAck(ack.seq);
        return;
      }
      case 'ping': {
        const ping = this.parse(pingFrame, frame, undefined);
        if (ping) this.write(ping.t === undefined ? { op: 'pong' } : { op: 'pong', t: ping.t });
        return;
      }
      case 'typing': {
        const typing = this.parse(typingFrame, frame, undefined);
        const actor = this.actor;
        if (typing && actor) {
          this.ctx.delivery.typing(actor, typing.to, typing.state).catch((e: unknown) => {
            if (isAppError(e)) this.error(e.code, e.message);
            else this.ctx.logger.error({ err: e }, 'typing failed');
          });
        }
        return;
      }
      case 'receipt': {
        const receipt = this.parse(receiptFrame, frame, undefined);
        const actor = this.actor;
        if (receipt && actor) {
          this.ctx.receipts.record(actor, receipt.type, receipt.message_ids).catch((e: unknown) => {
            if (isAppError(e)) this.error(e.code, e.message);
            else this.ctx.logger.error({ err: e }, 'receipt failed');
          });
        }
        return;
      }
      case 'presence': {
        const presence = this.parse(presenceFrame, frame, undefined);
        if (presence) this.watchPresence(presence.to);
        return;
      }
      case 'hello':
        this.error('VALIDATION_FAILED', 'This connection is already signed in.');
        return;
      default:
        this.error('FRAME_UNKNOWN_OP', `Unknown op "${op.slice(0, 32)}".`, id, {
          known_ops: CLIENT_OPS,
        });
        return;
    }
  }

  private parse<T>(schema: z.ZodType<T>, frame: unknown, id: string | undefined): T | undefined {
    const result = schema.safeParse(frame);
    if (result.success) return result.data;
    this.error('VALIDATION_FAILED', 'The frame does not match its schema.', id, {
      issues: result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    });
    return undefined;
  }

  /**
   * Token bucket: framesPerSecond on average, bursts of twice that. Frames over the rate are not
   * dropped (a dropped send would never be answered): the connection stops being read until the
   * bucket has refilled, so a flooding client is slowed by TCP back-pressure and costs no memory.
   */
  private takeToken(): void {
    const now = this.ctx.clock.now();
    const rate = this.ctx.config.framesPerSecond;
    this.tokens = Math.min(rate * 2, this.tokens + ((now - this.refilledAt) * rate) / 1000);
    this.refilledAt = now;
    this.tokens -= 1;
    if (this.tokens >= 0 || this.throttled) return;
    this.throttled = true;
    const waitMs = Math.ceil(((1 - this.tokens) * 1000) / rate);
    this.updatePaused();
    setTimeout(() => {
      this.throttled = false;
      this.updatePaused();
    }, waitMs).unref();
    if (now - this.lastThrottleNotice >= THROTTLE_NOTICE_MS) {
      this.lastThrottleNotice = now;
      this.error(
        'RATE_LIMITED',
        'Too many frames; the server reads this connection more slowly for now.',
        undefined,
        {
          retry_after_ms: waitMs,
        },
      );
    }
  }

  /** Reading is paused while signing in, while too many sends await commit, or while throttled. */
  private updatePaused(): void {
    if (this.phase === 'closed') return;
    const pause =
      this.phase === 'authenticating' || this.throttled || this.outstandingSends >= MAX_OUTSTANDING_SENDS;
    if (pause && !this.ws.isPaused) this.ws.pause();
    else if (!pause && this.ws.isPaused) this.ws.resume();
  }

  private onHello(token: string): void {
    this.phase = 'authenticating';
    // Read nothing more until we know who this is; the client waits for welcome anyway.
    this.updatePaused();
    this.ctx.accounts.authenticate(token).then(
      (actor) => {
        if (this.phase === 'closed') return;
        this.actor = actor;
        this.phase = 'open';
        this.updatePaused();
        this.ctx.registry.attach(this);
        this.unsubscribe = this.ctx.bus.subscribe(`device:${actor.deviceId}`, (event) =>
          this.onDeviceEvent(event as DeviceEvent),
        );
        // Other nodes (and this one) drop older connections of the same device.
        this.ctx.bus.publish(`device:${actor.deviceId}`, {
          type: 'connected',
          connectionId: this.id,
        } satisfies DeviceEvent);
        this.write({
          op: 'welcome',
          v: PROTOCOL_VERSION,
          account_id: actor.accountId,
          device_id: actor.deviceId,
          heartbeat_ms: this.ctx.config.heartbeatMs,
          max_payload_bytes: MAX_PAYLOAD_BYTES,
        });
        this.touchedAt = this.ctx.clock.now();
        this.ctx.accounts
          .touchDevices([actor.deviceId])
          .catch((e: unknown) => this.ctx.logger.warn({ err: e }, 'touch failed'));
        this.pump();
      },
      (e: unknown) => {
        if (this.phase === 'closed') return;
        if (isAppError(e) && e.code === 'UNAUTHENTICATED') {
          this.error('UNAUTHENTICATED', e.message);
        } else {
          // Not the client's fault: 1011 tells it to reconnect later rather than sign in again.
          this.ctx.logger.error({ err: e }, 'authentication failed');
          this.error('STORAGE_UNAVAILABLE', 'Could not check the token; retry later.');
          this.close(CLOSE_CODES.internalError, 'storage unavailable');
          return;
        }
        this.close(CLOSE_CODES.unauthenticated, 'unauthenticated');
      },
    );
  }

  private onSend(send: SendFrame): void {
    const clientId = send.id;
    const actor = this.actor;
    if (!actor) return;
    const readAt = performance.now();
    this.outstandingSends++;
    if (this.outstandingSends >= MAX_OUTSTANDING_SENDS) this.updatePaused();
    let pending: Promise<{ message_id: string; sent_at: number; duplicate: boolean }>;
    try {
      pending = this.ctx.delivery.send(actor, {
        clientId,
        to: send.to,
        payload: send.payload,
        kind: send.kind,
        ref: send.ref,
        replyTo: send.reply_to,
        forwardOf: send.forward_of,
        media: send.media,
        viewOnce: send.view_once,
      });
    } catch (e: unknown) {
      pending = Promise.reject(e);
    }
    pending.then(
      (r) => {
        this.ctx.metrics.sendAckLatency.observe((performance.now() - readAt) / 1000);
        this.sendSettled();
        this.write({
          op: 'sent',
          id: clientId,
          message_id: r.message_id,
          sent_at: r.sent_at,
          duplicate: r.duplicate,
        });
      },
      (e: unknown) => {
        this.sendSettled();
        this.failure(e, clientId);
      },
    );
  }

  private sendSettled(): void {
    this.outstandingSends--;
    if (this.ws.isPaused && this.outstandingSends < MAX_OUTSTANDING_SENDS / 2) this.updatePaused();
  }

  private onAck(seq: number): void {
    const actor = this.actor;
    if (!actor) return;
    // Only what this connection sent may be acked: an ack from the future would delete
    // envelopes the device never saw.
    const upTo = Math.min(seq, this.lastSent);
    if (upTo <= this.lastAcked) return;
    this.lastAcked = upTo;
    while (this.inflightHead < this.inflight.length && (this.inflight[this.inflightHead] ?? 0) <= upTo) {
      this.inflightHead++;
    }
    if (this.inflightHead > 256 || this.inflightHead === this.inflight.length) {
      this.inflight = this.inflight.slice(this.inflightHead);
      this.inflightHead = 0;
    }
    this.ctx.delivery.ack(actor.deviceId, upTo);
    if (this.mode === 'catchup') this.pump();
  }

  // ---- presence ----

  /**
   * Sends the account's presence now and on every change while this connection lasts (at most
   * MAX_PRESENCE_WATCHES accounts; the oldest watch goes first). Each update is computed for
   * this viewer, so privacy settings and blocks apply to it.
   */
  private watchPresence(to: string): void {
    const actor = this.actor;
    if (!actor) return;
    this.ctx.contacts.presence(actor, to).then(
      (view) => {
        if (this.phase !== 'open') return;
        this.write({ op: 'presence', ...view });
        this.presenceWatches ??= new Map();
        if (this.presenceWatches.has(view.account_id)) return;
        if (this.presenceWatches.size >= MAX_PRESENCE_WATCHES) {
          const [oldest, stop] = this.presenceWatches.entries().next().value ?? [];
          if (oldest) {
            stop?.();
            this.presenceWatches.delete(oldest);
          }
        }
        const stop = this.ctx.bus.subscribe(presenceChannel(view.account_id), () => {
          this.ctx.contacts.presence(actor, view.account_id).then(
            (next) => this.write({ op: 'presence', ...next }),
            (e: unknown) => this.ctx.logger.warn({ err: e }, 'presence update failed'),
          );
        });
        this.presenceWatches.set(view.account_id, stop);
      },
      (e: unknown) => {
        if (isAppError(e)) this.error(e.code, e.message);
        else this.ctx.logger.error({ err: e }, 'presence failed');
      },
    );
  }

  // ---- delivery ----

  private onDeviceEvent(event: DeviceEvent): void {
    if (this.phase !== 'open') return;
    if (event.type === 'connected') {
      if (event.connectionId !== this.id) this.displace();
      return;
    }
    if (event.type === 'typing') {
      // Ephemeral and droppable: skipped when the socket is already backed up.
      if (this.ws.bufferedAmount < MAX_BUFFERED_BYTES) this.write(event.frame);
      return;
    }
    const seq = event.envelope.seq;
    if (this.mode !== 'live') {
      this.dirty = true;
      this.pump();
      return;
    }
    if (seq < this.nextExpected) return;
    if (seq > this.nextExpected || this.room() <= 0) {
      this.mode = 'catchup';
      this.pump();
      return;
    }
    this.sendEnvelope(event.envelope);
    this.nextExpected = seq + 1;
  }

  private room(): number {
    if (this.ws.bufferedAmount >= MAX_BUFFERED_BYTES) return 0;
    return this.ctx.config.window - (this.inflight.length - this.inflightHead);
  }

  private pump(): void {
    if (this.reading || this.phase !== 'open' || this.mode === 'live') return;
    const room = this.room();
    if (room <= 0) return;
    const deviceId = this.actor?.deviceId;
    if (!deviceId) return;
    this.reading = true;
    this.dirty = false;
    const limit = Math.min(room, PAGE);
    const after = this.lastSent;
    this.readPage(deviceId, after, limit).then(
      ({ rows, highWater }) => {
        this.reading = false;
        if (this.phase !== 'open') return;
        for (const row of rows) if (row.seq > this.lastSent) this.sendEnvelope(row);
        if (rows.length < limit) {
          if (!this.synced) {
            this.synced = true;
            this.write({ op: 'synced' });
          }
          if (!this.dirty) {
            this.mode = 'live';
            this.nextExpected = Math.max(this.lastSent, highWater) + 1;
            return;
          }
        }
        this.pump();
      },
      (e: unknown) => {
        this.reading = false;
        this.ctx.logger.error({ err: e, device: deviceId }, 'queue read failed');
        this.error('STORAGE_UNAVAILABLE', 'Could not read your queue; reconnect later.');
        this.close(CLOSE_CODES.goingAway, 'storage unavailable');
      },
    );
  }

  private async readPage(deviceId: string, after: number, limit: number) {
    // The high-water mark is read first: everything up to it is committed, so a page shorter
    // than `limit` proves the queue holds nothing up to it that this connection has not sent.
    this.ctx.metrics.queueReads.inc();
    const highWater = (await this.ctx.delivery.lastSeq(deviceId)) ?? 0;
    const rows = await this.ctx.delivery.readQueue(deviceId, after, limit);
    return { rows, highWater };
  }

  private sendEnvelope(row: EnvelopeRow): void {
    this.lastSent = row.seq;
    this.inflight.push(row.seq);
    const text = this.ctx.encodeMsg(row);
    this.cork();
    // No per-frame callback (a closure per delivered frame showed up as GC): the socket's
    // 'drain' resumes a catch-up that stopped on a full buffer.
    this.ws.send(text);
  }

  // ---- frames out and closing ----

  write(frame: ServerFrame): void {
    if (this.phase === 'closed' || this.ws.readyState !== this.ws.OPEN) return;
    this.cork();
    this.ws.send(JSON.stringify(frame));
  }

  /**
   * Holds this tick's frames in the socket and writes them with one system call: a group commit
   * answers many sends and delivers many envelopes to the same connection at once.
   */
  private cork(): void {
    if (this.corked) return;
    this.corked = true;
    this.socket.cork();
    process.nextTick(uncork, this);
  }

  /** @internal */
  uncork(): void {
    this.corked = false;
    this.socket.uncork();
  }

  private error(code: ErrorCode, message: string, id?: string, details?: Record<string, unknown>): void {
    const frame: ServerFrame = { op: 'error', code, message };
    if (id !== undefined) frame.id = id;
    if (details !== undefined) frame.details = details;
    this.write(frame);
  }

  private failure(e: unknown, id: string): void {
    if (isAppError(e)) {
      this.error(e.code, e.message, id, e.details);
      return;
    }
    this.ctx.logger.error({ err: e, connection: this.id }, 'unexpected send failure');
    this.error('INTERNAL_ERROR', ERROR_CODES.INTERNAL_ERROR.description, id);
  }

  displace(): void {
    this.error('DEVICE_DISPLACED', 'This device connected again elsewhere; this connection is closed.');
    this.close(CLOSE_CODES.displaced, 'displaced');
  }

  revoke(): void {
    this.error('UNAUTHENTICATED', 'This device was logged out.');
    this.close(CLOSE_CODES.unauthenticated, 'logged out');
  }

  close(code: number, reason: string): void {
    if (this.phase === 'closed') return;
    // A paused socket would never read the peer's close reply and the handshake would hang.
    if (this.ws.isPaused) this.ws.resume();
    this.ws.close(code, reason);
    this.onClose();
  }

  private onClose(): void {
    if (this.phase === 'closed') return;
    const wasOpen = this.phase === 'open';
    this.phase = 'closed';
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    for (const stop of this.presenceWatches?.values() ?? []) stop();
    this.presenceWatches = undefined;
    this.ctx.registry.detach(this, wasOpen);
  }
}
