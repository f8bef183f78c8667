/**
 * People's messages to a business number as the Cloud API's inbound message objects
 * (`value.messages[]` of a `messages` webhook).
 * TODO(#5): every message type; text (and what carries text) until then.
 */
import type { Executor } from '../../platform/db.js';
import type { EnvelopeRow } from '../delivery/index.js';
import { toWamid } from './wamid.js';

function decode(payload: string): unknown {
  try {
    return JSON.parse(Buffer.from(payload, 'base64').toString('utf8'));
  } catch {
    return undefined;
  }
}

export async function inboundText(
  _tx: Executor,
  _number: unknown,
  message: EnvelopeRow,
): Promise<Record<string, unknown> | undefined> {
  const base = {
    from: message.sender_phone.replace(/^\+/, ''),
    id: toWamid(message.message_id),
    timestamp: String(Math.floor(message.sent_at / 1000)),
  };
  const value = decode(message.payload);
  const text =
    typeof value === 'object' && value !== null && 'text' in value && typeof value.text === 'string'
      ? value.text
      : undefined;
  if (message.kind === 'message' && text !== undefined)
    return { ...base, type: 'text', text: { body: text } };
  return {
    ...base,
    type: 'unsupported',
    errors: [
      {
        code: 131051,
        title: 'Message type unknown',
        message: 'Message type unknown',
        error_data: { details: 'Message type is currently not supported.' },
      },
    ],
  };
}
