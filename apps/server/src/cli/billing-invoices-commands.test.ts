import fs from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { expect, it } from 'vitest';
import { createBillingFixtures, createMemoryLedger } from '../../test/billing/invoices-fakes.js';
import { describeStorage, type StorageContext } from '../../test/harness/storage.js';
import { createInvoicesRepo } from '../modules/billing/invoices.repo.js';
import { createInvoicesService } from '../modules/billing/invoices.service.js';
import { createTaxRepo } from '../modules/billing/tax.repo.js';
import { createTaxService } from '../modules/billing/tax.service.js';
import { createManualClock } from '../platform/clock.js';
import { createIds } from '../platform/ids.js';
import { runBillingInvoices } from './billing-invoices-commands.js';

describeStorage('parley billing invoices|tax|credit', (storage: () => StorageContext) => {
  it('sets tax, closes a period, issues a credit and writes a PDF', async () => {
    const clock = createManualClock(Date.parse('2024-04-01T09:00:00Z'));
    const ids = createIds(clock);
    const ledger = createMemoryLedger(ids);
    const { db, dataDir } = storage();
    const tax = createTaxService({ db, repo: createTaxRepo(db.kysely), clock });
    const invoices = createInvoicesService({
      db,
      repo: createInvoicesRepo(db.kysely),
      tax,
      ledger: ledger.port,
      clock,
      ids,
      numberPrefix: 'CLI',
    });
    const fx = createBillingFixtures({ db: db.kysely, ids, ledger });
    const run = async (...args: string[]) => {
      const stdout = new PassThrough();
      let text = '';
      stdout.on('data', (c: Buffer) => {
        text += c.toString();
      });
      const code = await runBillingInvoices(
        args,
        { stdout, stderr: new PassThrough() },
        { invoices, tax, operatorName: 'Acme' },
      );
      return { code, text };
    };

    expect((await run('tax', 'set', 'AT', '2000', '--name', 'USt', '--from', '2020-01-01')).code).toBe(0);
    expect((await run('tax', 'list')).text).toContain('AT\t2000\tUSt\t2020-01-01T00:00:00.000Z');
    await expect(run('tax', 'set', 'AT', '20%')).rejects.toThrow(/basis points/);
    const acc = await fx.account({ country: 'AT', mode: 'credit' });
    await fx.charges(acc, [
      { unitMicros: 1_000_000n, quantity: 5, occurredAt: Date.parse('2024-03-10T00:00:00Z') },
    ]);
    expect(JSON.parse((await run('invoices', 'close', '--period', '2024-03')).text)).toMatchObject({
      finalized: 1,
    });
    const [line] = (await run('invoices', 'list', '--period', '2024-03')).text.trim().split('\n');
    const [invoiceId, number, status] = (line ?? '').split('\t');
    expect([number, status]).toEqual(['CLI-2024-000001', 'finalized']);
    expect(line).toContain('USD 6.00');
    const out = path.join(dataDir, 'inv.pdf');
    await run('invoices', 'pdf', invoiceId ?? '', '--out', out);
    expect(fs.readFileSync(out).subarray(0, 5).toString()).toBe('%PDF-');
    expect(
      JSON.parse((await run('invoices', 'pay', invoiceId ?? '', '--reference', 'R1')).text),
    ).toMatchObject({ status: 'paid' });
    await expect(run('credit', acc.businessId, '1.5', '--reason', 'x')).rejects.toMatchObject({
      code: 'BILLING_CREDIT_INVALID',
    });
    const note = JSON.parse(
      (await run('credit', acc.businessId, '150', '--reason', 'Goodwill', '--invoice', invoiceId ?? '')).text,
    );
    expect(note).toMatchObject({ number: 'CLI-CN-2024-000001', amount_minor: '150' });
    await expect(run('invoices', 'frobnicate')).rejects.toThrow(/usage/);
  });
});
