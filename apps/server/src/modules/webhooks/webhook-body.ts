/**
 * The bytes of a webhook and their signature, as the Cloud API makes them.
 *
 * Meta signs an ASCII-only rendering of the JSON: every character above `~` is written as a
 * lowercase `\uXXXX` escape of its UTF-16 code units (so an emoji becomes a surrogate pair)
 * and `/` is written `\/`. Verifiers in the wild depend on it: whatsapp-api-js re-escapes the
 * raw body that way before computing the HMAC, so a body with raw UTF-8 fails its check while
 * byte-exact verifiers pass. Emitting the escaped form satisfies both, because the escaped
 * form is a fixed point of that re-escaping. The signature is computed over exactly the bytes
 * sent (reference §2.2).
 */
import { createHmac } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-hub-signature-256';

/** The Cloud API webhook envelope around one change of one WhatsApp Business Account. */
export interface WebhookEnvelope {
  object: 'whatsapp_business_account';
  entry: {
    id: string;
    time?: number;
    changes: { value: Record<string, unknown>; field: string }[];
  }[];
}

/**
 * The envelope of one change. Meta adds `entry[].time` (unix seconds) to every field but
 * `messages`, whose values carry their own timestamps.
 */
export function envelopeOf(
  wabaId: string,
  field: string,
  value: Record<string, unknown>,
  nowMs: number,
): WebhookEnvelope {
  const entry =
    field === 'messages'
      ? { id: wabaId, changes: [{ value, field }] }
      : { id: wabaId, time: Math.floor(nowMs / 1000), changes: [{ value, field }] };
  return { object: 'whatsapp_business_account', entry: [entry] };
}

const hex4 = (unit: number) => `\\u${unit.toString(16).padStart(4, '0')}`;

/**
 * JSON as Meta serialises webhook bodies: ASCII only, `/` escaped. Non-ASCII and `/` can only
 * occur inside JSON strings, so replacing them in the whole text escapes exactly the strings.
 * JSON.stringify already escapes control characters and lone surrogates (lowercase).
 */
export function serializeWebhookBody(value: unknown): string {
  const json = JSON.stringify(value);
  let out = '';
  let from = 0;
  for (let i = 0; i < json.length; i++) {
    const unit = json.charCodeAt(i);
    if (unit > 0x7e || unit === 0x2f) {
      out += json.slice(from, i) + (unit === 0x2f ? '\\/' : hex4(unit));
      from = i + 1;
    }
  }
  return from === 0 ? json : out + json.slice(from);
}

/** `sha256=<lowercase hex HMAC-SHA256(app secret, body)>`, the X-Hub-Signature-256 value. */
export function signWebhookBody(appSecret: string, body: string): string {
  return `sha256=${createHmac('sha256', appSecret).update(body, 'utf8').digest('hex')}`;
}
