/**
 * People's messages to a business number as the Cloud API's inbound message objects
 * (`value.messages[]` of a `messages` webhook): the envelope's payload and its features
 * (reply, forward, reaction, media) mapped by webhook-message.ts, media given Graph ids the
 * business can download.
 */
import type { Executor } from '../../platform/db.js';
import type { OutboundRecord } from '../business/index.js';
import type { EnvelopeRow } from '../delivery/index.js';
import type { GraphMediaService } from './graph-media.service.js';
import { type InboundMessageInput, toWebhookMessage } from './webhook-message.js';

interface Extra {
  ref?: string;
  reply_to?: string;
  forwarded?: number;
  forwarded_many?: boolean;
  media?: string[];
}

function decode(payload: string): unknown {
  if (payload === '') return null;
  const text = Buffer.from(payload, 'base64').toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export interface InboundMapperDeps {
  media: Pick<GraphMediaService, 'inboundMedia'>;
  /** Who sent a message (the replied-to message's sender, for `context.from`). */
  senderOf(tx: Executor, messageId: string): Promise<string | undefined>;
}

export function createInboundMapper(deps: InboundMapperDeps) {
  return async (tx: Executor, number: OutboundRecord['number'], message: EnvelopeRow) => {
    let extra: Extra = {};
    try {
      extra = message.extra ? (JSON.parse(message.extra) as Extra) : {};
    } catch {
      extra = {};
    }
    const kind = (['message', 'reaction', 'edit', 'delete'] as const).find((k) => k === message.kind);
    if (!kind) return undefined;
    const input: InboundMessageInput = {
      messageId: message.message_id,
      fromPhone: message.sender_phone,
      sentAt: message.sent_at,
      kind,
      payload: decode(message.payload),
    };
    if (extra.ref) input.ref = extra.ref;
    if (extra.reply_to) {
      input.replyTo = extra.reply_to;
      const from = await deps.senderOf(tx, extra.reply_to);
      if (from) input.replyToFrom = from;
    }
    if (extra.forwarded) input.forwarded = true;
    if (extra.forwarded_many) input.forwardedMany = true;
    if (extra.media && extra.media.length > 0) {
      input.media = await deps.media.inboundMedia(
        number.business_id,
        number.phone_number_id,
        extra.media,
        tx,
      );
    }
    return toWebhookMessage(input) as Record<string, unknown>;
  };
}
