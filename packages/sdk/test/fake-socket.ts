/**
 * An in-memory stand-in for a WebSocket, driven by the test as if it were the server.
 * Every socket the client opens is recorded in `sockets`, newest last.
 */
import type { SocketCloseEvent, SocketMessageEvent, WebSocketLike } from '../src/socket.js';

export class FakeSocket implements WebSocketLike {
  static sockets: FakeSocket[] = [];
  readyState = 0;
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: SocketMessageEvent) => void) | null = null;
  onclose: ((event: SocketCloseEvent) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  /** Frames the client sent, parsed. */
  readonly frames: Array<{ op: string; [key: string]: unknown }> = [];
  closedWith: number | undefined;

  constructor(readonly url: string) {
    FakeSocket.sockets.push(this);
  }

  static latest(): FakeSocket {
    const socket = FakeSocket.sockets.at(-1);
    if (!socket) throw new Error('no socket was opened');
    return socket;
  }

  send(data: string): void {
    this.frames.push(JSON.parse(data));
  }

  close(code = 1000): void {
    this.closedWith = code;
    this.readyState = 3;
    queueMicrotask(() => this.onclose?.({ code, reason: '' }));
  }

  // ---- the test plays the server ----

  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }

  push(frame: object): void {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }

  welcome(): void {
    this.open();
    this.push({
      op: 'welcome',
      v: 1,
      account_id: 'acc_me',
      device_id: 'dev_me',
      heartbeat_ms: 30_000,
      max_payload_bytes: 65_536,
    });
  }

  serverClose(code: number): void {
    this.readyState = 3;
    this.onclose?.({ code, reason: '' });
  }

  ops(op: string) {
    return this.frames.filter((f) => f.op === op);
  }
}
