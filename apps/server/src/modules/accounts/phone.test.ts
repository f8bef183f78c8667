import { describe, expect, it } from 'vitest';
import { normalizePhone } from './phone.js';

describe('normalizePhone', () => {
  it('accepts international numbers in common spellings and returns E.164', () => {
    expect(normalizePhone('+15550001111')).toBe('+15550001111');
    expect(normalizePhone(' +1 (555) 000-1111 ')).toBe('+15550001111');
    expect(normalizePhone('+44 20 7946 0958')).toBe('+442079460958');
    expect(normalizePhone('+49 30 901820')).toBe('+4930901820');
  });

  it('rejects numbers without a country code, of impossible length, or not numbers at all', () => {
    for (const bad of ['5550001111', '+1555', '+1 555 000 11112222', '+', 'abc', '+1-800-FLOWERS', '']) {
      expect(normalizePhone(bad)).toBeUndefined();
    }
  });
});
