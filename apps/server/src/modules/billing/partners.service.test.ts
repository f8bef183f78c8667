import { afterEach, expect, it } from 'vitest';
import { closeTestContexts, createTestContext, newPhone } from '../../../test/harness/builders.js';
import { insertCharges } from '../../../test/harness/partner-charges.js';
import { describeStorage, type StorageContext } from '../../../test/harness/storage.js';
import { createIds } from '../../platform/ids.js';
import { createPartnersRepo } from './partners.repo.js';
import { createPartnersService } from './partners.service.js';

async function setup(storage: StorageContext) {
  const t = createTestContext(storage);
  t.clock.set(Date.parse('2026-11-10T12:00:00Z'));
  const ids = createIds(t.clock);
  /** One process's partners service; several share the database like processes do. */
  const partnersOf = () =>
    createPartnersService({
      db: storage.db,
      repo: createPartnersRepo(storage.db.kysely),
      directory: t.businessRepo,
      clock: t.clock,
      ids,
    });
  const partners = partnersOf();
  const newBusiness = async (name: string) =>
    (await t.business.create({ name, phone: newPhone() })).business_id;
  const markup = (businessId: string, category: string | null, p = partners) =>
    storage.db.kysely.transaction().execute((tx) => p.markupFor(tx, businessId, category));
  return { t, partners, partnersOf, newBusiness, markup, db: storage.db.kysely };
}

describeStorage('partners', (storage: () => StorageContext) => {
  afterEach(closeTestContexts);

  it('marks up a client’s events with the category override, else the partner’s default', async () => {
    const { partners, newBusiness, markup } = await setup(storage());
    const acme = await newBusiness('Acme');
    const beta = await newBusiness('Beta');
    const p = await partners.create({ name: 'Resell Ltd', markupBps: 1000 });
    expect(await markup(acme, 'marketing')).toBeNull();

    await partners.attach(p.partner_id, acme);
    await partners.setMarkup(p.partner_id, { category: 'marketing', bps: 2000, micros: '300' });
    expect(await markup(acme, 'marketing')).toEqual({
      partnerId: p.partner_id,
      markupBps: 2000,
      markupMicros: 300n,
    });
    expect(await markup(acme, 'utility')).toEqual({
      partnerId: p.partner_id,
      markupBps: 1000,
      markupMicros: 0n,
    });
    expect(await markup(acme, null)).toEqual({ partnerId: p.partner_id, markupBps: 1000, markupMicros: 0n });
    expect(await markup(beta, 'marketing')).toBeNull();

    // A new default changes what has no override.
    await partners.setMarkup(p.partner_id, { bps: 500, micros: 100 });
    expect(await markup(acme, 'utility')).toEqual({
      partnerId: p.partner_id,
      markupBps: 500,
      markupMicros: 100n,
    });
    expect(await markup(acme, 'marketing')).toMatchObject({ markupBps: 2000 });

    // Moving the business to another partner, then detaching it.
    const q = await partners.create({ name: 'Other', markupBps: 10 });
    await partners.attach(q.partner_id, acme);
    expect(await markup(acme, 'marketing')).toEqual({
      partnerId: q.partner_id,
      markupBps: 10,
      markupMicros: 0n,
    });
    expect((await partners.get(p.partner_id)).clients).toEqual([]);
    expect(await partners.detach(acme)).toEqual({ business_id: acme, partner_id: q.partner_id });
    expect(await markup(acme, 'marketing')).toBeNull();
    await expect(partners.detach(acme)).rejects.toMatchObject({ code: 'BILLING_PARTNER_NOT_FOUND' });
  });

  it('refuses bad markups, unknown partners, businesses and people, and changes nothing', async () => {
    const { partners, newBusiness } = await setup(storage());
    const acme = await newBusiness('Acme');
    const p = await partners.create({ name: 'P', markupBps: 100 });
    for (const [bps, micros] of [
      [100_001, 0],
      [-1, 0],
      [1.5, 0],
      ['12a', 0],
      [10, -1],
      [10, 0.5],
      [10, '1000000001'],
    ] as const) {
      await expect(partners.setMarkup(p.partner_id, { bps, micros })).rejects.toMatchObject({
        code: 'BILLING_PARTNER_INVALID',
      });
    }
    await expect(
      partners.setMarkup(p.partner_id, { bps: 100_000, micros: '1000000000' }),
    ).resolves.toMatchObject({
      markup_bps: 100_000,
      markup_micros: '1000000000',
    });
    await expect(partners.setMarkup(p.partner_id, { category: 'gossip', bps: 1 })).rejects.toMatchObject({
      code: 'BILLING_PARTNER_INVALID',
      details: { field: 'category' },
    });
    await expect(partners.create({ name: '  ' })).rejects.toMatchObject({ code: 'BILLING_PARTNER_INVALID' });
    await expect(partners.create({ name: 'X', markupBps: 200_000 })).rejects.toMatchObject({
      code: 'BILLING_PARTNER_INVALID',
    });
    await expect(partners.attach('ptn_nope', acme)).rejects.toMatchObject({
      code: 'BILLING_PARTNER_NOT_FOUND',
    });
    await expect(partners.attach(p.partner_id, 'biz_nope')).rejects.toMatchObject({
      code: 'BILLING_PARTNER_INVALID',
      details: { field: 'business_id' },
    });
    await expect(partners.addMember(p.partner_id, '+15550009999')).rejects.toMatchObject({
      code: 'BILLING_PARTNER_INVALID',
    });
    await expect(partners.addMember(p.partner_id, '+15550009999', 'owner')).rejects.toMatchObject({
      code: 'BILLING_PARTNER_INVALID',
      details: { field: 'role' },
    });
    const view = await partners.get(p.partner_id);
    expect(view).toMatchObject({ markup_bps: 100_000, markups: [], clients: [], members: [] });
    // The database is shared by this suite's tests: refused partners are simply not there.
    expect((await partners.list()).map((x) => x.name)).not.toContain('X');
  });

  it('another process’s cache sees a write within a second, its own writes at once', async () => {
    const { t, partners, partnersOf, newBusiness, markup } = await setup(storage());
    const other = partnersOf();
    const acme = await newBusiness('Acme');
    const p = await partners.create({ name: 'P', markupBps: 100 });
    await partners.attach(p.partner_id, acme);
    expect(await markup(acme, 'utility', other)).toMatchObject({ markupBps: 100 });

    await partners.setMarkup(p.partner_id, { bps: 700 });
    expect(await markup(acme, 'utility', partners)).toMatchObject({ markupBps: 700 });
    // The other process trusts its snapshot for up to a second…
    t.clock.advance(999);
    expect(await markup(acme, 'utility', other)).toMatchObject({ markupBps: 100 });
    // …then notices the revision moved and reloads.
    t.clock.advance(1);
    expect(await markup(acme, 'utility', other)).toMatchObject({ markupBps: 700 });

    await partners.detach(acme);
    t.clock.advance(1000);
    expect(await markup(acme, 'utility', other)).toBeNull();
  });

  it('names the partner on the business’s billing account', async () => {
    const { partners, newBusiness, db } = await setup(storage());
    const acme = await newBusiness('Acme');
    await db
      .insertInto('billing_accounts')
      .values({
        id: 'bac_acme',
        owner_type: 'business',
        owner_id: acme,
        currency: 'USD',
        country: null,
        mode: 'prepaid',
        credit_limit_minor: 0,
        ledger_account_id: 'lac_acme',
        partner_id: null,
        low_balance_minor: null,
        low_balance_alerted_at: null,
        carry_micros: 0,
        created_at: 0,
        updated_at: 0,
      })
      .execute();
    const p = await partners.create({ name: 'P' });
    await partners.attach(p.partner_id, acme);
    const partnerOf = async () =>
      (
        await db
          .selectFrom('billing_accounts')
          .select('partner_id')
          .where('id', '=', 'bac_acme')
          .executeTakeFirst()
      )?.partner_id;
    expect(await partnerOf()).toBe(p.partner_id);
    await partners.detach(acme);
    expect(await partnerOf()).toBeNull();
  });

  it('a member sees its partner’s clients and their usage, nothing of another partner', async () => {
    const { t, partners, newBusiness, db } = await setup(storage());
    const [acme, beta, gamma] = [
      await newBusiness('Acme'),
      await newBusiness('Beta'),
      await newBusiness('Gamma'),
    ];
    const p = await partners.create({ name: 'P', markupBps: 1000 });
    const q = await partners.create({ name: 'Q', markupBps: 1000 });
    await partners.attach(p.partner_id, acme);
    await partners.attach(p.partner_id, beta);
    await partners.attach(q.partner_id, gamma);
    const [admin, viewer, stranger, other] = [
      await t.newPerson('Admin'),
      await t.newPerson('Viewer'),
      await t.newPerson('Stranger'),
      await t.newPerson('Other'),
    ];
    await partners.addMember(p.partner_id, admin.phone, 'admin');
    await partners.addMember(p.partner_id, viewer.account_id);
    await partners.addMember(q.partner_id, other.phone);
    // A business number is not a person.
    await expect(
      partners.addMember(
        p.partner_id,
        t.businessRepo ? ((await t.businessRepo.numbers(acme))[0]?.phone ?? '') : '',
      ),
    ).rejects.toMatchObject({ code: 'BILLING_PARTNER_INVALID' });

    const nov = Date.parse('2026-11-05T10:00:00Z');
    await insertCharges(db, [
      // Acme: 3 marketing at 0.0044 + 10 % (440 micros each), and one free service message.
      { businessId: acme, partnerId: p.partner_id, quantity: 3, partnerMarkupMicros: 1320n, occurredAt: nov },
      { businessId: acme, partnerId: p.partner_id, category: 'service', billable: false, occurredAt: nov },
      // Beta: 1 utility at 0.0015 (+150) in EUR.
      {
        businessId: beta,
        partnerId: p.partner_id,
        category: 'utility',
        currency: 'EUR',
        unitPriceMicros: 1500n,
        partnerMarkupMicros: 150n,
        occurredAt: nov,
      },
      // Another partner's client, a business without partner, and Acme in October.
      { businessId: gamma, partnerId: q.partner_id, partnerMarkupMicros: 440n, occurredAt: nov },
      { businessId: 'biz_direct', occurredAt: nov },
      {
        businessId: acme,
        partnerId: p.partner_id,
        partnerMarkupMicros: 440n,
        occurredAt: Date.parse('2026-10-31T23:59:59Z'),
      },
    ]);

    expect((await partners.mine(viewer.actor)).map((x) => x.partner_id)).toEqual([p.partner_id]);
    const seen = await partners.forMember(viewer.actor, p.partner_id);
    expect(seen.clients.map((c) => c.business_id).sort()).toEqual([acme, beta].sort());
    expect(seen.members).toEqual([]);
    expect(seen.role).toBe('viewer');
    expect((await partners.forMember(admin.actor, p.partner_id)).members).toHaveLength(2);

    const usage = await partners.usage(viewer.actor, p.partner_id, '2026-11');
    expect(
      usage.lines
        .map((l) => [
          l.business_id === acme ? 'acme' : 'beta',
          l.category,
          l.currency,
          l.count,
          l.billable,
          l.operator_minor,
          l.partner_minor,
          l.operator_micros,
          l.partner_micros,
        ])
        .sort(),
    ).toEqual(
      [
        ['acme', 'marketing', 'USD', 3, 3, '1', '0', '13200', '1320'],
        ['acme', 'service', 'USD', 1, 0, '0', '0', '0', '0'],
        ['beta', 'utility', 'EUR', 1, 1, '0', '0', '1500', '150'],
      ].sort(),
    );
    expect(usage.totals.sort((a, b) => a.currency.localeCompare(b.currency))).toEqual([
      {
        currency: 'EUR',
        count: 1,
        billable: 1,
        operator_minor: '0',
        partner_minor: '0',
        operator_micros: '1500',
        partner_micros: '150',
      },
      {
        currency: 'USD',
        count: 4,
        billable: 3,
        operator_minor: '1',
        partner_minor: '0',
        operator_micros: '13200',
        partner_micros: '1320',
      },
    ]);
    expect((await partners.usage(admin.actor, p.partner_id, '2026-10')).lines).toHaveLength(1);

    for (const [who, id] of [
      [stranger, p.partner_id],
      [other, p.partner_id],
      [viewer, q.partner_id],
      [viewer, 'ptn_nope'],
    ] as const) {
      await expect(partners.forMember(who.actor, id)).rejects.toMatchObject({
        code: 'BILLING_PARTNER_NOT_FOUND',
      });
      await expect(partners.usage(who.actor, id, '2026-11')).rejects.toMatchObject({
        code: 'BILLING_PARTNER_NOT_FOUND',
      });
    }
    await expect(partners.usage(viewer.actor, p.partner_id, '2026-13')).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    // Removed members lose access at once.
    await partners.removeMember(p.partner_id, viewer.account_id);
    await expect(partners.forMember(viewer.actor, p.partner_id)).rejects.toMatchObject({
      code: 'BILLING_PARTNER_NOT_FOUND',
    });
  });
});
