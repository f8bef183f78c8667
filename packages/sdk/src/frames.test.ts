import { describe, expect, it } from 'vitest';
import { ParleyError } from './errors.js';
import { parseServerFrame } from './frames.js';

const msg = {
  op: 'msg',
  seq: 7,
  message_id: 'msg_1',
  from: '+15550001111',
  from_account: 'acc_1',
  from_device: 'dev_1',
  chat: 'acc_a',
  kind: 'message',
  sent_at: 1_700_000_000_000,
  payload: 'aGk=',
};

describe('parseServerFrame', () => {
  it('reads a msg frame', () => {
    expect(parseServerFrame(JSON.stringify(msg))).toEqual(msg);
  });

  it('reads a msg frame from a server that predates `chat` as the sender’s chat', () => {
    const { chat: _omitted, kind: _kind, ...old } = msg;
    expect(parseServerFrame(JSON.stringify(old))).toEqual({
      ...msg,
      chat: msg.from_account,
      kind: 'message',
    });
  });

  it('reads the optional fields of message features and drops mistyped ones', () => {
    const extra = {
      ref: 'msg_0',
      reply_to: 'msg_9',
      forwarded: 5,
      forwarded_many: true,
      media: ['med_1', 'med_2'],
      view_once: true,
      disappears_at: 1_700_000_086_400,
    };
    expect(parseServerFrame(JSON.stringify({ ...msg, kind: 'reaction', ...extra }))).toEqual({
      ...msg,
      kind: 'reaction',
      ...extra,
    });
    expect(
      parseServerFrame(
        JSON.stringify({ ...msg, kind: 'poll', media: [1], forwarded: 'x', view_once: 'yes' }),
      ),
    ).toEqual(msg);
  });

  it('turns an error frame into a ParleyError that keeps the send id', () => {
    const frame = parseServerFrame(
      JSON.stringify({
        op: 'error',
        code: 'SERVER_BUSY',
        message: 'busy',
        id: 'c1',
        details: { retry_after_ms: 5 },
      }),
    );
    expect(frame?.op).toBe('error');
    if (frame?.op !== 'error') return;
    expect(frame.id).toBe('c1');
    expect(frame.error.code).toBe('SERVER_BUSY');
    expect(frame.error.retryable).toBe(true);
    expect(frame.error.details).toEqual({ retry_after_ms: 5 });
  });

  it('keeps an unknown error code in details instead of dropping it', () => {
    const frame = parseServerFrame(JSON.stringify({ op: 'error', code: 'BRAND_NEW', message: 'x' }));
    expect(frame?.op === 'error' && frame.error.code).toBe('UNKNOWN_ERROR');
    expect(frame?.op === 'error' && frame.error.details?.server_code).toBe('BRAND_NEW');
  });

  it('skips ops it does not know', () => {
    expect(parseServerFrame('{"op":"receipt","from":"x"}')).toBeNull();
  });

  it('reads a typing frame and rejects a malformed one', () => {
    const typing = {
      op: 'typing',
      chat: 'acc_1',
      from: '+15550001111',
      from_account: 'acc_1',
      state: 'composing',
    };
    expect(parseServerFrame(JSON.stringify(typing))).toEqual(typing);
    expect(() => parseServerFrame(JSON.stringify({ ...typing, state: 'dancing' }))).toThrow(ParleyError);
  });

  it('rejects binary data, bad JSON and frames missing fields', () => {
    expect(() => parseServerFrame(new Uint8Array([1]))).toThrow(ParleyError);
    expect(() => parseServerFrame('{nope')).toThrow(ParleyError);
    expect(() => parseServerFrame(JSON.stringify({ ...msg, seq: '7' }))).toThrow(/Malformed 'msg'/);
    expect(() => parseServerFrame(JSON.stringify({ ...msg, seq: 0 }))).toThrow(/Malformed 'msg'/);
    expect(() => parseServerFrame('[1]')).toThrow(ParleyError);
  });
});
