/**
 * The send pipeline: every send stays here, under its client id, until the server answers it.
 *
 * Model: a `sent` frame means the message is durably committed; until then a send may or may
 * not have been stored. Because the server dedupes on (device, client id), resending with the
 * same id is always safe, so after a reconnect every unanswered send is simply transmitted again.
 *
 * Invariants:
 * - At most `limit` sends are on the wire at once (transmitted on the current connection and
 *   unanswered); the rest wait in FIFO order. `limit` starts at `maxInFlight`, halves when the
 *   server says it is dropping frames (slowDown) and grows back by one per answer (AIMD), so a
 *   client settles near the rate the server accepts instead of repeatedly overrunning it.
 * - An entry is settled exactly once: by its `sent`, by its (non-retryable) `error`, or by
 *   rejectAll/rejectWaiting when the client closes or is displaced.
 * - SERVER_BUSY (load shedding) and STORAGE_UNAVAILABLE (a failed commit) mean nothing was
 *   stored and a retry with the same id is safe: the entry waits a backoff (at least the
 *   server's `retry_after_ms`) and goes to the front of the queue, keeping its id.
 */
import { MAX_CLIENT_MESSAGE_ID, type SendFrame, type SentFrame } from '@parley/protocol';
import { type BackoffOptions, backoffDelay } from './backoff.js';
import { createDeferred } from './deferred.js';
import { ParleyError } from './errors.js';
import { isValidClientId } from './ids.js';
import { decodedByteLength, isStandardBase64 } from './payload.js';
import type { Scheduler, TimerHandle } from './scheduler.js';

export interface SendResult {
  messageId: string;
  /** Epoch milliseconds at which the server committed the message. */
  sentAt: number;
  /** True when the server had already stored a send with this client id (the original is returned). */
  duplicate: boolean;
}

export interface OutgoingSend {
  clientId: string;
  to: string;
  payload: string;
  /** The send frame's optional fields (kind, ref, reply_to, forward_of, media, view_once). */
  fields?: SendFields;
}

export type SendFields = Omit<SendFrame, 'op' | 'id' | 'to' | 'payload'>;

/** What rejectAll/rejectWaiting tell the error factory, so the app can retry with the same id. */
export interface UnansweredSend {
  clientId: string;
  /** Whether it was ever put on the wire: if so, it may have been stored. */
  transmitted: boolean;
}

type EntryState = 'queued' | 'inflight' | 'waiting';

interface Entry extends OutgoingSend {
  state: EntryState;
  transmitted: boolean;
  retries: number;
  timer: TimerHandle | undefined;
  promise: Promise<SendResult>;
  resolve(result: SendResult): void;
  reject(error: ParleyError): void;
}

export interface OutboxDeps {
  scheduler: Scheduler;
  maxInFlight: number;
  retry: BackoffOptions;
  random?: () => number;
  /** Puts a send frame on the current connection; false when it cannot. */
  transmit(frame: SendFrame): boolean;
}

/** The local checks the server would make, so a hopeless send fails without a round trip. */
export function validateSend(send: OutgoingSend, maxPayloadBytes: number): ParleyError | undefined {
  if (!isValidClientId(send.clientId)) {
    return new ParleyError(
      'VALIDATION_FAILED',
      `clientId must match /^[A-Za-z0-9._:-]{1,${MAX_CLIENT_MESSAGE_ID}}$/`,
      {
        details: { client_id: send.clientId },
      },
    );
  }
  if (send.to.length < 2 || send.to.length > 64) {
    return new ParleyError('VALIDATION_FAILED', 'to must be an E.164 phone number or an account id', {
      details: { to: send.to },
    });
  }
  if (!isStandardBase64(send.payload)) {
    return new ParleyError('VALIDATION_FAILED', 'payload must be standard base64');
  }
  const size = decodedByteLength(send.payload);
  if (size > maxPayloadBytes) {
    return new ParleyError('PAYLOAD_TOO_LARGE', `payload is ${size} bytes; the limit is ${maxPayloadBytes}`, {
      details: { size, limit: maxPayloadBytes },
    });
  }
  return undefined;
}

/** Send errors after which the server stored nothing and asks for the same send again later. */
const RETRY_LATER = new Set<string>(['SERVER_BUSY', 'STORAGE_UNAVAILABLE']);

function retryAfterMs(error: ParleyError): number {
  const value = error.details?.retry_after_ms;
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

export function createOutbox(deps: OutboxDeps) {
  const entries = new Map<string, Entry>();
  let ready: Entry[] = [];
  let inFlight = 0;
  let limit = deps.maxInFlight;
  let connected = false;
  let held = false;
  let idleWaiters: Array<() => void> = [];

  function notifyIfIdle(): void {
    if (inFlight > 0) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const wake of waiters) wake();
  }

  function pump(): void {
    while (connected && !held && inFlight < limit) {
      const entry = ready[0];
      if (entry === undefined) return;
      const frame: SendFrame = {
        op: 'send',
        id: entry.clientId,
        to: entry.to,
        payload: entry.payload,
        ...entry.fields,
      };
      if (!deps.transmit(frame)) return;
      ready.shift();
      entry.state = 'inflight';
      entry.transmitted = true;
      inFlight++;
    }
  }

  /** Removes an entry from every structure; the caller settles its promise. */
  function remove(entry: Entry): void {
    entries.delete(entry.clientId);
    if (entry.timer !== undefined) deps.scheduler.clearTimeout(entry.timer);
    entry.timer = undefined;
    if (entry.state === 'inflight') inFlight--;
    else if (entry.state === 'queued') ready = ready.filter((e) => e !== entry);
  }

  function retryLater(entry: Entry, error: ParleyError): void {
    if (entry.state === 'inflight') inFlight--;
    else if (entry.state === 'queued') ready = ready.filter((e) => e !== entry);
    entry.state = 'waiting';
    const delay = Math.max(backoffDelay(entry.retries++, deps.retry, deps.random), retryAfterMs(error));
    entry.timer = deps.scheduler.setTimeout(() => {
      entry.timer = undefined;
      if (entries.get(entry.clientId) !== entry) return;
      entry.state = 'queued';
      ready.unshift(entry);
      pump();
    }, delay);
  }

  function settleMatching(
    filter: (entry: Entry) => boolean,
    makeError: (send: UnansweredSend) => ParleyError,
  ): void {
    for (const entry of [...entries.values()]) {
      if (!filter(entry)) continue;
      remove(entry);
      entry.reject(makeError({ clientId: entry.clientId, transmitted: entry.transmitted }));
    }
    notifyIfIdle();
  }

  return {
    get size(): number {
      return entries.size;
    },

    /** Adds a send, or returns the pending promise of the send that already has this client id. */
    enqueue(send: OutgoingSend): Promise<SendResult> {
      const existing = entries.get(send.clientId);
      if (existing) return existing.promise;
      const deferred = createDeferred<SendResult>();
      const entry: Entry = {
        ...send,
        state: 'queued',
        transmitted: false,
        retries: 0,
        timer: undefined,
        promise: deferred.promise,
        resolve: deferred.resolve,
        reject: deferred.reject,
      };
      entries.set(send.clientId, entry);
      ready.push(entry);
      pump();
      return deferred.promise;
    },

    /** Returns false when no pending send has this id (e.g. it was already answered). */
    onSent(frame: SentFrame): boolean {
      const entry = entries.get(frame.id);
      if (!entry) return false;
      remove(entry);
      entry.resolve({ messageId: frame.message_id, sentAt: frame.sent_at, duplicate: frame.duplicate });
      limit = Math.min(deps.maxInFlight, limit + 1);
      notifyIfIdle();
      pump();
      return true;
    },

    /** Returns false when no pending send has this id. */
    onError(clientId: string, error: ParleyError): boolean {
      const entry = entries.get(clientId);
      if (!entry) return false;
      if (RETRY_LATER.has(error.code) && !held) retryLater(entry, error);
      else {
        remove(entry);
        entry.reject(error);
      }
      notifyIfIdle();
      pump();
      return true;
    },

    /**
     * On welcome, starts transmitting. On disconnect, everything in flight becomes queued again,
     * in original order, since any of it may be lost; it is resent with the same ids.
     */
    setConnected(value: boolean): void {
      connected = value;
      if (value) {
        pump();
        return;
      }
      for (const entry of entries.values()) if (entry.state === 'inflight') entry.state = 'queued';
      ready = [...entries.values()].filter((e) => e.state === 'queued');
      inFlight = 0;
      notifyIfIdle();
    },

    /** Halves the window: the server is dropping frames because they come too fast. */
    slowDown(): void {
      limit = Math.max(1, Math.floor(limit / 2));
    },

    /** Stops transmitting and retrying; used while the client closes. */
    hold(): void {
      held = true;
    },

    /** Resolves once nothing is on the wire unanswered. */
    whenIdle(): Promise<void> {
      if (inFlight === 0) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },

    /** Rejects every send that is not currently on the wire. */
    rejectWaiting(makeError: (send: UnansweredSend) => ParleyError): void {
      settleMatching((entry) => entry.state !== 'inflight', makeError);
    },

    rejectAll(makeError: (send: UnansweredSend) => ParleyError): void {
      settleMatching(() => true, makeError);
    },
  };
}

export type Outbox = ReturnType<typeof createOutbox>;
