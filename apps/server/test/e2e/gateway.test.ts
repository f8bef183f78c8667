/**
 * The WebSocket protocol against a real server on real sockets: sign-in, delivery, acks,
 * resume, displacement, back-pressure and every kind of bad input.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../harness/server.js';
import { PG_AVAILABLE } from '../harness/storage.js';
import { openRaw, openSignedIn, textPayload } from '../harness/ws-client.js';

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe.skipIf(dialect === 'postgres' && !PG_AVAILABLE)(`gateway [${dialect}]`, () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer({ dialect, env: { PARLEY_WS_WINDOW: '4' } });
    });
    afterAll(async () => {
      await server?.close();
    });

    it('delivers live, in order, and acks delete', async () => {
      const alice = await server.newPerson('Alice');
      const bob = await server.newPerson('Bob');
      const a = await openSignedIn(server.wsUrl, alice.token);
      const b = await openSignedIn(server.wsUrl, bob.token);
      expect(a.welcome).toMatchObject({
        op: 'welcome',
        v: 1,
        account_id: alice.account_id,
        device_id: alice.device_id,
      });
      await b.op('synced');

      a.send({ op: 'send', id: 'm1', to: bob.phone, payload: textPayload('hello') });
      const sent = await a.op('sent');
      expect(sent).toMatchObject({ id: 'm1', duplicate: false });
      const msg = await b.op('msg');
      expect(msg).toMatchObject({
        seq: 1,
        message_id: sent.message_id,
        from: alice.phone,
        from_account: alice.account_id,
        from_device: alice.device_id,
        payload: textPayload('hello'),
        sent_at: sent.sent_at,
      });
      b.send({ op: 'ack', seq: 1 });
      a.close();
      b.close();
    });
  });
}

describe('gateway protocol', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { PARLEY_WS_WINDOW: '4', PARLEY_WS_FRAMES_PER_SECOND: '50' } });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('queues for an offline device and resumes after reconnect with nothing lost or reordered', async () => {
    const alice = await server.newPerson();
    const bob = await server.newPerson();
    const a = await openSignedIn(server.wsUrl, alice.token);
    for (let i = 1; i <= 10; i++)
      a.send({ op: 'send', id: `o${i}`, to: bob.phone, payload: textPayload(`#${i}`) });
    for (let i = 1; i <= 10; i++) await a.next((f) => f.op === 'sent' && f.id === `o${i}`);

    // Window is 4: Bob gets four, nothing more until he acks.
    const b1 = await openSignedIn(server.wsUrl, bob.token);
    const first = [await b1.op('msg'), await b1.op('msg'), await b1.op('msg'), await b1.op('msg')];
    expect(first.map((m) => m.seq)).toEqual([1, 2, 3, 4]);
    await expect(b1.op('msg', 300)).rejects.toThrow();
    b1.send({ op: 'ack', seq: 2 });
    expect((await b1.op('msg')).seq).toBe(5);
    expect((await b1.op('msg')).seq).toBe(6);
    b1.close();
    await b1.closed();

    // Reconnect: everything not acked comes again, in order, then synced.
    const b2 = await openSignedIn(server.wsUrl, bob.token);
    const seen: number[] = [];
    for (;;) {
      const f = await b2.next((x) => x.op === 'msg' || x.op === 'synced');
      if (f.op === 'synced') break;
      seen.push(f.seq as number);
      b2.send({ op: 'ack', seq: f.seq });
    }
    expect(seen).toEqual([3, 4, 5, 6, 7, 8, 9, 10]);
    const texts: string[] = [];
    // Live delivery continues after synced.
    a.send({ op: 'send', id: 'live', to: bob.phone, payload: textPayload('live') });
    const live = await b2.op('msg');
    texts.push(JSON.parse(Buffer.from(String(live.payload), 'base64').toString()).text);
    expect(live.seq).toBe(11);
    expect(texts).toEqual(['live']);
    a.close();
    b2.close();
  });

  it('answers a retried client id with the original message and delivers it once', async () => {
    const alice = await server.newPerson();
    const bob = await server.newPerson();
    const a = await openSignedIn(server.wsUrl, alice.token);
    a.send({ op: 'send', id: 'dup', to: bob.phone, payload: textPayload('once') });
    const first = await a.op('sent');
    a.close();
    const again = await openSignedIn(server.wsUrl, alice.token);
    again.send({ op: 'send', id: 'dup', to: bob.phone, payload: textPayload('once') });
    const second = await again.op('sent');
    expect(second).toMatchObject({ message_id: first.message_id, duplicate: true });
    const b = await openSignedIn(server.wsUrl, bob.token);
    expect((await b.op('msg')).message_id).toBe(first.message_id);
    await b.op('synced');
    expect(b.pending.filter((f) => f.op === 'msg')).toEqual([]);
    again.close();
    b.close();
  });

  it('a second connection of the same device displaces the first', async () => {
    const alice = await server.newPerson();
    const bob = await server.newPerson();
    const first = await openSignedIn(server.wsUrl, bob.token);
    const second = await openSignedIn(server.wsUrl, bob.token);
    expect(await first.op('error')).toMatchObject({ code: 'DEVICE_DISPLACED' });
    expect((await first.closed()).code).toBe(4409);
    const a = await openSignedIn(server.wsUrl, alice.token);
    a.send({ op: 'send', id: 'x', to: bob.phone, payload: textPayload('to the new one') });
    expect(await second.op('msg')).toMatchObject({ seq: 1 });
    a.close();
    second.close();
  });

  it('refuses bad tokens and frames before hello with 4401', async () => {
    const bad = await openRaw(server.wsUrl);
    bad.send({ op: 'hello', token: 'pdt_wrong' });
    expect(await bad.op('error')).toMatchObject({ code: 'UNAUTHENTICATED' });
    expect((await bad.closed()).code).toBe(4401);

    const early = await openRaw(server.wsUrl);
    early.send({ op: 'send', id: 'x', to: '+15550001111', payload: '' });
    expect(await early.op('error')).toMatchObject({ code: 'HELLO_REQUIRED' });
    expect((await early.closed()).code).toBe(4401);
  });

  it('answers malformed frames, unknown ops and bad fields with error frames and stays open', async () => {
    const alice = await server.newPerson();
    const c = await openSignedIn(server.wsUrl, alice.token);
    c.send('{not json');
    expect(await c.op('error')).toMatchObject({ code: 'FRAME_MALFORMED' });
    c.send('[1,2]');
    expect(await c.op('error')).toMatchObject({ code: 'FRAME_MALFORMED' });
    c.ws.send(Buffer.from([1, 2, 3]));
    expect(await c.op('error')).toMatchObject({ code: 'FRAME_MALFORMED' });
    c.send({ op: 'teleport' });
    expect(await c.op('error')).toMatchObject({ code: 'FRAME_UNKNOWN_OP' });
    c.send({ op: 'send', id: 'bad id with spaces', to: '+15550001111', payload: 'aGk=' });
    expect(await c.op('error')).toMatchObject({ code: 'VALIDATION_FAILED' });
    c.send({ op: 'send', id: 'nobody', to: '+15559999997', payload: 'aGk=' });
    expect(await c.op('error')).toMatchObject({ code: 'RECIPIENT_NOT_FOUND', id: 'nobody' });
    c.send({
      op: 'send',
      id: 'huge',
      to: '+15559999997',
      payload: Buffer.alloc(65 * 1024).toString('base64'),
    });
    expect(await c.op('error')).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', id: 'huge' });
    c.send({ op: 'ack', seq: -1 });
    expect(await c.op('error')).toMatchObject({ code: 'VALIDATION_FAILED' });
    c.send({ op: 'typing', to: '+15559999997' });
    expect(await c.op('error')).toMatchObject({ code: 'VALIDATION_FAILED' });
    c.send({ op: 'typing', to: '+15559999997', state: 'composing' });
    expect(await c.op('error')).toMatchObject({ code: 'RECIPIENT_NOT_FOUND' });
    c.send({ op: 'typing', to: 'grp_01NOSUCH0000000000000000', state: 'composing' });
    expect(await c.op('error')).toMatchObject({ code: 'NOT_A_GROUP_MEMBER' });
    c.send({ op: 'ping', t: 42 });
    expect(await c.op('pong')).toEqual({ op: 'pong', t: 42 });
    c.close();
  });

  it('closes with 1009 on a frame over 128 KiB', async () => {
    const alice = await server.newPerson();
    const c = await openSignedIn(server.wsUrl, alice.token);
    c.send({ op: 'send', id: 'x', to: '+15550001111', payload: 'A'.repeat(140 * 1024) });
    expect((await c.closed()).code).toBe(1009);
  });

  it('throttles a flood without dropping a frame: a notice, then every frame answered, in order', async () => {
    const alice = await server.newPerson();
    const c = await openSignedIn(server.wsUrl, alice.token);
    // 50 frames/s with bursts of 100 (see PARLEY_WS_FRAMES_PER_SECOND above).
    for (let i = 0; i < 160; i++) c.send({ op: 'ping', t: i });
    expect(await c.op('error')).toMatchObject({
      code: 'RATE_LIMITED',
      details: { retry_after_ms: expect.any(Number) },
    });
    const pongs: number[] = [];
    for (let i = 0; i < 160; i++) pongs.push((await c.op('pong', 5000)).t as number);
    expect(pongs).toEqual(Array.from({ length: 160 }, (_, i) => i));
    expect(c.ws.readyState).toBe(c.ws.OPEN);
    c.close();
  });

  it('closes the connection of a device that logs out', async () => {
    const alice = await server.newPerson();
    const c = await openSignedIn(server.wsUrl, alice.token);
    const response = await fetch(`${server.url}/api/v1/auth/logout`, {
      method: 'POST',
      headers: { authorization: `Bearer ${alice.token}` },
    });
    expect(response.status).toBe(200);
    expect(await c.op('error')).toMatchObject({ code: 'UNAUTHENTICATED' });
    expect((await c.closed()).code).toBe(4401);
  });

  it('never acks what it did not send: an ack from the future deletes nothing', async () => {
    const alice = await server.newPerson();
    const bob = await server.newPerson();
    const a = await openSignedIn(server.wsUrl, alice.token);
    const b = await openSignedIn(server.wsUrl, bob.token);
    await b.op('synced');
    b.send({ op: 'ack', seq: 1000 });
    a.send({ op: 'send', id: 'f', to: bob.phone, payload: textPayload('future') });
    await a.op('sent');
    expect((await b.op('msg')).seq).toBe(1);
    b.close();
    await b.closed();
    const b2 = await openSignedIn(server.wsUrl, bob.token);
    expect((await b2.op('msg')).seq).toBe(1);
    a.close();
    b2.close();
  });
});

describe('gateway heartbeats', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { PARLEY_HEARTBEAT_MS: '1000' } });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('keeps a connection that answers pings and drops one that went silent', async () => {
    const alive = await openSignedIn(server.wsUrl, (await server.newPerson()).token);
    const silent = await openSignedIn(server.wsUrl, (await server.newPerson()).token);
    // A vanished peer: its socket is never read again, so it never answers a ping.
    const raw = (silent.ws as unknown as { _socket: { pause(): void } })._socket;
    raw.pause();
    const open = async () => (await server.platform.metrics.connections.get()).values[0]?.value;
    expect(await open()).toBe(2);
    const deadline = Date.now() + 5000;
    while ((await open()) !== 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    // Dropped by the server within two heartbeat intervals (plus one sweep).
    expect(await open()).toBe(1);
    alive.send({ op: 'ping', t: 7 });
    expect(await alive.op('pong')).toEqual({ op: 'pong', t: 7 });
    alive.close();
  });
});
