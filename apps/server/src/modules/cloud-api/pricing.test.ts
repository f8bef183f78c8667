import { describe, expect, it } from 'vitest';
import { classify, marketOf } from './pricing.js';

describe('message pricing classification (PMP)', () => {
  it('charges marketing and authentication templates, inside the window or not', () => {
    for (const windowOpen of [true, false]) {
      expect(classify({ category: 'marketing', windowOpen, freeEntryPoint: false })).toEqual({
        billable: true,
        pricing_model: 'PMP',
        category: 'marketing',
        type: 'regular',
      });
      expect(classify({ category: 'authentication', windowOpen, freeEntryPoint: false }).billable).toBe(true);
    }
  });

  it('makes utility templates free inside the customer-service window only', () => {
    expect(classify({ category: 'utility', windowOpen: true, freeEntryPoint: false })).toMatchObject({
      billable: false,
      type: 'free_customer_service',
    });
    expect(classify({ category: 'utility', windowOpen: false, freeEntryPoint: false })).toMatchObject({
      billable: true,
      type: 'regular',
    });
  });

  it('never charges service messages, and nothing after a free entry point', () => {
    expect(classify({ category: 'service', windowOpen: true, freeEntryPoint: false }).billable).toBe(false);
    expect(classify({ category: 'marketing', windowOpen: false, freeEntryPoint: true })).toEqual({
      billable: false,
      pricing_model: 'PMP',
      category: 'referral_conversion',
      type: 'free_entry_point',
    });
  });

  it('follows the pricing model in force', () => {
    const input = { category: 'utility', windowOpen: true, freeEntryPoint: false } as const;
    expect(classify(input, 'PMP_2026')).toEqual({
      billable: true,
      pricing_model: 'PMP',
      category: 'utility',
      type: 'regular',
    });
    expect(classify({ ...input, category: 'marketing' }, 'CBP')).toEqual({
      billable: true,
      pricing_model: 'CBP',
      category: 'marketing',
      type: 'regular',
    });
  });

  it('derives the market from the number', () => {
    expect(marketOf('+14155550123')).toBe('US');
    expect(marketOf('+919812345678')).toBe('IN');
    expect(marketOf('+15555550123')).toBe('US');
    expect(marketOf('+447700900123')).toBe('GB');
    expect(marketOf('+999')).toBe('ZZ');
  });
});
