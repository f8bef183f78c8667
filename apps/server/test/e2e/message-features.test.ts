/**
 * Message features through real SDK clients on real sockets: replies, reactions, edits,
 * deletes for everyone (also of a message still queued for an offline device), forwards and
 * disappearing messages.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSdkPool } from '../harness/sdk.js';
import { startTestServer, type TestServer } from '../harness/server.js';
import { until } from '../harness/wait.js';

describe('message features through the SDK', () => {
  let server: TestServer;
  const sdk = createSdkPool(() => server.url);
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await sdk.closeAll();
    await server?.close();
  });

  it('replies, reactions (one per person), edits and forwards reach the other side as sent', async () => {
    const [a, b, c] = [await server.newPerson('A'), await server.newPerson('B'), await server.newPerson('C')];
    const alice = await sdk.connect(a.token, { synced: true });
    const bob = await sdk.connect(b.token, { synced: true });
    const carol = await sdk.connect(c.token, { synced: true });

    const hi = await alice.client.sendText(b.account_id, 'hi there');
    await until(() => bob.inbox.some((m) => m.messageId === hi.messageId));

    const reply = await bob.client.sendText(a.account_id, 'hello!', { replyTo: hi.messageId });
    await bob.client.react(a.account_id, hi.messageId, '👍');
    await bob.client.react(a.account_id, hi.messageId, '❤️');
    await bob.client.react(a.account_id, hi.messageId, '');
    const edit = await alice.client.edit(b.account_id, hi.messageId, 'hi there, Bob');
    await until(() => alice.inbox.length >= 4 && bob.inbox.some((m) => m.messageId === edit.messageId));

    expect(alice.inbox.map((m) => [m.kind, m.ref, m.replyTo, m.text])).toEqual([
      ['message', undefined, hi.messageId, 'hello!'],
      ['reaction', hi.messageId, undefined, '👍'],
      ['reaction', hi.messageId, undefined, '❤️'],
      ['reaction', hi.messageId, undefined, undefined],
    ]);
    expect(alice.inbox[0]?.messageId).toBe(reply.messageId);
    expect(bob.inbox.at(-1)).toMatchObject({ kind: 'edit', ref: hi.messageId, text: 'hi there, Bob' });

    // Bob forwards Alice's message to Carol, who sees it forwarded once.
    const original = bob.inbox.find((m) => m.messageId === hi.messageId);
    if (!original) throw new Error('Bob never got the message');
    const fwd = await bob.client.forward(c.account_id, original);
    await until(() => carol.inbox.some((m) => m.messageId === fwd.messageId));
    expect(carol.inbox.at(-1)).toMatchObject({ forwarded: 1, forwardedMany: false, text: 'hi there' });

    // Documented refusals, and nothing reaches anyone.
    await expect(carol.client.react(a.account_id, hi.messageId, '😈')).rejects.toMatchObject({
      code: 'MESSAGE_NOT_FOUND',
    });
    await expect(bob.client.edit(a.account_id, hi.messageId, 'not mine')).rejects.toMatchObject({
      code: 'NOT_MESSAGE_SENDER',
    });
    expect(alice.inbox.filter((m) => m.fromAccount === c.account_id)).toEqual([]);
  });

  it('deleting for everyone removes a copy still queued for an offline device', async () => {
    const [a, b] = [await server.newPerson('A'), await server.newPerson('B')];
    const alice = await sdk.connect(a.token, { synced: true });
    const bobFirst = await sdk.connect(b.token, { synced: true });
    await bobFirst.client.close();

    const secret = await alice.client.sendText(b.account_id, 'the wrong chat, sorry');
    const kept = await alice.client.sendText(b.account_id, 'this one stays');
    const del = await alice.client.deleteForEveryone(b.account_id, secret.messageId);

    const bob = await sdk.connect(b.token, { synced: true });
    expect(bob.inbox.map((m) => [m.messageId, m.kind, m.ref])).toEqual([
      [kept.messageId, 'message', undefined],
      [del.messageId, 'delete', secret.messageId],
    ]);
    await expect(alice.client.react(b.account_id, secret.messageId, '👍')).rejects.toMatchObject({
      code: 'MESSAGE_DELETED',
    });
  });

  it('disappearing messages: both sides are told, and later messages carry their end', async () => {
    const [a, b] = [await server.newPerson('A'), await server.newPerson('B')];
    const alice = await sdk.connect(a.token, { synced: true });
    const bob = await sdk.connect(b.token, { synced: true });

    const view = await alice.client.setDisappearing(b.account_id, '7d');
    expect(view).toMatchObject({ chat_id: b.account_id, timer: '7d', set_by: a.account_id });
    await until(() => bob.inbox.some((m) => m.event?.type === 'chat.disappearing'));
    expect(bob.inbox.at(-1)).toMatchObject({ kind: 'event', chatId: a.account_id });
    expect(await bob.client.disappearing(a.account_id)).toMatchObject({ timer: '7d' });

    const sent = await bob.client.sendText(a.account_id, 'gone in a week');
    await until(() => alice.inbox.some((m) => m.messageId === sent.messageId));
    expect(alice.inbox.at(-1)?.disappearsAt).toBe(sent.sentAt + 7 * 24 * 3600 * 1000);

    await expect(alice.client.setDisappearing(b.account_id, '1y' as unknown as '7d')).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
  });
});
