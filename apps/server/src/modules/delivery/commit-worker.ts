/**
 * The SQLite writer thread (see commit-executor.ts): runs group commits on its own
 * connection and answers each with its result. One commit at a time, in arrival order.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { type OpenDbOptions, openSqliteDatabase } from '../../platform/db.js';
import type { WriterRequest, WriterResponse } from './commit-executor.js';
import { type CommitInput, type CommitResult, commitWith } from './delivery.commit.js';
import { createSqliteCommitStore } from './delivery.sqlite-store.js';

const port = parentPort;
if (!port) throw new Error('commit-worker must run as a worker thread');
const database = openSqliteDatabase(workerData as Pick<OpenDbOptions, 'dataDir' | 'sqliteSync'>);
const store = createSqliteCommitStore(database);

async function commit(input: CommitInput): Promise<CommitResult> {
  // IMMEDIATE takes the write lock up front (waiting up to busy_timeout for another writer).
  database.exec('begin immediate');
  try {
    const result = await commitWith(store, input);
    database.exec('commit');
    return result;
  } catch (e: unknown) {
    if (database.inTransaction) database.exec('rollback');
    throw e;
  }
}

let queue: Promise<void> = Promise.resolve();
port.on('message', (request: WriterRequest) => {
  queue = queue.then(async () => {
    if ('close' in request) {
      database.close();
      port.close();
      return;
    }
    let response: WriterResponse;
    try {
      response = { id: request.id, result: await commit(request.input) };
    } catch (e: unknown) {
      response = { id: request.id, error: e instanceof Error ? e.message : String(e) };
    }
    port.postMessage(response);
  });
});
