/**
 * Transactions that write device queues at the same time (fan-out commits, group changes,
 * receipts to several senders) lock device rows in one order, so on PostgreSQL they wait for
 * each other instead of deadlocking (which would fail a whole commit of sends).
 */
import { afterEach, expect, it } from 'vitest';
import { closeTestContexts, createTestContext } from '../../../test/harness/builders.js';
import { describeStorage, type StorageContext } from '../../../test/harness/storage.js';

const b64 = (text: string) => Buffer.from(JSON.stringify({ text })).toString('base64');

describeStorage(
  'device lock order',
  (storage: () => StorageContext) => {
    afterEach(closeTestContexts);

    it('receipts to many senders, group changes and fan-out run together without a deadlock', async () => {
      const t = createTestContext(storage());
      const people = [];
      for (let i = 0; i < 24; i++) people.push(await t.newPerson(`P${i}`));
      const [admin, ...others] = people as [(typeof people)[0], ...(typeof people)[0][]];
      const group = await t.groups.create(admin.actor, { subject: 'G', members: others.map((p) => p.phone) });
      // Everyone posts once, so every member has messages from every other to acknowledge.
      const posted = [];
      for (const p of people) {
        posted.push(
          await t.delivery.send(p.actor, { clientId: 'hello', to: group.group_id, payload: b64('hi') }),
        );
      }
      const ids = posted.map((m) => m.message_id);

      const failures: unknown[] = [];
      const run = (work: Promise<unknown>) => work.catch((e: unknown) => failures.push(e));
      for (let round = 0; round < 5; round++) {
        await Promise.all([
          // Each member reads everything, in its own order: receipt events to every sender's devices.
          ...others.map((p, i) =>
            run(
              t.receipts.record(
                p.actor,
                i % 2 === 0 ? 'delivered' : 'read',
                i % 2 ? ids : [...ids].reverse(),
              ),
            ),
          ),
          // Group changes queue events to every member device under the group's lock.
          run(t.groups.update(admin.actor, group.group_id, { description: `round ${round}` })),
          // And messages fan out to every member device.
          ...people.map((p) =>
            run(t.delivery.send(p.actor, { clientId: `r${round}`, to: group.group_id, payload: b64('x') })),
          ),
        ]);
      }
      expect(failures).toEqual([]);
    }, 60_000);
  },
  ['postgres'],
);
