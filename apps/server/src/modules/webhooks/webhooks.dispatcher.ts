/**
 * The dispatcher: sends queued webhook deliveries, on the worker role.
 *
 * Model: the outbox (webhook_deliveries) is the truth; the dispatcher only leases rows from
 * it, POSTs them, and records the outcome. Delivery is at-least-once: a worker that dies
 * between the receiver's 200 and the update leaves a lease that expires, and the row goes
 * out again. Invariants:
 * - Rows sharing an order key go out one at a time, in queue order (the claim only ever
 *   hands out the earliest pending row of a key, even across workers).
 * - At most `concurrency` requests in flight per process, and at most `perEndpoint` to one
 *   business's callback (1 while it keeps failing, so a dead receiver ties up one slot).
 *   A worker holds (in flight or waiting) at most twice those numbers: its claims skip
 *   businesses it holds enough of, and what it cannot hold goes straight back.
 * - Sending never waits for this: enqueue only writes rows. A slow or dead receiver fills
 *   the outbox and its own retry schedule, nothing else.
 * It is woken when rows are queued in this process (and again shortly after, because the
 * queuing transaction may not have committed yet) and polls, for rows queued elsewhere and
 * for retries coming due.
 */
import type { Clock } from '../../platform/clock.js';
import { type HttpClient, OutboundHttpError } from '../../platform/http-client.js';
import type { Logger } from '../../platform/logger.js';
import { SIGNATURE_HEADER, signWebhookBody } from './webhook-body.js';
import { afterFailure } from './webhooks.policy.js';
import type { ClaimedDelivery, DeliveryFailure, WebhooksRepo } from './webhooks.repo.js';

export interface DispatcherDeps {
  repo: Pick<WebhooksRepo, 'claim' | 'release' | 'markDelivered' | 'markFailed'>;
  http: Pick<HttpClient, 'request'>;
  clock: Clock;
  logger: Logger;
  /** Jitter source, [0, 1). */
  random?: () => number;
  concurrency?: number;
  perEndpoint?: number;
  /** A delivery that gets no answer within this fails (Meta expects an answer in a few seconds). */
  timeoutMs?: number;
  /** How long a claimed row is leased to this process; longer than timeoutMs plus a margin. */
  leaseMs?: number;
  pollMs?: number;
  onOutcome?(outcome: 'delivered' | 'failed' | 'dead'): void;
}

/** Consecutive failures after which an endpoint gets one request at a time. */
const FAILING_AFTER = 3;

interface Endpoint {
  active: number;
  waiting: ClaimedDelivery[];
  failures: number;
}

export function createDispatcher(deps: DispatcherDeps) {
  const concurrency = deps.concurrency ?? 128;
  const perEndpoint = deps.perEndpoint ?? 64;
  const timeoutMs = deps.timeoutMs ?? 10_000;
  const leaseMs = deps.leaseMs ?? 60_000;
  const random = deps.random ?? Math.random;
  const { repo, clock, logger } = deps;

  let started = false;
  let stopping = false;
  let poller: NodeJS.Timeout | undefined;
  const wakeTimers = new Map<number, NodeJS.Timeout>();
  let pumping: Promise<void> | undefined;
  let again = false;
  const inFlight = new Set<Promise<void>>();
  /** By business: one callback URL each. */
  const endpoints = new Map<string, Endpoint>();
  let held = 0;
  let delivered: { id: number; status: number }[] = [];
  let failed: DeliveryFailure[] = [];
  let flushing: Promise<void> | undefined;
  let flushScheduled = false;

  const limitOf = (e: Endpoint) => (e.failures >= FAILING_AFTER ? 1 : perEndpoint);
  const full = (e: Endpoint) => e.active + e.waiting.length >= 2 * limitOf(e);
  const endpointOf = (businessId: string): Endpoint => {
    let e = endpoints.get(businessId);
    if (!e) {
      e = { active: 0, waiting: [], failures: 0 };
      endpoints.set(businessId, e);
    }
    return e;
  };

  /** Starts waiting rows while their endpoints and the process have room. */
  function startReady(): void {
    if (stopping) return;
    for (const e of endpoints.values()) {
      while (e.waiting.length > 0 && e.active < limitOf(e) && inFlight.size < concurrency) {
        const row = e.waiting.shift();
        if (row) send(row, e);
      }
      if (inFlight.size >= concurrency) return;
    }
  }

  async function flush(): Promise<boolean> {
    while (flushing) await flushing;
    if (delivered.length === 0 && failed.length === 0) return false;
    const done = delivered;
    const lost = failed;
    delivered = [];
    failed = [];
    flushing = (async () => {
      const now = clock.now();
      if (done.length > 0) await repo.markDelivered(done, now);
      for (const f of lost) await repo.markFailed(f, now);
    })();
    try {
      await flushing;
    } finally {
      flushing = undefined;
    }
    return true;
  }

  /** After outcomes: record them together, then claim what they may have unblocked. */
  function scheduleFlush(): void {
    if (flushScheduled) return;
    flushScheduled = true;
    setImmediate(() => {
      flushScheduled = false;
      flush()
        .then((any) => {
          if (any && !stopping) void pump();
        })
        .catch((e: unknown) => logger.error({ err: e }, 'recording webhook outcomes failed'));
    });
  }

  function send(row: ClaimedDelivery, endpoint: Endpoint): void {
    endpoint.active++;
    const attemptAt = clock.now();
    const task = (async () => {
      let status: number | null = null;
      let error: string;
      try {
        const answer = await deps.http.request({
          method: 'POST',
          url: row.callback_url,
          headers: {
            'content-type': 'application/json',
            [SIGNATURE_HEADER]: signWebhookBody(row.app_secret, row.body),
          },
          body: row.body,
          timeoutMs,
          maxResponseBytes: 1024,
        });
        if (answer.status >= 200 && answer.status < 300) {
          endpoint.failures = 0;
          delivered.push({ id: row.id, status: answer.status });
          deps.onOutcome?.('delivered');
          return;
        }
        status = answer.status;
        error = `HTTP ${answer.status}${answer.body ? `: ${answer.body.slice(0, 200)}` : ''}`;
      } catch (e: unknown) {
        if (!(e instanceof OutboundHttpError))
          logger.error({ err: e }, 'webhook delivery failed unexpectedly');
        error = e instanceof Error ? e.message : String(e);
      }
      endpoint.failures++;
      const attempts = row.attempts + 1;
      const firstAttemptAt = row.first_attempt_at ?? attemptAt;
      const next = afterFailure({ failures: attempts, firstAttemptAt, now: clock.now(), random: random() });
      failed.push({
        id: row.id,
        attempts,
        firstAttemptAt,
        state: next.state,
        nextAttemptAt: next.state === 'pending' ? next.nextAttemptAt : clock.now(),
        status,
        error,
      });
      deps.onOutcome?.(next.state === 'pending' ? 'failed' : 'dead');
    })().finally(() => {
      inFlight.delete(task);
      endpoint.active--;
      held--;
      // A healthy idle endpoint is forgotten; a failing one is remembered to stay throttled.
      if (endpoint.active === 0 && endpoint.waiting.length === 0 && endpoint.failures === 0) {
        endpoints.delete(row.business_id);
      }
      startReady();
      scheduleFlush();
    });
    inFlight.add(task);
  }

  async function claimAndSend(): Promise<void> {
    for (;;) {
      const free = 2 * concurrency - held;
      if (free <= 0 || stopping) return;
      const skip = [...endpoints].filter(([, e]) => full(e)).map(([id]) => id);
      const now = clock.now();
      const rows = await repo.claim(now, free, leaseMs, skip);
      if (rows.length === 0) return;
      const back: number[] = [];
      for (const row of rows) {
        const endpoint = endpointOf(row.business_id);
        if (full(endpoint)) back.push(row.id);
        else {
          endpoint.waiting.push(row);
          held++;
        }
      }
      // Claimable again at once, by another worker or by this one once it has room.
      await repo.release(back, now);
      startReady();
      if (back.length === rows.length) return;
    }
  }

  function pump(): Promise<void> {
    if (pumping) {
      again = true;
      return pumping;
    }
    pumping = (async () => {
      do {
        again = false;
        try {
          await flush();
          await claimAndSend();
        } catch (e: unknown) {
          // Storage trouble: the poll tries again.
          logger.error({ err: e }, 'claiming webhook deliveries failed');
          return;
        }
      } while (again && !stopping);
    })().finally(() => {
      pumping = undefined;
    });
    return pumping;
  }

  function wakeIn(ms: number): void {
    if (wakeTimers.has(ms)) return;
    const timer = setTimeout(() => {
      wakeTimers.delete(ms);
      void pump();
    }, ms);
    timer.unref();
    wakeTimers.set(ms, timer);
  }

  return {
    start(): void {
      if (started) return;
      started = true;
      stopping = false;
      poller = setInterval(() => void pump(), deps.pollMs ?? 1_000);
      poller.unref();
      void pump();
    },

    /**
     * Rows were queued: look now, and again shortly, in case the queuing transaction had not
     * committed when the first look ran (PostgreSQL reads on another connection).
     */
    wake(): void {
      if (!started || stopping) return;
      wakeIn(0);
      wakeIn(50);
      wakeIn(250);
    },

    /**
     * Sends everything due now and waits for the outcomes to be recorded (tests, and a final
     * pass). Retries coming due later are left for later.
     */
    async drain(): Promise<void> {
      for (;;) {
        await pump();
        if (inFlight.size === 0) {
          await flush();
          // Outcomes can unblock the next row of an order key.
          await pump();
          if (inFlight.size === 0 && !(await flush())) return;
          continue;
        }
        await Promise.allSettled([...inFlight]);
        await flush();
      }
    },

    /** Stops claiming, waits for requests in flight and records their outcomes. */
    async stop(): Promise<void> {
      stopping = true;
      started = false;
      if (poller) clearInterval(poller);
      for (const t of wakeTimers.values()) clearTimeout(t);
      wakeTimers.clear();
      await pumping;
      // Rows held but not started go back at once rather than when their lease runs out.
      const unsent = [...endpoints.values()].flatMap((e) => e.waiting.splice(0));
      held -= unsent.length;
      await repo.release(
        unsent.map((r) => r.id),
        clock.now(),
      );
      await Promise.allSettled([...inFlight]);
      await flush();
    },

    /** Requests in flight now. */
    inFlight: () => inFlight.size,
  };
}

export type Dispatcher = ReturnType<typeof createDispatcher>;
