/**
 * The worker role: periodic housekeeping. Expiry of 30-day-old envelopes and idempotency keys,
 * and of stale one-time codes. Safe to run on several nodes at once (deletes are idempotent).
 */
import type { Logger } from '../platform/logger.js';

export interface WorkerDeps {
  logger: Logger;
  intervalMs: number;
  tasks: { name: string; run(): Promise<unknown> }[];
}

export function createWorker(deps: WorkerDeps) {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  async function tick(): Promise<void> {
    for (const task of deps.tasks) {
      try {
        const result = await task.run();
        deps.logger.debug({ task: task.name, result }, 'worker task done');
      } catch (e: unknown) {
        // A failing task is retried next tick; it must not stop the others.
        deps.logger.error({ err: e, task: task.name }, 'worker task failed');
      }
    }
  }

  return {
    start(): void {
      const run = () => {
        if (running) return;
        running = tick().finally(() => {
          running = undefined;
        });
      };
      run();
      timer = setInterval(run, deps.intervalMs);
      timer.unref();
    },
    async stop(): Promise<void> {
      if (timer) clearInterval(timer);
      await running;
    },
  };
}
