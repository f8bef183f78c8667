/**
 * Reading server frames. The server is trusted but not infallible, and the frames arrive as
 * untyped JSON, so each known op is checked for the fields the SDK relies on before it is
 * narrowed to its protocol type. Unknown ops are skipped, so a newer server can add frames
 * without breaking older clients.
 */
import type { ClientFrame, ErrorFrame, MessageExtra, MessageKind, ServerFrame } from '@parley/protocol';
import { errorFromWire, ParleyError } from './errors.js';

/**
 * An `error` frame carries its error as a ParleyError already, so a code this SDK version does
 * not know survives (as UNKNOWN_ERROR with `details.server_code`) instead of being mistyped.
 */
export interface ErrorFrameParsed {
  op: 'error';
  /** The client message id of the send this error answers; absent for connection-level errors. */
  id?: string;
  error: ParleyError;
}

export type ParsedServerFrame = Exclude<ServerFrame, ErrorFrame> | ErrorFrameParsed;

type Json = Record<string, unknown>;

const isString = (v: unknown): v is string => typeof v === 'string';
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isSeq = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
const isRecord = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

const MESSAGE_KINDS: readonly MessageKind[] = ['message', 'event', 'reaction', 'edit', 'delete'];

/** The optional fields of a msg frame, each kept only when it has the documented type. */
function messageExtra(f: Json): MessageExtra {
  const out: MessageExtra = {};
  if (isString(f.ref)) out.ref = f.ref;
  if (isString(f.reply_to)) out.reply_to = f.reply_to;
  if (isNumber(f.forwarded)) out.forwarded = f.forwarded;
  if (f.forwarded_many === true) out.forwarded_many = true;
  if (Array.isArray(f.media) && f.media.every(isString)) out.media = f.media;
  if (f.view_once === true) out.view_once = true;
  if (isNumber(f.disappears_at)) out.disappears_at = f.disappears_at;
  return out;
}

function malformed(op: string, raw: string): ParleyError {
  return new ParleyError('PROTOCOL_ERROR', `Malformed '${op}' frame from server`, {
    details: { frame: raw.slice(0, 200) },
  });
}

/**
 * Parses one WebSocket message. Returns null for an op this SDK does not know; throws a
 * PROTOCOL_ERROR ParleyError for binary data, bad JSON or a known op with missing fields.
 */
export function parseServerFrame(data: unknown): ParsedServerFrame | null {
  if (!isString(data)) {
    throw new ParleyError('PROTOCOL_ERROR', 'Server sent a binary frame; the protocol is JSON text only');
  }
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch (cause: unknown) {
    throw new ParleyError('PROTOCOL_ERROR', 'Server sent a frame that is not JSON', { cause });
  }
  if (!isRecord(value) || !isString(value.op)) throw malformed('?', data);
  const f = value;
  switch (f.op) {
    case 'welcome':
      if (!isNumber(f.v) || !isString(f.account_id) || !isString(f.device_id)) throw malformed(f.op, data);
      if (!isNumber(f.heartbeat_ms) || !isNumber(f.max_payload_bytes)) throw malformed(f.op, data);
      return {
        op: 'welcome',
        v: f.v,
        account_id: f.account_id,
        device_id: f.device_id,
        heartbeat_ms: f.heartbeat_ms,
        max_payload_bytes: f.max_payload_bytes,
      };
    case 'msg':
      if (!isSeq(f.seq) || !isString(f.message_id) || !isString(f.from) || !isString(f.payload)) {
        throw malformed(f.op, data);
      }
      if (!isString(f.from_account) || !isString(f.from_device) || !isNumber(f.sent_at))
        throw malformed(f.op, data);
      // Servers before linked devices did not send `chat`; such a message is from its sender's chat.
      if (f.chat !== undefined && !isString(f.chat)) throw malformed(f.op, data);
      return {
        op: 'msg',
        seq: f.seq,
        message_id: f.message_id,
        from: f.from,
        from_account: f.from_account,
        from_device: f.from_device,
        chat: isString(f.chat) ? f.chat : f.from_account,
        // A kind this SDK does not know is shown as a plain message (its text, if any).
        kind: MESSAGE_KINDS.includes(f.kind as MessageKind) ? (f.kind as MessageKind) : 'message',
        sent_at: f.sent_at,
        payload: f.payload,
        ...messageExtra(f),
      };
    case 'sent':
      if (!isString(f.id) || !isString(f.message_id) || !isNumber(f.sent_at)) throw malformed(f.op, data);
      return {
        op: 'sent',
        id: f.id,
        message_id: f.message_id,
        sent_at: f.sent_at,
        duplicate: f.duplicate === true,
      };
    case 'synced':
      return { op: 'synced' };
    case 'pong':
      return isNumber(f.t) ? { op: 'pong', t: f.t } : { op: 'pong' };
    case 'presence':
      if (!isString(f.account_id)) throw malformed(f.op, data);
      if (f.online !== null && typeof f.online !== 'boolean') throw malformed(f.op, data);
      if (f.last_seen !== null && !isString(f.last_seen)) throw malformed(f.op, data);
      return { op: 'presence', account_id: f.account_id, online: f.online, last_seen: f.last_seen };
    case 'typing':
      if (!isString(f.chat) || !isString(f.from) || !isString(f.from_account)) throw malformed(f.op, data);
      if (f.state !== 'composing' && f.state !== 'paused') throw malformed(f.op, data);
      return { op: 'typing', chat: f.chat, from: f.from, from_account: f.from_account, state: f.state };
    case 'error':
      if (!isString(f.code)) throw malformed(f.op, data);
      return isString(f.id)
        ? { op: 'error', id: f.id, error: errorFromWire(f) }
        : { op: 'error', error: errorFromWire(f) };
    default:
      return null;
  }
}

export function encodeClientFrame(frame: ClientFrame): string {
  return JSON.stringify(frame);
}
