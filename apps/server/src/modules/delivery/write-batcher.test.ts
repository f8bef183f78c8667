import { describe, expect, it } from 'vitest';
import { createWriteBatcher } from './write-batcher.js';

describe('write batcher jobs', () => {
  it('runs a job between commits, never during one, and settles it with its result', async () => {
    const log: string[] = [];
    let release = () => {};
    const batcher = createWriteBatcher<string, string>({
      maxBatch: 10,
      maxQueue: 100,
      async commit(sends) {
        log.push(`commit ${sends.map((s) => s.item).join(',')} start`);
        await new Promise<void>((r) => {
          release = r;
        });
        log.push('commit end');
        for (const s of sends) s.resolve(s.item);
      },
      onError: () => {},
    });
    const first = batcher.enqueueSend('a');
    await new Promise((r) => setImmediate(r));
    expect(log).toEqual(['commit a start']);
    const job = batcher.enqueueJob(async () => {
      log.push('job');
      return 42;
    });
    const second = batcher.enqueueSend('b');
    release();
    await first;
    await new Promise((r) => setImmediate(r));
    release();
    expect(await job).toBe(42);
    await second;
    expect(log).toEqual(['commit a start', 'commit end', 'job', 'commit b start', 'commit end']);
  });

  it('rejects a failing job without stopping the commits', async () => {
    const batcher = createWriteBatcher<string, string>({
      maxBatch: 10,
      maxQueue: 100,
      async commit(sends) {
        for (const s of sends) s.resolve(s.item);
      },
      onError: () => {},
    });
    await expect(batcher.enqueueJob(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(batcher.enqueueSend('x')).resolves.toBe('x');
    await batcher.drain();
  });
});
