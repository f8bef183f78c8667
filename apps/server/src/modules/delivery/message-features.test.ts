import { afterEach, expect, it } from 'vitest';
import { closeTestContexts, createTestContext, type TestContext } from '../../../test/harness/builders.js';
import { describeStorage, type StorageContext } from '../../../test/harness/storage.js';
import { DELETE_WINDOW_MS, EDIT_WINDOW_MS } from './delivery.commit.js';
import { ENVELOPE_TTL_MS } from './delivery.service.js';

const b64 = (text: string) => Buffer.from(JSON.stringify({ text })).toString('base64');
const HOUR = 3600 * 1000;

let n = 0;
const cid = () => `c${++n}`;

/** A media row as an upload makes it (the media module's upload path is tested on its own). */
async function insertMedia(t: TestContext, storage: StorageContext, owner: string) {
  const id = `med_TEST${++n}`;
  await storage.db.kysely
    .insertInto('media')
    .values({
      id,
      owner_account: owner,
      sha256: 'a'.repeat(64),
      size: 3,
      content_type: 'image/png',
      kind: 'image',
      width: 1,
      height: 1,
      thumbnail_sha256: null,
      created_at: t.clock.now(),
      expires_at: t.clock.now() + 24 * HOUR,
    })
    .execute();
  return id;
}

function featuresSuite(writerThread: boolean) {
  return (storage: () => StorageContext) => {
    afterEach(closeTestContexts);

    async function setup() {
      const t = createTestContext(storage(), { writerThread });
      const alice = await t.newPerson('Alice');
      const bob = await t.newPerson('Bob');
      const carol = await t.newPerson('Carol');
      const queue = async (deviceId: string) => t.delivery.readQueue(deviceId, 0, 100);
      const meta = (id: string) =>
        storage()
          .db.kysely.selectFrom('message_meta')
          .selectAll()
          .where('message_id', '=', id)
          .executeTakeFirst();
      return { t, alice, bob, carol, queue, meta };
    }

    it('replies name a message of the same chat, and only of that chat', async () => {
      const { t, alice, bob, carol, queue } = await setup();
      const first = await t.delivery.send(alice.actor, {
        clientId: cid(),
        to: bob.phone,
        payload: b64('hi'),
      });
      const reply = await t.delivery.send(bob.actor, {
        clientId: cid(),
        to: alice.account_id,
        payload: b64('hello back'),
        replyTo: first.message_id,
      });
      const got = (await queue(alice.device_id)).find((e) => e.message_id === reply.message_id);
      expect(got?.kind).toBe('message');
      expect(JSON.parse(got?.extra ?? '{}')).toEqual({ reply_to: first.message_id });

      // Carol is not in the chat of Alice and Bob: she cannot quote it to Alice.
      await expect(
        t.delivery.send(carol.actor, {
          clientId: cid(),
          to: alice.account_id,
          payload: b64('x'),
          replyTo: first.message_id,
        }),
      ).rejects.toMatchObject({ code: 'MESSAGE_NOT_FOUND' });
      expect((await queue(alice.device_id)).map((e) => e.sender_account)).not.toContain(carol.account_id);
    });

    it('keeps one reaction per person: changeable and removable; unknown targets are refused', async () => {
      const { t, alice, bob, carol, queue } = await setup();
      const m = await t.delivery.send(alice.actor, { clientId: cid(), to: bob.phone, payload: b64('hi') });
      const react = (payload: string) =>
        t.delivery.send(bob.actor, {
          clientId: cid(),
          to: alice.account_id,
          payload,
          kind: 'reaction',
          ref: m.message_id,
        });
      const reactions = () =>
        storage()
          .db.kysely.selectFrom('reactions')
          .selectAll()
          .where('message_id', '=', m.message_id)
          .execute();

      const thumbs = await react(b64('👍'));
      expect(await reactions()).toMatchObject([
        { account_id: bob.account_id, reaction_id: thumbs.message_id },
      ]);
      const heart = await react(b64('❤️'));
      expect(await reactions()).toMatchObject([
        { account_id: bob.account_id, reaction_id: heart.message_id },
      ]);
      const removed = await react('');
      expect(await reactions()).toEqual([]);

      const onAlice = (await queue(alice.device_id)).filter((e) => e.kind === 'reaction');
      expect(onAlice.map((e) => [e.message_id, JSON.parse(e.extra ?? '{}').ref])).toEqual([
        [thumbs.message_id, m.message_id],
        [heart.message_id, m.message_id],
        [removed.message_id, m.message_id],
      ]);

      const before = (await queue(alice.device_id)).length;
      await expect(
        t.delivery.send(bob.actor, {
          clientId: cid(),
          to: alice.account_id,
          payload: b64('?'),
          kind: 'reaction',
          ref: 'msg_NOPE',
        }),
      ).rejects.toMatchObject({ code: 'MESSAGE_NOT_FOUND' });
      // A message of another chat is unknown here too.
      await expect(
        t.delivery.send(carol.actor, {
          clientId: cid(),
          to: alice.account_id,
          payload: b64('?'),
          kind: 'reaction',
          ref: m.message_id,
        }),
      ).rejects.toMatchObject({ code: 'MESSAGE_NOT_FOUND' });
      expect(await queue(alice.device_id)).toHaveLength(before);
    });

    it('edits within 15 minutes by the sender only, marking the original edited', async () => {
      const { t, alice, bob, queue, meta } = await setup();
      const m = await t.delivery.send(alice.actor, { clientId: cid(), to: bob.phone, payload: b64('teh') });
      const editId = cid();
      const edit = await t.delivery.send(alice.actor, {
        clientId: editId,
        to: bob.phone,
        payload: b64('the'),
        kind: 'edit',
        ref: m.message_id,
      });
      expect((await meta(m.message_id))?.edited_at).not.toBeNull();
      const got = (await queue(bob.device_id)).find((e) => e.message_id === edit.message_id);
      expect(got).toMatchObject({ kind: 'edit', payload: b64('the') });
      expect(JSON.parse(got?.extra ?? '{}')).toEqual({ ref: m.message_id });

      await expect(
        t.delivery.send(bob.actor, {
          clientId: cid(),
          to: alice.phone,
          payload: b64('x'),
          kind: 'edit',
          ref: m.message_id,
        }),
      ).rejects.toMatchObject({ code: 'NOT_MESSAGE_SENDER' });

      t.clock.advance(EDIT_WINDOW_MS + 1);
      const queued = (await queue(bob.device_id)).length;
      await expect(
        t.delivery.send(alice.actor, {
          clientId: cid(),
          to: bob.phone,
          payload: b64('late'),
          kind: 'edit',
          ref: m.message_id,
        }),
      ).rejects.toMatchObject({ code: 'EDIT_WINDOW_EXPIRED' });
      expect(await queue(bob.device_id)).toHaveLength(queued);
      // A retry of the edit that did go through still answers with it, even after the window.
      await expect(
        t.delivery.send(alice.actor, {
          clientId: editId,
          to: bob.phone,
          payload: b64('the'),
          kind: 'edit',
          ref: m.message_id,
        }),
      ).resolves.toMatchObject({ message_id: edit.message_id, duplicate: true });
    });

    it('deletes for everyone within 2 days: removes what is undelivered and leaves a tombstone', async () => {
      const { t, alice, bob, queue, meta } = await setup();
      const m = await t.delivery.send(alice.actor, { clientId: cid(), to: bob.phone, payload: b64('oops') });
      const edit = await t.delivery.send(alice.actor, {
        clientId: cid(),
        to: bob.phone,
        payload: b64('oops!'),
        kind: 'edit',
        ref: m.message_id,
      });
      await t.delivery.send(bob.actor, {
        clientId: cid(),
        to: alice.phone,
        payload: b64('😮'),
        kind: 'reaction',
        ref: m.message_id,
      });
      const del = await t.delivery.send(alice.actor, {
        clientId: cid(),
        to: bob.phone,
        payload: '',
        kind: 'delete',
        ref: m.message_id,
      });

      const ids = (await queue(bob.device_id)).map((e) => e.message_id);
      expect(ids).not.toContain(m.message_id);
      expect(ids).not.toContain(edit.message_id);
      expect(ids).toContain(del.message_id);
      expect((await meta(m.message_id))?.deleted_at).not.toBeNull();
      expect(
        await storage()
          .db.kysely.selectFrom('reactions')
          .selectAll()
          .where('message_id', '=', m.message_id)
          .execute(),
      ).toEqual([]);

      for (const kind of ['edit', 'reaction'] as const) {
        await expect(
          t.delivery.send(alice.actor, {
            clientId: cid(),
            to: bob.phone,
            payload: b64('x'),
            kind,
            ref: m.message_id,
          }),
        ).rejects.toMatchObject({ code: 'MESSAGE_DELETED' });
      }

      const old = await t.delivery.send(alice.actor, { clientId: cid(), to: bob.phone, payload: b64('old') });
      t.clock.advance(DELETE_WINDOW_MS + 1);
      await expect(
        t.delivery.send(alice.actor, {
          clientId: cid(),
          to: bob.phone,
          payload: '',
          kind: 'delete',
          ref: old.message_id,
        }),
      ).rejects.toMatchObject({ code: 'DELETE_WINDOW_EXPIRED' });
      expect((await meta(old.message_id))?.deleted_at).toBeNull();
    });

    it('lets group admins delete any message of their group, and members only their own', async () => {
      const { t, alice, bob, carol, queue } = await setup();
      const group = await t.groups.create(alice.actor, { subject: 'G', members: [bob.phone, carol.phone] });
      const m = await t.delivery.send(bob.actor, {
        clientId: cid(),
        to: group.group_id,
        payload: b64('spam'),
      });
      await expect(
        t.delivery.send(carol.actor, {
          clientId: cid(),
          to: group.group_id,
          payload: '',
          kind: 'delete',
          ref: m.message_id,
        }),
      ).rejects.toMatchObject({ code: 'NOT_MESSAGE_SENDER' });
      await t.delivery.send(alice.actor, {
        clientId: cid(),
        to: group.group_id,
        payload: '',
        kind: 'delete',
        ref: m.message_id,
      });
      const carolQueue = await queue(carol.device_id);
      expect(carolQueue.map((e) => e.message_id)).not.toContain(m.message_id);
      expect(carolQueue.at(-1)).toMatchObject({ kind: 'delete', chat_id: group.group_id });
    });

    it('counts forwarding hops and flags "forwarded many times" from 5 hops', async () => {
      const { t, alice, bob, carol, queue } = await setup();
      const dave = await t.newPerson('Dave');
      let m = await t.delivery.send(alice.actor, { clientId: cid(), to: bob.phone, payload: b64('news') });
      // The message bounces between Bob and Carol, then Dave: each forward is one more hop.
      const people = [bob, carol, bob, carol, bob, dave];
      for (let hop = 1; hop < people.length; hop++) {
        const from = people[hop - 1];
        const to = people[hop];
        if (!from || !to) throw new Error('unreachable');
        m = await t.delivery.send(from.actor, {
          clientId: cid(),
          to: to.phone,
          payload: b64('news'),
          forwardOf: m.message_id,
        });
        const got = (await queue(to.device_id)).find((e) => e.message_id === m.message_id);
        const extra = JSON.parse(got?.extra ?? '{}');
        expect(extra.forwarded).toBe(hop);
        expect(extra.forwarded_many).toBe(hop >= 5 ? true : undefined);
      }
      // Nobody forwards what they never saw.
      await expect(
        t.delivery.send(alice.actor, {
          clientId: cid(),
          to: carol.phone,
          payload: b64('x'),
          forwardOf: m.message_id,
        }),
      ).rejects.toMatchObject({ code: 'MESSAGE_NOT_FOUND' });
    });

    it('refuses send shapes that make no sense before storing anything', async () => {
      const { t, alice, bob, queue } = await setup();
      const m = await t.delivery.send(alice.actor, { clientId: cid(), to: bob.phone, payload: b64('hi') });
      const bad = [
        { kind: 'message' as const, ref: m.message_id },
        { kind: 'reaction' as const },
        { kind: 'edit' as const, ref: m.message_id, payload: '' },
        { kind: 'delete' as const, ref: m.message_id, payload: b64('x') },
        { kind: 'reaction' as const, ref: m.message_id, replyTo: m.message_id },
        { viewOnce: true },
      ];
      for (const shape of bad) {
        await expect(
          t.delivery.send(alice.actor, { clientId: cid(), to: bob.phone, payload: b64('x'), ...shape }),
        ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
      }
      expect(await queue(bob.device_id)).toHaveLength(1);
    });

    it('attaches media the sender uploaded or can see, and nothing else', async () => {
      const { t, alice, bob, carol, queue } = await setup();
      const photo = await insertMedia(t, storage(), alice.account_id);
      const m = await t.delivery.send(alice.actor, {
        clientId: cid(),
        to: bob.phone,
        payload: b64('look'),
        media: [photo],
        viewOnce: false,
      });
      const got = (await queue(bob.device_id)).find((e) => e.message_id === m.message_id);
      expect(JSON.parse(got?.extra ?? '{}')).toEqual({ media: [photo] });
      const refs = await storage()
        .db.kysely.selectFrom('message_media')
        .selectAll()
        .where('media_id', '=', photo)
        .execute();
      expect(refs).toMatchObject([{ message_id: m.message_id }]);

      // Carol can neither attach Alice's upload nor an id that does not exist.
      for (const media of [[photo], ['med_NOPE']]) {
        await expect(
          t.delivery.send(carol.actor, { clientId: cid(), to: bob.phone, payload: b64('x'), media }),
        ).rejects.toMatchObject({ code: 'MEDIA_NOT_FOUND' });
      }
      // Bob received it, so he may forward it with its media.
      const fwd = await t.delivery.send(bob.actor, {
        clientId: cid(),
        to: carol.phone,
        payload: b64('look'),
        media: [photo],
        forwardOf: m.message_id,
      });
      expect(fwd.duplicate).toBe(false);
      // A view-once message cannot be forwarded.
      const once = await t.delivery.send(alice.actor, {
        clientId: cid(),
        to: bob.phone,
        payload: b64('once'),
        media: [photo],
        viewOnce: true,
      });
      await expect(
        t.delivery.send(bob.actor, {
          clientId: cid(),
          to: carol.phone,
          payload: b64('x'),
          forwardOf: once.message_id,
        }),
      ).rejects.toMatchObject({ code: 'FORBIDDEN' });
      // Nor can its media be attached to a new message by a recipient: only the view-once
      // message makes it visible to Bob, and reusing it would undo view-once.
      const secret = await insertMedia(t, storage(), alice.account_id);
      await t.delivery.send(alice.actor, {
        clientId: cid(),
        to: bob.phone,
        payload: b64('once'),
        media: [secret],
        viewOnce: true,
      });
      await expect(
        t.delivery.send(bob.actor, { clientId: cid(), to: carol.phone, payload: b64('x'), media: [secret] }),
      ).rejects.toMatchObject({ code: 'MEDIA_NOT_FOUND' });
    });

    it('makes messages disappear per chat, on both sides, server copies included', async () => {
      const { t, alice, bob, queue } = await setup();
      t.watchDevice(bob.device_id);
      const view = await t.disappearing.set(alice.actor, bob.account_id, '24h');
      expect(view).toMatchObject({ timer: '24h', timer_ms: 24 * HOUR, set_by: alice.account_id });
      expect(await t.disappearing.get(bob.actor, alice.account_id)).toMatchObject({ timer: '24h' });
      const notice = (await queue(bob.device_id)).at(-1);
      expect(notice?.kind).toBe('event');
      expect(JSON.parse(Buffer.from(notice?.payload ?? '', 'base64').toString())).toMatchObject({
        type: 'chat.disappearing',
        timer_ms: 24 * HOUR,
      });

      const sentAt = t.clock.now();
      const m = await t.delivery.send(bob.actor, { clientId: cid(), to: alice.phone, payload: b64('psst') });
      const got = (await queue(alice.device_id)).find((e) => e.message_id === m.message_id);
      expect(got?.expires_at).toBe(sentAt + 24 * HOUR);
      expect(JSON.parse(got?.extra ?? '{}')).toEqual({ disappears_at: sentAt + 24 * HOUR });

      t.clock.advance(24 * HOUR + 1);
      await t.delivery.expire();
      expect((await queue(alice.device_id)).map((e) => e.message_id)).not.toContain(m.message_id);
      const metaLeft = await storage()
        .db.kysely.selectFrom('message_meta')
        .select('message_id')
        .where('message_id', '=', m.message_id)
        .execute();
      expect(metaLeft).toEqual([]);

      // Turned off, messages keep the usual expiry.
      await t.disappearing.set(bob.actor, alice.account_id, 'off');
      const later = await t.delivery.send(bob.actor, {
        clientId: cid(),
        to: alice.phone,
        payload: b64('hi'),
      });
      const plain = (await queue(alice.device_id)).find((e) => e.message_id === later.message_id);
      expect(plain?.extra).toBeNull();
      expect(plain?.expires_at).toBe(t.clock.now() + ENVELOPE_TTL_MS);
    });

    it('lets only who may edit a group info change its timer', async () => {
      const { t, alice, bob, carol } = await setup();
      const group = await t.groups.create(alice.actor, { subject: 'G', members: [bob.phone] });
      await t.groups.update(alice.actor, group.group_id, { only_admins_edit: true });
      await expect(t.disappearing.set(bob.actor, group.group_id, '7d')).rejects.toMatchObject({
        code: 'GROUP_ADMINS_ONLY',
      });
      await expect(t.disappearing.set(carol.actor, group.group_id, '7d')).rejects.toMatchObject({
        code: 'NOT_A_GROUP_MEMBER',
      });
      expect((await t.disappearing.get(alice.actor, group.group_id)).timer).toBe('off');
      await t.disappearing.set(alice.actor, group.group_id, '7d');
      const m = await t.delivery.send(bob.actor, { clientId: cid(), to: group.group_id, payload: b64('x') });
      const got = (await t.delivery.readQueue(alice.device_id, 0, 100)).find(
        (e) => e.message_id === m.message_id,
      );
      expect(JSON.parse(got?.extra ?? '{}').disappears_at).toBe(t.clock.now() + 7 * 24 * HOUR);
    });
  };
}

describeStorage('message features', featuresSuite(false));
describeStorage('message features, SQLite writer thread', featuresSuite(true), ['sqlite']);
