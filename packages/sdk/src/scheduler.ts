/**
 * Time behind an interface so the inbox, outbox and heartbeat can be tested with a hand-driven
 * clock. `now` is monotonic (performance.now) because wall-clock jumps must not fake a dead link.
 */
export type TimerHandle = ReturnType<typeof setTimeout>;

export interface Scheduler {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export const systemScheduler: Scheduler = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle),
};
