/**
 * `npm run bench -- business-inbox`: many people message one business that has keyword rules
 * and an away message on, through a server process on the embedded default.
 *
 * Every bench message matches the last keyword rule, so each one handled means: stored in the
 * inbox, its automations run, and the automated reply committed and delivered to the person.
 * Phase 1 (peak): each person keeps `inFlight` messages unanswered; inbound_per_s = keyword
 * replies received / (first send → last reply). Phase 2: open loop at half that rate, one
 * message per person at a time, so each reply pairs with its message; automation_p99_ms is
 * send → keyword reply received. lost = messages acked − keyword replies received.
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
import { createAccounts, createBusiness } from './setup.js';

export interface BusinessInboxOptions {
  people: number;
  messages: number;
  inFlight: number;
  rules: number;
  latencySeconds: number;
  /** Rate of phase 2 (default: half the measured peak). */
  latencyRate?: number;
  dataDir: string;
}

const KEYWORD_REPLY = Buffer.from(JSON.stringify({ text: 'Anvils are $99.' })).toString('base64');

export async function runBusinessInbox(o: BusinessInboxOptions) {
  process.stderr.write(`creating ${o.people} people and the business…\n`);
  const people = await createAccounts(o.dataDir, o.people);
  const { phone } = await createBusiness(o.dataDir, o.rules);
  const server = await startServerProcess({
    PARLEY_DATA_DIR: o.dataDir,
    PARLEY_WS_FRAMES_PER_SECOND: '1000000',
  });
  try {
    const phase = { name: 'peak' as 'peak' | 'latency', sent: 0, acked: 0, quota: 0 };
    let replies = 0;
    let lastReplyAt = 0;
    const pending = new Map<BenchConnection, number[]>(); // send times awaiting their reply
    const latencies: number[] = [];
    let counter = 0;

    const send = (conn: BenchConnection) => {
      const id = `b${counter++}`;
      const payload = Buffer.from(JSON.stringify({ text: `what is the price of item ${id}?` })).toString(
        'base64',
      );
      let queue = pending.get(conn);
      if (!queue) {
        queue = [];
        pending.set(conn, queue);
      }
      queue.push(performance.now());
      phase.sent++;
      conn.ws.send(`{"op":"send","id":"${id}","to":"${phone}","payload":"${payload}"}`);
    };

    let conns: BenchConnection[] = [];
    const handlers: Handlers = {
      onMsg(conn, frame) {
        if (frame.payload !== KEYWORD_REPLY) return; // the away message
        replies++;
        const now = performance.now();
        lastReplyAt = now;
        const sentAt = pending.get(conn)?.shift();
        if (phase.name === 'latency' && sentAt !== undefined) latencies.push(now - sentAt);
        if (phase.name === 'peak' && phase.sent < phase.quota) send(conn);
      },
      onSent() {
        phase.acked++;
      },
      onError(_conn, frame) {
        process.stderr.write(`error frame: ${JSON.stringify(frame)}\n`);
      },
    };

    process.stderr.write(`connecting ${o.people} people…\n`);
    conns = await pool(people, 100, (d) => connectDevice(server.wsUrl, d, handlers));
    await sleep(500);

    process.stderr.write(`phase 1: ${o.messages} messages, ${o.inFlight} in flight per person…\n`);
    phase.quota = o.messages;
    const firstSend = performance.now();
    for (let i = 0; i < o.inFlight; i++) for (const c of conns) if (phase.sent < phase.quota) send(c);
    await waitFor(() => replies >= o.messages, 240_000);
    const peak = replies / ((lastReplyAt - firstSend) / 1000);
    process.stderr.write(`phase 1: ${Math.round(peak)} inbound/s handled\n`);

    phase.name = 'latency';
    const rate = o.latencyRate ?? peak / 2;
    const total = Math.max(1, Math.round(rate * o.latencySeconds));
    process.stderr.write(`phase 2: ${Math.round(rate)}/s for ${o.latencySeconds} s…\n`);
    const start = performance.now();
    let next = 0;
    let issued = 0;
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const due = Math.min(total, Math.round(((performance.now() - start) / 1000) * rate) + 1);
        while (issued < due) {
          // One message per person at a time: the next idle person takes it.
          let tries = 0;
          while (
            tries < conns.length &&
            (pending.get(conns[next % conns.length] as BenchConnection)?.length ?? 0) > 0
          ) {
            next++;
            tries++;
          }
          const conn = conns[next % conns.length];
          next++;
          if (!conn || tries >= conns.length) break;
          send(conn);
          issued++;
        }
        if (issued >= total) {
          clearInterval(timer);
          resolve();
        }
      }, 2);
    });
    await waitFor(() => replies >= phase.sent, 60_000).catch(() => {});
    await sleep(500);
    latencies.sort((a, b) => a - b);
    const result = {
      bench: 'business-inbox',
      inbound_per_s: Math.round(peak),
      automation_p99_ms: Math.round(percentile(latencies, 99) * 100) / 100,
      lost: phase.acked - replies,
    };
    const extra = {
      people: o.people,
      messages: o.messages,
      keyword_rules: o.rules,
      latency_rate_per_s: Math.round(rate),
      automation_p50_ms: Math.round(percentile(latencies, 50) * 100) / 100,
      latency_messages: latencies.length,
      server_rss_mb: Math.round(server.rssBytes() / 1048576),
    };
    for (const c of conns) c.ws.close(1000);
    return { result, extra };
  } finally {
    await server.stop();
  }
}
