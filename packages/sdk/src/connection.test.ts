import { describe, expect, it } from 'vitest';
import { closeOutcome } from './connection.js';
import { ParleyError } from './errors.js';

describe('closeOutcome', () => {
  const refused = new ParleyError('UNAUTHENTICATED', 'unknown token');
  const dbDown = new ParleyError('STORAGE_UNAVAILABLE', 'could not check the token');

  it('reconnects after drops, shutdowns and flood closes', () => {
    for (const code of [1000, 1001, 1006, 1009, 4429])
      expect(closeOutcome(code, undefined, false)).toBe('reconnect');
  });

  it('stops on a refused token, and on logout without calling it an error', () => {
    expect(closeOutcome(4401, refused, false)).toBe('unauthenticated');
    expect(closeOutcome(4401, undefined, false)).toBe('unauthenticated');
    expect(closeOutcome(4401, refused, true)).toBe('logged-out');
  });

  it('reconnects when the server could not check the token', () => {
    expect(closeOutcome(4401, dbDown, false)).toBe('reconnect');
  });

  it('hands the device over on 4409', () => {
    expect(closeOutcome(4409, undefined, false)).toBe('displaced');
  });
});
