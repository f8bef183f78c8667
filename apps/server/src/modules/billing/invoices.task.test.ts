import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../platform/clock.js';
import { createCloseBillingPeriodTask, previousPeriod } from './invoices.task.js';

describe('close-billing-period task', () => {
  it('closes the previous UTC month once per month', async () => {
    expect(previousPeriod(Date.parse('2027-01-01T00:00:00Z'))).toBe('2026-12');
    expect(previousPeriod(Date.parse('2026-03-31T23:59:59Z'))).toBe('2026-02');
    const clock = createManualClock(Date.parse('2026-12-01T00:00:05Z'));
    const closed: string[] = [];
    const task = createCloseBillingPeriodTask({
      clock,
      invoices: {
        async closePeriod(period) {
          closed.push(period);
          return { period, finalized: 3, invoices: 3 };
        },
      },
    });
    expect(await task.run()).toEqual({ period: '2026-11', finalized: 3 });
    clock.advance(60_000);
    expect(await task.run()).toBeNull();
    clock.set(Date.parse('2027-01-01T00:01:00Z'));
    await task.run();
    expect(closed).toEqual(['2026-11', '2026-12']);
  });

  it('tries again next tick when closing failed', async () => {
    const clock = createManualClock(Date.parse('2026-12-01T00:00:05Z'));
    let fail = true;
    const task = createCloseBillingPeriodTask({
      clock,
      invoices: {
        async closePeriod(period) {
          if (fail) throw new Error('database down');
          return { period, finalized: 1, invoices: 1 };
        },
      },
    });
    await expect(task.run()).rejects.toThrow('database down');
    fail = false;
    expect(await task.run()).toEqual({ period: '2026-11', finalized: 1 });
  });
});
