import { createHmac, timingSafeEqual } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { envelopeOf, serializeWebhookBody, signWebhookBody } from './webhook-body.js';

/** What whatsapp-api-js 6.3.0 does to the raw body before computing the HMAC (lib/utils.js). */
const escapeUnicode = (s: string) =>
  s.replace(/[^\0-~]/g, (ch) => `\\u${`0000${ch.charCodeAt(0).toString(16)}`.slice(-4)}`);

/** A verifier written as whatsapp-api-js verifies: escape, HMAC, compare. */
function verifiesLikeWhatsappApiJs(rawBody: string, header: string, secret: string): boolean {
  const expected = createHmac('sha256', secret).update(escapeUnicode(rawBody)).digest('hex');
  const given = header.replace(/^sha256=/, '');
  return given.length === expected.length && timingSafeEqual(Buffer.from(given), Buffer.from(expected));
}

describe('webhook bodies', () => {
  it('escapes non-ASCII as lowercase UTF-16 units and / as \\/', () => {
    const body = serializeWebhookBody({ text: { body: 'äöå 😀 a/b' } });
    expect(body).toBe('{"text":{"body":"\\u00e4\\u00f6\\u00e5 \\ud83d\\ude00 a\\/b"}}');
  });

  it('parses back to the same value, is ASCII only, and survives re-escaping unchanged', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const body = serializeWebhookBody(value);
        expect(JSON.parse(body)).toEqual(JSON.parse(JSON.stringify(value)));
        expect(/^[\x20-\x7e]*$/.test(body)).toBe(true);
        expect(escapeUnicode(body)).toBe(body);
      }),
      { numRuns: 500 },
    );
  });

  it('signs the exact bytes so that byte-exact and re-escaping verifiers both accept', () => {
    const secret = 'app-secret';
    const body = serializeWebhookBody({ from: 'José', emoji: '👍', url: 'https://x.test/p' });
    const header = signWebhookBody(secret, body);
    expect(header).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(header).toBe(`sha256=${createHmac('sha256', secret).update(Buffer.from(body)).digest('hex')}`);
    expect(verifiesLikeWhatsappApiJs(body, header, secret)).toBe(true);
    expect(verifiesLikeWhatsappApiJs(body, header, 'other-secret')).toBe(false);
    // The raw UTF-8 rendering is what breaks such verifiers; ours is not that.
    const raw = JSON.stringify({ from: 'José' });
    expect(verifiesLikeWhatsappApiJs(raw, signWebhookBody(secret, raw), secret)).toBe(false);
  });

  it('wraps a change in the Cloud API envelope, with entry time for fields other than messages', () => {
    const now = Date.UTC(2026, 0, 1, 12, 0, 0, 999);
    expect(envelopeOf('123', 'messages', { a: 1 }, now)).toEqual({
      object: 'whatsapp_business_account',
      entry: [{ id: '123', changes: [{ value: { a: 1 }, field: 'messages' }] }],
    });
    expect(envelopeOf('123', 'message_template_status_update', { a: 1 }, now)).toEqual({
      object: 'whatsapp_business_account',
      entry: [
        {
          id: '123',
          time: Math.floor(now / 1000),
          changes: [{ value: { a: 1 }, field: 'message_template_status_update' }],
        },
      ],
    });
  });
});
