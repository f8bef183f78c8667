import { describe, expect, it } from 'vitest';
import {
  base64ToBytes,
  bytesToBase64,
  decodedByteLength,
  decodeText,
  encodeText,
  isStandardBase64,
} from './payload.js';

describe('base64', () => {
  it('round-trips every byte value and large buffers', () => {
    const bytes = new Uint8Array(100_000).map((_, i) => (i * 7) % 256);
    const b64 = bytesToBase64(bytes);
    expect(b64).toBe(Buffer.from(bytes).toString('base64'));
    expect(base64ToBytes(b64)).toEqual(bytes);
  });

  it('computes the decoded size without decoding', () => {
    for (let n = 0; n < 20; n++) {
      const b64 = bytesToBase64(new Uint8Array(n));
      expect(decodedByteLength(b64)).toBe(n);
      expect(decodedByteLength(b64.replace(/=+$/, ''))).toBe(n);
    }
  });

  it('accepts only the standard alphabet', () => {
    expect(isStandardBase64('aGk=')).toBe(true);
    expect(isStandardBase64('')).toBe(true);
    expect(isStandardBase64('aGk-')).toBe(false);
    expect(isStandardBase64('aG k=')).toBe(false);
    expect(isStandardBase64('a')).toBe(false);
  });
});

describe('text payloads', () => {
  it('round-trips ASCII, accents, CJK and emoji', () => {
    for (const text of [
      'hello',
      '',
      'déjà vu — ñ',
      '你好，世界',
      '👋🏽 family: 👨‍👩‍👧‍👦',
      'line\nbreak "quoted"',
    ]) {
      expect(decodeText(encodeText(text))).toBe(text);
    }
  });

  it('is base64 of UTF-8 JSON {"text": …}', () => {
    expect(JSON.parse(Buffer.from(encodeText('é🙂'), 'base64').toString('utf8'))).toEqual({ text: 'é🙂' });
  });

  it('returns undefined for payloads that are not text messages', () => {
    const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
    expect(decodeText(b64('{"image":"x"}'))).toBeUndefined();
    expect(decodeText(b64('{"text":42}'))).toBeUndefined();
    expect(decodeText(b64('["text"]'))).toBeUndefined();
    expect(decodeText(b64('not json'))).toBeUndefined();
    expect(decodeText(bytesToBase64(new Uint8Array([0xff, 0xfe, 0x7b])))).toBeUndefined();
    expect(decodeText('%%%')).toBeUndefined();
  });

  it('keeps the text when other keys are present', () => {
    expect(decodeText(Buffer.from('{"text":"hi","reply_to":"msg_1"}').toString('base64'))).toBe('hi');
  });
});
