/**
 * Where group commits run. PostgreSQL commits are asynchronous network calls, so they run
 * inline. better-sqlite3 is synchronous: a commit of a few hundred sends (and the WAL
 * checkpoints SQLite folds into some commits) would stall every socket of the process for its
 * whole duration. So with SQLite the commits run in a writer thread with its own connection
 * to the same file; the main thread keeps reading (WAL readers never wait for the writer).
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Db, OpenDbOptions } from '../../platform/db.js';
import type { Logger } from '../../platform/logger.js';
import { type CommitInput, type CommitResult, commitBatch } from './delivery.commit.js';
import type { DeliveryRepo } from './delivery.repo.js';

export interface CommitExecutor {
  commit(input: CommitInput): Promise<CommitResult>;
  close(): Promise<void>;
}

export function createInlineCommitExecutor(db: Pick<Db, 'kysely'>, repo: DeliveryRepo): CommitExecutor {
  return {
    commit: (input) => commitBatch(db.kysely, repo, input),
    async close() {},
  };
}

/** Messages between the main thread and the writer thread. */
export type WriterRequest = { id: number; input: CommitInput } | { close: true };
export type WriterResponse = { id: number; result: CommitResult } | { id: number; error: string };

/**
 * The compiled worker sits next to this module in dist/. When this module runs from its
 * TypeScript source (tests), the compiled worker is taken from dist/ (`npm test` builds first).
 */
function workerUrl(): URL {
  const here = new URL('./commit-worker.js', import.meta.url);
  if (fs.existsSync(fileURLToPath(here))) return here;
  const built = new URL(here.href.replace('/src/', '/dist/'));
  if (fs.existsSync(fileURLToPath(built))) return built;
  throw new Error('The SQLite writer thread is not built; run `npm run build` first.');
}

export function createWorkerCommitExecutor(
  options: Pick<OpenDbOptions, 'dataDir' | 'sqliteSync'>,
  logger: Logger,
): CommitExecutor {
  let worker: Worker | undefined;
  let nextId = 0;
  const pending = new Map<number, { resolve(r: CommitResult): void; reject(e: Error): void }>();

  function start(): Worker {
    const w = new Worker(workerUrl(), { workerData: options });
    w.on('message', (response: WriterResponse) => {
      const waiter = pending.get(response.id);
      if (!waiter) return;
      pending.delete(response.id);
      if ('error' in response) waiter.reject(new Error(response.error));
      else waiter.resolve(response.result);
    });
    const fail = (error: Error) => {
      // Whatever was in flight may or may not have committed; its senders retry by client id.
      for (const waiter of pending.values()) waiter.reject(error);
      pending.clear();
      if (worker === w) worker = undefined;
    };
    w.on('error', (e) => {
      logger.error({ err: e }, 'SQLite writer thread failed');
      fail(e);
    });
    w.on('exit', (code) => {
      if (code !== 0) fail(new Error(`SQLite writer thread exited with ${code}`));
      else fail(new Error('SQLite writer thread stopped'));
    });
    return w;
  }

  return {
    commit(input) {
      worker ??= start();
      const id = nextId++;
      const w = worker;
      return new Promise<CommitResult>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        w.postMessage({ id, input } satisfies WriterRequest);
      });
    },
    /** Lets the writer finish, close its connection cleanly (WAL checkpointed) and exit. */
    async close() {
      const w = worker;
      worker = undefined;
      if (!w) return;
      const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
      w.postMessage({ close: true } satisfies WriterRequest);
      const timeout = setTimeout(() => void w.terminate(), 5000);
      await exited;
      clearTimeout(timeout);
    },
  };
}
