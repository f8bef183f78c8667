/** A raw WebSocket test client: sends frames as given and lets a test await the frames it expects. */
import WebSocket from 'ws';

export interface RawFrame {
  op: string;
  [key: string]: unknown;
}

export async function openRaw(url: string) {
  const ws = new WebSocket(url);
  const frames: RawFrame[] = [];
  const waiters: { match: (f: RawFrame) => boolean; resolve: (f: RawFrame) => void }[] = [];
  let closed: { code: number; reason: string } | undefined;
  const closeWaiters: ((c: { code: number; reason: string }) => void)[] = [];
  ws.on('message', (data) => {
    const frame = JSON.parse(String(data)) as RawFrame;
    const i = waiters.findIndex((w) => w.match(frame));
    if (i >= 0) {
      const [w] = waiters.splice(i, 1);
      w?.resolve(frame);
    } else {
      frames.push(frame);
    }
  });
  ws.on('close', (code, reason) => {
    closed = { code, reason: String(reason) };
    for (const w of closeWaiters.splice(0)) w(closed);
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return {
    ws,
    send(frame: unknown) {
      ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
    },
    /** The next frame matching `match` (earlier unmatched frames stay queued). */
    next(match: (f: RawFrame) => boolean = () => true, timeoutMs = 5000): Promise<RawFrame> {
      const i = frames.findIndex(match);
      if (i >= 0) return Promise.resolve(frames.splice(i, 1)[0] as RawFrame);
      return new Promise((resolve, reject) => {
        const waiter = {
          match,
          resolve: (f: RawFrame) => {
            clearTimeout(timer);
            resolve(f);
          },
        };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new Error(`no matching frame in ${timeoutMs} ms; have ${JSON.stringify(frames)}`));
        }, timeoutMs);
        waiters.push(waiter);
      });
    },
    op(op: string, timeoutMs?: number) {
      return this.next((f) => f.op === op, timeoutMs);
    },
    /** Frames received and not yet taken. */
    pending: frames,
    closed(timeoutMs = 5000): Promise<{ code: number; reason: string }> {
      if (closed) return Promise.resolve(closed);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('connection did not close')), timeoutMs);
        closeWaiters.push((c) => {
          clearTimeout(timer);
          resolve(c);
        });
      });
    },
    close() {
      ws.close();
    },
  };
}

/** Opens a connection and signs in with hello; resolves at welcome. */
export async function openSignedIn(url: string, token: string) {
  const client = await openRaw(url);
  client.send({ op: 'hello', token, v: 1 });
  const welcome = await client.op('welcome');
  return Object.assign(client, { welcome });
}

export const textPayload = (text: string) => Buffer.from(JSON.stringify({ text })).toString('base64');
