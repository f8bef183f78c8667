import { expect, it } from 'vitest';
import { describeStorage } from '../../../test/harness/storage.js';
import { createManualClock } from '../../platform/clock.js';
import { createIds } from '../../platform/ids.js';
import { createLedger } from '../ledger/index.js';
import type { SendToReserve } from './billing-accounts.service.js';
import { createBillingModule } from './index.js';

describeStorage('billing accounts', (storage) => {
  it('an account made by an accept transaction that rolled back is never used afterwards', async () => {
    const db = storage().db;
    const clock = createManualClock(Date.parse('2026-10-01T00:00:00Z'));
    const ids = createIds(clock);
    const ledger = createLedger({ db, clock, ids });
    const billing = createBillingModule({
      db,
      ledger,
      clock,
      ids,
      defaults: { currency: 'USD', creditLimitMinor: 0n },
    });
    await billing.rateCards.importCsv('category,market,unit_price,from_count\nmarketing,*,0.05,\n', {
      currency: 'USD',
      name: 'card',
      effectiveFrom: Date.parse('2026-11-01T00:00:00Z'),
    });
    clock.set(Date.parse('2026-11-10T12:00:00Z'));
    const send = (n: number): SendToReserve => ({
      businessId: 'biz_rollback',
      messageId: `msg_rollback_${n}`,
      phoneNumberId: 'pn_rollback',
      category: 'marketing',
      market: 'US',
      recipient: '+15550001',
      windowOpen: false,
      entryPoint: null,
      at: clock.now(),
    });

    // Two sends of a business with no account yet: the first creates it in the transaction,
    // the second finds it there. Both are refused (no money) and the transaction rolls back.
    await expect(
      db.kysely.transaction().execute(async (tx) => {
        const refused = await billing.accounts.reserve(tx, [send(1), send(2)]);
        expect([...refused.values()].map((e) => e.code)).toEqual([
          'BILLING_INSUFFICIENT_FUNDS',
          'BILLING_INSUFFICIENT_FUNDS',
        ]);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await billing.accounts.get('business', 'biz_rollback')).toBeUndefined();

    // The account made for real by another transaction, with money: sends use it.
    const account = await db.kysely
      .transaction()
      .execute((tx) => billing.accounts.ensure(tx, { ownerType: 'business', ownerId: 'biz_rollback' }));
    await billing.payments.topUp({
      billingAccountId: account.id,
      amountMinor: 100n,
      key: 'k1',
      provider: 'manual',
    });
    await billing.accounts.precheck(send(3));
    const refused = await db.kysely.transaction().execute((tx) => billing.accounts.reserve(tx, [send(3)]));
    expect(refused.size).toBe(0);
    const hold = (await ledger.byKeys(db.kysely, ['hold:msg_rollback_3'])).get('hold:msg_rollback_3');
    expect([hold?.debitAccountId, hold?.amount, hold?.flag]).toEqual([
      account.ledger_account_id,
      5n,
      'pending',
    ]);
    expect((await ledger.check()).ok).toBe(true);
  });
});
