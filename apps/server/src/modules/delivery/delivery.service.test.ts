import { afterEach, describe, expect, it } from 'vitest';
import { closeTestContexts, createTestContext } from '../../../test/harness/builders.js';
import { describeStorage, type StorageContext } from '../../../test/harness/storage.js';
import { ENVELOPE_TTL_MS } from './delivery.service.js';
import { base64DecodedLength } from './index.js';

const b64 = (text: string) => Buffer.from(JSON.stringify({ text })).toString('base64');

function deliverySuite(writerThread: boolean) {
  return (storage: () => StorageContext) => {
    afterEach(closeTestContexts);

    it('commits a send before acking it and queues one envelope per recipient device', async () => {
      const t = createTestContext(storage(), { writerThread });
      const alice = await t.newPerson('Alice');
      const bob = await t.newPerson('Bob');
      t.watchDevice(bob.device_id);

      const sent = await t.delivery.send(alice.actor, { clientId: 'c1', to: bob.phone, payload: b64('hi') });
      expect(sent.duplicate).toBe(false);
      expect(sent.message_id).toMatch(/^msg_[0-9A-Z]{26}$/);

      const queue = await t.delivery.readQueue(bob.device_id, 0, 10);
      expect(queue).toHaveLength(1);
      expect(queue[0]).toMatchObject({
        seq: 1,
        message_id: sent.message_id,
        sender_account: alice.account_id,
        sender_device: alice.device_id,
        sender_phone: alice.phone,
        payload: b64('hi'),
        sent_at: sent.sent_at,
        expires_at: sent.sent_at + ENVELOPE_TTL_MS,
      });
      // Published only after commit, so a reader of the bus always finds the row.
      expect(t.events.map((e) => e.event.type)).toEqual(['envelope']);
      // Nothing for the sender's own device.
      expect(await t.delivery.readQueue(alice.device_id, 0, 10)).toEqual([]);
    });

    it('addresses recipients by account id as well as by phone', async () => {
      const t = createTestContext(storage(), { writerThread });
      const alice = await t.newPerson();
      const bob = await t.newPerson();
      await t.delivery.send(alice.actor, { clientId: 'a', to: bob.account_id, payload: b64('by id') });
      await t.delivery.send(alice.actor, {
        clientId: 'b',
        to: bob.phone.replace('+1555', '+1 555 '),
        payload: b64('x'),
      });
      expect((await t.delivery.readQueue(bob.device_id, 0, 10)).map((e) => e.seq)).toEqual([1, 2]);
    });

    it('is idempotent on (sender device, client id), across batches and within one batch', async () => {
      const t = createTestContext(storage(), { writerThread });
      const alice = await t.newPerson();
      const bob = await t.newPerson();
      const first = await t.delivery.send(alice.actor, {
        clientId: 'same',
        to: bob.phone,
        payload: b64('once'),
      });
      const retry = await t.delivery.send(alice.actor, {
        clientId: 'same',
        to: bob.phone,
        payload: b64('once'),
      });
      expect(retry).toEqual({ ...first, duplicate: true });

      const [x, y] = await Promise.all([
        t.delivery.send(alice.actor, { clientId: 'twin', to: bob.phone, payload: b64('twin') }),
        t.delivery.send(alice.actor, { clientId: 'twin', to: bob.phone, payload: b64('twin') }),
      ]);
      expect(x?.message_id).toBe(y?.message_id);
      expect([x?.duplicate, y?.duplicate].sort()).toEqual([false, true]);

      const queue = await t.delivery.readQueue(bob.device_id, 0, 10);
      expect(queue.map((e) => e.message_id)).toEqual([first.message_id, x?.message_id]);
    });

    it('the same client id from another device is a different message', async () => {
      const t = createTestContext(storage(), { writerThread });
      const alice = await t.newPerson();
      const carol = await t.newPerson();
      const bob = await t.newPerson();
      const a = await t.delivery.send(alice.actor, { clientId: 'k', to: bob.phone, payload: b64('a') });
      const c = await t.delivery.send(carol.actor, { clientId: 'k', to: bob.phone, payload: b64('c') });
      expect(a.message_id).not.toBe(c.message_id);
      expect(c.duplicate).toBe(false);
    });

    it('refuses unknown recipients and bad input, storing nothing', async () => {
      const t = createTestContext(storage(), { writerThread });
      const alice = await t.newPerson();
      await expect(
        t.delivery.send(alice.actor, { clientId: 'u1', to: '+15559999999', payload: b64('?') }),
      ).rejects.toMatchObject({ code: 'RECIPIENT_NOT_FOUND' });
      await expect(
        t.delivery.send(alice.actor, { clientId: 'u2', to: 'acc_NOPE', payload: b64('?') }),
      ).rejects.toMatchObject({ code: 'RECIPIENT_NOT_FOUND' });
      await expect(
        t.delivery.send(alice.actor, { clientId: 'u3', to: 'not a number', payload: b64('?') }),
      ).rejects.toMatchObject({ code: 'PHONE_INVALID' });
      const big = Buffer.alloc(64 * 1024 + 1).toString('base64');
      const bob = await t.newPerson();
      await expect(
        t.delivery.send(alice.actor, { clientId: 'u4', to: bob.phone, payload: big }),
      ).rejects.toMatchObject({
        code: 'PAYLOAD_TOO_LARGE',
      });
      // A failed send does not burn its client id: the same id works once the input is right.
      const ok = await t.delivery.send(alice.actor, { clientId: 'u1', to: bob.phone, payload: b64('fine') });
      expect(ok.duplicate).toBe(false);
      expect(await t.delivery.readQueue(bob.device_id, 0, 10)).toHaveLength(1);
    });

    it('keeps each sender’s order and gives the recipient contiguous sequences under concurrency', async () => {
      const t = createTestContext(storage(), { writerThread });
      const bob = await t.newPerson();
      const senders = [await t.newPerson(), await t.newPerson(), await t.newPerson()];
      await Promise.all(
        senders.flatMap((s, si) =>
          Array.from({ length: 40 }, (_, i) =>
            t.delivery.send(s.actor, { clientId: `m${i}`, to: bob.phone, payload: b64(`${si}:${i}`) }),
          ),
        ),
      );
      const queue = await t.delivery.readQueue(bob.device_id, 0, 1000);
      expect(queue.map((e) => e.seq)).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
      for (const [si, s] of senders.entries()) {
        const mine = queue.filter((e) => e.sender_device === s.device_id);
        const texts = mine.map((e) => JSON.parse(Buffer.from(e.payload, 'base64').toString()).text);
        expect(texts).toEqual(Array.from({ length: 40 }, (_, i) => `${si}:${i}`));
      }
    });

    it('delivers to every device of the recipient and copies to the sender’s other devices', async () => {
      const t = createTestContext(storage(), { writerThread });
      const alice = await t.newPerson();
      const aliceLaptop = await t.linkCompanion(alice.actor);
      const bob = await t.newPerson();
      const bobLaptop = await t.linkCompanion(bob.actor);
      const sent = await t.delivery.send(alice.actor, { clientId: 'one', to: bob.phone, payload: b64('1') });
      for (const device of [bob.device_id, bobLaptop.device_id]) {
        const queue = await t.delivery.readQueue(device, 0, 10);
        expect(queue).toEqual([
          expect.objectContaining({ seq: 1, message_id: sent.message_id, chat_id: alice.account_id }),
        ]);
      }
      // Alice's laptop files its copy under the chat with Bob; the sending phone gets nothing.
      expect(await t.delivery.readQueue(aliceLaptop.device_id, 0, 10)).toEqual([
        expect.objectContaining({
          seq: 1,
          message_id: sent.message_id,
          sender_device: alice.device_id,
          chat_id: bob.account_id,
        }),
      ]);
      expect(await t.delivery.readQueue(alice.device_id, 0, 10)).toEqual([]);

      // A message to yourself (notes) reaches your other devices once each.
      await t.delivery.send(aliceLaptop.actor, { clientId: 'note', to: alice.phone, payload: b64('note') });
      expect((await t.delivery.readQueue(alice.device_id, 0, 10)).map((e) => e.chat_id)).toEqual([
        alice.account_id,
      ]);
      expect((await t.delivery.readQueue(aliceLaptop.device_id, 0, 10)).map((e) => e.seq)).toEqual([1]);
    });

    it('deletes envelopes on cumulative ack and never serves acked ones again', async () => {
      const t = createTestContext(storage(), { writerThread });
      const alice = await t.newPerson();
      const bob = await t.newPerson();
      for (let i = 0; i < 5; i++) {
        await t.delivery.send(alice.actor, { clientId: `a${i}`, to: bob.phone, payload: b64(String(i)) });
      }
      t.delivery.ack(bob.device_id, 3);
      // Even before the ack commits, reads skip what was acked.
      expect((await t.delivery.readQueue(bob.device_id, 0, 10)).map((e) => e.seq)).toEqual([4, 5]);
      await t.delivery.close();
      expect(await t.delivery.countQueued()).toBeGreaterThanOrEqual(2);
      expect((await t.delivery.readQueue(bob.device_id, 0, 10)).map((e) => e.seq)).toEqual([4, 5]);
    });

    it('expires envelopes after 30 days', async () => {
      const t = createTestContext(storage(), { writerThread });
      const alice = await t.newPerson();
      const bob = await t.newPerson();
      await t.delivery.send(alice.actor, { clientId: 'old', to: bob.phone, payload: b64('old') });
      t.clock.advance(ENVELOPE_TTL_MS - 1000);
      await t.delivery.send(alice.actor, { clientId: 'new', to: bob.phone, payload: b64('new') });
      t.clock.advance(2000);
      // The database is shared with the other tests of this file, whose rows are older still.
      const expired = await t.delivery.expire();
      expect(expired.envelopes).toBeGreaterThanOrEqual(1);
      expect((await t.delivery.readQueue(bob.device_id, 0, 10)).map((e) => e.seq)).toEqual([2]);
    });

    it('drops the queue of a device that logs out', async () => {
      const t = createTestContext(storage(), { writerThread });
      const alice = await t.newPerson();
      const bob = await t.newPerson();
      await t.delivery.send(alice.actor, { clientId: 'x', to: bob.phone, payload: b64('x') });
      await t.accounts.logout(bob.actor, { deviceId: bob.device_id });
      expect(await t.delivery.readQueue(bob.device_id, 0, 10)).toEqual([]);
      expect(await t.delivery.lastSeq(bob.device_id)).toBeUndefined();
    });

    it('refuses new sends once closing, after committing what was queued', async () => {
      const t = createTestContext(storage(), { writerThread });
      const alice = await t.newPerson();
      const bob = await t.newPerson();
      const pending = t.delivery.send(alice.actor, { clientId: 'q', to: bob.phone, payload: b64('q') });
      await t.delivery.close();
      await expect(pending).resolves.toMatchObject({ duplicate: false });
      await expect(
        t.delivery.send(alice.actor, { clientId: 'late', to: bob.phone, payload: b64('late') }),
      ).rejects.toMatchObject({ code: 'SERVER_BUSY' });
    });
  };
}

describeStorage('delivery service', deliverySuite(false));
// The server commits SQLite through its writer thread, with its own SQL: same expectations.
describeStorage('delivery service, SQLite writer thread', deliverySuite(true), ['sqlite']);

describe('base64DecodedLength', () => {
  it('matches the decoded size for every padding', () => {
    for (const n of [0, 1, 2, 3, 4, 5, 100, 65536]) {
      const encoded = Buffer.alloc(n, 7).toString('base64');
      expect(base64DecodedLength(encoded)).toBe(n);
    }
  });
});
