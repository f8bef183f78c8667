/**
 * `npm run bench -- delivery`: 1:1 delivery through a server process on the embedded default
 * (SQLite, synchronous=FULL, acks only after commit).
 *
 * Phase 1 (peak): every device keeps `perDeviceInFlight` sends awaiting the server's ack and
 * sends to the next device in a ring until `messages` are sent; delivered_per_s is messages
 * received by recipients divided by the time from the first send to the last delivery.
 * Phase 2 (latency): open loop at half that peak for `latencySeconds`; p50/p99 are send →
 * delivered to the recipient's connection, on one clock (both ends live in this process).
 * Every message the server acked must arrive (lost) and arrive once (duplicates).
 */
import { performance } from 'node:perf_hooks';
import {
  type BenchConnection,
  connectDevice,
  type Handlers,
  percentile,
  pool,
  sleep,
  waitFor,
} from './loadgen.js';
import { startServerProcess } from './server-process.js';
import { createAccounts } from './setup.js';

export interface DeliveryOptions {
  devices: number;
  messages: number;
  perDeviceInFlight: number;
  latencySeconds: number;
  /** Overrides the offered rate of phase 2 (default: half the measured peak), for analysis. */
  latencyRate?: number;
  dataDir: string;
}

export async function runDelivery(o: DeliveryOptions) {
  const devices = await createAccounts(o.dataDir, o.devices);
  const server = await startServerProcess({
    PARLEY_DATA_DIR: o.dataDir,
    PARLEY_WS_FRAMES_PER_SECOND: '1000000',
  });
  try {
    const state = {
      acked: 0,
      delivered: 0,
      duplicates: 0,
      errors: 0,
      firstSendAt: 0,
      lastDeliveryAt: 0,
      phase: 'warmup' as 'warmup' | 'peak' | 'latency',
    };
    const seen = new Set<string>();
    const ackedIds = new Set<string>();
    const sendTimes = new Map<string, number>();
    const latencies: number[] = [];
    const ackLatencies: number[] = [];
    const sendTimeById = new Map<string, number>();
    const indexOf = new Map<BenchConnection, number>();
    let sent = 0;
    let quota = 0;

    const conns: BenchConnection[] = [];
    const sendOne = (conn: BenchConnection) => {
      const i = indexOf.get(conn) ?? 0;
      const to = conns[(i + 1) % conns.length]?.device.phone ?? '';
      const id = `${i}.${sent++}`;
      // The payload doubles as the key for latency: unique, opaque to the server.
      const payload = Buffer.from(id).toString('base64');
      sendTimes.set(payload, performance.now());
      if (state.phase === 'latency') sendTimeById.set(id, performance.now());
      conn.ws.send(`{"op":"send","id":"${id}","to":"${to}","payload":"${payload}"}`);
    };

    const handlers: Handlers = {
      onMsg(_conn, frame) {
        if (seen.has(frame.message_id)) {
          state.duplicates++;
          return;
        }
        seen.add(frame.message_id);
        state.delivered++;
        const now = performance.now();
        state.lastDeliveryAt = now;
        const t = sendTimes.get(frame.payload);
        if (t !== undefined) {
          if (state.phase === 'latency') latencies.push(now - t);
          sendTimes.delete(frame.payload);
        }
      },
      onSent(conn, frame) {
        state.acked++;
        const t = sendTimeById.get(frame.id);
        if (t !== undefined) {
          ackLatencies.push(performance.now() - t);
          sendTimeById.delete(frame.id);
        }
        ackedIds.add(frame.message_id);
        if (state.phase === 'peak') {
          if (sent < quota) sendOne(conn);
        }
      },
      onError(_conn, frame) {
        state.errors++;
        if (state.errors < 5) process.stderr.write(`error frame: ${JSON.stringify(frame)}\n`);
      },
    };

    process.stderr.write(`connecting ${o.devices} devices…\n`);
    conns.push(...(await pool(devices, 100, (d) => connectDevice(server.wsUrl, d, handlers))));
    for (const [i, c] of conns.entries()) indexOf.set(c, i);
    await sleep(500);

    // Phase 1: peak.
    process.stderr.write(`phase 1: ${o.messages} messages, ${o.perDeviceInFlight} in flight per device…\n`);
    state.phase = 'peak';
    quota = o.messages;
    state.firstSendAt = performance.now();
    for (let k = 0; k < o.perDeviceInFlight; k++) for (const c of conns) if (sent < quota) sendOne(c);
    await waitFor(() => state.delivered >= o.messages && state.acked >= o.messages, 180_000);
    const peakSeconds = (state.lastDeliveryAt - state.firstSendAt) / 1000;
    const peak = state.delivered / peakSeconds;
    process.stderr.write(
      `phase 1: ${state.delivered} delivered in ${peakSeconds.toFixed(2)} s → ${Math.round(peak)}/s\n`,
    );

    // Phase 2: latency at half the peak, open loop.
    state.phase = 'latency';
    const rate = o.latencyRate ?? peak / 2;
    const tickMs = 5;
    const total = Math.round(rate * o.latencySeconds);
    process.stderr.write(`phase 2: ${Math.round(rate)}/s for ${o.latencySeconds} s (${total} messages)…\n`);
    quota = sent + total;
    const start = performance.now();
    let rr = 0;
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const due = Math.min(
          quota,
          Math.round(((performance.now() - start) / 1000) * rate) + (quota - total),
        );
        while (sent < due) sendOne(conns[rr++ % conns.length] as BenchConnection);
        if (sent >= quota) {
          clearInterval(timer);
          resolve();
        }
      }, tickMs);
    });
    const expected = o.messages + total;
    await waitFor(() => state.delivered >= expected && state.acked >= expected, 60_000).catch(() => {});
    await sleep(1000);
    latencies.sort((a, b) => a - b);
    ackLatencies.sort((a, b) => a - b);

    let lost = 0;
    for (const id of ackedIds) if (!seen.has(id)) lost++;
    const result = {
      bench: 'delivery',
      devices: o.devices,
      messages: o.messages,
      delivered_per_s: Math.round(peak),
      p50_ms: round2(percentile(latencies, 50)),
      p99_ms: round2(percentile(latencies, 99)),
      lost,
      duplicates: state.duplicates,
    };
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    const metric = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics)?.[1] ?? 'NaN');
    const commits = metric('parley_commit_duration_seconds_count');
    // Server-side shares, as cumulative fractions: send frame read → `sent` written, and commits.
    const cdf = (name: string) => {
      const total = metric(`${name}_count`);
      const buckets = [...metrics.matchAll(new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\S+)$`, 'gm'))];
      return Object.fromEntries(
        buckets
          .filter((m) => m[1] !== '+Inf')
          .map((m) => [`<=${Number(m[1]) * 1000}ms`, round2(Number(m[2]) / total)]),
      );
    };
    const extra = {
      commits,
      queue_reads: metric('parley_queue_reads_total'),
      server_send_ack_cdf: cdf('parley_send_ack_seconds'),
      commit_cdf: cdf('parley_commit_duration_seconds'),
      mean_commit_ms: round2((metric('parley_commit_duration_seconds_sum') / commits) * 1000),
      mean_sends_per_commit: round2(metric('parley_commit_batch_size_sum') / commits),
      latency_rate_per_s: Math.round(rate),
      sender_ack_p50_ms: round2(percentile(ackLatencies, 50)),
      sender_ack_p99_ms: round2(percentile(ackLatencies, 99)),
      latency_messages: latencies.length,
      error_frames: state.errors,
      server_rss_mb: Math.round(server.rssBytes() / 1048576),
    };
    for (const c of conns) c.ws.close(1000);
    return { result, extra };
  } finally {
    await server.stop();
  }
}

const round2 = (n: number) => Math.round(n * 100) / 100;
