import { MAX_PINNED_CHATS, MUTE_FOREVER } from '@parley/protocol';
import { afterEach, expect, it } from 'vitest';
import { closeTestContexts, createTestContext, type TestContext } from '../../../test/harness/builders.js';
import { describeStorage, type StorageContext } from '../../../test/harness/storage.js';

const b64 = (text: string) => Buffer.from(JSON.stringify({ text })).toString('base64');
const decode = (payload: string) =>
  JSON.parse(Buffer.from(payload, 'base64').toString()) as Record<string, unknown>;
type Person = Awaited<ReturnType<TestContext['newPerson']>>;

/** The system events queued for a device, with the chat of their envelope. */
async function eventsAt(t: TestContext, deviceId: string) {
  return (await t.delivery.readQueue(deviceId, 0, 1000))
    .filter((r) => r.kind === 'event')
    .map((r): Record<string, unknown> => ({ chat: r.chat_id, from: r.sender_device, ...decode(r.payload) }));
}

async function setup(t: TestContext) {
  const [alice, bob] = [await t.newPerson(), await t.newPerson()] as [Person, Person];
  const laptop = await t.linkCompanion(alice.actor);
  return { alice, bob, laptop };
}

describeStorage('chat state and starred messages', (storage: () => StorageContext) => {
  afterEach(closeTestContexts);

  it('archives, pins, mutes and marks read; each change bumps the account’s version once', async () => {
    const t = createTestContext(storage());
    const { alice, bob } = await setup(t);
    expect(await t.chats.list(alice.actor)).toMatchObject({ chats: [], version: 0 });

    const archived = await t.chats.update(alice.actor, bob.account_id, { archived: true });
    expect(archived).toEqual({
      chat_id: bob.account_id,
      archived: true,
      pinned: false,
      pinned_at: null,
      muted_until: null,
      read_up_to: null,
      read_at: null,
      version: 1,
    });
    const until = t.clock.now() + 3_600_000;
    const muted = await t.chats.update(alice.actor, bob.account_id, { pinned: true, muted_until: until });
    expect(muted).toMatchObject({
      archived: true,
      pinned: true,
      pinned_at: t.clock.now(),
      muted_until: until,
    });
    expect(muted.version).toBe(2);
    // The same values again change nothing: no new version.
    expect(await t.chats.update(alice.actor, bob.account_id, { archived: true, pinned: true })).toEqual(
      muted,
    );
    expect(await t.chats.update(alice.actor, bob.account_id, { muted_until: MUTE_FOREVER })).toMatchObject({
      muted_until: MUTE_FOREVER,
      version: 3,
    });

    const group = await t.groups.create(alice.actor, { subject: 'G', members: [bob.phone] });
    await t.chats.update(alice.actor, group.group_id, { archived: true });
    const all = await t.chats.list(alice.actor);
    expect(all.version).toBe(4);
    expect(all.chats.map((c) => [c.chat_id, c.version])).toEqual([
      [bob.account_id, 3],
      [group.group_id, 4],
    ]);
    expect((await t.chats.list(alice.actor, 3)).chats.map((c) => c.chat_id)).toEqual([group.group_id]);
    expect((await t.chats.list(alice.actor, 4)).chats).toEqual([]);
    // Bob's state is his own.
    expect(await t.chats.list(bob.actor)).toMatchObject({ chats: [], version: 0 });
  });

  it('pins at most 3 chats and names the limit; a refused pin changes nothing', async () => {
    const t = createTestContext(storage());
    const { alice } = await setup(t);
    const others = [await t.newPerson(), await t.newPerson(), await t.newPerson(), await t.newPerson()];
    for (const o of others.slice(0, MAX_PINNED_CHATS)) {
      await t.chats.update(alice.actor, o.account_id, { pinned: true });
    }
    const before = await t.chats.list(alice.actor);
    const fourth = others[3] as Person;
    await expect(
      t.chats.update(alice.actor, fourth.account_id, { pinned: true, archived: true }),
    ).rejects.toMatchObject({ code: 'CHAT_PIN_LIMIT', details: { max_pinned: 3 } });
    expect(await t.chats.list(alice.actor)).toEqual(before);
    // Re-pinning a pinned chat is not a fourth pin; unpinning one makes room.
    await t.chats.update(alice.actor, (others[0] as Person).account_id, { pinned: true });
    await t.chats.update(alice.actor, (others[0] as Person).account_id, { pinned: false });
    expect(await t.chats.update(alice.actor, fourth.account_id, { pinned: true })).toMatchObject({
      pinned: true,
    });
  });

  it('refuses unknown chats, foreign messages and past mutes with documented errors, changing nothing', async () => {
    const t = createTestContext(storage());
    const { alice, bob } = await setup(t);
    const [carol, dave] = [await t.newPerson(), await t.newPerson()] as [Person, Person];
    await t.chats.update(alice.actor, bob.account_id, { archived: true });
    const before = await t.chats.list(alice.actor);
    const theirs = await t.groups.create(carol.actor, { subject: 'Not Alice’s', members: [dave.phone] });
    const private1 = await t.delivery.send(carol.actor, {
      clientId: 'c1',
      to: dave.phone,
      payload: b64('x'),
    });
    const toAlice = await t.delivery.send(carol.actor, {
      clientId: 'c2',
      to: alice.phone,
      payload: b64('y'),
    });

    for (const chat of ['acc_nobody', theirs.group_id, 'grp_nothing', 'something']) {
      await expect(t.chats.update(alice.actor, chat, { archived: true })).rejects.toMatchObject({
        code: 'CHAT_NOT_FOUND',
      });
    }
    // A message between others, and a real message of another chat, are not this chat's.
    for (const id of [private1.message_id, toAlice.message_id, 'msg_unknown']) {
      await expect(
        t.chats.update(alice.actor, bob.account_id, { archived: false, read_up_to: id }),
      ).rejects.toMatchObject({ code: 'MESSAGE_NOT_FOUND' });
    }
    await expect(
      t.chats.update(alice.actor, bob.account_id, { archived: false, muted_until: t.clock.now() - 1 }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(t.chats.star(alice.actor, private1.message_id)).rejects.toMatchObject({
      code: 'MESSAGE_NOT_FOUND',
    });
    await expect(t.chats.unstar(alice.actor, private1.message_id)).rejects.toMatchObject({
      code: 'MESSAGE_NOT_FOUND',
    });
    expect(await t.chats.list(alice.actor)).toEqual(before);
    expect(await t.chats.starred(alice.actor)).toEqual({ starred: [], version: before.version });
  });

  it('moves a read position only forward, in a 1:1 chat and in a group', async () => {
    const t = createTestContext(storage());
    const { alice, bob } = await setup(t);
    const first = await t.delivery.send(bob.actor, { clientId: 'b1', to: alice.phone, payload: b64('1') });
    t.clock.advance(1000);
    const second = await t.delivery.send(alice.actor, { clientId: 'a1', to: bob.phone, payload: b64('2') });
    t.clock.advance(1000);

    const read = await t.chats.update(alice.actor, bob.account_id, { read_up_to: second.message_id });
    expect(read).toMatchObject({ read_up_to: second.message_id, read_at: t.clock.now(), version: 1 });
    // An older position is ignored (a device reporting late), and bumps nothing.
    t.clock.advance(1000);
    expect(await t.chats.update(alice.actor, bob.account_id, { read_up_to: first.message_id })).toEqual(read);
    // Bob reads in his own chat with Alice: the chat id is the other party.
    expect(await t.chats.update(bob.actor, alice.account_id, { read_up_to: first.message_id })).toMatchObject(
      { read_up_to: first.message_id },
    );

    const group = await t.groups.create(bob.actor, { subject: 'G', members: [alice.phone] });
    const g1 = await t.delivery.send(bob.actor, { clientId: 'g1', to: group.group_id, payload: b64('g1') });
    t.clock.advance(1000);
    const g2 = await t.delivery.send(bob.actor, { clientId: 'g2', to: group.group_id, payload: b64('g2') });
    await expect(
      t.chats.update(alice.actor, bob.account_id, { read_up_to: g1.message_id }),
    ).rejects.toMatchObject({ code: 'MESSAGE_NOT_FOUND' });
    await t.chats.update(alice.actor, group.group_id, { read_up_to: g2.message_id });
    expect(await t.chats.update(alice.actor, group.group_id, { read_up_to: g1.message_id })).toMatchObject({
      read_up_to: g2.message_id,
    });
  });

  it('stars and unstars idempotently, newest first, and only messages the account can see', async () => {
    const t = createTestContext(storage());
    const { alice, bob } = await setup(t);
    const m1 = await t.delivery.send(bob.actor, { clientId: 'b1', to: alice.phone, payload: b64('1') });
    t.clock.advance(1000);
    const group = await t.groups.create(bob.actor, { subject: 'G', members: [alice.phone] });
    const m2 = await t.delivery.send(alice.actor, { clientId: 'g', to: group.group_id, payload: b64('2') });

    const s1 = await t.chats.star(alice.actor, m1.message_id);
    expect(s1).toEqual({
      message_id: m1.message_id,
      chat_id: bob.account_id,
      starred: true,
      starred_at: t.clock.now(),
      version: 1,
    });
    t.clock.advance(1000);
    expect(await t.chats.star(alice.actor, m1.message_id)).toEqual(s1);
    const s2 = await t.chats.star(alice.actor, m2.message_id);
    expect(s2).toMatchObject({ chat_id: group.group_id, version: 2 });
    expect(await t.chats.starred(alice.actor)).toEqual({
      starred: [
        { message_id: m2.message_id, chat_id: group.group_id, starred_at: s2.starred_at },
        { message_id: m1.message_id, chat_id: bob.account_id, starred_at: s1.starred_at },
      ],
      version: 2,
    });
    const un = await t.chats.unstar(alice.actor, m1.message_id);
    expect(un).toEqual({
      message_id: m1.message_id,
      chat_id: bob.account_id,
      starred: false,
      starred_at: null,
      version: 3,
    });
    expect(await t.chats.unstar(alice.actor, m1.message_id)).toEqual(un);
    expect((await t.chats.starred(alice.actor)).starred.map((s) => s.message_id)).toEqual([m2.message_id]);
    // Bob stars the same message in his own list, filed under his chat with Alice.
    expect(await t.chats.star(bob.actor, m1.message_id)).toMatchObject({ chat_id: alice.account_id });

    // A member who left the group can no longer star its messages.
    await t.groups.removeMember(alice.actor, group.group_id, alice.account_id);
    const m3 = await t.delivery.send(bob.actor, { clientId: 'g3', to: group.group_id, payload: b64('3') });
    await expect(t.chats.star(alice.actor, m3.message_id)).rejects.toMatchObject({
      code: 'MESSAGE_NOT_FOUND',
    });
    await expect(t.chats.update(alice.actor, group.group_id, { archived: true })).rejects.toMatchObject({
      code: 'CHAT_NOT_FOUND',
    });
  });

  it('queues each change to the account’s other devices only, under the chat it concerns', async () => {
    const t = createTestContext(storage());
    const { alice, bob, laptop } = await setup(t);
    const tablet = await t.linkCompanion(alice.actor, 'Tablet');
    const m = await t.delivery.send(bob.actor, { clientId: 'b1', to: alice.phone, payload: b64('hi') });
    const announced: string[] = [];
    for (const d of [alice.device_id, laptop.device_id, tablet.device_id, bob.device_id]) {
      t.bus.subscribe(`device:${d}`, () => announced.push(d));
    }

    await t.chats.update(laptop.actor, bob.account_id, { pinned: true });
    await t.chats.star(laptop.actor, m.message_id);
    await t.chats.unstar(tablet.actor, m.message_id);
    await t.chats.update(laptop.actor, bob.account_id, { pinned: true }); // no change: no event

    const pinned = {
      chat: bob.account_id,
      from: laptop.device_id,
      type: 'chat.state',
      chat_id: bob.account_id,
      archived: false,
      pinned: true,
      pinned_at: t.clock.now(),
      muted_until: null,
      read_up_to: null,
      read_at: null,
      version: 1,
    };
    const starred = {
      chat: bob.account_id,
      from: laptop.device_id,
      type: 'message.starred',
      message_id: m.message_id,
      chat_id: bob.account_id,
      starred_at: t.clock.now(),
      version: 2,
    };
    const unstarred = {
      chat: bob.account_id,
      from: tablet.device_id,
      type: 'message.unstarred',
      message_id: m.message_id,
      chat_id: bob.account_id,
      version: 3,
    };
    expect(await eventsAt(t, alice.device_id)).toEqual([pinned, starred, unstarred]);
    expect(await eventsAt(t, laptop.device_id)).toEqual([unstarred]);
    expect(await eventsAt(t, tablet.device_id)).toEqual([pinned, starred]);
    expect(await eventsAt(t, bob.device_id)).toEqual([]);
    expect(announced.filter((d) => d === bob.device_id)).toEqual([]);
    expect(announced.filter((d) => d === alice.device_id)).toHaveLength(3);
  });

  it('syncs privacy and profile changes to the account’s other devices with the version', async () => {
    const t = createTestContext(storage());
    const { alice, laptop } = await setup(t);
    await t.chats.update(alice.actor, laptop.actor.accountId, { archived: true }); // a chat with oneself
    const privacy = await t.contacts.setPrivacy(laptop.actor, { last_seen: 'nobody', read_receipts: false });
    expect(privacy).toMatchObject({ last_seen: 'nobody', read_receipts: false, version: 2 });
    const profile = await t.accounts.updateProfile(alice.actor, { display_name: 'Alice', about: 'Hi' });
    expect(profile).toMatchObject({ display_name: 'Alice', version: 3 });
    // Nothing to change: no event, no version.
    expect(await t.contacts.setPrivacy(alice.actor, {})).not.toHaveProperty('version');

    const settings = (version: number, display_name: string, about: string) => ({
      profile: { display_name, about, photo: null },
      privacy: {
        last_seen: 'nobody',
        online: 'everyone',
        photo: 'everyone',
        about: 'everyone',
        read_receipts: false,
      },
      version,
    });
    expect((await eventsAt(t, alice.device_id)).filter((e) => e.type === 'account.settings')).toEqual([
      {
        chat: alice.account_id,
        from: laptop.device_id,
        type: 'account.settings',
        ...settings(2, 'Person', ''),
      },
    ]);
    expect((await eventsAt(t, laptop.device_id)).filter((e) => e.type === 'account.settings')).toEqual([
      {
        chat: alice.account_id,
        from: alice.device_id,
        type: 'account.settings',
        ...settings(3, 'Alice', 'Hi'),
      },
    ]);
    const list = await t.chats.list(laptop.actor);
    expect(list.settings).toEqual(settings(3, 'Alice', 'Hi'));
    expect(list.version).toBe(3);
  });
});
