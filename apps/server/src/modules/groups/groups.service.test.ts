import fc from 'fast-check';
import { afterEach, expect, it } from 'vitest';
import { closeTestContexts, createTestContext, type TestContext } from '../../../test/harness/builders.js';
import { describeStorage, type StorageContext } from '../../../test/harness/storage.js';
import { ENVELOPE_TTL_MS } from '../delivery/index.js';
import { MAX_GROUP_MEMBERS } from './groups.service.js';

const b64 = (text: string) => Buffer.from(JSON.stringify({ text })).toString('base64');
const decode = (payload: string) =>
  JSON.parse(Buffer.from(payload, 'base64').toString()) as Record<string, unknown>;

type Person = Awaited<ReturnType<TestContext['newPerson']>>;

/** Everything queued for a device, as [kind, text or event type]. */
async function queueOf(t: TestContext, deviceId: string) {
  const rows = await t.delivery.readQueue(deviceId, 0, 10_000);
  return rows.map(
    (r) => [r.kind, r.kind === 'event' ? decode(r.payload).type : decode(r.payload).text] as const,
  );
}

function groupsSuite(writerThread: boolean) {
  return (storage: () => StorageContext) => {
    afterEach(closeTestContexts);

    async function setup(n = 3) {
      const t = createTestContext(storage(), { writerThread });
      const people: Person[] = [];
      for (let i = 0; i < n; i++) people.push(await t.newPerson(`P${i}`));
      return { t, people };
    }

    it('creates a group, announces it to every member device, and fans messages out once per device', async () => {
      const { t, people } = await setup(3);
      const [alice, bob, carol] = people as [Person, Person, Person];
      const aliceLaptop = await t.linkCompanion(alice.actor);
      const group = await t.groups.create(alice.actor, {
        subject: ' Climbing ',
        members: [bob.phone, carol.account_id],
      });
      expect(group).toMatchObject({ subject: 'Climbing', only_admins_send: false, invite_code: null });
      expect(new Map(group.members.map((m) => [m.account_id, m.role]))).toEqual(
        new Map([
          [alice.account_id, 'admin'],
          [bob.account_id, 'member'],
          [carol.account_id, 'member'],
        ]),
      );

      const sent = await t.delivery.send(bob.actor, {
        clientId: 'g1',
        to: group.group_id,
        payload: b64('hi all'),
      });
      for (const device of [alice.device_id, aliceLaptop.device_id, carol.device_id]) {
        expect(await queueOf(t, device)).toEqual([
          ['event', 'group.created'],
          ['message', 'hi all'],
        ]);
        const rows = await t.delivery.readQueue(device, 0, 10);
        expect(rows[1]).toMatchObject({
          message_id: sent.message_id,
          chat_id: group.group_id,
          sender_account: bob.account_id,
        });
      }
      // The sender's own device gets only the creation event.
      expect(await queueOf(t, bob.device_id)).toEqual([['event', 'group.created']]);
    });

    it('refuses non-members and, when restricted, non-admin senders, storing nothing', async () => {
      const { t, people } = await setup(3);
      const [alice, bob, eve] = people as [Person, Person, Person];
      const group = await t.groups.create(alice.actor, { subject: 'G', members: [bob.phone] });
      await expect(
        t.delivery.send(eve.actor, { clientId: 'x', to: group.group_id, payload: b64('let me in') }),
      ).rejects.toMatchObject({ code: 'NOT_A_GROUP_MEMBER' });
      await expect(
        t.delivery.send(eve.actor, { clientId: 'y', to: 'grp_NOPE', payload: b64('?') }),
      ).rejects.toMatchObject({ code: 'GROUP_NOT_FOUND' });
      await expect(
        t.groups.update(bob.actor, group.group_id, { only_admins_send: true }),
      ).rejects.toMatchObject({
        code: 'GROUP_ADMINS_ONLY',
      });
      await t.groups.update(alice.actor, group.group_id, { only_admins_send: true });
      await expect(
        t.delivery.send(bob.actor, { clientId: 'z', to: group.group_id, payload: b64('me too') }),
      ).rejects.toMatchObject({ code: 'GROUP_ADMINS_ONLY' });
      await t.delivery.send(alice.actor, { clientId: 'a', to: group.group_id, payload: b64('announcement') });
      expect(await queueOf(t, bob.device_id)).toEqual([
        ['event', 'group.created'],
        ['event', 'group.settings_changed'],
        ['message', 'announcement'],
      ]);
      expect(await queueOf(t, eve.device_id)).toEqual([]);
    });

    it('only admins manage members; a removed member hears of it, then nothing more', async () => {
      const { t, people } = await setup(4);
      const [alice, bob, carol, dan] = people as [Person, Person, Person, Person];
      const group = await t.groups.create(alice.actor, { subject: 'G', members: [bob.phone, carol.phone] });
      await expect(t.groups.addMembers(bob.actor, group.group_id, [dan.phone])).rejects.toMatchObject({
        code: 'GROUP_ADMINS_ONLY',
      });
      await expect(t.groups.removeMember(bob.actor, group.group_id, carol.account_id)).rejects.toMatchObject({
        code: 'GROUP_ADMINS_ONLY',
      });
      await expect(t.groups.addMembers(alice.actor, group.group_id, ['+15559999990'])).rejects.toMatchObject({
        code: 'ACCOUNT_NOT_FOUND',
      });
      expect((await t.groups.get(alice.actor, group.group_id)).members).toHaveLength(3);

      await t.groups.addMembers(alice.actor, group.group_id, [dan.phone]);
      await t.groups.removeMember(alice.actor, group.group_id, carol.account_id);
      await t.delivery.send(bob.actor, { clientId: 'm', to: group.group_id, payload: b64('after') });
      expect(await queueOf(t, carol.device_id)).toEqual([
        ['event', 'group.created'],
        ['event', 'group.members_added'],
        ['event', 'group.member_removed'],
      ]);
      expect(await queueOf(t, dan.device_id)).toEqual([
        ['event', 'group.members_added'],
        ['event', 'group.member_removed'],
        ['message', 'after'],
      ]);
      await expect(t.groups.get(carol.actor, group.group_id)).rejects.toMatchObject({
        code: 'NOT_A_GROUP_MEMBER',
      });
    });

    it('admins promote and demote; the last admin leaving hands over to the longest member', async () => {
      const { t, people } = await setup(3);
      const [alice, bob, carol] = people as [Person, Person, Person];
      const group = await t.groups.create(alice.actor, { subject: 'G', members: [bob.phone] });
      t.clock.advance(1000);
      await t.groups.addMembers(alice.actor, group.group_id, [carol.phone]);
      await expect(
        t.groups.setRole(alice.actor, group.group_id, alice.account_id, 'member'),
      ).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
      });
      const promoted = await t.groups.setRole(alice.actor, group.group_id, carol.account_id, 'admin');
      expect(promoted.members.find((m) => m.account_id === carol.account_id)?.role).toBe('admin');
      await t.groups.setRole(carol.actor, group.group_id, carol.account_id, 'member');
      await t.groups.removeMember(alice.actor, group.group_id, alice.account_id);
      const after = await t.groups.get(bob.actor, group.group_id);
      expect(after.members.map((m) => [m.account_id, m.role])).toEqual([
        [bob.account_id, 'admin'],
        [carol.account_id, 'member'],
      ]);
      const events = (await t.delivery.readQueue(bob.device_id, 0, 100)).map((r) => decode(r.payload));
      expect(events.at(-1)).toMatchObject({
        type: 'group.member_left',
        member: alice.account_id,
        promoted: [bob.account_id],
      });
    });

    it('edits info (restrictable to admins) and invite links (admins; revocable; replaced links die)', async () => {
      const { t, people } = await setup(3);
      const [alice, bob, carol] = people as [Person, Person, Person];
      const group = await t.groups.create(alice.actor, { subject: 'G', members: [bob.phone] });
      expect((await t.groups.update(bob.actor, group.group_id, { subject: 'New' })).subject).toBe('New');
      await t.groups.update(alice.actor, group.group_id, { only_admins_edit: true });
      await expect(t.groups.update(bob.actor, group.group_id, { description: 'x' })).rejects.toMatchObject({
        code: 'GROUP_ADMINS_ONLY',
      });

      await expect(t.groups.createInvite(bob.actor, group.group_id)).rejects.toMatchObject({
        code: 'GROUP_ADMINS_ONLY',
      });
      const first = await t.groups.createInvite(alice.actor, group.group_id);
      const second = await t.groups.createInvite(alice.actor, group.group_id);
      expect((await t.groups.get(alice.actor, group.group_id)).invite_code).toBe(second.code);
      expect((await t.groups.get(bob.actor, group.group_id)).invite_code).toBeNull();
      await expect(t.groups.join(carol.actor, first.code)).rejects.toMatchObject({ code: 'GROUP_NOT_FOUND' });
      const joined = await t.groups.join(carol.actor, second.code);
      expect(joined.members.map((m) => m.account_id)).toContain(carol.account_id);
      await t.groups.revokeInvite(alice.actor, group.group_id);
      const dan = await t.newPerson();
      await expect(t.groups.join(dan.actor, second.code)).rejects.toMatchObject({ code: 'GROUP_NOT_FOUND' });
    });

    it('stores a group message once and expires it with its envelopes after 30 days', async () => {
      const { t, people } = await setup(3);
      const [alice, bob, carol] = people as [Person, Person, Person];
      const group = await t.groups.create(alice.actor, { subject: 'G', members: [bob.phone, carol.phone] });
      const sent = await t.delivery.send(alice.actor, {
        clientId: 'once',
        to: group.group_id,
        payload: b64('stored once'),
      });
      const bodies = await storage()
        .db.kysely.selectFrom('message_bodies')
        .select('payload')
        .where('message_id', '=', sent.message_id)
        .execute();
      expect(bodies).toEqual([{ payload: b64('stored once') }]);
      t.clock.advance(ENVELOPE_TTL_MS + 1000);
      const expired = await t.delivery.expire();
      expect(expired.bodies).toBeGreaterThanOrEqual(2); // the creation event's and the message's
      expect(await t.delivery.readQueue(bob.device_id, 0, 10)).toEqual([]);
      expect(
        await storage()
          .db.kysely.selectFrom('message_bodies')
          .selectAll()
          .where('message_id', '=', sent.message_id)
          .execute(),
      ).toEqual([]);
    });

    it(`holds at most ${MAX_GROUP_MEMBERS} members`, async () => {
      const { t, people } = await setup(2);
      const [alice, late] = people as [Person, Person];
      const others: string[] = [];
      for (let i = 0; i < MAX_GROUP_MEMBERS - 1; i++) others.push((await t.newPerson()).account_id);
      const group = await t.groups.create(alice.actor, { subject: 'Big', members: others });
      expect(group.members).toHaveLength(MAX_GROUP_MEMBERS);
      await expect(t.groups.addMembers(alice.actor, group.group_id, [late.phone])).rejects.toMatchObject({
        code: 'GROUP_FULL',
        details: { max_members: MAX_GROUP_MEMBERS },
      });
      const { code } = await t.groups.createInvite(alice.actor, group.group_id);
      await expect(t.groups.join(late.actor, code)).rejects.toMatchObject({ code: 'GROUP_FULL' });
    }, 120_000);

    it('property: with joins, leaves and messages racing, a message reaches exactly the members of its moment', async () => {
      const { t, people } = await setup(6);
      const [owner, ...rest] = people as [Person, ...Person[]];
      // The owner's second device sees every event and message of the group in commit order:
      // the reference against which each member's queue is checked.
      const observer = await t.linkCompanion(owner.actor);
      type Op = { kind: 'join' | 'leave' | 'send'; who: number };
      const op = fc.record({
        kind: fc.constantFrom<'join' | 'leave' | 'send'>('join', 'leave', 'send'),
        who: fc.nat(4),
      });
      let run = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(op, { minLength: 5, maxLength: 30 }), async (ops: Op[]) => {
          run++;
          const group = await t.groups.create(owner.actor, { subject: `P${run}`, members: [] });
          // Everything at once; membership operations that lose a race (leave before join) fail
          // harmlessly with a documented error.
          await Promise.all(
            ops.map(async (o, i) => {
              const person = rest[o.who] as Person;
              try {
                if (o.kind === 'join')
                  await t.groups.addMembers(owner.actor, group.group_id, [person.account_id]);
                else if (o.kind === 'leave')
                  await t.groups.removeMember(person.actor, group.group_id, person.account_id);
                else
                  await t.delivery.send(owner.actor, {
                    clientId: `r${run}m${i}`,
                    to: group.group_id,
                    payload: b64(`r${run}m${i}`),
                  });
              } catch (e: unknown) {
                expect((e as { code?: string }).code).toBe('NOT_A_GROUP_MEMBER');
              }
            }),
          );
          const reference = (await t.delivery.readQueue(observer.device_id, 0, 100_000)).filter(
            (r) => r.chat_id === group.group_id,
          );
          for (const p of rest) {
            let member = false;
            const expected: string[] = [];
            for (const row of reference) {
              const body = decode(row.payload);
              if (row.kind === 'message') {
                if (member) expected.push(body.text as string);
              } else if (
                body.type === 'group.members_added' &&
                (body.members as string[]).includes(p.account_id)
              ) {
                member = true;
              } else if (body.type === 'group.member_left' && body.member === p.account_id) {
                member = false;
              }
            }
            const got = (await t.delivery.readQueue(p.device_id, 0, 100_000))
              .filter((r) => r.chat_id === group.group_id && r.kind === 'message')
              .map((r) => decode(r.payload).text);
            expect(got).toEqual(expected);
          }
        }),
        { numRuns: 15 },
      );
    }, 120_000);
  };
}

describeStorage('groups', groupsSuite(false));
describeStorage('groups, SQLite writer thread', groupsSuite(true), ['sqlite']);
