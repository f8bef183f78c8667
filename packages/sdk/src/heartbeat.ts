/**
 * Liveness of one connection. Browsers cannot see WebSocket-level pings, so the client sends a
 * `ping` frame every interval; the server's `pong` (or any other frame) proves the link is alive.
 * If nothing at all arrives for two intervals the link is presumed dead, which a half-open TCP
 * connection would otherwise hide for minutes.
 */
import type { Scheduler, TimerHandle } from './scheduler.js';

export interface HeartbeatDeps {
  scheduler: Scheduler;
  intervalMs: number;
  sendPing(): void;
  /** Called once, after which the heartbeat is stopped. */
  onTimeout(): void;
}

export interface Heartbeat {
  /** Records that a frame arrived. Cheap: it moves no timers. */
  received(): void;
  stop(): void;
}

export function createHeartbeat(deps: HeartbeatDeps): Heartbeat {
  const { scheduler, intervalMs } = deps;
  const deadAfterMs = 2 * intervalMs;
  let lastReceived = scheduler.now();
  let pingTimer: TimerHandle | undefined;
  let watchdog: TimerHandle | undefined;
  let stopped = false;

  function stop(): void {
    stopped = true;
    if (pingTimer !== undefined) scheduler.clearTimeout(pingTimer);
    if (watchdog !== undefined) scheduler.clearTimeout(watchdog);
    pingTimer = undefined;
    watchdog = undefined;
  }

  function ping(): void {
    pingTimer = scheduler.setTimeout(() => {
      if (stopped) return;
      deps.sendPing();
      ping();
    }, intervalMs);
  }

  // Sleeps until the earliest moment the link could be declared dead, then checks again.
  function watch(delayMs: number): void {
    watchdog = scheduler.setTimeout(() => {
      if (stopped) return;
      const silentFor = scheduler.now() - lastReceived;
      if (silentFor >= deadAfterMs) {
        stop();
        deps.onTimeout();
      } else {
        watch(deadAfterMs - silentFor);
      }
    }, delayMs);
  }

  ping();
  watch(deadAfterMs);

  return {
    received() {
      lastReceived = scheduler.now();
    },
    stop,
  };
}
