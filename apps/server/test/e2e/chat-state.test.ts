/**
 * Chat state across an account's devices through real SDK clients on real sockets: a primary
 * and a linked companion online, a second companion offline while things change, and a
 * companion linked afterwards. Each keeps a mirror fed by the documented sync recipe; at the end
 * every device holds the same state as the server.
 */
import {
  type ChatMirror,
  createChatMirror,
  linkDevice,
  MUTE_FOREVER,
  type ReceivedMessage,
} from '@parley/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSdkPool, type SdkConnection } from '../harness/sdk.js';
import { startTestServer, type TestServer } from '../harness/server.js';
import { PG_AVAILABLE } from '../harness/storage.js';
import { until } from '../harness/wait.js';

const chatEvents = (inbox: ReceivedMessage[]) =>
  inbox
    .filter((m) => m.kind === 'event' && /^(chat|message|account)\./.test(String(m.event?.type)))
    .map((m) => m.event as Record<string, unknown>);

/** Applies the device's received events to its mirror, in order. */
function catchUp(mirror: ChatMirror, inbox: ReceivedMessage[]): void {
  for (const event of chatEvents(inbox)) mirror.apply(event);
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe.skipIf(dialect === 'postgres' && !PG_AVAILABLE)(`chat state across devices [${dialect}]`, () => {
    let server: TestServer;
    const sdk = createSdkPool(() => server.url);
    beforeAll(async () => {
      server = await startTestServer({ dialect });
    });
    afterAll(async () => {
      await sdk.closeAll();
      await server?.close();
    });

    it('archive, pin, mute, read and stars converge on every device: live, after being offline, and newly linked', async () => {
      const [alice, bob, carol, dave] = [
        await server.newPerson('Alice'),
        await server.newPerson('Bob'),
        await server.newPerson('Carol'),
        await server.newPerson('Dave'),
      ];
      const phone = await sdk.connect(alice.token, { synced: true });
      const link = async (name: string) => {
        const { code } = await phone.client.createLinkCode();
        return linkDevice(server.url, { code, deviceName: name });
      };
      const laptopDevice = await link('Laptop');
      const tabletDevice = await link('Tablet');
      const laptop = await sdk.connect(laptopDevice.token, { synced: true });
      const tabletBefore = await sdk.connect(tabletDevice.token, { synced: true });

      // Each device starts from a full fetch.
      const mirrors = { phone: createChatMirror(), laptop: createChatMirror(), tablet: createChatMirror() };
      for (const [device, conn] of [
        [mirrors.phone, phone],
        [mirrors.laptop, laptop],
        [mirrors.tablet, tabletBefore],
      ] as [ChatMirror, SdkConnection][]) {
        device.load(await conn.client.chats.list(), await conn.client.chats.starred());
      }
      // The tablet goes offline for the rest of the changes.
      await tabletBefore.client.close();

      const bobClient = await sdk.connect(bob.token);
      const first = await bobClient.client.sendText(alice.phone, 'first');
      const second = await bobClient.client.sendText(alice.phone, 'second');
      const group = await bobClient.client.groups.create({
        subject: 'Climbing',
        members: [alice.account_id],
      });
      const inGroup = await bobClient.client.sendText(group.group_id, 'Saturday?');
      await until(() => laptop.inbox.filter((m) => m.kind === 'message').length === 3);

      // The phone changes things; each answer goes into its own mirror.
      const chats = phone.client.chats;
      const mutedUntil = Date.now() + 8 * 3600_000;
      mirrors.phone.applyChat(await chats.update(bob.account_id, { archived: true, pinned: true }));
      mirrors.phone.applyChat(await chats.update(bob.account_id, { mutedUntil, readUpTo: second.messageId }));
      mirrors.phone.applyChat(await chats.update(bob.account_id, { readUpTo: first.messageId })); // ignored: older
      mirrors.phone.applyChat(await chats.update(group.group_id, { pinned: true, mutedUntil: MUTE_FOREVER }));
      mirrors.phone.applyStar(await chats.star(first.messageId));
      mirrors.phone.applyStar(await chats.star(inGroup.messageId));
      mirrors.phone.applyChat(await chats.update(carol.account_id, { pinned: true }));
      await expect(chats.update(dave.account_id, { pinned: true })).rejects.toMatchObject({
        code: 'CHAT_PIN_LIMIT',
        status: 409,
        details: { max_pinned: 3 },
      });
      await expect(chats.update('acc_nobody', { archived: true })).rejects.toMatchObject({
        code: 'CHAT_NOT_FOUND',
        status: 404,
      });
      await expect(chats.star('msg_nothing')).rejects.toMatchObject({ code: 'MESSAGE_NOT_FOUND' });

      // The laptop sees every change live, and makes two of its own.
      await until(() => chatEvents(laptop.inbox).length === 6);
      // The older read position changed nothing, so it sent nothing.
      expect(chatEvents(laptop.inbox).map((e) => e.type)).toEqual([
        'chat.state',
        'chat.state',
        'chat.state',
        'message.starred',
        'message.starred',
        'chat.state',
      ]);
      expect(laptop.inbox.find((m) => m.event?.type === 'message.starred')).toMatchObject({
        chatId: bob.account_id,
        fromDevice: alice.device_id,
        event: { message_id: first.messageId, chat_id: bob.account_id },
      });
      catchUp(mirrors.laptop, laptop.inbox);
      mirrors.laptop.applyStar(await laptop.client.chats.unstar(first.messageId));
      mirrors.laptop.applyChat(
        await laptop.client.chats.update(carol.account_id, { pinned: false, archived: true }),
      );
      const privacy = await laptop.client.contacts.setPrivacy({ last_seen: 'nobody', read_receipts: false });
      expect(privacy).toMatchObject({ last_seen: 'nobody', version: expect.any(Number) });
      mirrors.laptop.applyPrivacy(privacy);

      // The phone hears about the laptop's changes, settings included.
      await until(() => chatEvents(phone.inbox).length === 3);
      expect(chatEvents(phone.inbox).map((e) => e.type)).toEqual([
        'message.unstarred',
        'chat.state',
        'account.settings',
      ]);
      expect(phone.inbox.at(-1)).toMatchObject({
        chatId: alice.account_id,
        fromDevice: laptopDevice.device_id,
        event: { privacy: { last_seen: 'nobody', read_receipts: false } },
      });
      catchUp(mirrors.phone, phone.inbox);
      expect(await phone.client.contacts.getPrivacy()).toMatchObject({ last_seen: 'nobody' });

      // The tablet comes back and catches up from its queue alone.
      const tablet = await sdk.connect(tabletDevice.token, { synced: true });
      expect(chatEvents(tablet.inbox)).toHaveLength(9);
      catchUp(mirrors.tablet, tablet.inbox);

      // A companion linked now converges from a full fetch.
      const desktopDevice = await link('Desktop');
      const desktop = await sdk.connect(desktopDevice.token, { synced: true });
      expect(chatEvents(desktop.inbox)).toEqual([]);
      const fresh = createChatMirror();
      fresh.load(await desktop.client.chats.list(), await desktop.client.chats.starred());

      const truth = await desktop.client.chats.list();
      expect(truth.chats.find((c) => c.chat_id === bob.account_id)).toMatchObject({
        archived: true,
        pinned: true,
        muted_until: mutedUntil,
        read_up_to: second.messageId,
      });
      expect(truth.chats.find((c) => c.chat_id === group.group_id)).toMatchObject({
        pinned: true,
        muted_until: MUTE_FOREVER,
      });
      expect(truth.chats.find((c) => c.chat_id === carol.account_id)).toMatchObject({
        pinned: false,
        archived: true,
      });
      expect((await desktop.client.chats.starred()).starred.map((s) => s.message_id)).toEqual([
        inGroup.messageId,
      ]);
      expect(truth.settings.privacy).toMatchObject({ last_seen: 'nobody', read_receipts: false });
      // Only what changed after a version comes back with `since`.
      expect((await desktop.client.chats.list(truth.version - 2)).chats.map((c) => c.chat_id)).toEqual([
        carol.account_id,
      ]);
      expect((await desktop.client.chats.list(truth.version)).chats).toEqual([]);

      const expected = fresh.snapshot();
      expect(expected.chats.map((c) => c.chat_id).sort()).toEqual(
        [bob.account_id, group.group_id, carol.account_id].sort(),
      );
      for (const mirror of [mirrors.phone, mirrors.laptop, mirrors.tablet]) {
        expect(mirror.snapshot()).toEqual(expected);
      }
    }, 60_000);
  });
}
