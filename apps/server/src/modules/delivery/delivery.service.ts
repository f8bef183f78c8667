/**
 * Reliable 1:1 delivery. Model:
 * - Every device has one queue of envelopes ordered by a per-device sequence (devices.last_seq).
 * - A send is committed (idempotency key, one envelope per recipient device) before the sender's
 *   promise resolves; sends are idempotent on (sender device, client message id).
 * - After commit, each envelope is published on the bus channel `device:<id>` so the gateway
 *   holding that device's connection can push it at once; the database stays the source of
 *   truth, and a gateway that misses or cannot hold an event reads the queue instead.
 * - Acks are cumulative per device and delete envelopes; they ride the same group commit.
 * - Envelopes not acked within 30 days expire; idempotency keys are kept as long.
 */
import { performance } from 'node:perf_hooks';
import { MAX_PAYLOAD_BYTES, type SendKind, type TypingEventFrame } from '@parley/protocol';
import { AppError } from '../../errors.js';
import type { Bus } from '../../platform/bus.js';
import type { Clock } from '../../platform/clock.js';
import type { Db } from '../../platform/db.js';
import type { Ids } from '../../platform/ids.js';
import type { Logger } from '../../platform/logger.js';
import type { DeviceActor } from '../accounts/index.js';
import { normalizePhone } from '../accounts/index.js';
import { type CommitExecutor, createInlineCommitExecutor } from './commit-executor.js';
import { type CommitItem, type CommitResult, envelopeOf } from './delivery.commit.js';
import type { DeliveryRepo, EnvelopeRow } from './delivery.repo.js';
import { type BatchSend, createWriteBatcher } from './write-batcher.js';

export const ENVELOPE_TTL_MS = 30 * 24 * 3600 * 1000;

export interface SendInput {
  clientId: string;
  /** E.164 phone number or account id. */
  to: string;
  /** Standard base64, opaque to the server. */
  payload: string;
  /** `message` (default) or an act on the earlier message `ref`: reaction, edit, delete. */
  kind?: SendKind;
  ref?: string;
  replyTo?: string;
  forwardOf?: string;
  media?: string[];
  viewOnce?: boolean;
  /**
   * The id the message gets when it is new (the Business Messaging API hands out the wamid
   * before the send commits). A retry with the same client id answers the stored id.
   */
  messageId?: string;
}

export interface SendResult {
  message_id: string;
  sent_at: number;
  duplicate: boolean;
}

/** What travels on `device:<id>`: a committed envelope, or a newer connection of the device. */
export type DeviceEvent =
  | { type: 'envelope'; envelope: EnvelopeRow }
  | { type: 'connected'; connectionId: string }
  /** Ephemeral: written to the device's connection if it has one, never stored. */
  | { type: 'typing'; frame: TypingEventFrame };

export const deviceChannel = (deviceId: string) => `device:${deviceId}`;

interface QueuedSend {
  actor: DeviceActor;
  input: SendInput;
  recipient: { phone: string } | { accountId: string } | { groupId: string };
}

export interface DeliveryServiceDeps {
  db: Pick<Db, 'kysely' | 'caps'>;
  repo: DeliveryRepo;
  /** Where group commits run; defaults to inline on `db`. */
  executor?: CommitExecutor;
  clock: Clock;
  ids: Ids;
  bus: Pick<Bus, 'publish'>;
  logger: Logger;
  maxBatch?: number;
  maxQueue?: number;
  onAccepted?(count: number): void;
  onDelivered?(count: number): void;
  onQueueDepth?(depth: number): void;
  onCommit?(sends: number, seconds: number): void;
  /**
   * Billing's check before a send (the consumer plan: sending paused after grace). Throws to
   * refuse; absent when billing does not gate sending. Never applies to receiving.
   */
  sendGate?(actor: DeviceActor): Promise<void>;
}

export function createDeliveryService(deps: DeliveryServiceDeps) {
  const { db, repo, clock, ids, bus, logger } = deps;
  const executor = deps.executor ?? createInlineCommitExecutor(db, repo);
  let closing = false;
  /**
   * Highest seq acked per device and not yet committed. Queue reads skip below it so that a
   * reconnecting device is not sent again what it acked a moment ago.
   */
  const pendingAcks = new Map<string, number>();

  const batcher = createWriteBatcher<QueuedSend, SendResult>({
    maxBatch: deps.maxBatch ?? 2000,
    maxQueue: deps.maxQueue ?? 50_000,
    commit,
    onQueueDepth: deps.onQueueDepth,
    onError: (e) => logger.error({ err: e }, 'delivery batch failed'),
  });

  async function commit(
    batch: BatchSend<QueuedSend, SendResult>[],
    acks: Map<string, number>,
  ): Promise<void> {
    const started = performance.now();
    let result: CommitResult;
    const now = clock.now();
    const items: CommitItem[] = batch.map(({ item }) => ({
      senderAccount: item.actor.accountId,
      senderDevice: item.actor.deviceId,
      senderPhone: item.actor.phone,
      clientId: item.input.clientId,
      to: item.input.to,
      recipient: item.recipient,
      payload: item.input.payload,
      messageId: item.input.messageId ?? ids.newId('msg'),
      kind: item.input.kind ?? 'message',
      ref: item.input.ref,
      replyTo: item.input.replyTo,
      forwardOf: item.input.forwardOf,
      media: item.input.media,
      viewOnce: item.input.viewOnce === true,
    }));
    try {
      result = await executor.commit({ items, acks: [...acks], now, ttlMs: ENVELOPE_TTL_MS });
    } catch (e: unknown) {
      logger.error({ err: e, sends: batch.length }, 'delivery commit failed');
      const error = new AppError(
        'STORAGE_UNAVAILABLE',
        'The message could not be stored; retry later.',
        undefined,
        {
          cause: e,
        },
      );
      for (const send of batch) send.reject(error);
      // Acks are dropped: the envelopes stay queued and are delivered again (at-least-once).
      forgetAcks(acks);
      return;
    }

    forgetAcks(acks);
    deps.onCommit?.(batch.length, (performance.now() - started) / 1000);
    let accepted = 0;
    for (const [i, send] of batch.entries()) {
      const outcome = result.outcomes[i];
      if (!outcome) {
        send.reject(new AppError('INTERNAL_ERROR', 'The commit returned no outcome for this send.'));
      } else if (outcome.ok) {
        if (!outcome.duplicate) accepted++;
        send.resolve({
          message_id: outcome.message_id,
          sent_at: outcome.sent_at,
          duplicate: outcome.duplicate,
        });
      } else {
        send.reject(new AppError(outcome.code, outcome.message));
      }
    }
    // Announced only now: a gateway that hears of an envelope can always read it.
    const shapes = new Map(result.shapes.map(([index, shape]) => [index, shape]));
    for (const [index, deviceId, seq, chatId] of result.created) {
      const item = items[index];
      if (!item) continue;
      const envelope = envelopeOf(item, chatId, deviceId, seq, now, ENVELOPE_TTL_MS, shapes.get(index));
      bus.publish(deviceChannel(deviceId), { type: 'envelope', envelope } satisfies DeviceEvent);
    }
    if (accepted > 0) deps.onAccepted?.(accepted);
    if (result.delivered > 0) deps.onDelivered?.(result.delivered);
  }

  function forgetAcks(acks: Map<string, number>): void {
    for (const [device, seq] of acks) {
      if (pendingAcks.get(device) === seq) pendingAcks.delete(device);
    }
  }

  // Parsing a phone number costs microseconds that add up at tens of thousands of sends per
  // second; people send to the same few numbers over and over.
  const phoneCache = new Map<string, string | undefined>();
  function parseRecipient(to: string): QueuedSend['recipient'] {
    if (to.startsWith('acc_')) return { accountId: to };
    if (to.startsWith('grp_')) return { groupId: to };
    let phone = phoneCache.get(to);
    if (phone === undefined && !phoneCache.has(to)) {
      phone = normalizePhone(to);
      if (phoneCache.size >= 50_000) phoneCache.clear();
      phoneCache.set(to, phone);
    }
    if (!phone) {
      throw new AppError('PHONE_INVALID', `"${to}" is neither an E.164 phone number nor an account id.`);
    }
    return { phone };
  }

  return {
    /** Stores a message for every device of the recipient; resolves once it is committed. */
    async send(actor: DeviceActor, input: SendInput): Promise<SendResult> {
      if (base64DecodedLength(input.payload) > MAX_PAYLOAD_BYTES) {
        throw new AppError('PAYLOAD_TOO_LARGE', `Payloads are limited to ${MAX_PAYLOAD_BYTES} bytes.`, {
          max_bytes: MAX_PAYLOAD_BYTES,
        });
      }
      checkSendShape(input);
      const recipient = parseRecipient(input.to);
      if (deps.sendGate) await deps.sendGate(actor);
      if (closing)
        throw new AppError('SERVER_BUSY', 'The server is shutting down; retry on another connection.');
      const pending = batcher.enqueueSend({ actor, input, recipient });
      if (!pending) {
        throw new AppError('SERVER_BUSY', 'The server is at capacity; retry shortly with the same id.', {
          retry_after_ms: 100,
        });
      }
      return pending;
    },

    /**
     * A typing indicator to a person (all their devices, unless they blocked the typist) or a
     * group (its members' devices; the typist must be a member). Never stored: only devices
     * connected now see it. The typist's own other devices are not told.
     */
    async typing(actor: DeviceActor, to: string, state: 'composing' | 'paused'): Promise<void> {
      const recipient = parseRecipient(to);
      let devices: string[];
      let chat: string;
      if ('groupId' in recipient) {
        const members = await repo.findGroupMembers(db.kysely, recipient.groupId);
        if (!members.some((m) => m.account_id === actor.accountId)) {
          throw new AppError('NOT_A_GROUP_MEMBER', 'You are not a member of this group.');
        }
        devices = members.flatMap((m) =>
          m.device_id && m.account_id !== actor.accountId ? [m.device_id] : [],
        );
        chat = recipient.groupId;
      } else {
        const rows = await repo.findRecipients(
          db.kysely,
          'phone' in recipient ? [recipient.phone] : [],
          'accountId' in recipient ? [recipient.accountId] : [],
        );
        const accountId = rows[0]?.account_id;
        if (!accountId) throw new AppError('RECIPIENT_NOT_FOUND', `No Parley account for "${to}".`);
        if (accountId === actor.accountId) return;
        const blocked = await repo.findBlocks(db.kysely, [[accountId, actor.accountId]]);
        if (blocked.size > 0) return; // silently, as for messages
        devices = rows.flatMap((r) => (r.device_id ? [r.device_id] : []));
        chat = actor.accountId;
      }
      const frame: TypingEventFrame = {
        op: 'typing',
        chat,
        from: actor.phone,
        from_account: actor.accountId,
        state,
      };
      for (const device of devices)
        bus.publish(deviceChannel(device), { type: 'typing', frame } satisfies DeviceEvent);
    },

    /**
     * Runs a write transaction of another module between two delivery commits, so that with
     * SQLite it never contends with the writer thread for the write lock. For hot paths only
     * (the business inbox); `fn` must not wait for a send.
     */
    exclusive<T>(fn: () => Promise<T>): Promise<T> {
      return batcher.enqueueJob(fn);
    },

    /** Cumulative ack: every envelope of the device up to seq is delivered and may go. */
    ack(deviceId: string, seq: number): void {
      if ((pendingAcks.get(deviceId) ?? 0) < seq) pendingAcks.set(deviceId, seq);
      batcher.enqueueAck(deviceId, seq);
    },

    /** The next page of a device's queue after `afterSeq`, skipping what was just acked. */
    async readQueue(deviceId: string, afterSeq: number, limit: number): Promise<EnvelopeRow[]> {
      const from = Math.max(afterSeq, pendingAcks.get(deviceId) ?? 0);
      return repo.readQueue(db.kysely, deviceId, from, limit);
    },

    /** The highest seq ever assigned to the device (0 when none; undefined when it is gone). */
    async lastSeq(deviceId: string): Promise<number | undefined> {
      return repo.lastSeq(db.kysely, deviceId);
    },

    /** Deletes expired envelopes and idempotency keys, in bounded steps. */
    async expire(): Promise<{ envelopes: number; sendKeys: number; bodies: number; meta: number }> {
      const now = clock.now();
      let envelopes = 0;
      for (;;) {
        const n = await repo.deleteExpiredEnvelopes(db.kysely, now, 5000);
        envelopes += n;
        if (n < 5000) break;
      }
      const sendKeys = await repo.deleteOldSendKeys(db.kysely, now - ENVELOPE_TTL_MS);
      // A body expires with the envelopes that point at it (same 30 days from the same send).
      const bodies = await repo.deleteExpiredBodies(db.kysely, now);
      const meta = await repo.deleteExpiredMeta(db.kysely, now);
      return { envelopes, sendKeys, bodies, meta };
    },

    async countQueued(): Promise<number> {
      return repo.countQueued(db.kysely);
    },

    get writeQueueDepth(): number {
      return batcher.depth;
    },

    /** Refuses new sends and waits for everything queued to commit. */
    async close(): Promise<void> {
      closing = true;
      await batcher.drain();
      await executor.close();
    },
  };
}

/**
 * The rules between a send's fields that the frame schema cannot say: an act on a message
 * names it in `ref` and carries nothing else; only a plain message replies, forwards or carries
 * media; view-once needs media; an edit has new content and a delete has none.
 */
function checkSendShape(input: SendInput): void {
  const kind = input.kind ?? 'message';
  const problems: string[] = [];
  if (kind === 'message') {
    if (input.ref !== undefined) problems.push('ref is only for reaction, edit and delete');
    if (input.viewOnce && !input.media) problems.push('view_once needs media');
  } else {
    if (input.ref === undefined) problems.push(`a ${kind} needs ref, the message it acts on`);
    for (const [field, value] of [
      ['reply_to', input.replyTo],
      ['forward_of', input.forwardOf],
      ['media', input.media],
      ['view_once', input.viewOnce],
    ] as const) {
      if (value !== undefined) problems.push(`${field} is not allowed on a ${kind}`);
    }
    if (kind === 'edit' && input.payload === '') problems.push('an edit needs the new content as payload');
    if (kind === 'delete' && input.payload !== '') problems.push('a delete has an empty payload');
  }
  if (problems.length > 0) {
    throw new AppError('VALIDATION_FAILED', problems.join('; '), {
      issues: problems.map((message) => ({ path: '', message })),
    });
  }
}

/** Decoded size of standard base64 without decoding it. */
export function base64DecodedLength(b64: string): number {
  const padding = b64.endsWith('==') ? 2 : b64.endsWith('=') ? 1 : 0;
  return Math.floor((b64.length * 3) / 4) - padding;
}

export type DeliveryService = ReturnType<typeof createDeliveryService>;
