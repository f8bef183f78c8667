import type { MessageFrame } from '@parley/protocol';
import { describe, expect, it } from 'vitest';
import { createFakeScheduler } from '../test/fake-scheduler.js';
import type { ParleyError } from './errors.js';
import { ACK_BATCH, ACK_DELAY_MS, createInbox, type ReceivedMessage } from './inbox.js';
import { encodeText } from './payload.js';

const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

function frame(seq: number, messageId = `msg_${seq}`): MessageFrame {
  return {
    op: 'msg',
    seq,
    message_id: messageId,
    from: '+15550001111',
    from_account: 'acc_a',
    from_device: 'dev_a',
    chat: 'acc_a',
    kind: 'message',
    sent_at: 1000 + seq,
    payload: encodeText(`m${seq}`),
  };
}

function setup(options: { lastHandledSeq?: number; dedupeSize?: number } = {}) {
  const scheduler = createFakeScheduler();
  const acks: number[] = [];
  const errors: ParleyError[] = [];
  const synced: number[] = [];
  const inbox = createInbox({
    scheduler,
    dedupeSize: options.dedupeSize ?? 100,
    lastHandledSeq: options.lastHandledSeq,
    sendAck: (seq) => {
      acks.push(seq);
      return true;
    },
    onHandlerError: (e) => errors.push(e),
    onSynced: (id) => synced.push(id),
  });
  inbox.onConnected();
  return { scheduler, inbox, acks, errors, synced };
}

describe('inbox delivery', () => {
  it('hands messages over one at a time, in order, waiting for async handlers', async () => {
    const { inbox } = setup();
    const log: string[] = [];
    inbox.subscribe(async (m) => {
      log.push(`start ${m.seq}`);
      await settle();
      log.push(`end ${m.seq}`);
    });
    for (const seq of [1, 2, 3]) inbox.receive(frame(seq));
    await settle();
    await settle();
    await settle();
    await settle();
    expect(log).toEqual(['start 1', 'end 1', 'start 2', 'end 2', 'start 3', 'end 3']);
    expect(inbox.lastHandledSeq).toBe(3);
  });

  it('maps frames to ReceivedMessage with decoded text', async () => {
    const { inbox } = setup();
    const got: ReceivedMessage[] = [];
    inbox.subscribe((m) => {
      got.push(m);
    });
    inbox.receive(frame(4));
    await settle();
    expect(got).toEqual([
      {
        seq: 4,
        messageId: 'msg_4',
        from: '+15550001111',
        fromAccount: 'acc_a',
        fromDevice: 'dev_a',
        chatId: 'acc_a',
        kind: 'message',
        event: undefined,
        sentAt: 1004,
        payload: encodeText('m4'),
        text: 'm4',
        ref: undefined,
        replyTo: undefined,
        forwarded: 0,
        forwardedMany: false,
        media: [],
        viewOnce: false,
        disappearsAt: undefined,
      },
    ]);
  });

  it('maps the optional fields of message features', async () => {
    const { inbox } = setup();
    const got: ReceivedMessage[] = [];
    inbox.subscribe((m) => {
      got.push(m);
    });
    inbox.receive({
      ...frame(5),
      kind: 'reaction',
      ref: 'msg_1',
      reply_to: 'msg_2',
      forwarded: 6,
      forwarded_many: true,
      media: ['med_1'],
      view_once: true,
      disappears_at: 99,
    });
    await settle();
    expect(got[0]).toMatchObject({
      kind: 'reaction',
      ref: 'msg_1',
      replyTo: 'msg_2',
      forwarded: 6,
      forwardedMany: true,
      media: ['med_1'],
      viewOnce: true,
      disappearsAt: 99,
    });
  });

  it('never delivers a duplicate seq or message id', async () => {
    const { inbox } = setup();
    const seen: number[] = [];
    inbox.subscribe((m) => {
      seen.push(m.seq);
    });
    inbox.receive(frame(1));
    inbox.receive(frame(1));
    inbox.receive(frame(2));
    await settle();
    inbox.receive(frame(2));
    inbox.receive(frame(3, 'msg_1'));
    inbox.receive(frame(4));
    await settle();
    expect(seen).toEqual([1, 2, 4]);
    expect(inbox.lastHandledSeq).toBe(4);
  });

  it('skips what an earlier run already handled', async () => {
    const { inbox } = setup({ lastHandledSeq: 10 });
    const seen: number[] = [];
    inbox.subscribe((m) => {
      seen.push(m.seq);
    });
    inbox.receive(frame(9));
    inbox.receive(frame(11));
    await settle();
    expect(seen).toEqual([11]);
  });

  it('keeps messages, unacked, until a handler subscribes', async () => {
    const { inbox, scheduler, acks } = setup();
    inbox.receive(frame(1));
    await settle();
    scheduler.advance(1000);
    expect(acks).toEqual([]);
    const seen: number[] = [];
    inbox.subscribe((m) => {
      seen.push(m.seq);
    });
    await settle();
    expect(seen).toEqual([1]);
  });

  it('reports a failing handler and still counts the message as handled', async () => {
    const { inbox, errors, scheduler, acks } = setup();
    const seen: number[] = [];
    inbox.subscribe((m) => {
      if (m.seq === 1) throw new Error('boom');
      seen.push(m.seq);
    });
    inbox.receive(frame(1));
    inbox.receive(frame(2));
    await settle();
    expect(seen).toEqual([2]);
    expect(errors.map((e) => [e.code, e.details?.seq])).toEqual([['HANDLER_FAILED', 1]]);
    scheduler.advance(ACK_DELAY_MS);
    expect(acks).toEqual([2]);
  });
});

describe('inbox acks', () => {
  it('coalesces acks within the delay', async () => {
    const { inbox, scheduler, acks } = setup();
    inbox.subscribe(() => {});
    for (const seq of [1, 2, 3]) inbox.receive(frame(seq));
    await settle();
    expect(acks).toEqual([]);
    scheduler.advance(ACK_DELAY_MS);
    expect(acks).toEqual([3]);
  });

  it('acks at once after a full batch', async () => {
    const { inbox, acks } = setup();
    inbox.subscribe(() => {});
    for (let seq = 1; seq <= ACK_BATCH; seq++) inbox.receive(frame(seq));
    await settle();
    expect(acks).toEqual([ACK_BATCH]);
  });

  it('never acks past a message still being handled', async () => {
    const { inbox, scheduler, acks } = setup();
    let release = () => {};
    inbox.subscribe((m) =>
      m.seq === 2
        ? new Promise<void>((resolve) => {
            release = resolve;
          })
        : undefined,
    );
    for (const seq of [1, 2, 3]) inbox.receive(frame(seq));
    await settle();
    scheduler.advance(1000);
    expect(acks).toEqual([1]);
    release();
    await settle();
    scheduler.advance(ACK_DELAY_MS);
    expect(acks).toEqual([1, 3]);
  });

  it('acks and reports synced once the backlog before it is handled', async () => {
    const { inbox, acks, synced } = setup();
    inbox.subscribe(() => {});
    inbox.receive(frame(1));
    inbox.receive(frame(2));
    inbox.synced(7);
    await settle();
    expect(acks).toEqual([2]);
    expect(synced).toEqual([7]);
  });

  it('re-acks a redelivered message it already handled, on the new connection', async () => {
    const { inbox, scheduler, acks } = setup();
    inbox.subscribe(() => {});
    inbox.receive(frame(1));
    await settle();
    inbox.onDisconnected();
    scheduler.advance(1000);
    inbox.onConnected();
    scheduler.advance(1000);
    expect(acks).toEqual([]);
    inbox.receive(frame(1));
    scheduler.advance(ACK_DELAY_MS);
    expect(acks).toEqual([1]);
  });

  it('never acks beyond what the current connection has sent (the server would ignore it)', async () => {
    const { inbox, scheduler, acks } = setup({ lastHandledSeq: 1000 });
    inbox.subscribe(() => {});
    scheduler.advance(1000);
    expect(acks).toEqual([]);
    for (const seq of [1, 2, 3]) inbox.receive(frame(seq));
    scheduler.advance(ACK_DELAY_MS);
    expect(acks).toEqual([3]);
    inbox.receive(frame(4));
    scheduler.advance(ACK_DELAY_MS);
    expect(acks).toEqual([3, 4]);
  });
});

describe('inbox clear and stop', () => {
  it('after clear, accepts the dropped messages again when redelivered', async () => {
    const { inbox } = setup();
    inbox.receive(frame(1));
    inbox.receive(frame(2));
    inbox.clear();
    const seen: number[] = [];
    inbox.subscribe((m) => {
      seen.push(m.seq);
    });
    inbox.receive(frame(1));
    inbox.receive(frame(2));
    await settle();
    expect(seen).toEqual([1, 2]);
  });

  it('delivers nothing after stop', async () => {
    const { inbox } = setup();
    const seen: number[] = [];
    inbox.subscribe((m) => {
      seen.push(m.seq);
    });
    inbox.stop();
    inbox.receive(frame(1));
    await settle();
    expect(seen).toEqual([]);
  });
});
