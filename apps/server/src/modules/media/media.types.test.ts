import { describe, expect, it } from 'vitest';
import { createTextCheck } from './media.sniff.js';
import { classify, streamingLimit } from './media.types.js';

describe('classify', () => {
  const c = (detected: string | undefined, declared?: string, kind?: 'audio' | 'video' | 'document') =>
    classify({ detected, isText: false, declared, kind });

  it('takes refinements a sniffer cannot make only when declared', () => {
    expect(c('application/x-cfb', 'application/msword')).toEqual({
      contentType: 'application/msword',
      kind: 'document',
    });
    // An installer is a compound file too: undeclared, it is refused.
    expect(() => c('application/x-cfb')).toThrow(expect.objectContaining({ code: 'MEDIA_TYPE_UNSUPPORTED' }));
    expect(c('video/mp4', 'audio/mp4')).toEqual({ contentType: 'audio/mp4', kind: 'audio' });
    expect(c('video/mp4', undefined, 'audio')).toEqual({ contentType: 'audio/mp4', kind: 'audio' });
    expect(c('video/mp4')).toEqual({ contentType: 'video/mp4', kind: 'video' });
    expect(c('audio/ogg; codecs=opus', 'audio/ogg')).toEqual({ contentType: 'audio/ogg', kind: 'audio' });
  });

  it('refuses a declared type that disagrees with the content', () => {
    expect(() => c('video/mp4', 'image/jpeg')).toThrow(
      expect.objectContaining({ code: 'MEDIA_TYPE_MISMATCH' }),
    );
    expect(() => c('application/x-cfb', 'application/pdf')).toThrow(
      expect.objectContaining({ code: 'MEDIA_TYPE_MISMATCH' }),
    );
  });

  it('refuses declared types it never accepts before reading a byte, and limits by kind', () => {
    expect(() => streamingLimit('text/html', undefined)).toThrow(
      expect.objectContaining({ code: 'MEDIA_TYPE_UNSUPPORTED' }),
    );
    expect(streamingLimit('image/webp', undefined)).toBe(16 * 1024 * 1024);
    expect(streamingLimit('image/webp', 'sticker')).toBe(512 * 1024);
    expect(streamingLimit(undefined, undefined)).toBe(100 * 1024 * 1024);
  });
});

describe('text check', () => {
  it('accepts UTF-8 split anywhere across chunks, and refuses NUL and broken sequences', () => {
    const bytes = Buffer.from('añ€😀 end');
    for (let cut = 0; cut <= bytes.length; cut++) {
      const check = createTextCheck();
      check.update(bytes.subarray(0, cut));
      check.update(bytes.subarray(cut));
      expect(check.isText()).toBe(true);
    }
    const truncated = createTextCheck();
    truncated.update(bytes.subarray(0, 4)); // ends inside "€"
    expect(truncated.isText()).toBe(false);
    const nul = createTextCheck();
    nul.update(Buffer.from('a\0b'));
    expect(nul.isText()).toBe(false);
  });
});
