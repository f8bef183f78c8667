/**
 * Worker task `close-billing-period`: from the 1st of a month (UTC) on, closes the previous
 * month once per process and month. Closing is idempotent (finalized invoices are left
 * alone), so several workers, a restart or a missed 1st change nothing; a worker started later
 * in the month closes it then.
 */
import type { Clock } from '../../platform/clock.js';
import type { InvoicesService } from './invoices.service.js';
import { periodOf } from './invoices.service.js';

export function previousPeriod(now: number): string {
  const d = new Date(now);
  return periodOf(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 1, 1));
}

export function createCloseBillingPeriodTask(deps: {
  invoices: Pick<InvoicesService, 'closePeriod'>;
  clock: Clock;
}) {
  let closed: string | undefined;
  return {
    name: 'close-billing-period',
    async run(): Promise<{ period: string; finalized: number } | null> {
      const period = previousPeriod(deps.clock.now());
      if (closed === period) return null;
      const result = await deps.invoices.closePeriod(period);
      closed = period;
      return { period, finalized: result.finalized };
    },
  };
}
