import { expect, it } from 'vitest';
import { createBillingFixtures, createMemoryLedger } from '../../../test/billing/invoices-fakes.js';
import { describeStorage, type StorageContext } from '../../../test/harness/storage.js';
import { createManualClock } from '../../platform/clock.js';
import { createIds } from '../../platform/ids.js';
import { createInvoicesRepo } from './invoices.repo.js';
import { createInvoicesService } from './invoices.service.js';
import { createTaxRepo } from './tax.repo.js';
import { createTaxService } from './tax.service.js';

const at = (iso: string) => Date.parse(iso);

let suites = 0;
/**
 * Tests share a database: each gets its own number prefix (counters are per series), and a test
 * that closes a whole period uses a month no other test has charges in.
 */
function setup(storage: StorageContext) {
  const prefix = `T${++suites}`;
  const clock = createManualClock(at('2026-11-15T12:00:00Z'));
  const ids = createIds(clock);
  const ledger = createMemoryLedger(ids);
  const db = storage.db;
  const tax = createTaxService({ db, repo: createTaxRepo(db.kysely), clock });
  const invoices = createInvoicesService({
    db,
    repo: createInvoicesRepo(db.kysely),
    tax,
    ledger: ledger.port,
    clock,
    ids,
    numberPrefix: prefix,
  });
  const fx = createBillingFixtures({ db: db.kysely, ids, ledger });
  const draft = (accountId: string, period: string) =>
    db.kysely.transaction().execute((tx) => invoices.draftFor(tx, accountId, period));
  return { clock, ids, ledger, db, tax, invoices, fx, draft, prefix };
}

async function snapshot(storage: StorageContext, invoiceId: string) {
  const db = storage.db.kysely;
  return {
    invoice: await db.selectFrom('invoices').selectAll().where('id', '=', invoiceId).executeTakeFirst(),
    lines: await db
      .selectFrom('invoice_lines')
      .selectAll()
      .where('invoice_id', '=', invoiceId)
      .orderBy('position')
      .execute(),
  };
}

describeStorage('invoices', (storage: () => StorageContext) => {
  it('drafts lines per stream × category × market × unit price, rounded once per line', async () => {
    const { fx, draft } = setup(storage());
    const acc = await fx.account();
    const nov = at('2026-11-03T10:00:00Z');
    await fx.charges(acc, [
      // 3 × 0.0044 = 0.0132 → 1 cent on one line (not 3 × 0 cents).
      ...Array.from({ length: 3 }, () => ({ unitMicros: 4400n, occurredAt: nov })),
      { unitMicros: 4400n, occurredAt: nov, market: 'FR' },
      { unitMicros: 3000n, occurredAt: nov, category: 'utility' },
      // Free service replies: a zero line with its count.
      { unitMicros: 0n, occurredAt: nov, category: 'service' },
      { unitMicros: 0n, occurredAt: nov, category: 'service' },
      {
        stream: 'premium_plan',
        category: null,
        market: null,
        unitMicros: 29_000_000n,
        occurredAt: nov,
        description: 'Pro plan, November',
      },
      // Another month: not on this invoice.
      { unitMicros: 4400n, occurredAt: at('2026-12-01T00:00:00Z') },
    ]);
    const inv = await draft(acc.id, '2026-11');
    expect(inv.status).toBe('draft');
    expect(inv.number).toBeNull();
    expect(
      inv.lines.map((l) => [
        l.kind,
        l.category,
        l.market,
        l.quantity,
        l.unit_price_micros,
        l.amount_minor,
        l.description,
      ]),
    ).toEqual([
      ['usage', 'marketing', 'DE', 3, '4400', '1', 'Marketing messages to DE'],
      ['usage', 'marketing', 'FR', 1, '4400', '0', 'Marketing messages to FR'],
      ['usage', 'service', 'DE', 2, '0', '0', 'Service messages to DE (free)'],
      ['usage', 'utility', 'DE', 1, '3000', '0', 'Utility messages to DE'],
      ['subscription', null, null, 1, '29000000', '2900', 'Pro plan, November'],
    ]);
    expect(inv.subtotal_minor).toBe('2901');
    expect(inv.total_minor).toBe('2901');
    expect(inv.formatted.total).toBe('USD 29.01');

    // Refreshing replaces the lines with the period's charges as they are now.
    await fx.charges(acc, [{ unitMicros: 4400n, occurredAt: nov, quantity: 997 }]);
    const again = await draft(acc.id, '2026-11');
    expect(again.invoice_id).toBe(inv.invoice_id);
    expect(again.lines[0]).toMatchObject({ quantity: 1000, amount_minor: '440' });
    expect(again.lines).toHaveLength(5);
  });

  it('adds the tax of the account’s country in force at the end of the period', async () => {
    const { fx, draft, tax, clock } = setup(storage());
    await tax.set({ country: 'de', rate_bps: 1600, name: 'VAT', from: '2020-01-01' });
    await tax.set({ country: 'DE', rate_bps: 1900, name: 'VAT', from: '2026-11-10' });
    await tax.set({ country: 'DE', rate_bps: 2500, name: 'VAT', from: '2026-12-01' });
    await expect(tax.set({ country: 'DEU', rate_bps: 1900 })).rejects.toMatchObject({
      code: 'BILLING_TAX_RATE_INVALID',
    });
    await expect(tax.set({ country: 'DE', rate_bps: 10_001 })).rejects.toMatchObject({
      code: 'BILLING_TAX_RATE_INVALID',
    });
    await expect(tax.set({ country: 'DE', rate_bps: 19.5 })).rejects.toMatchObject({
      code: 'BILLING_TAX_RATE_INVALID',
    });
    await expect(tax.set({ country: 'DE', rate_bps: 1, from: 'soon' })).rejects.toMatchObject({
      code: 'BILLING_TAX_RATE_INVALID',
    });
    expect((await tax.list()).map((r) => r.rate_bps)).toEqual([1600, 1900, 2500]);
    clock.set(at('2026-11-20T00:00:00Z'));

    const de = await fx.account({ country: 'DE' });
    const none = await fx.account({ country: null });
    for (const a of [de, none])
      await fx.charges(a, [
        { unitMicros: 10_000_000n, occurredAt: at('2026-11-02T00:00:00Z'), quantity: 1 },
        { unitMicros: 2_500n, quantity: 1, occurredAt: at('2026-11-02T00:00:00Z') },
      ]);
    const taxed = await draft(de.id, '2026-11');
    // 1000 + 0 (0.0025 rounds half-even to 0) = 1000; 19 % = 190.
    expect(taxed).toMatchObject({ subtotal_minor: '1000', tax_minor: '190', total_minor: '1190' });
    expect(taxed.tax).toEqual({ country: 'DE', rate_bps: 1900, name: 'VAT', posted: false });
    const untaxed = await draft(none.id, '2026-11');
    expect(untaxed).toMatchObject({ tax_minor: '0', total_minor: '1000', tax: null });
  });

  it('finalizes with gapless yearly numbers (a void keeps its number) and posts the tax', async () => {
    const { fx, invoices, ledger, draft, tax, clock, prefix } = setup(storage());
    clock.set(at('2025-07-01T12:00:00Z'));
    await tax.set({ country: 'NL', rate_bps: 2100, name: 'BTW', from: '2020-01-01' });
    const a = await fx.account({ country: 'NL' });
    const b = await fx.account();
    const c = await fx.account();
    for (const x of [a, b, c])
      await fx.charges(x, [{ unitMicros: 1_000_000n, occurredAt: at('2025-06-05T00:00:00Z') }]);
    ledger.fund(a.ledgerCode, 10_000n);
    const ia = await draft(a.id, '2025-06');
    const ib = await draft(b.id, '2025-06');
    const fa = await invoices.finalize(ia.invoice_id);
    const fb = await invoices.finalize(ib.invoice_id);
    expect([fa.number, fb.number]).toEqual([`${prefix}-2025-000001`, `${prefix}-2025-000002`]);
    expect(fa).toMatchObject({ status: 'finalized', tax_minor: '21', total_minor: '121' });
    expect(fa.issued_at).toBe('2025-07-01T12:00:00.000Z');
    expect(fa.due_at).toBe('2025-07-15T12:00:00.000Z');
    expect(fa.tax?.posted).toBe(true);
    expect(ledger.balanceOf('tax:NL')).toBe(21n);
    expect(ledger.balanceOf(a.ledgerCode)).toBe(10_000n - 21n);

    const voided = await invoices.void(fb.invoice_id, 'Wrong customer');
    expect(voided).toMatchObject({
      status: 'void',
      number: `${prefix}-2025-000002`,
      void_reason: 'Wrong customer',
    });
    const va = await invoices.void(fa.invoice_id, 'Duplicate');
    expect(va.number).toBe(`${prefix}-2025-000001`);
    expect(ledger.balanceOf('tax:NL')).toBe(0n);
    expect(ledger.balanceOf(a.ledgerCode)).toBe(10_000n);

    const closed = await invoices.closePeriod('2025-06');
    expect(closed).toEqual({ period: '2025-06', finalized: 1, invoices: 3 });
    const [ic] = await invoices.list({ period: '2025-06', status: 'finalized' });
    expect(ic?.number).toBe(`${prefix}-2025-000003`);
    expect(ic?.billing_account_id).toBe(c.id);
    // Idempotent: finalized and void invoices are left alone.
    expect(await invoices.closePeriod('2025-06')).toEqual({ period: '2025-06', finalized: 0, invoices: 3 });
    expect(ledger.sum()).toBe(0n);
  });

  it('refuses any edit of a finalized, paid or void invoice and changes nothing', async () => {
    const { fx, invoices, draft } = setup(storage());
    const acc = await fx.account({ mode: 'credit' });
    await fx.charges(acc, [{ unitMicros: 500_000n, occurredAt: at('2025-02-05T00:00:00Z') }]);
    const inv = await invoices.finalize((await draft(acc.id, '2025-02')).invoice_id);
    const before = await snapshot(storage(), inv.invoice_id);
    await fx.charges(acc, [{ unitMicros: 500_000n, occurredAt: at('2025-02-06T00:00:00Z') }]);
    await expect(draft(acc.id, '2025-02')).rejects.toMatchObject({
      code: 'BILLING_INVOICE_NOT_DRAFT',
      details: { status: 'finalized' },
    });
    await expect(invoices.finalize(inv.invoice_id)).rejects.toMatchObject({
      code: 'BILLING_INVOICE_NOT_DRAFT',
    });
    expect(await invoices.closePeriod('2025-02')).toMatchObject({ finalized: 0 });
    expect(await snapshot(storage(), inv.invoice_id)).toEqual(before);

    await invoices.markPaid(inv.invoice_id, { reference: 'wire 1' });
    const paid = await snapshot(storage(), inv.invoice_id);
    await expect(invoices.void(inv.invoice_id, 'late')).rejects.toMatchObject({
      code: 'BILLING_INVOICE_NOT_FINALIZED',
    });
    await expect(invoices.finalize(inv.invoice_id)).rejects.toMatchObject({
      code: 'BILLING_INVOICE_NOT_DRAFT',
    });
    expect(await snapshot(storage(), inv.invoice_id)).toEqual(paid);
    await expect(invoices.finalize('inv_nope')).rejects.toMatchObject({ code: 'BILLING_INVOICE_NOT_FOUND' });
  });

  it('pays: a credit line is freed by the total, a draft cannot be paid, paying twice changes nothing', async () => {
    const { fx, invoices, ledger, draft, tax } = setup(storage());
    await tax.set({ country: 'DE', rate_bps: 1900, from: '2020-01-01' });
    const acc = await fx.account({ mode: 'credit', country: 'DE', creditLimit: 100_000n });
    // Metering debits the account as messages go: 20.00 of usage.
    const usage = ledger.openSync({
      code: 'revenue:api_messages',
      currency: 'USD',
      kind: 'revenue',
      overdraftLimit: null,
    });
    const lac = ledger.openSync({
      code: acc.ledgerCode,
      currency: 'USD',
      kind: 'business',
      overdraftLimit: 100_000n,
    });
    await ledger.port.apply(storage().db.kysely, [
      {
        type: 'transfer',
        key: 'usage',
        debitAccountId: lac.id,
        creditAccountId: usage.id,
        amount: 2000n,
        currency: 'USD',
        kind: 'usage',
      },
    ]);
    await fx.charges(acc, [{ unitMicros: 20_000_000n, occurredAt: at('2026-11-05T00:00:00Z') }]);
    const d = await draft(acc.id, '2026-11');
    await expect(invoices.markPaid(d.invoice_id)).rejects.toMatchObject({
      code: 'BILLING_INVOICE_NOT_FINALIZED',
      details: { status: 'draft' },
    });
    const fin = await invoices.finalize(d.invoice_id);
    expect(fin.total_minor).toBe('2380');
    expect(ledger.balanceOf(acc.ledgerCode)).toBe(-2380n);
    const paid = await invoices.markPaid(d.invoice_id, { reference: 'SEPA 42' });
    expect(paid).toMatchObject({ status: 'paid', payment: { provider: 'manual', reference: 'SEPA 42' } });
    expect(ledger.balanceOf(acc.ledgerCode)).toBe(0n);
    expect(ledger.transfer(`pay:${d.invoice_id}`)?.amount).toBe(2380n);
    expect((await invoices.markPaid(d.invoice_id)).paid_at).toBe(paid.paid_at);
    expect(ledger.balanceOf(acc.ledgerCode)).toBe(0n);
    expect(ledger.sum()).toBe(0n);
  });

  it('finalizes when the ledger refuses the tax, and posts it when paid', async () => {
    const { fx, invoices, ledger, draft, tax } = setup(storage());
    await tax.set({ country: 'FR', rate_bps: 2000, from: '2020-01-01' });
    const acc = await fx.account({ country: 'FR' });
    await fx.charges(acc, [{ unitMicros: 10_000_000n, occurredAt: at('2026-11-05T00:00:00Z') }]);
    const fin = await invoices.finalize((await draft(acc.id, '2026-11')).invoice_id);
    expect(fin).toMatchObject({ status: 'finalized', tax_minor: '200', tax: { posted: false } });
    expect(ledger.balanceOf('tax:FR')).toBe(0n);
    const paid = await invoices.markPaid(fin.invoice_id);
    expect(paid.tax?.posted).toBe(true);
    expect(ledger.balanceOf('tax:FR')).toBe(200n);
    expect(ledger.balanceOf(acc.ledgerCode)).toBe(0n);
  });

  it('takes a credit note off the next invoice and carries what is left over', async () => {
    const { fx, invoices, ledger, draft, clock, prefix } = setup(storage());
    const acc = await fx.account();
    await expect(
      invoices.issueCredit({ businessId: acc.businessId, amountMinor: '0', reason: 'x' }),
    ).rejects.toMatchObject({ code: 'BILLING_CREDIT_INVALID' });
    await expect(
      invoices.issueCredit({ businessId: acc.businessId, amountMinor: -5, reason: 'x' }),
    ).rejects.toMatchObject({ code: 'BILLING_CREDIT_INVALID' });
    await expect(
      invoices.issueCredit({ businessId: acc.businessId, amountMinor: '1.5', reason: 'x' }),
    ).rejects.toMatchObject({ code: 'BILLING_CREDIT_INVALID' });
    await expect(
      invoices.issueCredit({ businessId: 'biz_none', amountMinor: '5', reason: 'x' }),
    ).rejects.toMatchObject({ code: 'BILLING_CREDIT_INVALID' });
    await expect(
      invoices.issueCredit({ businessId: acc.businessId, amountMinor: '5', reason: ' ' }),
    ).rejects.toMatchObject({ code: 'BILLING_CREDIT_INVALID' });
    expect(await invoices.creditNotes(acc.id)).toEqual([]);

    await fx.charges(acc, [{ unitMicros: 3_000_000n, occurredAt: at('2026-11-05T00:00:00Z') }]);
    const nov = await invoices.finalize((await draft(acc.id, '2026-11')).invoice_id);
    const note = await invoices.issueCredit({
      businessId: acc.businessId,
      amountMinor: '500',
      reason: 'Outage on 5 Nov',
      invoiceId: nov.invoice_id,
    });
    expect(note).toMatchObject({
      number: `${prefix}-CN-2026-000001`,
      amount_minor: '500',
      invoice_id: nov.invoice_id,
      applied_invoice_id: null,
    });
    expect(ledger.balanceOf(acc.ledgerCode)).toBe(500n);
    expect(ledger.balanceOf('revenue:api_messages')).toBe(-500n);

    clock.set(at('2026-12-15T00:00:00Z'));
    await fx.charges(acc, [{ unitMicros: 3_000_000n, occurredAt: at('2026-12-05T00:00:00Z') }]);
    const dec = await invoices.finalize((await draft(acc.id, '2026-12')).invoice_id);
    expect(dec).toMatchObject({ subtotal_minor: '300', credits_minor: '300', total_minor: '0' });
    // 200 left carries over to January.
    await fx.charges(acc, [{ unitMicros: 3_000_000n, occurredAt: at('2027-01-05T00:00:00Z') }]);
    const jan = await draft(acc.id, '2027-01');
    expect(jan).toMatchObject({ subtotal_minor: '300', credits_minor: '200', total_minor: '100' });
    clock.set(at('2027-02-01T00:00:00Z'));
    const fjan = await invoices.finalize(jan.invoice_id);
    expect(fjan.number).toBe(`${prefix}-2027-000001`);
    expect((await invoices.creditNotes(acc.id))[0]?.applied_invoice_id).toBe(jan.invoice_id);

    // Voiding January gives its 200 back to the next draft.
    await invoices.void(fjan.invoice_id, 'Re-issue');
    await fx.charges(acc, [{ unitMicros: 1_000_000n, occurredAt: at('2027-02-05T00:00:00Z') }]);
    expect(await draft(acc.id, '2027-02')).toMatchObject({
      subtotal_minor: '100',
      credits_minor: '100',
      total_minor: '0',
    });
  });

  it('lists a business’s invoices and hides another business’s', async () => {
    const { fx, invoices, draft } = setup(storage());
    const a = await fx.account();
    const b = await fx.account();
    await fx.charges(a, [
      { unitMicros: 1_000_000n, occurredAt: at('2026-10-05T00:00:00Z') },
      { unitMicros: 1_000_000n, occurredAt: at('2026-11-05T00:00:00Z') },
    ]);
    await draft(a.id, '2026-10');
    const nov = await draft(a.id, '2026-11');
    expect((await invoices.list({ businessId: a.businessId })).map((i) => i.period)).toEqual([
      '2026-11',
      '2026-10',
    ]);
    expect(await invoices.list({ businessId: b.businessId })).toEqual([]);
    expect((await invoices.getForBusiness(a.businessId, nov.invoice_id)).lines).toHaveLength(1);
    await expect(invoices.getForBusiness(b.businessId, nov.invoice_id)).rejects.toMatchObject({
      code: 'BILLING_INVOICE_NOT_FOUND',
    });
    await expect(invoices.list({ period: '2026-13' })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });
});
