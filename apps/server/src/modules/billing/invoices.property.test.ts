import fc from 'fast-check';
import { expect, it } from 'vitest';
import { createBillingFixtures, createMemoryLedger } from '../../../test/billing/invoices-fakes.js';
import { describeStorage, type StorageContext } from '../../../test/harness/storage.js';
import { createManualClock } from '../../platform/clock.js';
import { createIds } from '../../platform/ids.js';
import { createInvoicesRepo } from './invoices.repo.js';
import { createInvoicesService } from './invoices.service.js';
import { createTaxRepo } from './tax.repo.js';
import { createTaxService } from './tax.service.js';

const charge = fc.record({
  category: fc.constantFrom('marketing', 'utility', 'service'),
  market: fc.constantFrom('DE', 'FR', 'IN'),
  unitMicros: fc.constantFrom(0n, 1n, 2500n, 4400n, 5000n, 15_000n, 1_234_567n),
  markupMicros: fc.constantFrom(0n, 0n, 333n, 1000n),
  quantity: fc.integer({ min: 1, max: 5 }),
  rounding: fc.constantFrom('half_even', 'half_up', 'down', 'up'),
});

describeStorage(
  'invoice totals (property)',
  (storage: () => StorageContext) => {
    it('total = Σ lines + tax − credits, never negative; each line within half a cent of its micros', async () => {
      const clock = createManualClock(Date.parse('2026-06-15T00:00:00Z'));
      const ids = createIds(clock);
      const ledger = createMemoryLedger(ids);
      const db = storage().db;
      const tax = createTaxService({ db, repo: createTaxRepo(db.kysely), clock });
      const invoices = createInvoicesService({
        db,
        repo: createInvoicesRepo(db.kysely),
        tax,
        ledger: ledger.port,
        clock,
        ids,
      });
      const fx = createBillingFixtures({ db: db.kysely, ids, ledger });
      let n = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.array(charge, { maxLength: 25 }),
          fc.array(fc.bigInt({ min: 1n, max: 5000n }), { maxLength: 3 }),
          fc.integer({ min: 0, max: 10_000 }),
          async (charges, credits, bps) => {
            // A country per run, so each run has its own rate.
            const country = `Q${String.fromCharCode(65 + (n % 26))}`;
            n++;
            await tax.set({
              country,
              rate_bps: bps,
              from: `2020-01-${String(1 + (n % 28)).padStart(2, '0')}`,
            });
            const acc = await fx.account({ country });
            await fx.charges(
              acc,
              charges.map((c) => ({
                ...c,
                markupMicros: c.markupMicros * BigInt(c.quantity),
                occurredAt: clock.now(),
              })),
            );
            for (const amount of credits) {
              await invoices.issueCredit({ billingAccountId: acc.id, amountMinor: amount, reason: 'test' });
            }
            const inv = await db.kysely
              .transaction()
              .execute((tx) => invoices.draftFor(tx, acc.id, '2026-06'));
            const lines = inv.lines.reduce((s, l) => s + BigInt(l.amount_minor), 0n);
            expect(BigInt(inv.subtotal_minor)).toBe(lines);
            expect(BigInt(inv.total_minor)).toBe(lines + BigInt(inv.tax_minor) - BigInt(inv.credits_minor));
            expect(BigInt(inv.total_minor) >= 0n).toBe(true);
            const granted = credits.reduce((s, c) => s + c, 0n);
            expect(BigInt(inv.credits_minor)).toBe(
              granted < lines + BigInt(inv.tax_minor) ? granted : lines + BigInt(inv.tax_minor),
            );
            // Every charge is on exactly one line.
            expect(inv.lines.reduce((s, l) => s + l.quantity, 0)).toBe(
              charges.reduce((s, c) => s + c.quantity, 0),
            );
            const micros = charges.reduce(
              (s, c) => s + (c.unitMicros + c.markupMicros) * BigInt(c.quantity),
              0n,
            );
            let exact = 0n;
            for (const l of inv.lines) {
              const lineMicros = BigInt(l.amount_minor) * 10_000n;
              const [line] = await db.kysely
                .selectFrom('invoice_lines')
                .select('amount_micros')
                .where('invoice_id', '=', inv.invoice_id)
                .where('position', '=', l.position)
                .execute();
              const m = BigInt(line?.amount_micros ?? 0);
              exact += m;
              const diff = lineMicros - m;
              // Directed modes move by less than one cent, half modes by at most half of one.
              expect((diff < 0n ? -diff : diff) < 10_000n).toBe(true);
            }
            expect(exact).toBe(micros);
          },
        ),
        { numRuns: 40 },
      );
    });
  },
  ['sqlite', 'postgres'],
);
