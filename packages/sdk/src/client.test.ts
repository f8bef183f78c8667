import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeSocket } from '../test/fake-socket.js';
import { ParleyClient } from './client.js';
import type { ParleyError } from './errors.js';
import { ACK_DELAY_MS, type ReceivedMessage } from './inbox.js';
import { encodeText } from './payload.js';

/** Lets pending microtasks and zero-delay timers (reconnects in these tests) run. */
const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 5));

const msg = (seq: number) => ({
  op: 'msg',
  seq,
  message_id: `msg_${seq}`,
  from: '+15550001111',
  from_account: 'acc_a',
  from_device: 'dev_a',
  chat: 'acc_a',
  kind: 'message',
  sent_at: seq,
  payload: encodeText(`m${seq}`),
});

let clients: ParleyClient[] = [];
function newClient() {
  const client = new ParleyClient({
    baseUrl: 'https://chat.example.org/',
    token: 'tok',
    WebSocket: FakeSocket,
    reconnect: { minDelayMs: 0, maxDelayMs: 0 },
  });
  const errors: ParleyError[] = [];
  client.on('error', (e) => errors.push(e));
  clients.push(client);
  return { client, errors };
}

beforeEach(() => {
  FakeSocket.sockets = [];
  clients = [];
});
afterEach(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => {})));
});

describe('ParleyClient connection', () => {
  it('says hello with the token and resolves connect() at welcome', async () => {
    const { client } = newClient();
    const connected = client.connect();
    await tick();
    const socket = FakeSocket.latest();
    expect(socket.url).toBe('wss://chat.example.org/ws');
    socket.welcome();
    await connected;
    expect(socket.frames[0]).toEqual({ op: 'hello', token: 'tok', v: 1 });
    expect(client.state).toBe('open');
    expect(client.session).toEqual({ accountId: 'acc_me', deviceId: 'dev_me' });
  });

  it('rejects connect() with UNAUTHENTICATED on 4401 and does not reconnect', async () => {
    const { client, errors } = newClient();
    const connected = client.connect();
    await tick();
    const socket = FakeSocket.latest();
    socket.open();
    socket.push({ op: 'error', code: 'UNAUTHENTICATED', message: 'unknown token' });
    socket.serverClose(4401);
    await expect(connected).rejects.toMatchObject({ code: 'UNAUTHENTICATED', message: 'unknown token' });
    await tick();
    expect(client.state).toBe('closed');
    expect(FakeSocket.sockets).toHaveLength(1);
    expect(errors.map((e) => e.code)).toEqual(['UNAUTHENTICATED']);
  });

  it('goes to displaced on 4409, rejects pending sends, and does not reconnect', async () => {
    const { client } = newClient();
    const connected = client.connect();
    await tick();
    FakeSocket.latest().welcome();
    await connected;
    const pending = client.sendText('+15550002222', 'hi');
    FakeSocket.latest().serverClose(4409);
    await expect(pending).rejects.toMatchObject({ code: 'DEVICE_DISPLACED' });
    await tick();
    expect(client.state).toBe('displaced');
    expect(FakeSocket.sockets).toHaveLength(1);
  });

  it('reconnects after a drop and resends unanswered sends with the same id', async () => {
    const { client } = newClient();
    const states: string[] = [];
    client.on('state', (s) => states.push(s));
    const connected = client.connect();
    await tick();
    FakeSocket.latest().welcome();
    await connected;
    const pending = client.send('+15550002222', encodeText('x'), { clientId: 'c-1' });
    const first = FakeSocket.latest();
    expect(first.ops('send')).toEqual([
      { op: 'send', id: 'c-1', to: '+15550002222', payload: encodeText('x') },
    ]);
    first.serverClose(1006);
    await tick();
    const second = FakeSocket.latest();
    expect(second).not.toBe(first);
    second.welcome();
    expect(second.ops('send').map((f) => f.id)).toEqual(['c-1']);
    second.push({ op: 'sent', id: 'c-1', message_id: 'msg_9', sent_at: 9, duplicate: true });
    await expect(pending).resolves.toEqual({ messageId: 'msg_9', sentAt: 9, duplicate: true });
    expect(states).toEqual(['connecting', 'open', 'reconnecting', 'open']);
  });

  it('rejects a too-large payload before sending it', async () => {
    const { client } = newClient();
    await expect(client.send('+15550002222', 'A'.repeat(90_000))).rejects.toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
    });
  });
});

describe('ParleyClient receiving', () => {
  it('delivers the backlog, acks it, and resolves whenSynced after it was handled', async () => {
    const { client } = newClient();
    const got: ReceivedMessage[] = [];
    client.onMessage((m) => {
      got.push(m);
    });
    const connected = client.connect();
    await tick();
    const socket = FakeSocket.latest();
    socket.welcome();
    await connected;
    const synced = client.whenSynced();
    socket.push(msg(1));
    socket.push(msg(2));
    socket.push({ op: 'synced' });
    await synced;
    expect(got.map((m) => m.text)).toEqual(['m1', 'm2']);
    expect(socket.ops('ack')).toEqual([{ op: 'ack', seq: 2 }]);
    expect(client.lastHandledSeq).toBe(2);
  });

  it('drops a redelivered message after reconnecting but acks it', async () => {
    const { client } = newClient();
    const got: number[] = [];
    client.onMessage((m) => {
      got.push(m.seq);
    });
    const connected = client.connect();
    await tick();
    FakeSocket.latest().welcome();
    await connected;
    FakeSocket.latest().push(msg(1));
    await tick();
    FakeSocket.latest().serverClose(1001);
    await tick();
    const second = FakeSocket.latest();
    second.welcome();
    second.push(msg(1));
    second.push(msg(2));
    await new Promise((resolve) => setTimeout(resolve, ACK_DELAY_MS * 2));
    expect(got).toEqual([1, 2]);
    expect(second.ops('ack').at(-1)).toEqual({ op: 'ack', seq: 2 });
  });
});

describe('ParleyClient close', () => {
  it('closes with 1000, rejects unsent sends and refuses new ones', async () => {
    const { client } = newClient();
    const pending = client.sendText('+15550002222', 'never sent');
    const connected = client.connect();
    await tick();
    const socket = FakeSocket.latest();
    socket.open();
    await client.close();
    await expect(pending).rejects.toMatchObject({ code: 'CLIENT_CLOSED', details: { maybe_sent: false } });
    await expect(connected).rejects.toMatchObject({ code: 'CLIENT_CLOSED' });
    expect(socket.closedWith).toBe(1000);
    expect(client.state).toBe('closed');
    await expect(client.sendText('+15550002222', 'late')).rejects.toMatchObject({ code: 'CLIENT_CLOSED' });
  });
});
