import { describe, expect, it } from 'vitest';
import { CLIENT_ID_PATTERN, isValidClientId, newClientId } from './ids.js';

describe('client ids', () => {
  it('are 32 hex characters the server accepts', () => {
    const id = newClientId();
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(id).toMatch(CLIENT_ID_PATTERN);
  });

  it('come from the random source', () => {
    expect(newClientId((bytes) => bytes.fill(0xab))).toBe('ab'.repeat(16));
    expect(new Set(Array.from({ length: 1000 }, () => newClientId())).size).toBe(1000);
  });

  it('follow the protocol rule for app-chosen ids', () => {
    expect(isValidClientId('order-42:retry_1.x')).toBe(true);
    expect(isValidClientId('a'.repeat(64))).toBe(true);
    expect(isValidClientId('a'.repeat(65))).toBe(false);
    expect(isValidClientId('')).toBe(false);
    expect(isValidClientId('has space')).toBe(false);
    expect(isValidClientId('slash/no')).toBe(false);
  });
});
