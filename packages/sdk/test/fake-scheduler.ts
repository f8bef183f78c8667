/** A hand-driven Scheduler for small tests: time moves only when the test calls advance(). */
import type { Scheduler, TimerHandle } from '../src/scheduler.js';

interface Timer {
  at: number;
  fn: () => void;
}

export interface FakeScheduler extends Scheduler {
  advance(ms: number): void;
  readonly pending: number;
}

export function createFakeScheduler(): FakeScheduler {
  let now = 0;
  let nextId = 1;
  const timers = new Map<number, Timer>();
  // Real handles are opaque; tests only need identity, so a number stands in for one.
  const toHandle = (id: number) => id as unknown as TimerHandle;
  const fromHandle = (handle: TimerHandle) => handle as unknown as number;
  return {
    now: () => now,
    setTimeout(fn, ms) {
      const id = nextId++;
      timers.set(id, { at: now + Math.max(0, ms), fn });
      return toHandle(id);
    },
    clearTimeout(handle) {
      timers.delete(fromHandle(handle));
    },
    advance(ms) {
      const end = now + ms;
      for (;;) {
        let due: [number, Timer] | undefined;
        for (const entry of timers) if (entry[1].at <= end && (!due || entry[1].at < due[1].at)) due = entry;
        if (!due) break;
        timers.delete(due[0]);
        now = due[1].at;
        due[1].fn();
      }
      now = end;
    },
    get pending() {
      return timers.size;
    },
  };
}
