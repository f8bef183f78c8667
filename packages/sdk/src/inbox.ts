/**
 * The receive pipeline: ordered delivery to the app, duplicate suppression and coalesced acks.
 *
 * Model: the server keeps a per-device queue numbered by a monotonic `seq` and resends every
 * envelope it has not seen acked, so delivery is at-least-once; this inbox turns that into
 * "each message handed to the app once, in seq order" for as long as `lastHandledSeq` is kept
 * (in memory, or persisted by the app and passed back in).
 *
 * Invariants:
 * - Handlers see one message at a time, in seq order; the next waits until every handler of the
 *   previous one has settled. Only then does the message count as handled.
 * - An ack never covers a seq that was not handled, because acks delete envelopes on the server.
 * - An ack never exceeds the highest seq received on the current connection: the server clamps
 *   acks to what that connection sent, so a higher ack would be partly ignored, and believing
 *   it took effect would leave redelivered duplicates unacked and the server's window stuck.
 * - `lastHandledSeq ≤ highestQueuedSeq`: a frame at or below the first is a redelivery of something
 *   handled (ack it again); one between the two is already queued (it is acked once handled).
 * - While no handler is subscribed, messages wait rather than being dropped or acked.
 */
import type { MessageFrame, MessageKind } from '@parley/protocol';
import { createLruSet } from './dedupe.js';
import { ParleyError } from './errors.js';
import { base64ToBytes, decodeText } from './payload.js';
import type { Scheduler, TimerHandle } from './scheduler.js';

export interface ReceivedMessage {
  /** This device's queue position; persist the client's `lastHandledSeq`, not this, to resume. */
  seq: number;
  messageId: string;
  /** Sender's E.164 phone number. */
  from: string;
  fromAccount: string;
  fromDevice: string;
  /**
   * The chat this message belongs to: the sender's account id for a message you received; the
   * other person's account id for a copy of a message one of your other devices sent.
   */
  chatId: string;
  /**
   * `message` from a person; `event`: a system event (group changes) whose JSON is in `event`;
   * or an act on the earlier message `ref`: `reaction` (empty text: removed), `edit` (the new
   * content) or `delete` (for everyone: show a tombstone).
   */
  kind: MessageKind;
  /** The message a reaction, edit or delete acts on. */
  ref: string | undefined;
  /** The message this one replies to. */
  replyTo: string | undefined;
  /** Forwarding hops behind this content (0: not forwarded). */
  forwarded: number;
  /** Forwarded 5 times or more: show "forwarded many times". */
  forwardedMany: boolean;
  /** Media ids the message carries (download with `client.media.download`). */
  media: string[];
  viewOnce: boolean;
  /** Disappearing messages: delete the message at this time (epoch ms). */
  disappearsAt: number | undefined;
  /** The parsed system event when kind is `event` (e.g. `{type:'group.members_added', …}`). */
  event: Record<string, unknown> | undefined;
  /** Epoch milliseconds at which the server committed the message. */
  sentAt: number;
  /** Standard base64 of the opaque payload bytes. */
  payload: string;
  /** The text when the payload is a Parley text message, else undefined. */
  text: string | undefined;
}

export type MessageHandler = (message: ReceivedMessage) => void | Promise<void>;

/** Ack when this many messages are handled but unacked… */
export const ACK_BATCH = 64;
/** …or this long after the first of them, whichever comes first. */
export const ACK_DELAY_MS = 20;

export interface InboxDeps {
  scheduler: Scheduler;
  /** Sends a cumulative ack; returns false when no socket can carry it now. */
  sendAck(seq: number): boolean;
  /** A handler threw or rejected; the message has still been counted as handled. */
  onHandlerError(error: ParleyError): void;
  /** Every message queued before the `synced` frame of connection `connectionId` is handled. */
  onSynced(connectionId: number): void;
  dedupeSize: number;
  lastHandledSeq?: number;
}

type Item = { kind: 'msg'; frame: MessageFrame } | { kind: 'synced'; connectionId: number };

function decodeEvent(payload: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(base64ToBytes(payload)));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function toReceived(frame: MessageFrame): ReceivedMessage {
  return {
    seq: frame.seq,
    messageId: frame.message_id,
    from: frame.from,
    fromAccount: frame.from_account,
    fromDevice: frame.from_device,
    chatId: frame.chat,
    kind: frame.kind,
    event: frame.kind === 'event' ? decodeEvent(frame.payload) : undefined,
    sentAt: frame.sent_at,
    payload: frame.payload,
    text: decodeText(frame.payload),
    ref: frame.ref,
    replyTo: frame.reply_to,
    forwarded: frame.forwarded ?? 0,
    forwardedMany: frame.forwarded_many === true,
    media: frame.media ?? [],
    viewOnce: frame.view_once === true,
    disappearsAt: frame.disappears_at,
  };
}

export function createInbox(deps: InboxDeps) {
  const handlers = new Set<MessageHandler>();
  const seenIds = createLruSet(deps.dedupeSize);
  let queue: Item[] = [];
  let lastHandled = Math.max(0, deps.lastHandledSeq ?? 0);
  let highestQueued = lastHandled;
  let deliveringSeq = 0;
  /** Highest seq received on the current connection (duplicates included); caps every ack. */
  let receivedSeq = 0;
  /** Highest seq acked on the current connection; reset per connection since acks may be lost with it. */
  let ackedSeq = 0;
  let unacked = 0;
  let connected = false;
  let draining = false;
  let stopped = false;
  let ackTimer: TimerHandle | undefined;

  function cancelAckTimer(): void {
    if (ackTimer !== undefined) deps.scheduler.clearTimeout(ackTimer);
    ackTimer = undefined;
  }

  const ackTarget = () => Math.min(lastHandled, receivedSeq);

  function flushAck(): void {
    cancelAckTimer();
    const target = ackTarget();
    if (!connected || target <= ackedSeq) return;
    if (deps.sendAck(target)) {
      ackedSeq = target;
      unacked = 0;
    }
  }

  function scheduleAck(): void {
    if (!connected) return;
    if (unacked >= ACK_BATCH) flushAck();
    else ackTimer ??= deps.scheduler.setTimeout(flushAck, ACK_DELAY_MS);
  }

  async function deliver(frame: MessageFrame): Promise<void> {
    deliveringSeq = frame.seq;
    // The same message under a new seq is skipped, yet still counted as handled so it is acked.
    if (!seenIds.has(frame.message_id)) {
      seenIds.add(frame.message_id);
      const message = toReceived(frame);
      for (const handler of [...handlers]) {
        try {
          await handler(message);
        } catch (cause: unknown) {
          deps.onHandlerError(
            new ParleyError('HANDLER_FAILED', `onMessage handler failed for message ${frame.message_id}`, {
              cause,
              details: { seq: frame.seq, message_id: frame.message_id },
            }),
          );
        }
      }
    }
    lastHandled = frame.seq;
    deliveringSeq = 0;
    unacked++;
    scheduleAck();
  }

  /** Runs until the queue is empty or blocked; never rejects (handler errors are reported). */
  async function drain(): Promise<void> {
    if (draining) return;
    draining = true;
    try {
      for (;;) {
        const item = queue[0];
        if (stopped || item === undefined) return;
        if (item.kind === 'msg' && handlers.size === 0) return;
        queue.shift();
        if (item.kind === 'synced') {
          flushAck();
          deps.onSynced(item.connectionId);
        } else {
          await deliver(item.frame);
        }
      }
    } finally {
      draining = false;
    }
  }

  return {
    get lastHandledSeq(): number {
      return lastHandled;
    },

    subscribe(handler: MessageHandler): () => void {
      // Wrapped so one function subscribed twice is called twice and unsubscribed independently.
      const entry: MessageHandler = (m) => handler(m);
      handlers.add(entry);
      void drain();
      return () => {
        handlers.delete(entry);
      };
    },

    receive(frame: MessageFrame): void {
      if (stopped) return;
      receivedSeq = Math.max(receivedSeq, frame.seq);
      if (frame.seq <= lastHandled) {
        // The server resent something already handled, so it has not seen our ack: ack again.
        if (ackTarget() > ackedSeq) {
          unacked++;
          scheduleAck();
        }
        return;
      }
      if (frame.seq <= highestQueued) return;
      highestQueued = frame.seq;
      queue.push({ kind: 'msg', frame });
      void drain();
    },

    /** Queues the marker behind the backlog, so "synced" means "backlog handled", not just "sent". */
    synced(connectionId: number): void {
      if (stopped) return;
      queue.push({ kind: 'synced', connectionId });
      void drain();
    },

    /** After `welcome`. Acks start over: the new connection acks only what it has itself sent. */
    onConnected(): void {
      connected = true;
      receivedSeq = 0;
      ackedSeq = 0;
      unacked = 0;
    },

    onDisconnected(): void {
      connected = false;
      cancelAckTimer();
    },

    flushAck,

    /**
     * Drops messages not yet handed to the app (the server still holds them, unacked) so that
     * another connection of this device owns them. The message being handled, if any, finishes.
     */
    clear(): void {
      queue = [];
      highestQueued = Math.max(lastHandled, deliveringSeq);
    },

    /** Clears and stops for good: nothing more is handed to the app. */
    stop(): void {
      stopped = true;
      queue = [];
      cancelAckTimer();
    },
  };
}

export type Inbox = ReturnType<typeof createInbox>;
