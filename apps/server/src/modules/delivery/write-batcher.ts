/**
 * Group commit. Sends and acks from every connection queue here; one flush at a time takes
 * everything queued (up to `maxBatch` sends) and commits it in a single transaction, so the
 * cost of a durable commit (an fsync on SQLite) is shared by all the messages in it.
 *
 * Invariants:
 * - A send's promise resolves only after the transaction holding it has committed; a failed
 *   transaction rejects every send in it and nothing of it is visible.
 * - At most one flush runs at a time, so batches commit in the order they were taken.
 * - Jobs (`enqueueJob`) run between commits, never during one: another writer of the same
 *   SQLite file (the main thread's connection, when commits run in the writer thread) then
 *   finds the write lock free instead of sleeping in SQLite's busy handler. A job must not
 *   wait for a send of this batcher (it would wait for itself).
 * - The queue is bounded (`maxQueue` sends): beyond it `enqueueSend` refuses at once, so a flood
 *   cannot grow memory without limit. Acks are merged per device (cumulative), so they are
 *   bounded by the number of devices.
 */
export interface BatchSend<S, R> {
  item: S;
  resolve(result: R): void;
  reject(error: unknown): void;
}

export interface WriteBatcherOptions<S, R> {
  maxBatch: number;
  maxQueue: number;
  /** Commits one batch; settles every send (resolve or reject) itself. */
  commit(sends: BatchSend<S, R>[], acks: Map<string, number>): Promise<void>;
  onQueueDepth?(depth: number): void;
  onError(error: unknown): void;
}

export function createWriteBatcher<S, R>(options: WriteBatcherOptions<S, R>) {
  let sends: BatchSend<S, R>[] = [];
  let acks = new Map<string, number>();
  let jobs: { run(): Promise<unknown>; resolve(v: unknown): void; reject(e: unknown): void }[] = [];
  let flushing: Promise<void> | undefined;
  let scheduled = false;

  const report = () => options.onQueueDepth?.(sends.length);

  function schedule(): void {
    if (flushing || scheduled) return;
    scheduled = true;
    // setImmediate lets every frame already read in this turn of the event loop join the batch.
    setImmediate(() => {
      scheduled = false;
      flushing = flushLoop().finally(() => {
        flushing = undefined;
        if (sends.length > 0 || acks.size > 0 || jobs.length > 0) schedule();
      });
    });
  }

  async function flushLoop(): Promise<void> {
    while (sends.length > 0 || acks.size > 0 || jobs.length > 0) {
      if (jobs.length > 0) {
        const due = jobs;
        jobs = [];
        for (const job of due) {
          try {
            job.resolve(await job.run());
          } catch (e: unknown) {
            job.reject(e);
          }
        }
        if (sends.length === 0 && acks.size === 0) continue;
      }
      const batch = sends.length > options.maxBatch ? sends.splice(0, options.maxBatch) : sends;
      if (batch === sends) sends = [];
      const batchAcks = acks;
      acks = new Map();
      report();
      try {
        await options.commit(batch, batchAcks);
      } catch (e: unknown) {
        // commit settles its own sends; this only catches a bug in it. Settling twice is a no-op.
        for (const send of batch) send.reject(e);
        options.onError(e);
      }
    }
  }

  return {
    /** False when the queue is full; the caller answers SERVER_BUSY. */
    enqueueSend(item: S): Promise<R> | undefined {
      if (sends.length >= options.maxQueue) return undefined;
      const promise = new Promise<R>((resolve, reject) => sends.push({ item, resolve, reject }));
      report();
      schedule();
      return promise;
    },

    /** Runs `run` between two commits (see the header); settles with its result. */
    enqueueJob<T>(run: () => Promise<T>): Promise<T> {
      const promise = new Promise<T>((resolve, reject) =>
        jobs.push({ run, resolve: resolve as (v: unknown) => void, reject }),
      );
      schedule();
      return promise;
    },

    enqueueAck(deviceId: string, seq: number): void {
      if ((acks.get(deviceId) ?? 0) < seq) acks.set(deviceId, seq);
      schedule();
    },

    get depth(): number {
      return sends.length;
    },

    /** Waits until everything queued so far has been committed (or failed). */
    async drain(): Promise<void> {
      while (flushing || scheduled || sends.length > 0 || acks.size > 0 || jobs.length > 0) {
        if (flushing) await flushing;
        else await new Promise((r) => setImmediate(r));
      }
    },
  };
}

export type WriteBatcher<S, R> = ReturnType<typeof createWriteBatcher<S, R>>;
