/**
 * Payload helpers. Payloads are opaque bytes to the server, carried as standard base64; Parley's
 * text messages are the base64 of UTF-8 JSON `{"text": "…"}`. Only TextEncoder/TextDecoder and
 * atob/btoa are used, which browsers and Node 20 both provide globally (no Buffer).
 */

const STANDARD_BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
// String.fromCharCode(...chunk) spreads arguments; keep chunks well under engines' argument limits.
const CHUNK = 0x8000;

const encoder = new TextEncoder();
// fatal: invalid UTF-8 means "not a text message", not text with replacement characters.
const strictDecoder = new TextDecoder('utf-8', { fatal: true });

export function bytesToBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += CHUNK) {
    binary += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  }
  return btoa(binary);
}

/** Throws a DOMException (InvalidCharacterError) when `base64` is not base64, like atob. */
export function base64ToBytes(base64: string): Uint8Array {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** True for the alphabet and padding the server accepts (atob alone also accepts whitespace). */
export function isStandardBase64(value: string): boolean {
  return STANDARD_BASE64.test(value) && value.length % 4 !== 1;
}

/** Decoded size of a standard base64 string, computed without decoding it. */
export function decodedByteLength(base64: string): number {
  const padding = base64.endsWith('==') ? 2 : base64.endsWith('=') ? 1 : 0;
  return Math.floor((base64.length * 3) / 4) - padding;
}

/** The payload of a Parley text message. */
export function encodeText(text: string): string {
  return bytesToBase64(encoder.encode(JSON.stringify({ text })));
}

/**
 * The text of a Parley text message, or undefined when the payload is anything else (not base64,
 * not UTF-8, not JSON, or JSON without a string `text`). Other keys beside `text` are allowed so
 * later message kinds (replies, edits) still show their text in older apps.
 */
export function decodeText(payload: string): string | undefined {
  if (!isStandardBase64(payload)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(strictDecoder.decode(base64ToBytes(payload)));
  } catch {
    // Not a text message: the contract is "undefined", and the payload stays available as bytes.
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  return 'text' in parsed && typeof parsed.text === 'string' ? parsed.text : undefined;
}
