import { expect, it } from 'vitest';
import { describeStorage } from '../../test/harness/storage.js';
import { createTxBatcher } from './tx-batcher.js';

describeStorage('transaction batcher', (get) => {
  const insert = (id: string) => ({
    id,
    name: `Plan ${id}`,
    price_minor: 0,
    currency: 'USD',
    limits: '{}',
    features: '{}',
    rank: 9,
    updated_at: 1,
  });

  it('commits the jobs of one turn together, each with its own result or error', async () => {
    const { db } = get();
    const batcher = createTxBatcher(db);
    const ids = ['tb_a', 'tb_b', 'tb_c'];
    const results = await Promise.allSettled([
      batcher.run(async (tx) => {
        await tx.insertInto('plans').values(insert('tb_a')).execute();
        return 'a';
      }),
      batcher.run(async (tx) => {
        await tx.insertInto('plans').values(insert('tb_b')).execute();
        throw new Error('job b fails after writing');
      }),
      batcher.run(async (tx) => {
        await tx.insertInto('plans').values(insert('tb_c')).execute();
        // On SQLite, a job sees the writes of the jobs before it in its batch.
        return (await tx.selectFrom('plans').select('id').where('id', 'in', ids).execute()).length;
      }),
    ]);
    expect(results[0]).toEqual({ status: 'fulfilled', value: 'a' });
    expect(results[1]).toMatchObject({
      status: 'rejected',
      reason: { message: 'job b fails after writing' },
    });
    // On SQLite the jobs share a transaction; on PostgreSQL each has its own, run concurrently.
    if (get().dialect === 'sqlite') expect(results[2]).toEqual({ status: 'fulfilled', value: 2 });
    else expect(results[2]).toMatchObject({ status: 'fulfilled' });
    const stored = await db.kysely
      .selectFrom('plans')
      .select('id')
      .where('id', 'in', ids)
      .orderBy('id')
      .execute();
    expect(stored.map((r) => r.id)).toEqual(['tb_a', 'tb_c']);
  });

  it('keeps going across batches and turns', async () => {
    const { db } = get();
    const batcher = createTxBatcher(db, 4);
    const ids = Array.from({ length: 10 }, (_, i) => `tb_n${i}`);
    await Promise.all(
      ids.map((id) => batcher.run((tx) => tx.insertInto('plans').values(insert(id)).execute())),
    );
    await batcher.run((tx) => tx.insertInto('plans').values(insert('tb_later')).execute());
    const stored = await db.kysely
      .selectFrom('plans')
      .select('id')
      .where('id', 'in', [...ids, 'tb_later'])
      .execute();
    expect(stored).toHaveLength(11);
  });
});
