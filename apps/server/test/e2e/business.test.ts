/**
 * A business through real SDK clients on real sockets: a person chats with a business whose
 * automations answer, while two agents work the shared inbox at once and see the same state
 * live; another business's agent gets nowhere.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newPhone } from '../harness/builders.js';
import { createSdkPool, type SdkConnection } from '../harness/sdk.js';
import { startTestServer, type TestServer } from '../harness/server.js';
import { until } from '../harness/wait.js';

const conversationEvents = (c: SdkConnection) =>
  c.inbox.filter((m) => m.event?.type === 'business.conversation').map((m) => m.event);

describe('a business through the SDK', () => {
  let server: TestServer;
  const sdk = createSdkPool(() => server.url);
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await sdk.closeAll();
    await server?.close();
  });

  it('automations answer a person while two agents work the inbox live', async () => {
    const [o, a, p] = [
      await server.newPerson('Olga'),
      await server.newPerson('Arno'),
      await server.newPerson('Pat'),
    ];
    const owner = await sdk.connect(o.token, { synced: true });
    const agent = await sdk.connect(a.token, { synced: true });
    const person = await sdk.connect(p.token, { synced: true });

    const bizPhone = newPhone();
    const created = await owner.client.business.create({ name: 'Acme Anvils', phone: bizPhone });
    const biz = created.business_id;
    await server.modules.business.setPlan(biz, 'premium');
    await owner.client.business.agents.add(biz, a.phone);
    await owner.client.business.automations.update(biz, {
      greeting: { enabled: true, text: 'Welcome to Acme!' },
    });
    await owner.client.business.automations.addRule(biz, {
      match: 'word',
      keywords: ['price'],
      action: { type: 'reply', text: 'Anvils are $99.' },
    });

    // The person sees a hosted business on the number's profile.
    const profile = await person.client.getProfile(bizPhone);
    expect(profile.business).toMatchObject({
      business_id: biz,
      name: 'Acme Anvils',
      hosted: true,
      verified: false,
    });

    await person.client.sendText(bizPhone, 'What is the price?');
    await until(() => person.inbox.length >= 2);
    expect(person.inbox.map((m) => m.text)).toEqual(['Welcome to Acme!', 'Anvils are $99.']);
    expect(person.inbox[0]?.fromAccount).toBe(profile.account_id);

    // Both agents hear of the conversation live.
    await until(() => conversationEvents(owner).length > 0 && conversationEvents(agent).length > 0);
    const [conversation] = await agent.client.business.inbox.list(biz);
    if (!conversation) throw new Error('no conversation');
    const cid = conversation.conversation_id;
    expect(conversation).toMatchObject({ person: { account_id: p.account_id }, status: 'open', unread: 1 });

    // Olga assigns it to Arno; Arno sees it live, replies and closes it; Olga sees that live.
    await owner.client.business.inbox.update(biz, cid, { assignee: a.account_id, status: 'pending' });
    await until(() =>
      conversationEvents(agent).some(
        (e) => (e?.conversation as { assignee?: string })?.assignee === a.account_id,
      ),
    );
    const reply = await agent.client.business.inbox.reply(biz, cid, 'It ships tomorrow.');
    await until(() => person.inbox.some((m) => m.messageId === reply.message_id));
    await agent.client.business.inbox.update(biz, cid, { status: 'closed' });
    await until(() =>
      conversationEvents(owner).some((e) => (e?.conversation as { status?: string })?.status === 'closed'),
    );
    await owner.client.business.inbox.addNote(biz, cid, 'Asked about shipping.');

    // The whole chat is kept for the business. The two automated replies were committed in one
    // batch (the same millisecond), so only their order relative to the others is fixed.
    const history = (await owner.client.business.inbox.messages(biz, cid))
      .map((m) => [
        m.direction,
        m.author.startsWith('automation:') ? m.author : m.author === a.account_id ? 'arno' : 'pat',
        m.text,
      ])
      .reverse();
    expect(history[0]).toEqual(['in', 'pat', 'What is the price?']);
    expect(history.slice(1, 3)).toEqual(
      expect.arrayContaining([
        ['out', 'automation:greeting', 'Welcome to Acme!'],
        ['out', 'automation:keyword', 'Anvils are $99.'],
      ]),
    );
    expect(history.slice(3)).toEqual([['out', 'arno', 'It ships tomorrow.']]);
    // A new message from the person reopens the closed conversation.
    await person.client.sendText(bizPhone, 'Thanks!');
    await until(() =>
      conversationEvents(agent).some((e) => (e?.conversation as { unread?: number })?.unread === 2),
    );
    expect((await agent.client.business.inbox.get(biz, cid)).status).toBe('open');

    // Someone else's business sees none of it.
    const m = await server.newPerson('Mallory');
    const mallory = await sdk.connect(m.token);
    await mallory.client.business.create({ name: 'Other', phone: newPhone() });
    for (const attempt of [
      () => mallory.client.business.get(biz),
      () => mallory.client.business.inbox.list(biz),
      () => mallory.client.business.inbox.messages(biz, cid),
      () => mallory.client.business.inbox.reply(biz, cid, 'hi'),
      () => mallory.client.business.automations.get(biz),
      () => mallory.client.business.agents.add(biz, m.phone),
    ]) {
      await expect(attempt()).rejects.toMatchObject({ code: 'BUSINESS_NOT_FOUND', status: 404 });
    }
  });
});
