import { describe, expect, it } from 'vitest';
import type { ApiMessageRow } from './api-messages.repo.js';
import { statusObject } from './api-observer.js';

const row = (over: Partial<ApiMessageRow>): ApiMessageRow => ({
  message_id: 'msg_1',
  business_id: 'biz_1',
  phone_number_id: '100',
  to_phone: '+14155550123',
  to_account: null,
  type: 'template',
  category: 'utility',
  template_id: '1',
  callback_data: null,
  window_open: 1,
  entry_point: null,
  status: 'sent',
  error_code: null,
  error_details: null,
  created_at: 0,
  sent_at: null,
  delivered_at: null,
  read_at: null,
  ...over,
});

describe('status webhook pricing', () => {
  it('describes the message under the pricing model it is given', () => {
    expect(statusObject(row({}), 'delivered', 1000).pricing).toEqual({
      billable: false,
      pricing_model: 'PMP',
      category: 'utility',
      type: 'free_customer_service',
    });
    expect(statusObject(row({}), 'delivered', 1000, undefined, 'PMP_2026').pricing).toEqual({
      billable: true,
      pricing_model: 'PMP',
      category: 'utility',
      type: 'regular',
    });
    expect(statusObject(row({ category: 'marketing' }), 'read', 1000, undefined, 'CBP').pricing).toEqual({
      billable: true,
      pricing_model: 'CBP',
      category: 'marketing',
      type: 'regular',
    });
    expect(statusObject(row({ entry_point: 'ad' }), 'sent', 1000, undefined, 'CBP').pricing).toMatchObject({
      pricing_model: 'CBP',
      type: 'free_entry_point',
    });
  });
});
