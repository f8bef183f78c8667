import { createHash } from 'node:crypto';
import { afterEach, expect, it } from 'vitest';
import {
  closeTestContexts,
  createTestContext,
  newPhone,
  type TestContext,
} from '../../../test/harness/builders.js';
import { describeStorage, type StorageContext } from '../../../test/harness/storage.js';
import { createIds } from '../../platform/ids.js';
import { createBroadcastsRepo } from './broadcasts.repo.js';
import { createBroadcastsService } from './broadcasts.service.js';
import { createBusinessRepo } from './business.repo.js';
import { createInboxRepo } from './inbox.repo.js';

const b64 = (text: string) => Buffer.from(JSON.stringify({ text })).toString('base64');
const textOf = (payload: string) => JSON.parse(Buffer.from(payload, 'base64').toString()).text;
const hash = (phone: string) => createHash('sha256').update(phone).digest('base64url');
type Person = Awaited<ReturnType<TestContext['newPerson']>>;

async function setup(storage: StorageContext, plan = 'premium') {
  const t = createTestContext(storage);
  const owner = await t.newPerson('Owner');
  const phone = newPhone();
  const created = await t.business.create({ name: 'Acme', phone, owner: owner.phone });
  const businessId = created.business_id;
  await t.business.setPlan(businessId, plan);
  const number = (await t.business.get(owner.actor, businessId)).numbers[0];
  if (!number) throw new Error('no number');
  await t.hostedEndpoint.start();
  let n = 0;
  return {
    t,
    owner,
    phone,
    number,
    businessId,
    /** Opted in by having the business number in their contacts. */
    async contact(name = 'Contact') {
      const p = await t.newPerson(name);
      expect(await t.contacts.discover(p.actor, [hash(phone)])).toHaveLength(1);
      return p;
    },
    /** Opted in by having messaged the business. */
    async messaged(name = 'Customer') {
      const p = await t.newPerson(name);
      await t.delivery.send(p.actor, { clientId: `hi-${++n}`, to: phone, payload: b64('hello?') });
      await t.hostedEndpoint.idle();
      return p;
    },
  };
}

/** What the person's device queue holds from `from` (messages only). */
async function received(t: TestContext, person: Person, from: string) {
  return (await t.delivery.readQueue(person.device_id, 0, 100))
    .filter((e) => e.kind === 'message' && e.sender_account === from)
    .map((e) => textOf(e.payload));
}

describeStorage('broadcast lists', (storage: () => StorageContext) => {
  afterEach(closeTestContexts);

  it('takes only opted-in people: a contact or a customer, never a stranger, all or nothing', async () => {
    const s = await setup(storage());
    const { t, owner, businessId } = s;
    const [contact, customer, stranger] = [await s.contact(), await s.messaged(), await t.newPerson('S')];

    await expect(
      t.broadcasts.create(owner.actor, businessId, {
        name: 'Spring sale',
        members: [contact.phone, stranger.phone, customer.account_id],
      }),
    ).rejects.toMatchObject({
      code: 'BROADCAST_RECIPIENT_NOT_OPTED_IN',
      details: { not_opted_in: [stranger.account_id] },
    });
    await expect(
      t.broadcasts.create(owner.actor, businessId, { name: 'x', members: [contact.phone, '+15550000000'] }),
    ).rejects.toMatchObject({ code: 'ACCOUNT_NOT_FOUND', details: { not_found: ['+15550000000'] } });
    // A business number is nobody's opt-in and never a member.
    await expect(
      t.broadcasts.create(owner.actor, businessId, { name: 'x', members: [s.phone] }),
    ).rejects.toMatchObject({ code: 'ACCOUNT_NOT_FOUND' });
    expect(await t.broadcasts.list(owner.actor, businessId)).toEqual([]);

    const list = await t.broadcasts.create(owner.actor, businessId, {
      name: ' Spring sale ',
      members: [contact.phone, customer.account_id, contact.account_id],
    });
    expect(list).toMatchObject({ name: 'Spring sale', member_count: 2 });
    expect(list.members.map((m) => m.account_id).sort()).toEqual(
      [contact.account_id, customer.account_id].sort(),
    );

    // Adding is all or nothing too.
    const later = await s.contact('Later');
    await expect(
      t.broadcasts.addMembers(owner.actor, businessId, list.list_id, [later.phone, stranger.phone]),
    ).rejects.toMatchObject({ code: 'BROADCAST_RECIPIENT_NOT_OPTED_IN' });
    expect((await t.broadcasts.get(owner.actor, businessId, list.list_id)).member_count).toBe(2);
    await t.broadcasts.addMembers(owner.actor, businessId, list.list_id, [later.phone, contact.phone]);
    const removed = await t.broadcasts.removeMember(owner.actor, businessId, list.list_id, customer.phone);
    expect(removed.members.map((m) => m.account_id).sort()).toEqual(
      [contact.account_id, later.account_id].sort(),
    );
    await expect(
      t.broadcasts.removeMember(owner.actor, businessId, list.list_id, customer.phone),
    ).rejects.toMatchObject({ code: 'ACCOUNT_NOT_FOUND' });
    expect(await t.broadcasts.list(owner.actor, businessId)).toMatchObject([
      { list_id: list.list_id, member_count: 2 },
    ]);
    await t.broadcasts.delete(owner.actor, businessId, list.list_id);
    await expect(t.broadcasts.get(owner.actor, businessId, list.list_id)).rejects.toMatchObject({
      code: 'BROADCAST_LIST_NOT_FOUND',
    });
  });

  it('holds a list to the plan’s broadcast_size and names the plan that lifts it', async () => {
    const s = await setup(storage(), 'free');
    const { t, owner, businessId } = s;
    const plans = await t.plans.list();
    expect(plans.map((p) => [p.plan_id, p.limits.broadcast_size])).toEqual([
      ['free', 256],
      ['premium', 1024],
    ]);
    const people = [await s.contact(), await s.contact(), await s.messaged(), await s.messaged()];
    const phones = people.map((p) => p.phone);
    await t.plans.set('free', { limits: { broadcast_size: 3 } });
    try {
      await expect(
        t.broadcasts.create(owner.actor, businessId, { name: 'All', members: phones }),
      ).rejects.toMatchObject({
        code: 'PLAN_LIMIT_REACHED',
        details: { limit: 'broadcast_size', plan: 'free', max: 3, wanted: 4, upgrade_to: 'premium' },
      });
      const list = await t.broadcasts.create(owner.actor, businessId, {
        name: 'Three',
        members: phones.slice(0, 3),
      });
      await expect(
        t.broadcasts.addMembers(owner.actor, businessId, list.list_id, phones.slice(3)),
      ).rejects.toMatchObject({ code: 'PLAN_LIMIT_REACHED', details: { max: 3, wanted: 4 } });
      expect((await t.broadcasts.get(owner.actor, businessId, list.list_id)).member_count).toBe(3);

      // The operator shrinks the plan below the list: sending is refused, nothing goes out.
      await t.plans.set('free', { limits: { broadcast_size: 2 } });
      await expect(
        t.broadcasts.send(owner.actor, businessId, list.list_id, { text: 'Sale!' }),
      ).rejects.toMatchObject({ code: 'PLAN_LIMIT_REACHED', details: { max: 2, wanted: 3 } });
      for (const p of people) expect(await received(t, p, s.number.account_id)).toEqual([]);

      await t.business.setPlan(businessId, 'premium');
      await t.broadcasts.addMembers(owner.actor, businessId, list.list_id, phones.slice(3));
    } finally {
      await t.plans.set('free', { limits: { broadcast_size: 256 } });
    }
  });

  it('sends each member one 1:1 message from the business number, skipping who blocked it', async () => {
    const s = await setup(storage());
    const { t, owner, businessId, number } = s;
    const [contact, customer, blocker, lapsed] = [
      await s.contact('Contact'),
      await s.messaged('Customer'),
      await s.contact('Blocker'),
      await s.contact('Lapsed'),
    ];
    const list = await t.broadcasts.create(owner.actor, businessId, {
      name: 'News',
      members: [contact.phone, customer.phone, blocker.phone, lapsed.phone],
    });
    await t.contacts.block(blocker.actor, s.phone);
    // No longer opted in (as after the contact is gone): skipped, not sent.
    await storage().db.kysely.deleteFrom('contacts').where('account_id', '=', lapsed.account_id).execute();

    t.clock.advance(1000);
    const sent = await t.broadcasts.send(owner.actor, businessId, list.list_id, { text: 'New arrivals!' });
    expect(sent).toMatchObject({ list_id: list.list_id, recipients: 2, pending: 0, text: 'New arrivals!' });
    expect(sent.skipped).toEqual(
      expect.arrayContaining([
        { account_id: blocker.account_id, reason: 'blocked' },
        { account_id: lapsed.account_id, reason: 'not_opted_in' },
      ]),
    );
    expect(sent.skipped).toHaveLength(2);
    expect(await received(t, contact, number.account_id)).toEqual(['New arrivals!']);
    expect(await received(t, customer, number.account_id)).toEqual(['New arrivals!']);
    expect(await received(t, blocker, number.account_id)).toEqual([]);
    expect(await received(t, lapsed, number.account_id)).toEqual([]);

    // In the inbox: a new chat started by the broadcast, and the customer's chat as it was.
    const chats = await t.inbox.list(owner.actor, businessId, {});
    const chatOf = (p: Person) => chats.find((c) => c.person.account_id === p.account_id);
    expect(chatOf(contact)).toMatchObject({ started_via: 'broadcast', status: 'closed', unread: 0 });
    expect(chatOf(customer)).toMatchObject({ started_via: 'direct', status: 'open' });
    expect(chatOf(blocker)).toBeUndefined();
    const messages = await t.inbox.messages(
      owner.actor,
      businessId,
      chatOf(contact)?.conversation_id ?? '',
      {},
    );
    expect(messages).toMatchObject([
      { direction: 'out', author: `broadcast:${sent.broadcast_id}`, text: 'New arrivals!' },
    ]);
    expect(await t.broadcasts.history(owner.actor, businessId, list.list_id)).toEqual([sent]);

    // It counts in the statistics: two sent, one chat started by a broadcast.
    const day = new Date(t.clock.now()).toISOString().slice(0, 10);
    const stats = await t.stats.stats(owner.actor, businessId, { from: day, to: day });
    expect(stats.totals).toMatchObject({ sent: 2, chats_started: { broadcast: 1 } });
  });

  it('answers a retried send with the broadcast it already made', async () => {
    const s = await setup(storage());
    const { t, owner, businessId, number } = s;
    const contact = await s.contact('Contact');
    const list = await t.broadcasts.create(owner.actor, businessId, {
      name: 'News',
      members: [contact.phone],
    });
    const first = await t.broadcasts.send(owner.actor, businessId, list.list_id, {
      text: 'Once',
      clientKey: 'k-1',
    });
    const retry = await t.broadcasts.send(owner.actor, businessId, list.list_id, {
      text: 'Once',
      clientKey: 'k-1',
    });
    expect(retry.broadcast_id).toBe(first.broadcast_id);
    expect(await received(t, contact, number.account_id)).toEqual(['Once']);
    expect(await t.broadcasts.history(owner.actor, businessId, list.list_id)).toHaveLength(1);
    // Another key is another broadcast.
    await t.broadcasts.send(owner.actor, businessId, list.list_id, { text: 'Twice', clientKey: 'k-2' });
    expect(await received(t, contact, number.account_id)).toEqual(['Once', 'Twice']);
  });

  it('never sends twice or loses one when the server crashes around the flush', async () => {
    const s = await setup(storage());
    const { t, owner, businessId, number } = s;
    const members = [await s.contact(), await s.messaged(), await s.contact()];
    const list = await t.broadcasts.create(owner.actor, businessId, {
      name: 'Crash',
      members: members.map((m) => m.phone),
    });
    // The same service, but the process "dies" right after the transaction committed.
    const crashing = createBroadcastsService({
      db: storage().db,
      repo: createBroadcastsRepo(storage().db.kysely),
      businessRepo: createBusinessRepo(storage().db.kysely),
      inboxRepo: createInboxRepo(storage().db.kysely),
      inbox: {
        flush: async () => {
          throw new Error('crash');
        },
      },
      business: t.business,
      plans: t.plans,
      clock: t.clock,
      ids: createIds(t.clock),
    });
    await expect(crashing.send(owner.actor, businessId, list.list_id, { text: 'Once' })).rejects.toThrow(
      'crash',
    );
    for (const m of members) expect(await received(t, m, number.account_id)).toEqual([]);
    const [recorded] = await t.broadcasts.history(owner.actor, businessId, list.list_id);
    expect(recorded).toMatchObject({ recipients: 3, pending: 3 });

    // After the restart the sweep flushes the outbox...
    const rows = await storage().db.kysely.selectFrom('business_outbox').selectAll().execute();
    expect(rows.map((r) => r.client_id).every((id) => id.startsWith('bcast:'))).toBe(true);
    await t.inbox.flushPending();
    // ...and a second crash after sending but before the rows were deleted sends nothing again.
    await storage().db.kysely.insertInto('business_outbox').values(rows).execute();
    await t.inbox.flushPending();
    await t.inbox.flush(rows);
    for (const m of members) expect(await received(t, m, number.account_id)).toEqual(['Once']);
    expect((await t.broadcasts.history(owner.actor, businessId, list.list_id))[0]?.pending).toBe(0);
    const chats = await t.inbox.list(owner.actor, businessId, {});
    for (const chat of chats) {
      const out = (await t.inbox.messages(owner.actor, businessId, chat.conversation_id, {})).filter(
        (m) => m.direction === 'out',
      );
      expect(out.map((m) => m.text)).toEqual(['Once']);
    }
  });

  it('lets only owners and admins manage and send, and keeps each business to its own lists', async () => {
    const a = await setup(storage());
    const { t } = a;
    const agent = await t.newPerson('Agent');
    await t.business.addAgent(a.owner.actor, a.businessId, agent.phone, 'agent');
    const member = await a.contact();
    const list = await t.broadcasts.create(a.owner.actor, a.businessId, {
      name: 'L',
      members: [member.phone],
    });

    // Agents look but do not send or edit.
    expect(await t.broadcasts.get(agent.actor, a.businessId, list.list_id)).toMatchObject({
      member_count: 1,
    });
    for (const attempt of [
      () => t.broadcasts.send(agent.actor, a.businessId, list.list_id, { text: 'x' }),
      () => t.broadcasts.create(agent.actor, a.businessId, { name: 'M', members: [] }),
      () => t.broadcasts.removeMember(agent.actor, a.businessId, list.list_id, member.phone),
      () => t.broadcasts.delete(agent.actor, a.businessId, list.list_id),
    ]) {
      await expect(attempt()).rejects.toMatchObject({ code: 'BUSINESS_ROLE_REQUIRED' });
    }

    // Another business: A's ids answer as unknown, and A's opt-ins are not B's.
    const other = await t.newPerson('Other owner');
    const b = await t.business.create({ name: 'Beta', phone: newPhone(), owner: other.phone });
    await t.business.setPlan(b.business_id, 'premium');
    for (const attempt of [
      () => t.broadcasts.get(other.actor, a.businessId, list.list_id),
      () => t.broadcasts.list(other.actor, a.businessId),
      () => t.broadcasts.send(other.actor, a.businessId, list.list_id, { text: 'x' }),
      () => t.broadcasts.addMembers(other.actor, a.businessId, list.list_id, [member.phone]),
      () => t.broadcasts.delete(other.actor, a.businessId, list.list_id),
      () => t.stats.stats(other.actor, a.businessId, { from: '2026-01-01', to: '2026-01-02' }),
    ]) {
      await expect(attempt()).rejects.toMatchObject({ code: 'BUSINESS_NOT_FOUND' });
    }
    for (const attempt of [
      () => t.broadcasts.get(other.actor, b.business_id, list.list_id),
      () => t.broadcasts.send(other.actor, b.business_id, list.list_id, { text: 'x' }),
      () => t.broadcasts.history(other.actor, b.business_id, list.list_id),
    ]) {
      await expect(attempt()).rejects.toMatchObject({ code: 'BROADCAST_LIST_NOT_FOUND' });
    }
    await expect(
      t.broadcasts.create(other.actor, b.business_id, { name: 'Poach', members: [member.phone] }),
    ).rejects.toMatchObject({ code: 'BROADCAST_RECIPIENT_NOT_OPTED_IN' });
    // A's list sent from B's number: not a number of A.
    await expect(
      t.broadcasts.send(a.owner.actor, a.businessId, list.list_id, {
        text: 'x',
        phoneNumberId: b.phone_number_id,
      }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(await received(t, member, a.number.account_id)).toEqual([]);
  });
});
