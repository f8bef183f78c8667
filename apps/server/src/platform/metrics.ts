/** Prometheus metrics for one process, on a registry of its own (no global state). */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export function createMetrics() {
  const registry = new Registry();
  // Read at scrape time from storage, so every node reports the same truth.
  let queueDepthSource: (() => Promise<number>) | undefined;
  collectDefaultMetrics({ register: registry, prefix: 'parley_process_' });
  return {
    registry,
    connections: new Gauge({
      name: 'parley_ws_connections',
      help: 'Authenticated WebSocket connections open on this process',
      registers: [registry],
    }),
    messagesAccepted: new Counter({
      name: 'parley_messages_accepted_total',
      help: 'Messages committed to storage and acknowledged to their sender',
      registers: [registry],
    }),
    messagesDelivered: new Counter({
      name: 'parley_messages_delivered_total',
      help: 'Envelopes acknowledged by the recipient device (and so deleted)',
      registers: [registry],
    }),
    envelopesExpired: new Counter({
      name: 'parley_envelopes_expired_total',
      help: 'Envelopes deleted unacknowledged after 30 days',
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: 'parley_queue_depth',
      help: 'Envelopes stored and not yet acknowledged, all devices',
      registers: [registry],
      async collect() {
        if (queueDepthSource) this.set(await queueDepthSource());
      },
    }),
    setQueueDepthSource(source: () => Promise<number>) {
      queueDepthSource = source;
    },
    writeQueue: new Gauge({
      name: 'parley_write_queue',
      help: 'Sends waiting for the next group commit on this process',
      registers: [registry],
    }),
    commitBatch: new Histogram({
      name: 'parley_commit_batch_size',
      help: 'Sends per group commit',
      buckets: [1, 4, 16, 64, 256, 1024],
      registers: [registry],
    }),
    sendAckLatency: new Histogram({
      name: 'parley_send_ack_seconds',
      help: 'From reading a send frame to writing its sent (durable) acknowledgement',
      buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [registry],
    }),
    queueReads: new Counter({
      name: 'parley_queue_reads_total',
      help: 'Pages read from device queues (catch-up after connect, a gap, or a full window)',
      registers: [registry],
    }),
    commitDuration: new Histogram({
      name: 'parley_commit_duration_seconds',
      help: 'Time of one group commit (transaction including fsync)',
      buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'parley_http_request_duration_seconds',
      help: 'HTTP request latency',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
