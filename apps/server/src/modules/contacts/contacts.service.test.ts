import { afterEach, expect, it } from 'vitest';
import { closeTestContexts, createTestContext, type TestContext } from '../../../test/harness/builders.js';
import { describeStorage, type StorageContext } from '../../../test/harness/storage.js';
import { phoneHash } from '../accounts/index.js';
import { MAX_HASHES_PER_DAY, MAX_HASHES_PER_REQUEST } from './contacts.service.js';

const b64 = (text: string) => Buffer.from(JSON.stringify({ text })).toString('base64');
type Person = Awaited<ReturnType<TestContext['newPerson']>>;

function contactsSuite(writerThread: boolean) {
  return (storage: () => StorageContext) => {
    afterEach(closeTestContexts);

    it('discovers which hashed numbers are on Parley, never matching yourself', async () => {
      const t = createTestContext(storage(), { writerThread });
      const alice = await t.newPerson();
      const bob = await t.newPerson();
      const matches = await t.contacts.discover(alice.actor, [
        phoneHash(bob.phone),
        phoneHash(alice.phone),
        phoneHash('+15559999991'),
        phoneHash(bob.phone),
      ]);
      expect(matches).toEqual([{ hash: phoneHash(bob.phone), account_id: bob.account_id }]);
    });

    it('limits discovery per request and per day', async () => {
      const t = createTestContext(storage(), { writerThread });
      const alice = await t.newPerson();
      const many = (n: number, salt: string) =>
        Array.from({ length: n }, (_, i) => phoneHash(`+1555${salt}${String(i).padStart(4, '0')}`));
      await expect(
        t.contacts.discover(alice.actor, many(MAX_HASHES_PER_REQUEST + 1, '001')),
      ).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
      });
      for (let i = 0; i < MAX_HASHES_PER_DAY / MAX_HASHES_PER_REQUEST; i++) {
        await t.contacts.discover(alice.actor, many(MAX_HASHES_PER_REQUEST, String(100 + i)));
      }
      await expect(t.contacts.discover(alice.actor, many(1, '999'))).rejects.toMatchObject({
        code: 'RATE_LIMITED',
      });
    });

    it('a blocked person’s messages are not delivered; the sender is not told; groups are unaffected', async () => {
      const t = createTestContext(storage(), { writerThread });
      const alice = await t.newPerson();
      const mallory = await t.newPerson();
      const malloryLaptop = await t.linkCompanion(mallory.actor);
      await t.contacts.block(alice.actor, mallory.phone);
      const sent = await t.delivery.send(mallory.actor, {
        clientId: 'b1',
        to: alice.phone,
        payload: b64('hello?'),
      });
      expect(sent.duplicate).toBe(false);
      expect(await t.delivery.readQueue(alice.device_id, 0, 10)).toEqual([]);
      // Mallory's own other device keeps its copy.
      expect((await t.delivery.readQueue(malloryLaptop.device_id, 0, 10)).map((e) => e.message_id)).toEqual([
        sent.message_id,
      ]);
      // Alice can still write to Mallory.
      await t.delivery.send(alice.actor, { clientId: 'a1', to: mallory.phone, payload: b64('stop') });
      expect(await t.delivery.readQueue(mallory.device_id, 0, 10)).toHaveLength(1);

      const group = await t.groups.create(alice.actor, { subject: 'G', members: [mallory.phone] });
      await t.delivery.send(mallory.actor, {
        clientId: 'g1',
        to: group.group_id,
        payload: b64('in a group'),
      });
      expect((await t.delivery.readQueue(alice.device_id, 0, 10)).map((e) => e.kind)).toEqual([
        'event',
        'message',
      ]);

      expect(await t.contacts.listBlocked(alice.actor)).toEqual([
        expect.objectContaining({ account_id: mallory.account_id, phone: mallory.phone }),
      ]);
      await t.contacts.unblock(alice.actor, mallory.account_id);
      await t.delivery.send(mallory.actor, { clientId: 'b2', to: alice.phone, payload: b64('sorry') });
      expect((await t.delivery.readQueue(alice.device_id, 0, 10)).map((e) => e.kind)).toEqual([
        'event',
        'message',
        'message',
      ]);
    });

    it('refuses to block yourself or nobody', async () => {
      const t = createTestContext(storage(), { writerThread });
      const alice = await t.newPerson();
      await expect(t.contacts.block(alice.actor, alice.phone)).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
      });
      await expect(t.contacts.block(alice.actor, '+15559999992')).rejects.toMatchObject({
        code: 'ACCOUNT_NOT_FOUND',
      });
      expect(await t.contacts.listBlocked(alice.actor)).toEqual([]);
    });

    it('shows "about" per the owner’s privacy setting and never to someone it blocked', async () => {
      const t = createTestContext(storage(), { writerThread });
      const [owner, contact, stranger] = [
        await t.newPerson(),
        await t.newPerson(),
        await t.newPerson(),
      ] as Person[] as [Person, Person, Person];
      await t.accounts.updateProfile(owner.actor, { about: 'Climbing' });
      await t.contacts.discover(owner.actor, [phoneHash(contact.phone)]);
      const about = async (viewer: Person) => (await t.accounts.getProfile(viewer.actor, owner.phone)).about;
      expect([await about(contact), await about(stranger)]).toEqual(['Climbing', 'Climbing']);
      expect(
        await t.contacts.setPrivacy(owner.actor, { about: 'contacts', read_receipts: false }),
      ).toMatchObject({
        about: 'contacts',
        read_receipts: false,
        last_seen: 'everyone',
      });
      expect([await about(contact), await about(stranger)]).toEqual(['Climbing', '']);
      await t.contacts.setPrivacy(owner.actor, { about: 'nobody' });
      expect([await about(contact), await about(owner)]).toEqual(['', 'Climbing']);
      await t.contacts.setPrivacy(owner.actor, { about: 'everyone' });
      await t.contacts.block(owner.actor, stranger.account_id);
      expect([await about(contact), await about(stranger)]).toEqual(['Climbing', '']);
    });

    it('shows online and last seen per privacy settings; hidden fields are null', async () => {
      const t = createTestContext(storage(), { writerThread });
      const [owner, contact, stranger] = [await t.newPerson(), await t.newPerson(), await t.newPerson()] as [
        Person,
        Person,
        Person,
      ];
      await t.contacts.discover(owner.actor, [phoneHash(contact.phone)]);
      expect(await t.contacts.presence(stranger.actor, owner.phone)).toEqual({
        account_id: owner.account_id,
        online: false,
        last_seen: null, // never connected
      });
      t.presence.connected(owner.account_id, t.clock.now());
      expect((await t.contacts.presence(stranger.actor, owner.account_id)).online).toBe(true);
      await t.accounts.touchDevices([owner.device_id]);
      t.presence.disconnected(owner.account_id, t.clock.now());
      const seen = await t.contacts.presence(contact.actor, owner.account_id);
      expect(seen).toEqual({
        account_id: owner.account_id,
        online: false,
        last_seen: new Date(t.clock.now()).toISOString(),
      });

      await t.contacts.setPrivacy(owner.actor, { last_seen: 'contacts', online: 'nobody' });
      expect(await t.contacts.presence(contact.actor, owner.account_id)).toMatchObject({
        online: null,
        last_seen: seen.last_seen,
      });
      expect(await t.contacts.presence(stranger.actor, owner.account_id)).toMatchObject({
        online: null,
        last_seen: null,
      });
      await t.contacts.setPrivacy(owner.actor, { last_seen: 'everyone', online: 'everyone' });
      await t.contacts.block(owner.actor, stranger.account_id);
      expect(await t.contacts.presence(stranger.actor, owner.account_id)).toMatchObject({
        online: null,
        last_seen: null,
      });
      await expect(t.contacts.presence(owner.actor, '+15559999995')).rejects.toMatchObject({
        code: 'ACCOUNT_NOT_FOUND',
      });
    });

    it('records spam reports and blocks on request', async () => {
      const t = createTestContext(storage(), { writerThread });
      const alice = await t.newPerson();
      const spammer = await t.newPerson();
      const report = await t.contacts.report(alice.actor, {
        account: spammer.phone,
        reason: 'spam',
        block: true,
      });
      expect(report).toMatchObject({ report_id: expect.stringMatching(/^rep_/), blocked: true });
      expect((await t.contacts.listBlocked(alice.actor)).map((b) => b.account_id)).toEqual([
        spammer.account_id,
      ]);
      await expect(t.contacts.report(alice.actor, { account: '+15559999993' })).rejects.toMatchObject({
        code: 'ACCOUNT_NOT_FOUND',
      });
    });
  };
}

describeStorage('contacts and privacy', contactsSuite(false));
describeStorage('contacts and privacy, SQLite writer thread', contactsSuite(true), ['sqlite']);
