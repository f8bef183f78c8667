/**
 * Broadcast lists and statistics on a real server: people's SDK clients opt in (one adds the
 * business number to their contacts, one messages it), the owner broadcasts through the SDK,
 * and the statistics over HTTP show what happened.
 */
import { ParleyError } from '@parley/sdk';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { newPhone } from '../harness/builders.js';
import { createSdkPool } from '../harness/sdk.js';
import { startTestServer, type TestServer } from '../harness/server.js';
import { until } from '../harness/wait.js';

const DAY_MS = 86_400_000;
const dateOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

describe('broadcast lists through the SDK', () => {
  let server: TestServer;
  const sdk = createSdkPool(() => server.url);
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterEach(() => sdk.closeAll());
  afterAll(async () => {
    await server?.close();
  });

  it('reaches opted-in people exactly once, refuses the others, and shows in the statistics', async () => {
    const [o, a, b, c] = [
      await server.newPerson('Owner'),
      await server.newPerson('Ann'),
      await server.newPerson('Ben'),
      await server.newPerson('Cid'),
    ];
    const businessPhone = newPhone();
    const { business_id: businessId } = await server.modules.business.create({
      name: 'Acme',
      phone: businessPhone,
      owner: o.phone,
    });
    const owner = await sdk.connect(o.token, { synced: true });
    const ann = await sdk.connect(a.token, { synced: true });
    const ben = await sdk.connect(b.token, { synced: true });
    const cid = await sdk.connect(c.token, { synced: true });

    // Ann has the business in her contacts; Ben messages it; Cid does neither.
    const [match] = await ann.client.contacts.discover([businessPhone]);
    expect(match?.phone).toBe(businessPhone);
    await ben.client.sendText(businessPhone, 'Do you deliver on Sundays?');
    // The hosted endpoint takes Ben's message into the inbox: he has messaged the business.
    await untilAsync(async () => (await server.modules.inbox.list(actorOf(o), businessId, {})).length === 1);

    const list = await owner.client.business.broadcasts.create(businessId, {
      name: 'Weekend offers',
      members: [a.phone, b.phone],
    });
    expect(list.member_count).toBe(2);
    const refused = await owner.client.business.broadcasts
      .addMembers(businessId, list.list_id, [c.phone])
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ParleyError);
    expect(refused).toMatchObject({
      code: 'BROADCAST_RECIPIENT_NOT_OPTED_IN',
      status: 409,
      details: { not_opted_in: [c.account_id] },
    });

    const sent = await owner.client.business.broadcasts.send(businessId, list.list_id, {
      text: 'Two for one this weekend',
    });
    expect(sent).toMatchObject({ recipients: 2, skipped: [] });
    const fromBusiness = (inbox: typeof ann.inbox) =>
      inbox.filter((m) => m.from === businessPhone && m.kind === 'message').map((m) => m.text);
    await until(() => fromBusiness(ann.inbox).length > 0 && fromBusiness(ben.inbox).length > 0);
    // Long enough for a duplicate to show up if one were sent.
    await new Promise((r) => setTimeout(r, 300));
    expect(fromBusiness(ann.inbox)).toEqual(['Two for one this weekend']);
    expect(fromBusiness(ben.inbox)).toEqual(['Two for one this weekend']);
    expect(fromBusiness(cid.inbox)).toEqual([]);
    const lists = owner.client.business.broadcasts;
    expect(await lists.list(businessId)).toMatchObject([{ list_id: list.list_id, member_count: 2 }]);
    expect(await lists.history(businessId, list.list_id)).toMatchObject([
      { broadcast_id: sent.broadcast_id, recipients: 2, pending: 0 },
    ]);
    expect((await lists.removeMember(businessId, list.list_id, b.phone)).members.map((m) => m.phone)).toEqual(
      [a.phone],
    );

    const now = Date.now();
    const stats = await owner.client.business.stats(businessId, {
      from: dateOf(now - DAY_MS),
      to: dateOf(now + DAY_MS),
    });
    expect(stats.totals).toMatchObject({
      sent: 2,
      received: 1,
      chats_started: { direct: 1, broadcast: 1, link: 0, qr: 0, catalog: 0 },
    });
    expect(stats.days).toHaveLength(3);
    // Someone else's client gets nothing of this business.
    await expect(
      cid.client.business.stats(businessId, { from: dateOf(now), to: dateOf(now) }),
    ).rejects.toMatchObject({ code: 'BUSINESS_NOT_FOUND', status: 404 });
    await expect(
      owner.client.business.stats(businessId, { from: dateOf(now), to: dateOf(now), tz: 'Nowhere/Land' }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED', status: 400 });
    await lists.delete(businessId, list.list_id);
    await expect(lists.get(businessId, list.list_id)).rejects.toMatchObject({
      code: 'BROADCAST_LIST_NOT_FOUND',
      status: 404,
    });
  });
});

async function untilAsync(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

function actorOf(p: { account_id: string; device_id: string; phone: string }) {
  return { accountId: p.account_id, deviceId: p.device_id, phone: p.phone, role: 'primary' as const };
}
