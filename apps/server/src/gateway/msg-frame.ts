/**
 * Serialises `msg` frames. A group message goes to ~1,000 devices with frames that differ only
 * in `seq`, so everything after `seq` is serialised once per (message, chat) and reused: the
 * encoder remembers the last tail it built (fan-out announces one message's envelopes in a row).
 */
import type { MessageExtra, MessageFrame } from '@parley/protocol';
import type { EnvelopeRow } from '../modules/delivery/index.js';

export function createMsgFrameEncoder() {
  let lastKey = '';
  let lastTail = '';
  return (row: EnvelopeRow): string => {
    const key = `${row.message_id}\u0000${row.chat_id}\u0000${row.payload.length}`;
    if (key !== lastKey) {
      const {
        op: _op,
        seq: _seq,
        ...rest
      } = {
        op: 'msg',
        seq: 0,
        message_id: row.message_id,
        from: row.sender_phone,
        from_account: row.sender_account,
        from_device: row.sender_device,
        chat: row.chat_id,
        kind: row.kind,
        sent_at: row.sent_at,
        payload: row.payload,
        ...(row.extra ? (JSON.parse(row.extra) as MessageExtra) : {}),
      } satisfies MessageFrame;
      // `{"message_id":…}` without its opening brace, appended after the seq.
      lastTail = JSON.stringify(rest).slice(1);
      lastKey = key;
    }
    return `{"op":"msg","seq":${row.seq},${lastTail}`;
  };
}
