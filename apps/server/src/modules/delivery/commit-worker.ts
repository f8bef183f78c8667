/**
 * The SQLite writer thread (see commit-executor.ts): runs group commits on its own
 * connection and answers each with its result. One commit at a time, in arrival order.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { type OpenDbOptions, openDb } from '../../platform/db.js';
import type { WriterRequest, WriterResponse } from './commit-executor.js';
import { commitBatch } from './delivery.commit.js';
import { createDeliveryRepo } from './delivery.repo.js';

const port = parentPort;
if (!port) throw new Error('commit-worker must run as a worker thread');
const db = openDb(workerData as Pick<OpenDbOptions, 'dataDir' | 'sqliteSync'>);
const repo = createDeliveryRepo();

let queue: Promise<void> = Promise.resolve();
port.on('message', (request: WriterRequest) => {
  queue = queue.then(async () => {
    if ('close' in request) {
      await db.close();
      port.close();
      return;
    }
    let response: WriterResponse;
    try {
      response = { id: request.id, result: await commitBatch(db.kysely, repo, request.input) };
    } catch (e: unknown) {
      response = { id: request.id, error: e instanceof Error ? e.message : String(e) };
    }
    port.postMessage(response);
  });
});
