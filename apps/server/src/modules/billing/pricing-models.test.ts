import { describe, expect, it } from 'vitest';
import {
  type BillingCategory,
  type ClassifyInput,
  classify,
  type PricingModel,
  rateCategory,
} from './pricing-models.js';

type Row = [
  PricingModel,
  BillingCategory,
  Partial<Omit<ClassifyInput, 'category'>>,
  boolean,
  'PMP' | 'CBP',
  string,
  string,
];

// model, category, situation, billable, wire model, wire category, type
const table: Row[] = [
  ['PMP', 'marketing', {}, true, 'PMP', 'marketing', 'regular'],
  ['PMP', 'marketing', { windowOpen: true }, true, 'PMP', 'marketing', 'regular'],
  ['PMP', 'authentication', { windowOpen: true }, true, 'PMP', 'authentication', 'regular'],
  ['PMP', 'authentication_international', {}, true, 'PMP', 'authentication_international', 'regular'],
  ['PMP', 'utility', {}, true, 'PMP', 'utility', 'regular'],
  ['PMP', 'utility', { windowOpen: true }, false, 'PMP', 'utility', 'free_customer_service'],
  ['PMP', 'service', { windowOpen: true }, false, 'PMP', 'service', 'free_customer_service'],
  ['PMP', 'service', { serviceCountThisMonth: 5000 }, false, 'PMP', 'service', 'free_customer_service'],
  ['PMP', 'marketing', { freeEntryPoint: true }, false, 'PMP', 'referral_conversion', 'free_entry_point'],

  ['PMP_2026', 'marketing', {}, true, 'PMP', 'marketing', 'regular'],
  ['PMP_2026', 'utility', { windowOpen: true }, true, 'PMP', 'utility', 'regular'],
  [
    'PMP_2026',
    'service',
    { windowOpen: true, serviceCountThisMonth: 0 },
    false,
    'PMP',
    'service',
    'free_tier',
  ],
  [
    'PMP_2026',
    'service',
    { windowOpen: true, serviceCountThisMonth: 999 },
    false,
    'PMP',
    'service',
    'free_tier',
  ],
  [
    'PMP_2026',
    'service',
    { windowOpen: true, serviceCountThisMonth: 1000 },
    true,
    'PMP',
    'service',
    'regular',
  ],
  [
    'PMP_2026',
    'service',
    { freeEntryPoint: true, serviceCountThisMonth: 5000 },
    false,
    'PMP',
    'referral_conversion',
    'free_entry_point',
  ],
  ['PMP_2026', 'utility', { freeEntryPoint: true }, false, 'PMP', 'referral_conversion', 'free_entry_point'],

  ['CBP', 'marketing', {}, true, 'CBP', 'marketing', 'regular'],
  ['CBP', 'marketing', { conversationOpen: true }, false, 'CBP', 'marketing', 'regular'],
  [
    'CBP',
    'authentication',
    { conversationOpen: false, windowOpen: true },
    true,
    'CBP',
    'authentication',
    'regular',
  ],
  ['CBP', 'utility', { windowOpen: true }, false, 'CBP', 'utility', 'free_customer_service'],
  ['CBP', 'utility', {}, true, 'CBP', 'utility', 'regular'],
  ['CBP', 'service', { windowOpen: true }, false, 'CBP', 'service', 'free_customer_service'],
  ['CBP', 'marketing', { freeEntryPoint: true }, false, 'CBP', 'referral_conversion', 'free_entry_point'],
];

describe('classify', () => {
  it.each(table)(
    '%s %s %j → billable %s',
    (model, category, situation, billable, wire, wireCategory, type) => {
      expect(classify(model, { category, windowOpen: false, freeEntryPoint: false, ...situation })).toEqual({
        billable,
        pricing_model: wire,
        category: wireCategory,
        type,
      });
    },
  );

  it('prices 2026 service messages at the utility rate', () => {
    expect(rateCategory('PMP_2026', 'service')).toBe('utility');
    expect(rateCategory('PMP', 'service')).toBe('service');
    expect(rateCategory('PMP_2026', 'marketing')).toBe('marketing');
  });
});
