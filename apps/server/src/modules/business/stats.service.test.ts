import { afterEach, expect, it } from 'vitest';
import {
  closeTestContexts,
  createTestContext,
  newPhone,
  type TestContext,
} from '../../../test/harness/builders.js';
import { describeStorage, type StorageContext } from '../../../test/harness/storage.js';

const b64 = (text: string) => Buffer.from(JSON.stringify({ text })).toString('base64');
const at = (iso: string) => Date.parse(iso);
type Person = Awaited<ReturnType<TestContext['newPerson']>>;

async function setup(storage: StorageContext) {
  const t = createTestContext(storage);
  t.clock.set(at('2026-03-20T12:00:00Z'));
  const owner = await t.newPerson('Owner');
  const phone = newPhone();
  const created = await t.business.create({ name: 'Acme', phone, owner: owner.phone });
  const businessId = created.business_id;
  await t.hostedEndpoint.start();
  let n = 0;
  /** The person messages the business at `when` and the inbox takes it in. */
  async function inbound(from: Person, when: string, text = 'hi') {
    t.clock.set(at(when));
    const sent = await t.delivery.send(from.actor, { clientId: `in-${++n}`, to: phone, payload: b64(text) });
    await t.hostedEndpoint.idle();
    return sent;
  }
  async function conversationOf(person: Person) {
    const all = await t.inbox.list(owner.actor, businessId, {});
    const c = all.find((x) => x.person.account_id === person.account_id);
    if (!c) throw new Error('no conversation');
    return c.conversation_id;
  }
  /** An agent replies to the person at `when`. */
  async function reply(person: Person, when: string, text = 'hello') {
    t.clock.set(at(when));
    return t.inbox.reply(owner.actor, businessId, await conversationOf(person), { text });
  }
  return { t, owner, phone, created, businessId, inbound, reply, conversationOf };
}

describeStorage('business statistics', (storage: () => StorageContext) => {
  afterEach(closeTestContexts);

  it('counts per local day in Europe/Berlin across the spring-forward change', async () => {
    const { t, owner, businessId, inbound, reply } = await setup(storage());
    const pat = await t.newPerson('Pat');
    // Just before and at local midnight, on either side of 2026-03-29 02:00 → 03:00.
    await inbound(pat, '2026-03-27T22:59:59.999Z'); // 27th 23:59:59.999 CET
    await inbound(pat, '2026-03-27T23:00:00.000Z'); // 28th 00:00 CET
    await inbound(pat, '2026-03-28T22:59:59.999Z'); // 28th 23:59:59.999 CET
    await inbound(pat, '2026-03-28T23:00:00.000Z'); // 29th 00:00 CET
    await reply(pat, '2026-03-29T21:59:59.999Z'); // 29th 23:59:59.999 CEST
    await reply(pat, '2026-03-29T22:00:00.000Z'); // 30th 00:00 CEST

    const berlin = await t.stats.stats(owner.actor, businessId, {
      from: '2026-03-27',
      to: '2026-03-30',
      tz: 'Europe/Berlin',
    });
    expect(berlin.days.map((d) => [d.date, d.start, d.end, d.received, d.sent])).toEqual([
      ['2026-03-27', '2026-03-26T23:00:00.000Z', '2026-03-27T23:00:00.000Z', 1, 0],
      ['2026-03-28', '2026-03-27T23:00:00.000Z', '2026-03-28T23:00:00.000Z', 2, 0],
      // 23 hours long.
      ['2026-03-29', '2026-03-28T23:00:00.000Z', '2026-03-29T22:00:00.000Z', 1, 1],
      ['2026-03-30', '2026-03-29T22:00:00.000Z', '2026-03-30T22:00:00.000Z', 0, 1],
    ]);
    expect(berlin.totals).toMatchObject({ received: 4, sent: 2 });
    expect(berlin.tz).toBe('Europe/Berlin');

    // The same rows in UTC (the default) fall on other days.
    const utc = await t.stats.stats(owner.actor, businessId, { from: '2026-03-27', to: '2026-03-30' });
    expect(utc.tz).toBe('UTC');
    expect(utc.days.map((d) => [d.date, d.received, d.sent])).toEqual([
      ['2026-03-27', 2, 0],
      ['2026-03-28', 2, 0],
      ['2026-03-29', 0, 2],
      ['2026-03-30', 0, 0],
    ]);
  });

  it('counts delivered and read from receipts, on the day the message was sent', async () => {
    const { t, owner, businessId, inbound, reply } = await setup(storage());
    const [pat, sam] = [await t.newPerson('Pat'), await t.newPerson('Sam')];
    await inbound(pat, '2026-03-24T08:00:00Z');
    await inbound(sam, '2026-03-24T08:00:00Z');
    const toPat = await reply(pat, '2026-03-24T09:00:00Z');
    const toSam = await reply(sam, '2026-03-24T09:00:00Z');
    const unseen = await reply(sam, '2026-03-24T10:00:00Z', 'still there?');
    // The receipts come a day later; the messages still count on the day they were sent.
    t.clock.set(at('2026-03-25T07:00:00Z'));
    await t.receipts.record(pat.actor, 'read', [toPat.message_id]);
    await t.receipts.record(sam.actor, 'delivered', [toSam.message_id]);
    await t.hostedEndpoint.idle();
    expect(unseen.delivered_at).toBeNull();

    const stats = await t.stats.stats(owner.actor, businessId, { from: '2026-03-24', to: '2026-03-25' });
    expect(stats.days.map((d) => [d.date, d.sent, d.delivered, d.read, d.received])).toEqual([
      ['2026-03-24', 3, 2, 1, 2],
      ['2026-03-25', 0, 0, 0, 0],
    ]);
    expect(stats.totals).toMatchObject({ sent: 3, delivered: 2, read: 1, received: 2 });
  });

  it('measures response time to agents’ replies only, with nearest-rank median and p90', async () => {
    const { t, owner, businessId, inbound, reply, conversationOf } = await setup(storage());
    const [pat, sam, kim] = [await t.newPerson('Pat'), await t.newPerson('Sam'), await t.newPerson('Kim')];
    await inbound(pat, '2026-03-24T08:00:00Z');
    // An automated reply neither counts nor stops the clock.
    const number = (await t.business.get(owner.actor, businessId)).numbers[0];
    if (!number) throw new Error('no number');
    t.clock.set(at('2026-03-24T08:00:05Z'));
    await t.inbox.flush([
      {
        client_id: 'auto:test:0',
        phone_number_id: number.phone_number_id,
        to_account: pat.account_id,
        author: 'automation:greeting',
        payload: b64('Thanks, we will answer soon'),
        created_at: t.clock.now(),
      },
    ]);
    await reply(pat, '2026-03-24T08:01:00Z'); // 60 s
    await inbound(pat, '2026-03-24T09:00:00Z');
    await inbound(pat, '2026-03-24T09:00:30Z');
    await reply(pat, '2026-03-24T09:02:00Z'); // 120 s and 90 s: one sample per message
    await inbound(sam, '2026-03-24T10:00:00Z');
    await reply(sam, '2026-03-24T10:00:10.500Z'); // 10.5 s
    await inbound(kim, '2026-03-24T11:00:00Z'); // never answered: no sample
    // Asked late on the 24th, answered on the 25th: a sample of the 24th.
    await inbound(sam, '2026-03-24T23:30:00Z');
    await reply(sam, '2026-03-25T00:10:00Z'); // 2400 s
    expect(await conversationOf(kim)).toBeTruthy();

    const stats = await t.stats.stats(owner.actor, businessId, { from: '2026-03-24', to: '2026-03-25' });
    // Samples (s): 10.5, 60, 90, 120, 2400 → median rank 3, p90 rank 5.
    expect(stats.days[0]?.response_time).toEqual({ count: 5, median_seconds: 90, p90_seconds: 2400 });
    expect(stats.days[1]?.response_time).toEqual({ count: 0, median_seconds: null, p90_seconds: null });
    expect(stats.totals.response_time).toEqual({ count: 5, median_seconds: 90, p90_seconds: 2400 });
    expect(stats.totals).toMatchObject({ received: 6, sent: 5 });
  });

  it('counts chats started per entry point by the day the conversation began', async () => {
    const { t, owner, businessId, inbound } = await setup(storage());
    const people = [await t.newPerson(), await t.newPerson(), await t.newPerson(), await t.newPerson()];
    const [a, b, c, d] = people as [Person, Person, Person, Person];
    await inbound(a, '2026-03-24T08:00:00Z');
    await inbound(b, '2026-03-24T09:00:00Z');
    await inbound(c, '2026-03-25T09:00:00Z');
    await inbound(a, '2026-03-25T10:00:00Z'); // not a new chat
    await inbound(d, '2026-03-25T11:00:00Z');
    // Short links and catalogs set the entry point of the chats they start.
    const db = storage().db.kysely;
    await db
      .updateTable('conversations')
      .set({ started_via: 'link' })
      .where('person_account_id', '=', b.account_id)
      .execute();
    await db
      .updateTable('conversations')
      .set({ started_via: 'qr' })
      .where('person_account_id', '=', c.account_id)
      .execute();
    await db
      .updateTable('conversations')
      .set({ started_via: 'catalog' })
      .where('person_account_id', '=', d.account_id)
      .execute();

    const stats = await t.stats.stats(owner.actor, businessId, { from: '2026-03-24', to: '2026-03-25' });
    expect(stats.days.map((x) => x.chats_started)).toEqual([
      { direct: 1, link: 1, qr: 0, catalog: 0, broadcast: 0 },
      { direct: 0, link: 0, qr: 1, catalog: 1, broadcast: 0 },
    ]);
    expect(stats.totals.chats_started).toEqual({ direct: 1, link: 1, qr: 1, catalog: 1, broadcast: 0 });
  });

  it('refuses bad ranges and zones, and strangers and other businesses see nothing', async () => {
    const { t, owner, businessId, inbound } = await setup(storage());
    const agent = await t.newPerson('Agent');
    await t.business.setPlan(businessId, 'premium');
    await t.business.addAgent(owner.actor, businessId, agent.phone, 'agent');
    const bad: [Record<string, string>, string[]][] = [
      [{ from: '2026-03-25', to: '2026-03-24' }, ['to']],
      [{ from: '2025-01-01', to: '2026-01-02' }, ['to']], // 367 days; 366 is the most
      [{ from: '2026-02-30', to: '2026-03-01' }, ['from']],
      [{ from: '24.03.2026', to: 'tomorrow' }, ['from', 'to']],
      [{ from: '2026-03-24', to: '2026-03-24', tz: 'Mars/Olympus_Mons' }, ['tz']],
      [{ from: '2026-03-24', to: '2026-03-24', tz: '+01:00' }, ['tz']],
    ];
    for (const [query, paths] of bad) {
      const error = await t.stats
        .stats(agent.actor, businessId, query as { from: string; to: string })
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'VALIDATION_FAILED' });
      expect(
        ((error as { details: { issues: { path: string }[] } }).details.issues ?? []).map((i) => i.path),
      ).toEqual(paths);
    }
    // A leap year's 366 days are fine, and an agent (not only owners) may look.
    const year = await t.stats.stats(agent.actor, businessId, { from: '2028-01-01', to: '2028-12-31' });
    expect(year.days).toHaveLength(366);

    const stranger = await t.newPerson('Stranger');
    await expect(
      t.stats.stats(stranger.actor, businessId, { from: '2026-03-24', to: '2026-03-24' }),
    ).rejects.toMatchObject({ code: 'BUSINESS_NOT_FOUND' });
    // Another business's rows never show up in this one's figures.
    const other = await t.business.create({ name: 'Beta', phone: newPhone(), owner: stranger.phone });
    await inbound(await t.newPerson(), '2026-03-24T10:00:00Z');
    const mine = await t.stats.stats(owner.actor, businessId, { from: '2026-03-24', to: '2026-03-24' });
    const theirs = await t.stats.stats(stranger.actor, other.business_id, {
      from: '2026-03-24',
      to: '2026-03-24',
    });
    expect(mine.totals.received).toBe(1);
    expect(theirs.totals.received).toBe(0);
  });
});
