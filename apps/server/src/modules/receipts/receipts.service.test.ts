import { afterEach, expect, it } from 'vitest';
import { closeTestContexts, createTestContext, type TestContext } from '../../../test/harness/builders.js';
import { describeStorage, type StorageContext } from '../../../test/harness/storage.js';

const b64 = (text: string) => Buffer.from(JSON.stringify({ text })).toString('base64');
const decode = (payload: string) =>
  JSON.parse(Buffer.from(payload, 'base64').toString()) as Record<string, unknown>;
type Person = Awaited<ReturnType<TestContext['newPerson']>>;

/** The receipt events queued for a device, as [receipt, message ids, by]. */
async function receiptsAt(t: TestContext, deviceId: string) {
  return (await t.delivery.readQueue(deviceId, 0, 1000))
    .filter((r) => r.kind === 'event')
    .map((r) => decode(r.payload))
    .filter((e) => e.type === 'receipt')
    .map((e) => [e.receipt, e.message_ids, e.by]);
}

function receiptsSuite(writerThread: boolean) {
  return (storage: () => StorageContext) => {
    afterEach(closeTestContexts);

    it('tells every device of the sender once per change, and aggregates per message', async () => {
      const t = createTestContext(storage(), { writerThread });
      const [alice, bob] = [await t.newPerson(), await t.newPerson()] as [Person, Person];
      const laptop = await t.linkCompanion(alice.actor);
      const m1 = await t.delivery.send(alice.actor, { clientId: 'r1', to: bob.phone, payload: b64('one') });
      const m2 = await t.delivery.send(alice.actor, { clientId: 'r2', to: bob.phone, payload: b64('two') });
      expect(await t.receipts.record(bob.actor, 'delivered', [m1.message_id, m2.message_id])).toBe(2);
      expect(await t.receipts.record(bob.actor, 'delivered', [m1.message_id])).toBe(0);
      expect(await t.receipts.record(bob.actor, 'read', [m1.message_id])).toBe(1);
      for (const device of [alice.device_id, laptop.device_id]) {
        expect(await receiptsAt(t, device)).toEqual([
          ['delivered', [m1.message_id, m2.message_id], bob.account_id],
          ['read', [m1.message_id], bob.account_id],
        ]);
      }
      const view = await t.receipts.forMessage(alice.actor, m1.message_id);
      expect(view.delivered.map((d) => d.account_id)).toEqual([bob.account_id]);
      expect(view.read.map((d) => d.account_id)).toEqual([bob.account_id]);
      await expect(t.receipts.forMessage(bob.actor, m1.message_id)).rejects.toMatchObject({
        code: 'MESSAGE_NOT_FOUND',
      });
    });

    it('ignores reports from anyone but the recipients, and unknown ids', async () => {
      const t = createTestContext(storage(), { writerThread });
      const [alice, bob, eve] = [await t.newPerson(), await t.newPerson(), await t.newPerson()] as [
        Person,
        Person,
        Person,
      ];
      const m = await t.delivery.send(alice.actor, { clientId: 'x', to: bob.phone, payload: b64('private') });
      expect(await t.receipts.record(eve.actor, 'read', [m.message_id, 'msg_unknown'])).toBe(0);
      expect(await t.receipts.record(alice.actor, 'read', [m.message_id])).toBe(0);
      expect(await receiptsAt(t, alice.device_id)).toEqual([]);
      await expect(
        t.receipts.record(
          bob.actor,
          'read',
          Array.from({ length: 257 }, (_, i) => `msg_${i}`),
        ),
      ).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
      });
    });

    it('does not report reads when either side turned read receipts off', async () => {
      const t = createTestContext(storage(), { writerThread });
      const [alice, bob] = [await t.newPerson(), await t.newPerson()] as [Person, Person];
      await t.contacts.setPrivacy(bob.actor, { read_receipts: false });
      const m = await t.delivery.send(alice.actor, {
        clientId: 'q',
        to: bob.phone,
        payload: b64('did you read it?'),
      });
      expect(await t.receipts.record(bob.actor, 'read', [m.message_id])).toBe(1);
      expect(await receiptsAt(t, alice.device_id)).toEqual([['delivered', [m.message_id], bob.account_id]]);
      expect((await t.receipts.forMessage(alice.actor, m.message_id)).read).toEqual([]);
    });

    it('in a group, says by whom; non-members cannot report', async () => {
      const t = createTestContext(storage(), { writerThread });
      const [alice, bob, carol, eve] = [
        await t.newPerson(),
        await t.newPerson(),
        await t.newPerson(),
        await t.newPerson(),
      ] as [Person, Person, Person, Person];
      const group = await t.groups.create(alice.actor, { subject: 'G', members: [bob.phone, carol.phone] });
      const m = await t.delivery.send(alice.actor, {
        clientId: 'g',
        to: group.group_id,
        payload: b64('hello group'),
      });
      await t.receipts.record(bob.actor, 'read', [m.message_id]);
      await t.receipts.record(carol.actor, 'delivered', [m.message_id]);
      expect(await t.receipts.record(eve.actor, 'read', [m.message_id])).toBe(0);
      const view = await t.receipts.forMessage(alice.actor, m.message_id);
      expect(new Set(view.delivered.map((d) => d.account_id))).toEqual(
        new Set([bob.account_id, carol.account_id]),
      );
      expect(view.read.map((d) => d.account_id)).toEqual([bob.account_id]);
      const events = (await t.delivery.readQueue(alice.device_id, 0, 100))
        .map((r) => decode(r.payload))
        .filter((e) => e.type === 'receipt');
      expect(events.every((e) => e.chat === group.group_id)).toBe(true);
    });
  };
}

describeStorage('receipts', receiptsSuite(false));
describeStorage('receipts, SQLite writer thread', receiptsSuite(true), ['sqlite']);
