/**
 * Contacts, privacy, typing, presence and receipts through the SDK on a real server.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSdkPool } from '../harness/sdk.js';
import { startTestServer, type TestServer } from '../harness/server.js';
import { until } from '../harness/wait.js';

describe('contacts, privacy, typing, presence and receipts through the SDK', () => {
  let server: TestServer;
  const sdk = createSdkPool(() => server.url);
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterEach(() => sdk.closeAll());
  afterAll(async () => {
    await server?.close();
  });

  const settle = () => new Promise((r) => setTimeout(r, 150));

  it('discovers contacts by hash, blocks silently, and applies privacy to profiles', async () => {
    const [a, b, m] = [
      await server.newPerson('Alice'),
      await server.newPerson('Bob'),
      await server.newPerson('Mallory'),
    ];
    const alice = await sdk.connect(a.token, { synced: true });
    const bob = await sdk.connect(b.token, { synced: true });
    const mallory = await sdk.connect(m.token, { synced: true });

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
    await until(() => alice.inbox.some((x) => x.text === 'hi'), 5000);
    expect(alice.inbox.map((x) => x.text)).toEqual(['hi']);
    expect((await alice.client.contacts.listBlocked()).map((x) => x.account_id)).toEqual([m.account_id]);
  });

  it('typing reaches the other person’s and group members’ connected devices, never stored, never past a block', async () => {
    const [a, b, c] = [await server.newPerson(), await server.newPerson(), await server.newPerson()];
    const alice = await sdk.connect(a.token, { synced: true });
    const bob = await sdk.connect(b.token, { synced: true });
    const carol = await sdk.connect(c.token, { synced: true });

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

  it('a presence watcher sees an account come online and go offline with its last seen', async () => {
    const [a, b] = [await server.newPerson(), await server.newPerson()];
    const watcher = await sdk.connect(a.token);
    const updates = watcher.presence;
    expect(watcher.client.watchPresence(b.phone)).toBe(true);
    await until(() => updates.length === 1, 5000);
    expect(updates[0]).toEqual({ accountId: b.account_id, online: false, lastSeen: null });

    const bob = await sdk.connect(b.token);
    await until(() => updates.length === 2, 5000);
    expect(updates[1]).toMatchObject({ online: true, lastSeen: null });
    expect(await watcher.client.contacts.presence(b.account_id)).toMatchObject({ online: true });
    await bob.client.close();
    await until(() => updates.length === 3, 5000);
    expect(updates[2]).toMatchObject({ online: false, lastSeen: expect.any(String) });
  });

  it('a read receipt reaches the sender as an event, and the sender can ask who read', async () => {
    const [a, b] = [await server.newPerson(), await server.newPerson()];
    const alice = await sdk.connect(a.token, { synced: true });
    const bob = await sdk.connect(b.token, { synced: true });
    const sent = await alice.client.sendText(b.phone, 'read me');
    await until(() => bob.inbox.length > 0, 5000);
    expect(bob.client.sendReceipt('read', [bob.inbox[0]?.messageId ?? ''])).toBe(true);
    await until(() => alice.inbox.length > 0, 5000);
    expect(alice.inbox[0]).toMatchObject({
      kind: 'event',
      chatId: b.account_id,
      event: { type: 'receipt', receipt: 'delivered', message_ids: [sent.messageId], by: b.account_id },
    });
    await until(() => alice.inbox.length >= 2, 5000);
    expect(alice.inbox[1]?.event).toMatchObject({ receipt: 'read' });
    const who = await alice.client.messageReceipts(sent.messageId);
    expect(who.read.map((r) => r.account_id)).toEqual([b.account_id]);
  });
});
