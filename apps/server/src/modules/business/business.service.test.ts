import { afterEach, expect, it } from 'vitest';
import {
  closeTestContexts,
  createTestContext,
  newPhone,
  type TestContext,
} from '../../../test/harness/builders.js';
import { describeStorage, type StorageContext } from '../../../test/harness/storage.js';

const b64 = (text: string) => Buffer.from(JSON.stringify({ text })).toString('base64');
const textOf = (payload: string) => JSON.parse(Buffer.from(payload, 'base64').toString()).text;

async function setup(storage: StorageContext, plan = 'premium') {
  const t = createTestContext(storage);
  const owner = await t.newPerson('Owner');
  const phone = newPhone();
  const created = await t.business.create({ name: 'Acme', phone, owner: owner.phone });
  await t.business.setPlan(created.business_id, plan);
  const view = await t.business.get(owner.actor, created.business_id);
  const number = view.numbers[0];
  if (!number) throw new Error('no number');
  return { t, owner, created, phone, number };
}

/** A person messages the business and the hosted endpoint takes it in. */
async function inbound(
  t: TestContext,
  from: Awaited<ReturnType<TestContext['newPerson']>>,
  to: string,
  text: string,
  id: string,
) {
  const sent = await t.delivery.send(from.actor, { clientId: id, to, payload: b64(text) });
  await t.hostedEndpoint.idle();
  return sent;
}

describeStorage('business accounts and the shared inbox', (storage: () => StorageContext) => {
  afterEach(closeTestContexts);

  it('creates a business with Cloud API style ids, a hosted number and an owner', async () => {
    const { t, owner, created, phone, number } = await setup(storage());
    expect(created.waba_id).toMatch(/^\d{15}$/);
    expect(created.phone_number_id).toMatch(/^\d{15}$/);
    expect(created.access_token).toMatch(/^pbt_/);
    expect(created.app_secret).toMatch(/^[0-9a-f]{32}$/);
    expect(number).toMatchObject({ phone_number_id: created.phone_number_id, phone });
    await expect(t.business.create({ name: 'Copy', phone })).rejects.toMatchObject({ code: 'PHONE_TAKEN' });
    await expect(t.business.create({ name: '  ', phone: newPhone() })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    expect((await t.business.listMine(owner.actor)).map((b) => [b.business_id, b.role])).toEqual([
      [created.business_id, 'owner'],
    ]);
  });

  it('adds numbers that people reach like the first, and refuses a taken one', async () => {
    const { t, owner, created, phone } = await setup(storage());
    await t.hostedEndpoint.start();
    const second = newPhone();
    const view = await t.business.addNumber(owner.actor, created.business_id, second);
    expect(view.numbers.map((n) => n.phone)).toEqual([phone, second]);
    expect(view.numbers[1]?.phone_number_id).toMatch(/^\d{15}$/);
    await expect(t.business.addNumber(owner.actor, created.business_id, second)).rejects.toMatchObject({
      code: 'PHONE_TAKEN',
    });
    const person = await t.newPerson('P');
    await inbound(t, person, second, 'hello second line', 'n1');
    const [conv] = await t.inbox.list(owner.actor, created.business_id, {});
    expect(conv?.phone_number_id).toBe(view.numbers[1]?.phone_number_id);
  });

  it('takes in the messages of a number another process created, at the next sweep', async () => {
    const { t, owner, created } = await setup(storage());
    await t.hostedEndpoint.start();
    // As \`parley business create\` does from its own process: rows this process never heard of.
    const other = createTestContext(storage());
    const phone = newPhone();
    const made = await other.business.create({ name: 'Elsewhere', phone, owner: owner.phone });
    const person = await t.newPerson('P');
    await t.delivery.send(person.actor, { clientId: 's1', to: phone, payload: b64('anyone there?') });
    await t.hostedEndpoint.idle();
    expect(await t.inbox.list(owner.actor, made.business_id, {})).toEqual([]);
    await t.hostedEndpoint.sweep();
    await t.hostedEndpoint.idle();
    const [conv] = await t.inbox.list(owner.actor, made.business_id, {});
    expect(conv?.person.account_id).toBe(person.account_id);
    expect(created.business_id).not.toBe(made.business_id);
  });

  it('shows people a hosted business profile with its verified mark', async () => {
    const { t, owner, created, number } = await setup(storage());
    const person = await t.newPerson('P');
    await t.business.updateProfile(owner.actor, created.business_id, {
      about: 'We sell anvils',
      websites: ['https://acme.example'],
      vertical: 'RETAIL',
    });
    let profile = await t.accounts.getProfile(person.actor, number.account_id);
    expect(profile.business).toMatchObject({
      business_id: created.business_id,
      name: 'Acme',
      verified: false,
      hosted: true,
      profile: { about: 'We sell anvils', websites: ['https://acme.example'], vertical: 'RETAIL' },
    });
    await t.business.setVerified(created.business_id, true);
    profile = await t.accounts.getProfile(person.actor, number.account_id);
    expect(profile.business?.verified).toBe(true);
    // A new name is not the name the operator verified.
    await t.business.updateProfile(owner.actor, created.business_id, { name: 'Acme Anvils' });
    expect((await t.accounts.getProfile(person.actor, number.account_id)).business).toMatchObject({
      name: 'Acme Anvils',
      verified: false,
    });
    // People have no business block.
    expect((await t.accounts.getProfile(person.actor, owner.account_id)).business).toBeUndefined();
  });

  it('checks roles: owners manage, agents work the inbox, strangers see nothing', async () => {
    const { t, owner, created } = await setup(storage());
    const [admin, agent, stranger] = [
      await t.newPerson('Ad'),
      await t.newPerson('Ag'),
      await t.newPerson('S'),
    ];
    t.clock.advance(1);
    await t.business.addAgent(owner.actor, created.business_id, admin.phone, 'admin');
    t.clock.advance(1);
    await t.business.addAgent(owner.actor, created.business_id, agent.account_id, 'agent');
    await expect(
      t.business.updateProfile(agent.actor, created.business_id, { about: 'hijack' }),
    ).rejects.toMatchObject({ code: 'BUSINESS_ROLE_REQUIRED' });
    await expect(
      t.business.addAgent(admin.actor, created.business_id, stranger.phone, 'owner'),
    ).rejects.toMatchObject({ code: 'BUSINESS_ROLE_REQUIRED' });
    await expect(t.business.get(stranger.actor, created.business_id)).rejects.toMatchObject({
      code: 'BUSINESS_NOT_FOUND',
    });
    await expect(
      t.business.removeAgent(owner.actor, created.business_id, owner.account_id),
    ).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    expect((await t.business.listAgents(agent.actor, created.business_id)).map((a) => a.role)).toEqual([
      'owner',
      'admin',
      'agent',
    ]);
    expect((await t.business.get(owner.actor, created.business_id)).profile.about).toBe('');
  });

  it('takes inbound messages into the inbox once, and agents reply as the business', async () => {
    const { t, owner, created, phone } = await setup(storage());
    await t.hostedEndpoint.start();
    const person = await t.newPerson('Pat');
    const agent = await t.newPerson('Agent');
    await t.business.addAgent(owner.actor, created.business_id, agent.phone, 'agent');

    const hello = await inbound(t, person, phone, 'Do you ship to Mars?', 'q1');
    const [conversation] = await t.inbox.list(agent.actor, created.business_id, {});
    expect(conversation).toMatchObject({
      person: { account_id: person.account_id, display_name: 'Pat' },
      status: 'open',
      unread: 1,
      started_via: 'direct',
    });
    if (!conversation) throw new Error('no conversation');
    const cid = conversation.conversation_id;
    expect(await t.inbox.messages(agent.actor, created.business_id, cid, {})).toMatchObject([
      { message_id: hello.message_id, direction: 'in', text: 'Do you ship to Mars?' },
    ]);

    const reply = await t.inbox.reply(agent.actor, created.business_id, cid, { text: 'We do!' });
    expect(reply).toMatchObject({ direction: 'out', author: agent.account_id, text: 'We do!' });
    const queue = await t.delivery.readQueue(person.device_id, 0, 10);
    expect(queue.map((e) => [e.message_id, e.chat_id, textOf(e.payload)])).toEqual([
      [reply.message_id, conversation.phone_number_id ? queue[0]?.sender_account : '', 'We do!'],
    ]);

    await t.inbox.addNote(agent.actor, created.business_id, cid, 'VIP, be nice');
    const updated = await t.inbox.update(agent.actor, created.business_id, cid, {
      status: 'pending',
      assignee: agent.account_id,
    });
    expect(updated).toMatchObject({ status: 'pending', assignee: agent.account_id });
    expect((await t.inbox.markRead(agent.actor, created.business_id, cid)).unread).toBe(0);
    expect((await t.inbox.notes(owner.actor, created.business_id, cid)).map((n) => n.text)).toEqual([
      'VIP, be nice',
    ]);

    // Agents' devices heard of each change, live and durable.
    const events = (await t.delivery.readQueue(agent.device_id, 0, 100)).filter((e) => e.kind === 'event');
    expect(events.length).toBeGreaterThanOrEqual(4);
  });

  it('enforces the plan: agents, the verified badge, and names the plan that lifts a limit', async () => {
    const { t, owner, created } = await setup(storage(), 'free');
    const helper = await t.newPerson('Helper');
    await expect(
      t.business.addAgent(owner.actor, created.business_id, helper.phone, 'agent'),
    ).rejects.toMatchObject({
      code: 'PLAN_LIMIT_REACHED',
      details: { limit: 'agents', plan: 'free', max: 1, wanted: 2, upgrade_to: 'premium' },
    });
    await expect(t.business.setVerified(created.business_id, true)).rejects.toMatchObject({
      code: 'PLAN_LIMIT_REACHED',
      details: { feature: 'verified_badge', plan: 'free', upgrade_to: 'premium' },
    });
    expect(await t.business.listAgents(owner.actor, created.business_id)).toHaveLength(1);
    await expect(t.business.setPlan(created.business_id, 'gold')).rejects.toMatchObject({
      code: 'PLAN_NOT_FOUND',
    });

    // The operator edits plans as data: a free plan with 2 agents lets one more in.
    await t.plans.set('free', { limits: { agents: 2 } });
    await t.business.addAgent(owner.actor, created.business_id, helper.phone, 'agent');
    await t.business.setPlan(created.business_id, 'premium');
    await t.business.setVerified(created.business_id, true);
    expect((await t.business.get(owner.actor, created.business_id)).verified).toBe(true);
  });

  it('drops an outbox row that can never be sent instead of retrying it forever', async () => {
    const { t, number } = await setup(storage());
    await storage()
      .db.kysely.insertInto('business_outbox')
      .values({
        client_id: 'auto:gone:0',
        phone_number_id: number.phone_number_id,
        to_account: 'acc_GONE',
        author: 'automation:greeting',
        payload: b64('hello?'),
        created_at: t.clock.now(),
      })
      .execute();
    expect(await t.inbox.flushPending()).toBe(1);
    expect(await t.inbox.flushPending()).toBe(0);
  });

  it('keeps inbox history for the retention the business chose, then deletes it', async () => {
    const { t, owner, created, phone } = await setup(storage());
    await t.hostedEndpoint.start();
    await expect(
      t.business.updateProfile(owner.actor, created.business_id, { retention_days: 0 }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await t.business.updateProfile(owner.actor, created.business_id, { retention_days: 2 });
    const person = await t.newPerson('P');
    await inbound(t, person, phone, 'old news', 'r1');
    t.clock.advance(24 * 3600 * 1000);
    await inbound(t, person, phone, 'recent', 'r2');
    t.clock.advance(24 * 3600 * 1000 + 1);
    expect(await t.business.expireInbox((id, before) => t.inbox.deleteBefore(id, before))).toBe(1);
    const [conv] = await t.inbox.list(owner.actor, created.business_id, {});
    const left = await t.inbox.messages(owner.actor, created.business_id, conv?.conversation_id ?? '', {});
    expect(left.map((m) => m.text)).toEqual(['recent']);
  });

  it('counts concurrent changes against a limit one after the other', async () => {
    const { t, owner, created } = await setup(storage(), 'free');
    await t.plans.set('free', { limits: { agents: 2 } });
    const people = [await t.newPerson('A'), await t.newPerson('B'), await t.newPerson('C')];
    const results = await Promise.allSettled(
      people.map((p) => t.business.addAgent(owner.actor, created.business_id, p.phone, 'agent')),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(await t.business.listAgents(owner.actor, created.business_id)).toHaveLength(2);
  });

  it('never lets an agent of one business near another business', async () => {
    const a = await setup(storage());
    const t = a.t;
    await t.hostedEndpoint.start();
    const other = await t.newPerson('Other owner');
    const b = await t.business.create({ name: 'Beta', phone: newPhone(), owner: other.phone });
    const person = await t.newPerson('P');
    await inbound(t, person, a.phone, 'hi A', 'x1');
    const [conv] = await t.inbox.list(a.owner.actor, a.created.business_id, {});
    if (!conv) throw new Error('no conversation');
    const cid = conv.conversation_id;

    const attempts: (() => Promise<unknown>)[] = [
      () => t.business.get(other.actor, a.created.business_id),
      () => t.business.listAgents(other.actor, a.created.business_id),
      () => t.business.updateProfile(other.actor, a.created.business_id, { about: 'x' }),
      () => t.business.addAgent(other.actor, a.created.business_id, other.phone, 'agent'),
      () => t.inbox.list(other.actor, a.created.business_id, {}),
      () => t.inbox.get(other.actor, a.created.business_id, cid),
      () => t.inbox.messages(other.actor, a.created.business_id, cid, {}),
      () => t.inbox.reply(other.actor, a.created.business_id, cid, { text: 'hijack' }),
      () => t.inbox.update(other.actor, a.created.business_id, cid, { status: 'closed' }),
      () => t.inbox.addNote(other.actor, a.created.business_id, cid, 'x'),
      () => t.inbox.notes(other.actor, a.created.business_id, cid),
      () => t.inbox.markRead(other.actor, a.created.business_id, cid),
    ];
    for (const attempt of attempts)
      await expect(attempt()).rejects.toMatchObject({ code: 'BUSINESS_NOT_FOUND' });
    // Its own business id with the other's conversation id: not found either.
    for (const attempt of [
      () => t.inbox.get(other.actor, b.business_id, cid),
      () => t.inbox.reply(other.actor, b.business_id, cid, { text: 'hijack' }),
    ]) {
      await expect(attempt()).rejects.toMatchObject({ code: 'CONVERSATION_NOT_FOUND' });
    }
    expect(await t.inbox.messages(a.owner.actor, a.created.business_id, cid, {})).toHaveLength(1);
    expect(await t.delivery.readQueue(person.device_id, 0, 10)).toEqual([]);
  });

  it('stores a redelivered page once and sends an outbox row once, whatever crashes', async () => {
    const { t, owner, created, phone, number } = await setup(storage());
    const person = await t.newPerson('P');
    // The endpoint is not running: the message waits in the hosted device's queue.
    await t.delivery.send(person.actor, { clientId: 'm1', to: phone, payload: b64('hello') });
    const view = await t.business.get(owner.actor, created.business_id);
    const row = {
      phone_number_id: number.phone_number_id,
      business_id: created.business_id,
      account_id: number.account_id,
      device_id: (
        await storage()
          .db.kysely.selectFrom('business_numbers')
          .select('device_id')
          .where('phone_number_id', '=', number.phone_number_id)
          .executeTakeFirstOrThrow()
      ).device_id,
      phone: view.numbers[0]?.phone ?? '',
      created_at: 0,
    };
    const page = await t.delivery.readQueue(row.device_id, 0, 10);
    await t.inbox.ingest(row, page);
    await t.inbox.ingest(row, page); // as after a crash before the ack
    const [conv] = await t.inbox.list(owner.actor, created.business_id, {});
    expect(conv?.unread).toBe(1);
    expect(
      await t.inbox.messages(owner.actor, created.business_id, conv?.conversation_id ?? '', {}),
    ).toHaveLength(1);

    // A reply in the outbox, sent, then "crashed" before its row was deleted: sent again, once.
    const outboxRow = {
      client_id: 'auto:test:0',
      phone_number_id: number.phone_number_id,
      to_account: person.account_id,
      author: 'automation:test',
      payload: b64('thanks'),
      created_at: t.clock.now(),
    };
    t.clock.advance(1000);
    await t.inbox.flush([outboxRow]);
    await storage().db.kysely.insertInto('business_outbox').values(outboxRow).execute();
    expect(await t.inbox.flushPending()).toBe(1);
    expect((await t.delivery.readQueue(person.device_id, 0, 10)).map((e) => textOf(e.payload))).toEqual([
      'thanks',
    ]);
    expect(
      (await t.inbox.messages(owner.actor, created.business_id, conv?.conversation_id ?? '', {})).map(
        (m) => m.text,
      ),
    ).toEqual(['thanks', 'hello']);
  });
});
