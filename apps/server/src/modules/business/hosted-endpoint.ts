/**
 * The hosted endpoint: the server itself is the device of every business number. For each
 * number it drains the hosted device's queue like a client would: read a page, hand it to
 * the inbox (one transaction), acknowledge it, then flush the automated replies the inbox
 * decided. A bus event for the device starts a drain at once; a sweep every few seconds
 * catches anything missed and retries outbox rows whose send failed.
 *
 * At-least-once, made exactly-once where it matters: an unacknowledged page is read again
 * after a crash, and the inbox stores each message once (by message id) and sends each reply
 * once (by its outbox client id).
 */
import type { Bus } from '../../platform/bus.js';
import type { Logger } from '../../platform/logger.js';
import {
  type DeliveryService,
  type DeviceEvent,
  deviceChannel,
  type EnvelopeRow,
} from '../delivery/index.js';
import type { BusinessRepo, NumberRow } from './business.repo.js';
import type { InboxService } from './inbox.service.js';

const PAGE = 512;

interface Pump {
  number: NumberRow;
  lastSeq: number;
  /** Envelopes announced on the bus, not yet taken in (a page without a read when contiguous). */
  live: EnvelopeRow[];
  running: Promise<void> | undefined;
  again: boolean;
  unsubscribe: () => void;
}

export interface HostedEndpointDeps {
  businessRepo: Pick<BusinessRepo, 'allNumbers'>;
  inbox: Pick<InboxService, 'ingest' | 'flushPending' | 'idle'>;
  delivery: Pick<DeliveryService, 'readQueue' | 'ack'>;
  bus: Pick<Bus, 'subscribe'>;
  logger: Logger;
  sweepMs?: number;
}

export function createHostedEndpoint(deps: HostedEndpointDeps) {
  const { inbox, delivery, logger } = deps;
  const pumps = new Map<string, Pump>();
  const flushes = new Set<Promise<unknown>>();
  let sweep: NodeJS.Timeout | undefined;
  let started = false;
  let stopped = false;

  function track(p: Promise<unknown>): void {
    flushes.add(p);
    void p.finally(() => flushes.delete(p));
  }

  /**
   * The announced envelopes that follow lastSeq without a gap. Taking them without a read lets
   * the page's transaction be queued in the same turn as the commit that announced them.
   */
  function livePage(pump: Pump): EnvelopeRow[] {
    pump.live = pump.live.filter((e) => e.seq > pump.lastSeq);
    pump.live.sort((a, b) => a.seq - b.seq);
    const page: EnvelopeRow[] = [];
    for (const e of pump.live) {
      if (e.seq !== pump.lastSeq + page.length + 1 || page.length >= PAGE) break;
      page.push(e);
    }
    return page;
  }

  async function drainOnce(pump: Pump): Promise<void> {
    for (;;) {
      const live = livePage(pump);
      // A gap (an event missed, or a backlog from before this process) is read from storage,
      // which stays the truth; the live copy is only a shortcut.
      const rows =
        live.length > 0 ? live : await delivery.readQueue(pump.number.device_id, pump.lastSeq, PAGE);
      if (rows.length === 0 || stopped) return;
      const { sending } = await inbox.ingest(pump.number, rows);
      const last = rows[rows.length - 1]?.seq ?? pump.lastSeq;
      delivery.ack(pump.number.device_id, last);
      pump.lastSeq = last;
      if (sending) {
        track(sending.catch((e: unknown) => logger.error({ err: e }, 'business outbox flush failed')));
      }
      if (live.length === 0 && rows.length < PAGE) return;
    }
  }

  function kick(pump: Pump): void {
    if (!started || stopped) return;
    if (pump.running) {
      pump.again = true;
      return;
    }
    pump.running = (async () => {
      try {
        do {
          pump.again = false;
          await drainOnce(pump);
        } while (pump.again && !stopped);
      } catch (e: unknown) {
        // The page stays queued; the sweep reads it again.
        logger.error(
          { err: e, phone_number_id: pump.number.phone_number_id },
          'hosted endpoint drain failed',
        );
      } finally {
        pump.running = undefined;
      }
    })();
  }

  return {
    /** Consumes a number's queue (from start; and at once for a number added while running). */
    attach(number: NumberRow): void {
      if (stopped || pumps.has(number.device_id)) return;
      const pump: Pump = {
        number,
        lastSeq: 0,
        live: [],
        running: undefined,
        again: false,
        unsubscribe: () => {},
      };
      pump.unsubscribe = deps.bus.subscribe(deviceChannel(number.device_id), (event) => {
        const e = event as DeviceEvent;
        if (e.type !== 'envelope') return;
        // Bounded: beyond it the pump reads from storage like after a gap.
        if (pump.live.length < 4 * PAGE) pump.live.push(e.envelope);
        kick(pump);
      });
      pumps.set(number.device_id, pump);
      kick(pump);
    },

    async start(): Promise<void> {
      started = true;
      await this.sweep();
      sweep = setInterval(() => {
        this.sweep().catch((e: unknown) => logger.error({ err: e }, 'hosted endpoint sweep failed'));
      }, deps.sweepMs ?? 5000);
      sweep.unref();
    },

    /**
     * Attaches numbers created since (another process, such as `parley business create`, may
     * have made them), drains every queue, and retries outbox rows whose send failed.
     */
    async sweep(): Promise<void> {
      if (!started || stopped) return;
      for (const number of await deps.businessRepo.allNumbers()) this.attach(number);
      for (const pump of pumps.values()) kick(pump);
      track(
        inbox.flushPending().catch((e: unknown) => logger.error({ err: e }, 'business outbox flush failed')),
      );
    },

    /** Stops reading; waits for the pages and replies in flight. */
    async stop(): Promise<void> {
      stopped = true;
      if (sweep) clearInterval(sweep);
      for (const pump of pumps.values()) pump.unsubscribe();
      await Promise.allSettled([...pumps.values()].map((p) => p.running));
      await Promise.allSettled([...flushes]);
      await inbox.idle();
    },

    /** Waits until every number's queue is drained and no reply is in flight (tests, benchmarks). */
    async idle(): Promise<void> {
      await Promise.allSettled([...pumps.values()].map((p) => p.running));
      await Promise.allSettled([...flushes]);
      await inbox.idle();
    },
  };
}

export type HostedEndpoint = ReturnType<typeof createHostedEndpoint>;
