import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hashPhone } from './http.js';

describe('hashPhone', () => {
  it('matches the server’s SHA-256 base64url of the E.164 number', async () => {
    for (const phone of ['+15550001111', '+442079460958', '+4930901820']) {
      expect(await hashPhone(phone)).toBe(createHash('sha256').update(phone).digest('base64url'));
    }
  });
});
