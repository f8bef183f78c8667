import type { SendFrame } from '@parley/protocol';
import { describe, expect, it } from 'vitest';
import { createFakeScheduler } from '../test/fake-scheduler.js';
import { ParleyError } from './errors.js';
import { createOutbox, type SendResult, validateSend } from './outbox.js';
import { bytesToBase64 } from './payload.js';

function setup(maxInFlight = 2) {
  const scheduler = createFakeScheduler();
  const wire: SendFrame[] = [];
  const outbox = createOutbox({
    scheduler,
    maxInFlight,
    retry: { minDelayMs: 100, maxDelayMs: 1000 },
    random: () => 0,
    transmit: (f) => {
      wire.push(f);
      return true;
    },
  });
  const ids = () => wire.map((f) => f.id);
  const sent = (id: string, duplicate = false) =>
    outbox.onSent({ op: 'sent', id, message_id: `msg_${id}`, sent_at: 5, duplicate });
  return { scheduler, outbox, wire, ids, sent };
}

function track(promise: Promise<SendResult>) {
  const state: { result?: SendResult; error?: ParleyError } = {};
  promise.then(
    (r) => {
      state.result = r;
    },
    (e: ParleyError) => {
      state.error = e;
    },
  );
  return state;
}

const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 0));
const send = (clientId: string) => ({ clientId, to: '+15550002222', payload: 'aGk=' });

describe('outbox', () => {
  it('waits for a connection, then keeps at most maxInFlight on the wire', () => {
    const { outbox, ids, sent } = setup(2);
    for (const id of ['a', 'b', 'c']) void outbox.enqueue(send(id)).catch(() => {});
    expect(ids()).toEqual([]);
    outbox.setConnected(true);
    expect(ids()).toEqual(['a', 'b']);
    sent('b');
    expect(ids()).toEqual(['a', 'b', 'c']);
  });

  it('resolves each send with its own sent frame, in any order', async () => {
    const { outbox, sent } = setup();
    outbox.setConnected(true);
    const a = track(outbox.enqueue(send('a')));
    const b = track(outbox.enqueue(send('b')));
    sent('b', true);
    sent('a');
    await settle();
    expect(a.result).toEqual({ messageId: 'msg_a', sentAt: 5, duplicate: false });
    expect(b.result).toEqual({ messageId: 'msg_b', sentAt: 5, duplicate: true });
  });

  it('resends every unanswered send with the same id after reconnecting', () => {
    const { outbox, ids, sent } = setup(2);
    outbox.setConnected(true);
    for (const id of ['a', 'b', 'c']) void outbox.enqueue(send(id)).catch(() => {});
    sent('a');
    outbox.setConnected(false);
    outbox.setConnected(true);
    expect(ids()).toEqual(['a', 'b', 'c', 'b', 'c']);
  });

  it('returns the pending promise for a repeated client id', () => {
    const { outbox, ids } = setup();
    outbox.setConnected(true);
    const first = outbox.enqueue(send('a'));
    expect(outbox.enqueue(send('a'))).toBe(first);
    expect(ids()).toEqual(['a']);
  });

  it('retries SERVER_BUSY after a backoff with the same id', async () => {
    const { outbox, ids, scheduler, sent } = setup();
    outbox.setConnected(true);
    const a = track(outbox.enqueue(send('a')));
    outbox.onError('a', new ParleyError('SERVER_BUSY', 'busy'));
    scheduler.advance(99);
    expect(ids()).toEqual(['a']);
    scheduler.advance(1);
    expect(ids()).toEqual(['a', 'a']);
    sent('a');
    await settle();
    expect(a.result?.messageId).toBe('msg_a');
  });

  it('also retries a failed commit (STORAGE_UNAVAILABLE), honouring retry_after_ms', () => {
    const { outbox, ids, scheduler } = setup();
    outbox.setConnected(true);
    void outbox.enqueue(send('a')).catch(() => {});
    outbox.onError(
      'a',
      new ParleyError('STORAGE_UNAVAILABLE', 'db down', { details: { retry_after_ms: 500 } }),
    );
    scheduler.advance(499);
    expect(ids()).toEqual(['a']);
    scheduler.advance(1);
    expect(ids()).toEqual(['a', 'a']);
  });

  it('rejects on other errors', async () => {
    const { outbox } = setup();
    outbox.setConnected(true);
    const a = track(outbox.enqueue(send('a')));
    outbox.onError('a', new ParleyError('RECIPIENT_NOT_FOUND', 'nobody'));
    await settle();
    expect(a.error?.code).toBe('RECIPIENT_NOT_FOUND');
    expect(outbox.size).toBe(0);
  });

  it('on close rejects waiting sends at once and lets in-flight ones finish', async () => {
    const { outbox, sent } = setup(1);
    outbox.setConnected(true);
    const a = track(outbox.enqueue(send('a')));
    const b = track(outbox.enqueue(send('b')));
    outbox.hold();
    outbox.rejectWaiting(
      (s) => new ParleyError('CLIENT_CLOSED', 'closed', { details: { client_id: s.clientId } }),
    );
    const idle = outbox.whenIdle();
    sent('a');
    await idle;
    await settle();
    expect(a.result?.messageId).toBe('msg_a');
    expect(b.error?.code).toBe('CLIENT_CLOSED');
  });
});

describe('validateSend', () => {
  it('accepts a payload of exactly 64 KiB and rejects one byte more', () => {
    const ok = bytesToBase64(new Uint8Array(65_536));
    const big = bytesToBase64(new Uint8Array(65_537));
    expect(validateSend({ ...send('a'), payload: ok }, 65_536)).toBeUndefined();
    expect(validateSend({ ...send('a'), payload: big }, 65_536)?.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('rejects bad ids, recipients and non-base64 payloads', () => {
    expect(validateSend(send('bad id'), 10)?.code).toBe('VALIDATION_FAILED');
    expect(validateSend({ ...send('a'), to: '+' }, 10)?.code).toBe('VALIDATION_FAILED');
    expect(validateSend({ ...send('a'), payload: 'a b=' }, 10)?.code).toBe('VALIDATION_FAILED');
  });
});
