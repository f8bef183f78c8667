/**
 * `npm run bench -- groups`: one sender posting into a 1,024-member group whose members'
 * devices are all connected, through a server process on the embedded default.
 *
 * Phase 1 (peak): the sender keeps `inFlight` messages awaiting the server's ack until
 * `messages` are sent; deliveries_per_s = member-device deliveries / (first send → last
 * delivery). Phase 2: open loop at half that message rate for `latencySeconds`; p99_ms is send →
 * delivery to the *last* member device, per message. lost = (acked messages × recipients)
 * − deliveries received.
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
import { createAccounts, createGroup } from './setup.js';

export interface GroupsOptions {
  groupSize: number;
  messages: number;
  inFlight: number;
  latencySeconds: number;
  dataDir: string;
}

export async function runGroups(o: GroupsOptions) {
  process.stderr.write(`creating ${o.groupSize} accounts and the group…\n`);
  const devices = await createAccounts(o.dataDir, o.groupSize);
  const groupId = await createGroup(o.dataDir, devices);
  const server = await startServerProcess({
    PARLEY_DATA_DIR: o.dataDir,
    PARLEY_WS_FRAMES_PER_SECOND: '1000000',
  });
  try {
    const recipients = o.groupSize - 1;
    const sentAt = new Map<string, number>(); // payload → send time
    const remaining = new Map<string, number>(); // payload → member devices still to receive it
    const phase = { name: 'peak' as 'peak' | 'latency', acked: 0, sent: 0, quota: 0 };
    let deliveries = 0;
    let duplicates = 0;
    let lastDeliveryAt = 0;
    const latencies: number[] = [];
    const seenPerConn = new Map<BenchConnection, Set<string>>();
    let sender: BenchConnection | undefined;

    const send = () => {
      const id = `m${phase.sent++}`;
      const payload = Buffer.from(id).toString('base64');
      sentAt.set(payload, performance.now());
      remaining.set(payload, recipients);
      sender?.ws.send(`{"op":"send","id":"${id}","to":"${groupId}","payload":"${payload}"}`);
    };

    const handlers: Handlers = {
      onMsg(conn, frame) {
        if (frame.payload === '' || !sentAt.has(frame.payload)) return; // the group.created event
        let seen = seenPerConn.get(conn);
        if (!seen) {
          seen = new Set();
          seenPerConn.set(conn, seen);
        }
        if (seen.has(frame.message_id)) {
          duplicates++;
          return;
        }
        seen.add(frame.message_id);
        deliveries++;
        const now = performance.now();
        lastDeliveryAt = now;
        const left = (remaining.get(frame.payload) ?? 1) - 1;
        remaining.set(frame.payload, left);
        if (left === 0 && phase.name === 'latency') latencies.push(now - (sentAt.get(frame.payload) ?? now));
      },
      onSent() {
        phase.acked++;
        if (phase.name === 'peak' && phase.sent < phase.quota) send();
      },
      onError(_conn, frame) {
        process.stderr.write(`error frame: ${JSON.stringify(frame)}\n`);
      },
    };

    process.stderr.write(`connecting ${o.groupSize} devices…\n`);
    const conns = await pool(devices, 100, (d) => connectDevice(server.wsUrl, d, handlers));
    sender = conns[0];
    await sleep(500);

    process.stderr.write(`phase 1: ${o.messages} messages, ${o.inFlight} in flight…\n`);
    phase.quota = o.messages;
    const firstSend = performance.now();
    for (let i = 0; i < o.inFlight && phase.sent < phase.quota; i++) send();
    await waitFor(() => deliveries >= o.messages * recipients, 180_000);
    const peakDeliveries = deliveries / ((lastDeliveryAt - firstSend) / 1000);
    const peakMessages = peakDeliveries / recipients;
    process.stderr.write(
      `phase 1: ${Math.round(peakDeliveries)} deliveries/s (${peakMessages.toFixed(1)} messages/s)\n`,
    );

    phase.name = 'latency';
    const rate = peakMessages / 2;
    const total = Math.max(1, Math.round(rate * o.latencySeconds));
    process.stderr.write(`phase 2: ${rate.toFixed(1)} messages/s for ${o.latencySeconds} s…\n`);
    const start = performance.now();
    const base = phase.sent;
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const due = Math.min(total, Math.round(((performance.now() - start) / 1000) * rate) + 1);
        while (phase.sent - base < due) send();
        if (phase.sent - base >= total) {
          clearInterval(timer);
          resolve();
        }
      }, 5);
    });
    const expected = (o.messages + total) * recipients;
    await waitFor(() => deliveries >= expected, 60_000).catch(() => {});
    await sleep(500);
    latencies.sort((a, b) => a - b);
    const result = {
      bench: 'groups',
      group_size: o.groupSize,
      messages: o.messages,
      deliveries_per_s: Math.round(peakDeliveries),
      p99_ms: Math.round(percentile(latencies, 99) * 100) / 100,
      lost: phase.acked * recipients - deliveries,
    };
    const extra = {
      duplicates,
      latency_messages_per_s: Math.round(rate * 10) / 10,
      latency_p50_ms: Math.round(percentile(latencies, 50) * 100) / 100,
      latency_messages: latencies.length,
      server_rss_mb: Math.round(server.rssBytes() / 1048576),
    };
    for (const c of conns) c.ws.close(1000);
    return { result, extra };
  } finally {
    await server.stop();
  }
}
