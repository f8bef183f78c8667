/** Contacts and privacy through the SDK on a real server: discovery by hash, block, privacy. */
import { ParleyClient, type ReceivedMessage } from '@parley/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../harness/server.js';

describe('contacts through the SDK', () => {
  let server: TestServer;
  const clients: ParleyClient[] = [];
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await server?.close();
  });

  async function connect(token: string) {
    const client = new ParleyClient({ baseUrl: server.url, token });
    const inbox: ReceivedMessage[] = [];
    client.onMessage((m) => {
      inbox.push(m);
    });
    client.on('error', () => {});
    clients.push(client);
    await client.connect();
    await client.whenSynced();
    return { client, inbox };
  }

  it('discovers contacts by hash, blocks silently, and applies privacy to profiles', async () => {
    const [a, b, m] = [
      await server.newPerson('Alice'),
      await server.newPerson('Bob'),
      await server.newPerson('Mallory'),
    ];
    const alice = await connect(a.token);
    const bob = await connect(b.token);
    const mallory = await connect(m.token);

    expect(await alice.client.contacts.discover([b.phone, '+15559999994'])).toEqual([
      { phone: b.phone, account_id: b.account_id },
    ]);
    await alice.client.updateProfile({ about: 'Busy' });
    await alice.client.contacts.setPrivacy({ about: 'contacts' });
    expect((await bob.client.getProfile(a.phone)).about).toBe('Busy');
    expect((await mallory.client.getProfile(a.phone)).about).toBe('');

    await alice.client.contacts.report({ account: m.phone, reason: 'spam', block: true });
    const silent = await mallory.client.sendText(a.phone, 'you there?');
    expect(silent.duplicate).toBe(false);
    await bob.client.sendText(a.phone, 'hi');
    const deadline = Date.now() + 5000;
    while (!alice.inbox.some((x) => x.text === 'hi') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    expect(alice.inbox.map((x) => x.text)).toEqual(['hi']);
    expect((await alice.client.contacts.listBlocked()).map((x) => x.account_id)).toEqual([m.account_id]);
  });
});

describe('typing indicators', () => {
  let server: TestServer;
  const clients: ParleyClient[] = [];
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await server?.close();
  });

  async function connect(token: string) {
    const client = new ParleyClient({ baseUrl: server.url, token });
    const typing: { chatId: string; fromAccount: string; state: string }[] = [];
    client.on('typing', (t) => typing.push(t));
    client.on('error', () => {});
    clients.push(client);
    await client.connect();
    await client.whenSynced();
    return { client, typing };
  }

  const settle = () => new Promise((r) => setTimeout(r, 150));

  it('reach the other person’s and group members’ connected devices, never stored, never past a block', async () => {
    const [a, b, c] = [await server.newPerson(), await server.newPerson(), await server.newPerson()];
    const alice = await connect(a.token);
    const bob = await connect(b.token);
    const carol = await connect(c.token);

    expect(alice.client.sendTyping(b.phone, 'composing')).toBe(true);
    await settle();
    expect(bob.typing).toEqual([
      { chatId: a.account_id, from: a.phone, fromAccount: a.account_id, state: 'composing' },
    ]);

    const group = await alice.client.groups.create({ subject: 'G', members: [b.phone, c.phone] });
    alice.client.sendTyping(group.group_id, 'paused');
    await settle();
    expect(bob.typing.at(-1)).toMatchObject({ chatId: group.group_id, state: 'paused' });
    expect(carol.typing.at(-1)).toMatchObject({ chatId: group.group_id, state: 'paused' });
    expect(alice.typing).toEqual([]);

    await bob.client.contacts.block(c.phone);
    carol.client.sendTyping(b.phone);
    await settle();
    expect(bob.typing.filter((t) => t.fromAccount === c.account_id && t.chatId === c.account_id)).toEqual([]);

    // Nothing was queued: a later connection of Bob's sees no typing and no message from it.
    const queued = await server.modules.delivery.readQueue(b.device_id, 0, 100);
    expect(queued.every((e) => e.kind === 'event')).toBe(true);
  });
});

describe('presence', () => {
  let server: TestServer;
  const clients: ParleyClient[] = [];
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await server?.close();
  });

  it('a watcher sees an account come online and go offline with its last seen', async () => {
    const [a, b] = [await server.newPerson(), await server.newPerson()];
    const watcher = new ParleyClient({ baseUrl: server.url, token: a.token });
    const updates: { accountId: string; online: boolean | null; lastSeen: string | null }[] = [];
    watcher.on('presence', (p) => updates.push(p));
    watcher.on('error', () => {});
    clients.push(watcher);
    await watcher.connect();
    expect(watcher.watchPresence(b.phone)).toBe(true);
    const until = async (check: () => boolean) => {
      const deadline = Date.now() + 5000;
      while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    };
    await until(() => updates.length === 1);
    expect(updates[0]).toEqual({ accountId: b.account_id, online: false, lastSeen: null });

    const bob = new ParleyClient({ baseUrl: server.url, token: b.token });
    bob.on('error', () => {});
    await bob.connect();
    await until(() => updates.length === 2);
    expect(updates[1]).toMatchObject({ online: true, lastSeen: null });
    expect(await watcher.contacts.presence(b.account_id)).toMatchObject({ online: true });
    await bob.close();
    await until(() => updates.length === 3);
    expect(updates[2]).toMatchObject({ online: false, lastSeen: expect.any(String) });
  });
});

describe('receipts through the SDK', () => {
  let server: TestServer;
  const clients: ParleyClient[] = [];
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await server?.close();
  });

  it('a read receipt reaches the sender as an event, and the sender can ask who read', async () => {
    const [a, b] = [await server.newPerson(), await server.newPerson()];
    const make = async (token: string) => {
      const client = new ParleyClient({ baseUrl: server.url, token });
      const inbox: ReceivedMessage[] = [];
      client.onMessage((m) => {
        inbox.push(m);
      });
      client.on('error', () => {});
      clients.push(client);
      await client.connect();
      await client.whenSynced();
      return { client, inbox };
    };
    const alice = await make(a.token);
    const bob = await make(b.token);
    const sent = await alice.client.sendText(b.phone, 'read me');
    const deadline = Date.now() + 5000;
    while (bob.inbox.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(bob.client.sendReceipt('read', [bob.inbox[0]?.messageId ?? ''])).toBe(true);
    while (alice.inbox.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(alice.inbox[0]).toMatchObject({
      kind: 'event',
      chatId: b.account_id,
      event: { type: 'receipt', receipt: 'delivered', message_ids: [sent.messageId], by: b.account_id },
    });
    while (alice.inbox.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(alice.inbox[1]?.event).toMatchObject({ receipt: 'read' });
    const who = await alice.client.messageReceipts(sent.messageId);
    expect(who.read.map((r) => r.account_id)).toEqual([b.account_id]);
  });
});
