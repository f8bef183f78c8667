/**
 * Minimal protocol clients for load generation: raw `ws`, no SDK, so the load generator spends
 * as little CPU per message as possible and the server is what gets measured.
 */
import WebSocket from 'ws';
import type { BenchDevice } from './setup.js';

export interface BenchConnection {
  device: BenchDevice;
  ws: WebSocket;
  /** Highest seq received and not yet acked. */
  pendingAck: number;
  ackScheduled: boolean;
}

export interface Handlers {
  onMsg(conn: BenchConnection, frame: { seq: number; message_id: string; payload: string }): void;
  onSent(conn: BenchConnection, frame: { id: string; message_id: string; duplicate: boolean }): void;
  onError(conn: BenchConnection, frame: { code: string; id?: string; message: string }): void;
}

const ACK_BATCH = 64;
const ACK_DELAY_MS = 20;

/** Opens one signed-in connection; resolves once its backlog is drained (`synced`). */
export function connectDevice(
  url: string,
  device: BenchDevice,
  handlers: Handlers,
): Promise<BenchConnection> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const conn: BenchConnection = { device, ws, pendingAck: 0, ackScheduled: false };
    const flushAck = () => {
      conn.ackScheduled = false;
      if (conn.pendingAck > 0 && ws.readyState === ws.OPEN) ws.send(`{"op":"ack","seq":${conn.pendingAck}}`);
    };
    // Acks as the SDK sends them: cumulative, after 64 messages or 20 ms, whichever is first.
    let unacked = 0;
    let timer: NodeJS.Timeout | undefined;
    const scheduleAck = (seq: number) => {
      conn.pendingAck = seq;
      unacked++;
      if (unacked >= ACK_BATCH) {
        if (timer) clearTimeout(timer);
        timer = undefined;
        unacked = 0;
        flushAck();
      } else if (!timer) {
        timer = setTimeout(() => {
          timer = undefined;
          unacked = 0;
          flushAck();
        }, ACK_DELAY_MS);
      }
    };
    ws.on('open', () => ws.send(JSON.stringify({ op: 'hello', token: device.token, v: 1 })));
    ws.on('message', (data) => {
      const text = String(data);
      // msg frames are most of the traffic: read the three fields needed without a full parse,
      // so the load generator spends its CPU on load, not on parsing.
      if (text.startsWith('{"op":"msg","seq":')) {
        const seq = Number(/"seq":(\d+)/.exec(text)?.[1]);
        const message_id = /"message_id":"([^"]+)"/.exec(text)?.[1] ?? '';
        const payload = /"payload":"([^"]*)"/.exec(text)?.[1] ?? '';
        handlers.onMsg(conn, { seq, message_id, payload });
        scheduleAck(seq);
        return;
      }
      const frame = JSON.parse(text);
      switch (frame.op) {
        case 'msg':
          handlers.onMsg(conn, frame);
          scheduleAck(frame.seq);
          break;
        case 'sent':
          handlers.onSent(conn, frame);
          break;
        case 'synced':
          resolve(conn);
          break;
        case 'error':
          handlers.onError(conn, frame);
          break;
      }
    });
    ws.on('error', reject);
    ws.on('close', (code) => {
      if (code !== 1000 && code !== 1005) reject(new Error(`connection closed with ${code}`));
    });
  });
}

/** Runs `task` over `items` with at most `concurrency` in flight. */
export async function pool<T, R>(
  items: T[],
  concurrency: number,
  task: (item: T, i: number) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await task(items[i] as T, i);
      }
    }),
  );
  return out;
}

export function percentile(sorted: Float64Array | number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] as number;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `done` holds; throws after `timeoutMs`. */
export async function waitFor(done: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for deliveries');
    await sleep(20);
  }
}
