/**
 * Group commit for small transactions on the embedded database. SQLite commits on the main
 * thread, and with synchronous=FULL each commit waits for the disk: a thousand receipts a
 * second as a thousand commits leave the process waiting on fsync. The batcher runs the jobs
 * that arrive in the same turn of the event loop in one transaction, each in its own
 * savepoint (a job that throws rolls back only its own writes and gets its own error), and
 * settles them all once that transaction committed — so no caller hears "done" before its
 * writes are durable.
 *
 * On PostgreSQL each job keeps its own transaction: commits there do not block the process,
 * and one transaction taking row locks for many unrelated jobs, in no agreed order, could
 * deadlock against others.
 */
import { sql } from 'kysely';
import type { Db, Executor } from './db.js';

interface Job {
  fn(tx: Executor): Promise<unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

export interface TxBatcher {
  run<T>(fn: (tx: Executor) => Promise<T>): Promise<T>;
}

export function createTxBatcher(db: Pick<Db, 'kysely' | 'caps'>, maxBatch = 256): TxBatcher {
  if (db.caps.dialect !== 'sqlite') {
    return { run: (fn) => db.kysely.transaction().execute(fn) };
  }
  let queue: Job[] = [];
  let draining = false;

  async function drain(): Promise<void> {
    draining = true;
    try {
      while (queue.length > 0) {
        const batch = queue.slice(0, maxBatch);
        queue = queue.slice(maxBatch);
        const outcomes: { ok: boolean; value: unknown }[] = [];
        try {
          await db.kysely.transaction().execute(async (tx) => {
            for (let i = 0; i < batch.length; i++) {
              const job = batch[i] as Job;
              await sql.raw(`savepoint b${i}`).execute(tx);
              try {
                outcomes[i] = { ok: true, value: await job.fn(tx) };
                await sql.raw(`release savepoint b${i}`).execute(tx);
              } catch (e: unknown) {
                await sql.raw(`rollback to savepoint b${i}`).execute(tx);
                await sql.raw(`release savepoint b${i}`).execute(tx);
                outcomes[i] = { ok: false, value: e };
              }
            }
          });
        } catch (e: unknown) {
          // The commit itself failed: nothing of the batch is stored.
          for (const job of batch) job.reject(e);
          continue;
        }
        batch.forEach((job, i) => {
          const outcome = outcomes[i];
          if (outcome?.ok) job.resolve(outcome.value);
          else job.reject(outcome?.value);
        });
      }
    } finally {
      draining = false;
    }
  }

  return {
    run<T>(fn: (tx: Executor) => Promise<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        queue.push({ fn, resolve: resolve as (v: unknown) => void, reject });
        if (!draining) {
          draining = true;
          // The next turn: let the requests of this one join.
          setImmediate(() => void drain());
        }
      });
    },
  };
}
