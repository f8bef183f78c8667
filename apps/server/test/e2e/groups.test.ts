/**
 * Groups through real SDK clients on real sockets: a 1,024-member group with every member
 * connected, membership changing while messages flow, and the documented refusals.
 */
import type { ReceivedMessage } from '@parley/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSdkPool } from '../harness/sdk.js';
import { startTestServer, type TestServer } from '../harness/server.js';
import { until } from '../harness/wait.js';

describe('groups through the SDK', () => {
  let server: TestServer;
  const sdk = createSdkPool(() => server.url);
  const connect = (token: string) => sdk.connect(token);
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await sdk.closeAll();
    await server?.close();
  });

  it('a 1,024-member group: every member device gets every message once, in order; joins and leaves mid-flow', async () => {
    const people = [];
    for (let i = 0; i < 1026; i++) people.push(await server.newPerson(`M${i}`));
    const [admin, late, ...rest] = people as [
      (typeof people)[0],
      (typeof people)[0],
      ...(typeof people)[0][],
    ];
    const members = rest.slice(0, 1023);

    const adminClient = await connect(admin.token);
    const group = await adminClient.client.groups.create({
      subject: 'Everyone',
      members: members.map((m) => m.account_id),
    });
    expect(group.members).toHaveLength(1024);

    const conns: Awaited<ReturnType<typeof connect>>[] = [];
    for (let i = 0; i < members.length; i += 64) {
      conns.push(...(await Promise.all(members.slice(i, i + 64).map((m) => connect(m.token)))));
    }
    await Promise.all(conns.map((c) => c.client.whenSynced()));
    for (const c of conns)
      expect(c.inbox.map((m) => [m.kind, m.event?.type])).toEqual([['event', 'group.created']]);

    // Five messages, then one member leaves, two more messages, a newcomer joins by link, one more.
    for (let i = 0; i < 5; i++) await adminClient.client.sendText(group.group_id, `m${i}`);
    await expect(adminClient.client.groups.addMembers(group.group_id, [late.phone])).rejects.toMatchObject({
      code: 'GROUP_FULL',
    });
    const leaver = conns[10];
    await leaver?.client.groups.leave(group.group_id);
    for (let i = 5; i < 7; i++) await adminClient.client.sendText(group.group_id, `m${i}`);
    const { code } = await adminClient.client.groups.createInvite(group.group_id);
    const newcomer = await connect(late.token);
    await newcomer.client.groups.join(code);
    await adminClient.client.sendText(group.group_id, 'm7');

    const texts = (c: { inbox: ReceivedMessage[] }) =>
      c.inbox.filter((m) => m.kind === 'message' && m.chatId === group.group_id).map((m) => m.text);
    const all = ['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7'];
    await until(() => conns.every((c) => c === leaver || texts(c).length === all.length));
    for (const c of conns) {
      if (c === leaver) continue;
      expect(texts(c)).toEqual(all);
      expect(new Set(c.inbox.map((m) => m.messageId)).size).toBe(c.inbox.length);
    }
    await until(() => texts(newcomer).length === 1);
    expect(texts(newcomer)).toEqual(['m7']);
    expect(texts(leaver as { inbox: ReceivedMessage[] })).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
    expect(leaver?.inbox.at(-1)?.event).toMatchObject({ type: 'group.member_left' });
  }, 180_000);

  it('refuses non-members, non-admins and restricted sends with documented errors', async () => {
    const [a, b, c] = [await server.newPerson(), await server.newPerson(), await server.newPerson()];
    const alice = await connect(a.token);
    const bob = await connect(b.token);
    const carol = await connect(c.token);
    const group = await alice.client.groups.create({ subject: 'Small', members: [b.phone] });
    await expect(carol.client.sendText(group.group_id, 'hi?')).rejects.toMatchObject({
      code: 'NOT_A_GROUP_MEMBER',
    });
    await expect(carol.client.groups.get(group.group_id)).rejects.toMatchObject({
      code: 'NOT_A_GROUP_MEMBER',
    });
    await expect(bob.client.groups.addMembers(group.group_id, [c.phone])).rejects.toMatchObject({
      code: 'GROUP_ADMINS_ONLY',
    });
    await alice.client.groups.update(group.group_id, { onlyAdminsSend: true });
    await expect(bob.client.sendText(group.group_id, 'me?')).rejects.toMatchObject({
      code: 'GROUP_ADMINS_ONLY',
    });
    await expect(alice.client.groups.join('nope')).rejects.toMatchObject({ code: 'GROUP_NOT_FOUND' });
    await expect(alice.client.sendText('grp_01NOSUCHGROUP000000000000', 'x')).rejects.toMatchObject({
      code: 'GROUP_NOT_FOUND',
    });
  });
});
