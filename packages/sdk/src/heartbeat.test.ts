import { describe, expect, it } from 'vitest';
import { createFakeScheduler } from '../test/fake-scheduler.js';
import { createHeartbeat } from './heartbeat.js';

function setup() {
  const scheduler = createFakeScheduler();
  const log = { pings: 0, timeouts: 0 };
  const heartbeat = createHeartbeat({
    scheduler,
    intervalMs: 1000,
    sendPing: () => log.pings++,
    onTimeout: () => log.timeouts++,
  });
  return { scheduler, log, heartbeat };
}

describe('createHeartbeat', () => {
  it('pings every interval', () => {
    const { scheduler, log, heartbeat } = setup();
    for (let i = 0; i < 5; i++) {
      scheduler.advance(1000);
      heartbeat.received();
    }
    expect(log.pings).toBe(5);
    expect(log.timeouts).toBe(0);
  });

  it('declares the link dead after two silent intervals, once', () => {
    const { scheduler, log } = setup();
    scheduler.advance(1999);
    expect(log.timeouts).toBe(0);
    scheduler.advance(1);
    expect(log.timeouts).toBe(1);
    scheduler.advance(10_000);
    expect(log.timeouts).toBe(1);
    expect(scheduler.pending).toBe(0);
  });

  it('measures silence from the last frame received', () => {
    const { scheduler, log, heartbeat } = setup();
    scheduler.advance(1500);
    heartbeat.received();
    scheduler.advance(1999);
    expect(log.timeouts).toBe(0);
    scheduler.advance(1);
    expect(log.timeouts).toBe(1);
  });

  it('stops all timers when stopped', () => {
    const { scheduler, log, heartbeat } = setup();
    heartbeat.stop();
    scheduler.advance(10_000);
    expect(log).toEqual({ pings: 0, timeouts: 0 });
  });
});
