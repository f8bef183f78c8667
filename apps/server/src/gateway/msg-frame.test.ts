import { describe, expect, it } from 'vitest';
import type { EnvelopeRow } from '../modules/delivery/index.js';
import { createMsgFrameEncoder } from './msg-frame.js';

const row = (over: Partial<EnvelopeRow>): EnvelopeRow => ({
  device_id: 'dev_1',
  seq: 1,
  message_id: 'msg_1',
  sender_account: 'acc_s',
  sender_device: 'dev_s',
  sender_phone: '+15550001111',
  sent_at: 1_700_000_000_000,
  expires_at: 1_800_000_000_000,
  payload: 'eyJ0ZXh0IjoiXCJoaVwiIn0=',
  chat_id: 'grp_1',
  kind: 'message',
  extra: null,
  ...over,
});

describe('msg frame encoder', () => {
  it('produces exactly the frame JSON, reusing the tail only for the same message and chat', () => {
    const encode = createMsgFrameEncoder();
    const rows = [
      row({ seq: 7 }),
      row({ seq: 9, device_id: 'dev_2' }),
      row({ seq: 3, chat_id: 'acc_x' }),
      row({ seq: 4, message_id: 'msg_2', kind: 'event', payload: 'e30=' }),
    ];
    for (const r of rows) {
      expect(JSON.parse(encode(r))).toEqual({
        op: 'msg',
        seq: r.seq,
        message_id: r.message_id,
        from: r.sender_phone,
        from_account: r.sender_account,
        from_device: r.sender_device,
        chat: r.chat_id,
        kind: r.kind,
        sent_at: r.sent_at,
        payload: r.payload,
      });
    }
  });
});
