import { afterEach, expect, it } from 'vitest';
import {
  closeTestContexts,
  createTestContext,
  newPhone,
  type TestContext,
} from '../../../test/harness/builders.js';
import { describeStorage, type StorageContext } from '../../../test/harness/storage.js';
import type { DeviceActor } from '../accounts/index.js';

const b64 = (text: string) => Buffer.from(JSON.stringify({ text })).toString('base64');
const eventOf = (payload: string) =>
  JSON.parse(Buffer.from(payload, 'base64').toString()) as Record<string, unknown>;

async function setup(storage: StorageContext, plan = 'premium') {
  const t = createTestContext(storage);
  const owner = await t.newPerson('Owner');
  const phone = newPhone();
  const created = await t.business.create({ name: 'Acme', phone, owner: owner.phone });
  await t.business.setPlan(created.business_id, plan);
  await t.hostedEndpoint.start();
  return { t, owner, businessId: created.business_id, phone };
}

/** A person writes to the business; answers the conversation id and the message id. */
async function conversationWith(
  t: TestContext,
  businessId: string,
  agent: DeviceActor,
  phone: string,
  text = 'hello',
) {
  const person = await t.newPerson('P');
  const sent = await t.delivery.send(person.actor, {
    clientId: `c-${person.account_id}`,
    to: phone,
    payload: b64(text),
  });
  await t.hostedEndpoint.idle();
  const all = await t.inbox.list(agent, businessId, {});
  const conversation = all.find((c) => c.person.account_id === person.account_id);
  if (!conversation) throw new Error('no conversation');
  return { person, cid: conversation.conversation_id, messageId: sent.message_id };
}

describeStorage('labels', (storage: () => StorageContext) => {
  afterEach(closeTestContexts);

  it('creates, lists, renames, recolors and deletes labels; names are unique ignoring case', async () => {
    const { t, owner, businessId } = await setup(storage());
    const vip = await t.labels.create(owner.actor, businessId, { name: '  VIP  customer ', color: 'blue' });
    expect(vip).toMatchObject({ name: 'VIP customer', color: 'blue', hex: '#1E88E5', conversation_count: 0 });
    const paid = await t.labels.create(owner.actor, businessId, { name: 'Paid', color: '#a1b2c3' });
    expect(paid).toMatchObject({ color: '#A1B2C3', hex: '#A1B2C3' });
    // No color: the palette in turn.
    expect((await t.labels.create(owner.actor, businessId, { name: 'New order' })).color).toBe('yellow');

    await expect(t.labels.create(owner.actor, businessId, { name: 'vip CUSTOMER' })).rejects.toMatchObject({
      code: 'LABEL_NAME_TAKEN',
      details: { label_id: vip.label_id },
    });
    await expect(
      t.labels.update(owner.actor, businessId, paid.label_id, { name: 'Vip Customer' }),
    ).rejects.toMatchObject({
      code: 'LABEL_NAME_TAKEN',
    });
    // Its own name in another case is a rename, not a clash.
    expect((await t.labels.update(owner.actor, businessId, paid.label_id, { name: 'PAID' })).name).toBe(
      'PAID',
    );
    const recolored = await t.labels.update(owner.actor, businessId, vip.label_id, { color: 'Purple' });
    expect(recolored).toMatchObject({ name: 'VIP customer', color: 'purple', hex: '#8E24AA' });

    for (const bad of [
      { name: '' },
      { name: 'x'.repeat(51) },
      { name: 'a\u0000b' },
      { name: 'ok', color: 'mauve' },
      { name: 'ok', color: '#12345' },
      { name: 'ok', color: 'rgb(1,2,3)' },
    ]) {
      await expect(t.labels.create(owner.actor, businessId, bad)).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
      });
    }
    await expect(
      t.labels.update(owner.actor, businessId, vip.label_id, { color: '#GGGGGG' }),
    ).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    // 50 characters (not UTF-16 units) is the limit.
    expect((await t.labels.create(owner.actor, businessId, { name: '🏷'.repeat(50) })).name).toBe(
      '🏷'.repeat(50),
    );

    expect((await t.labels.list(owner.actor, businessId)).map((l) => l.name)).toEqual(
      // By the compared name.
      ['New order', 'PAID', 'VIP customer', '🏷'.repeat(50)],
    );

    await t.labels.remove(owner.actor, businessId, paid.label_id);
    await expect(t.labels.remove(owner.actor, businessId, paid.label_id)).rejects.toMatchObject({
      code: 'LABEL_NOT_FOUND',
    });
    // A deleted name is free again.
    await t.labels.create(owner.actor, businessId, { name: 'paid' });
  });

  it('holds the plan limit on labels, naming the plan that lifts it', async () => {
    const { t, owner, businessId } = await setup(storage(), 'free');
    await t.plans.set('free', { limits: { labels: 2 } });
    await t.labels.create(owner.actor, businessId, { name: 'One' });
    const two = await t.labels.create(owner.actor, businessId, { name: 'Two' });
    await expect(t.labels.create(owner.actor, businessId, { name: 'Three' })).rejects.toMatchObject({
      code: 'PLAN_LIMIT_REACHED',
      details: { limit: 'labels', plan: 'free', max: 2, wanted: 3, upgrade_to: 'premium' },
    });
    expect(await t.labels.list(owner.actor, businessId)).toHaveLength(2);
    await t.labels.remove(owner.actor, businessId, two.label_id);
    await t.labels.create(owner.actor, businessId, { name: 'Three' });
  });

  it('applies labels to conversations and messages, filters the inbox, and tells every agent device', async () => {
    const { t, owner, businessId, phone } = await setup(storage());
    const agent = await t.newPerson('Agent');
    await t.business.addAgent(owner.actor, businessId, agent.phone, 'agent');
    const vip = await t.labels.create(agent.actor, businessId, { name: 'VIP', color: 'green' });
    const later = await t.labels.create(agent.actor, businessId, { name: 'Call back' });
    const a = await conversationWith(t, businessId, owner.actor, phone, 'first');
    const b = await conversationWith(t, businessId, owner.actor, phone, 'second');
    const before = (await t.delivery.readQueue(owner.device_id, 0, 1000)).length;

    const view = await t.labels.applyToConversation(agent.actor, businessId, a.cid, vip.label_id);
    expect(view.labels).toEqual([vip.label_id]);
    // Again: no change, no event.
    await t.labels.applyToConversation(agent.actor, businessId, a.cid, vip.label_id);
    await t.labels.applyToConversation(agent.actor, businessId, a.cid, later.label_id);
    await t.labels.applyToConversation(agent.actor, businessId, b.cid, later.label_id);
    expect((await t.inbox.get(owner.actor, businessId, a.cid)).labels).toEqual([
      later.label_id,
      vip.label_id,
    ]);

    expect(
      (await t.inbox.list(owner.actor, businessId, { label: vip.label_id })).map((c) => c.conversation_id),
    ).toEqual([a.cid]);
    expect(
      (await t.inbox.list(owner.actor, businessId, { label: later.label_id }))
        .map((c) => c.conversation_id)
        .sort(),
    ).toEqual([a.cid, b.cid].sort());

    const removed = await t.labels.removeFromConversation(agent.actor, businessId, a.cid, later.label_id);
    expect(removed.labels).toEqual([vip.label_id]);
    expect(
      (await t.inbox.list(owner.actor, businessId, { label: later.label_id })).map((c) => c.conversation_id),
    ).toEqual([b.cid]);

    const onMessage = await t.labels.applyToMessage(agent.actor, businessId, b.messageId, vip.label_id);
    expect(onMessage).toEqual({ message_id: b.messageId, conversation_id: b.cid, labels: [vip.label_id] });
    expect((await t.labels.messages(owner.actor, businessId, vip.label_id, {})).map((m) => m.text)).toEqual([
      'second',
    ]);
    const counts = (await t.labels.list(owner.actor, businessId)).find((l) => l.label_id === vip.label_id);
    expect(counts).toMatchObject({ conversation_count: 1, message_count: 1 });
    expect(
      (await t.labels.removeFromMessage(agent.actor, businessId, b.messageId, vip.label_id)).labels,
    ).toEqual([]);

    // Every change reached the owner's device as the inbox's own conversation event.
    const events = (await t.delivery.readQueue(owner.device_id, 0, 1000))
      .slice(before)
      .map((e) => eventOf(e.payload));
    const changes = events.filter((e) => e.type === 'business.conversation' && 'label_change' in e);
    expect(changes.map((e) => [e.label_change, e.label_id])).toEqual([
      ['added', vip.label_id],
      ['added', later.label_id],
      ['added', later.label_id],
      ['removed', later.label_id],
      ['added', vip.label_id],
      ['removed', vip.label_id],
    ]);
    expect(changes[0]).toMatchObject({
      by: agent.account_id,
      conversation: { conversation_id: a.cid, labels: [vip.label_id] },
    });
    expect(changes[4]).toMatchObject({ message_labels: { message_id: b.messageId, labels: [vip.label_id] } });

    // Deleting the label takes it off everything; devices hear business.label with label null.
    await t.labels.remove(owner.actor, businessId, vip.label_id);
    expect((await t.inbox.get(owner.actor, businessId, a.cid)).labels).toEqual([]);
    expect(await t.inbox.list(owner.actor, businessId, { label: vip.label_id })).toEqual([]);
    const last = (await t.delivery.readQueue(agent.device_id, 0, 1000)).map((e) => eventOf(e.payload)).at(-1);
    expect(last).toMatchObject({ type: 'business.label', label_id: vip.label_id, label: null });
  });

  it('lets keyword rules apply the business’s labels through the LabelsPort, skipping unknown ones', async () => {
    const s = storage();
    const { t, owner, businessId, phone } = await setup(s);
    const label = await t.labels.create(owner.actor, businessId, { name: 'Order' });
    const other = await t.newPerson('Other');
    const foreign = await t.business.create({ name: 'Beta', phone: newPhone(), owner: other.phone });
    const foreignLabel = await t.labels.create(other.actor, foreign.business_id, { name: 'Theirs' });
    const { cid } = await conversationWith(t, businessId, owner.actor, phone);
    await s.db.kysely
      .transaction()
      .execute((tx) =>
        t.labels.port.applyLabels(tx, businessId, cid, [
          label.label_id,
          foreignLabel.label_id,
          'lbl_nope',
          label.label_id,
        ]),
      );
    expect((await t.inbox.get(owner.actor, businessId, cid)).labels).toEqual([label.label_id]);
  });

  it('never lets an agent of one business near another business’s labels, conversations or messages', async () => {
    const { t, owner, businessId, phone } = await setup(storage());
    const mine = await t.labels.create(owner.actor, businessId, { name: 'Mine' });
    const { cid, messageId } = await conversationWith(t, businessId, owner.actor, phone);
    const other = await t.newPerson('Other owner');
    const b = (await t.business.create({ name: 'Beta', phone: newPhone(), owner: other.phone })).business_id;
    const theirs = await t.labels.create(other.actor, b, { name: 'Theirs' });

    // Into business A with B's credentials: not found, whatever the ids.
    for (const attempt of [
      () => t.labels.list(other.actor, businessId),
      () => t.labels.create(other.actor, businessId, { name: 'x' }),
      () => t.labels.update(other.actor, businessId, mine.label_id, { name: 'hijack' }),
      () => t.labels.remove(other.actor, businessId, mine.label_id),
      () => t.labels.applyToConversation(other.actor, businessId, cid, mine.label_id),
      () => t.labels.applyToMessage(other.actor, businessId, messageId, mine.label_id),
      () => t.labels.messages(other.actor, businessId, mine.label_id, {}),
    ]) {
      await expect(attempt()).rejects.toMatchObject({ code: 'BUSINESS_NOT_FOUND' });
    }
    // Its own business with A's ids: A's label, conversation and message are unknown there.
    await expect(t.labels.update(other.actor, b, mine.label_id, { name: 'hijack' })).rejects.toMatchObject({
      code: 'LABEL_NOT_FOUND',
    });
    await expect(t.labels.remove(other.actor, b, mine.label_id)).rejects.toMatchObject({
      code: 'LABEL_NOT_FOUND',
    });
    await expect(t.labels.messages(other.actor, b, mine.label_id, {})).rejects.toMatchObject({
      code: 'LABEL_NOT_FOUND',
    });
    await expect(t.labels.applyToConversation(other.actor, b, cid, theirs.label_id)).rejects.toMatchObject({
      code: 'CONVERSATION_NOT_FOUND',
    });
    await expect(t.labels.applyToMessage(other.actor, b, messageId, theirs.label_id)).rejects.toMatchObject({
      code: 'MESSAGE_NOT_FOUND',
    });
    // A's own conversation with B's label: the label is unknown in A.
    await expect(
      t.labels.applyToConversation(owner.actor, businessId, cid, theirs.label_id),
    ).rejects.toMatchObject({ code: 'LABEL_NOT_FOUND' });
    await expect(
      t.labels.applyToMessage(owner.actor, businessId, messageId, theirs.label_id),
    ).rejects.toMatchObject({ code: 'LABEL_NOT_FOUND' });
    expect(await t.inbox.list(owner.actor, businessId, { label: theirs.label_id })).toEqual([]);

    // Nothing changed.
    expect(
      (await t.labels.list(owner.actor, businessId)).map((l) => [
        l.name,
        l.conversation_count,
        l.message_count,
      ]),
    ).toEqual([['Mine', 0, 0]]);
    expect((await t.labels.list(other.actor, b)).map((l) => [l.name, l.conversation_count])).toEqual([
      ['Theirs', 0],
    ]);
    expect((await t.inbox.get(owner.actor, businessId, cid)).labels).toEqual([]);
  });
});
