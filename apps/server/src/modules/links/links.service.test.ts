import { afterEach, expect, it } from 'vitest';
import {
  closeTestContexts,
  createTestContext,
  newPhone,
  TEST_PUBLIC_URL,
  type TestContext,
} from '../../../test/harness/builders.js';
import { describeStorage, type StorageContext } from '../../../test/harness/storage.js';
import { LINK_ATTRIBUTION_MS } from './index.js';

const b64 = (text: string) => Buffer.from(JSON.stringify({ text })).toString('base64');
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

async function setup(storage: StorageContext, plan = 'premium') {
  const t = createTestContext(storage);
  const owner = await t.newPerson('Owner');
  const phone = newPhone();
  const created = await t.business.create({ name: 'Acme & Sons', phone, owner: owner.phone });
  await t.business.setPlan(created.business_id, plan);
  await t.hostedEndpoint.start();
  return { t, owner, businessId: created.business_id, phone, phoneNumberId: created.phone_number_id };
}

async function write(
  t: TestContext,
  person: Awaited<ReturnType<TestContext['newPerson']>>,
  to: string,
  text: string,
) {
  await t.delivery.send(person.actor, { clientId: `m-${t.clock.now()}-${text}`, to, payload: b64(text) });
  await t.hostedEndpoint.idle();
}

describeStorage('short links and QR codes', (storage: () => StorageContext) => {
  afterEach(closeTestContexts);

  it('creates links with generated or custom codes, lists, edits and deletes them', async () => {
    const { t, owner, businessId, phoneNumberId } = await setup(storage());
    const link = await t.links.create(owner.actor, businessId, { text: 'I want a quote' });
    expect(link.code).toMatch(/^[a-z2-7]{10}$/);
    expect(link).toMatchObject({
      url: `${TEST_PUBLIC_URL}/c/${link.code}`,
      qr_png_url: `${TEST_PUBLIC_URL}/c/${link.code}/qr.png`,
      qr_svg_url: `${TEST_PUBLIC_URL}/c/${link.code}/qr.svg`,
      text: 'I want a quote',
      phone_number_id: phoneNumberId,
      chats_started: 0,
    });
    t.clock.advance(1);
    const custom = await t.links.create(owner.actor, businessId, {
      text: '',
      code: 'Spring-Sale',
      phoneNumberId,
    });
    expect(custom.code).toBe('spring-sale');
    await expect(
      t.links.create(owner.actor, businessId, { text: 'x', code: 'spring-sale' }),
    ).rejects.toMatchObject({
      code: 'LINK_CODE_TAKEN',
    });
    for (const input of [
      { text: 'x', code: 'ab' },
      { text: 'x', code: 'no spaces' },
      { text: 'x', code: 'a'.repeat(33) },
      { text: 'x'.repeat(1001) },
      { text: 'x', phoneNumberId: '100000000000000' },
    ]) {
      await expect(t.links.create(owner.actor, businessId, input)).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
      });
    }
    expect((await t.links.update(owner.actor, businessId, 'SPRING-SALE', { text: 'Sale!' })).text).toBe(
      'Sale!',
    );
    expect((await t.links.list(owner.actor, businessId)).map((l) => [l.code, l.text])).toEqual([
      [link.code, 'I want a quote'],
      ['spring-sale', 'Sale!'],
    ]);

    // Agents see links; only owners and admins change them.
    const agent = await t.newPerson('Agent');
    await t.business.addAgent(owner.actor, businessId, agent.phone, 'agent');
    expect(await t.links.list(agent.actor, businessId)).toHaveLength(2);
    await expect(t.links.create(agent.actor, businessId, { text: 'x' })).rejects.toMatchObject({
      code: 'BUSINESS_ROLE_REQUIRED',
    });
    await expect(t.links.remove(agent.actor, businessId, link.code)).rejects.toMatchObject({
      code: 'BUSINESS_ROLE_REQUIRED',
    });

    await t.links.remove(owner.actor, businessId, link.code);
    await expect(t.links.resolve(link.code)).rejects.toMatchObject({ code: 'LINK_NOT_FOUND' });
    await expect(t.links.get(owner.actor, businessId, link.code)).rejects.toMatchObject({
      code: 'LINK_NOT_FOUND',
    });
    expect((await t.links.list(owner.actor, businessId)).map((l) => l.code)).toEqual(['spring-sale']);
  });

  it('never gives a deleted code to another business; its own business may take it back', async () => {
    const { t, owner, businessId } = await setup(storage());
    await t.links.create(owner.actor, businessId, { text: 'a', code: 'acme' });
    await t.links.remove(owner.actor, businessId, 'acme');
    const rival = await t.newPerson('Rival');
    const b = (await t.business.create({ name: 'Rival', phone: newPhone(), owner: rival.phone })).business_id;
    await t.business.setPlan(b, 'premium');
    await expect(t.links.create(rival.actor, b, { text: 'gotcha', code: 'acme' })).rejects.toMatchObject({
      code: 'LINK_CODE_TAKEN',
    });
    const back = await t.links.create(owner.actor, businessId, { text: 'again', code: 'acme' });
    expect(back).toMatchObject({ code: 'acme', text: 'again' });
    expect((await t.links.resolve('acme')).business_name).toBe('Acme & Sons');
  });

  it('holds the plan: custom codes are a feature, the number of live links a limit', async () => {
    const { t, owner, businessId } = await setup(storage(), 'free');
    await expect(t.links.create(owner.actor, businessId, { text: 'x', code: 'mine' })).rejects.toMatchObject({
      code: 'PLAN_LIMIT_REACHED',
      details: { feature: 'custom_link_code', plan: 'free', upgrade_to: 'premium' },
    });
    const made = [];
    for (let i = 0; i < 3; i++) made.push(await t.links.create(owner.actor, businessId, { text: `#${i}` }));
    await expect(t.links.create(owner.actor, businessId, { text: 'four' })).rejects.toMatchObject({
      code: 'PLAN_LIMIT_REACHED',
      details: { limit: 'short_links', plan: 'free', max: 3, wanted: 4, upgrade_to: 'premium' },
    });
    expect(await t.links.list(owner.actor, businessId)).toHaveLength(3);
    // A deleted link no longer counts.
    await t.links.remove(owner.actor, businessId, made[0]?.code ?? '');
    await t.links.create(owner.actor, businessId, { text: 'four' });
  });

  it('resolves publicly and renders the QR code as PNG and SVG', async () => {
    const { t, owner, businessId, phone } = await setup(storage());
    await t.business.setVerified(businessId, true);
    const link = await t.links.create(owner.actor, businessId, { text: 'Hi <there> & "you"' });
    expect(await t.links.resolve(link.code.toUpperCase())).toEqual({
      code: link.code,
      phone,
      business_name: 'Acme & Sons',
      verified: true,
      text: 'Hi <there> & "you"',
      chat_url: `parley://chat?phone=${encodeURIComponent(phone)}&text=Hi+%3Cthere%3E+%26+%22you%22`,
      source: 'link',
    });
    const png = await t.links.qr(link.code, 'png');
    expect(Buffer.isBuffer(png) && [...png.subarray(0, 8)]).toEqual(PNG_SIGNATURE);
    // The PNG's width (IHDR) is the asked size.
    expect(Buffer.isBuffer(png) && png.readUInt32BE(16)).toBe(512);
    const small = await t.links.qr(link.code, 'png', 128);
    expect(Buffer.isBuffer(small) && small.readUInt32BE(16)).toBe(128);
    const svg = await t.links.qr(link.code, 'svg');
    expect(typeof svg === 'string' && svg).toMatch(
      /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[\s\S]*<\/svg>\s*$/,
    );
    await expect(t.links.qr('nothere', 'svg')).rejects.toMatchObject({ code: 'LINK_NOT_FOUND' });
  });

  it('credits a new conversation to the link or QR code opened within 24 hours, and counts chats started', async () => {
    const { t, owner, businessId, phone } = await setup(storage());
    const link = await t.links.create(owner.actor, businessId, { text: 'Book a table' });
    t.clock.advance(1);
    const other = await t.links.create(owner.actor, businessId, { text: 'Other' });
    const [viaLink, viaQr, late, direct, already] = [
      await t.newPerson('L'),
      await t.newPerson('Q'),
      await t.newPerson('Late'),
      await t.newPerson('D'),
      await t.newPerson('A'),
    ];
    // Someone already chatting: opening a link later does not rewrite how their chat started.
    await write(t, already, phone, 'earlier');
    await t.links.open(late.actor, link.code, 'link');
    t.clock.advance(LINK_ATTRIBUTION_MS + 1);
    const opened = await t.links.open(viaLink.actor, link.code, 'link');
    expect(opened).toMatchObject({ code: link.code, phone, text: 'Book a table', source: 'link' });
    await t.links.open(viaQr.actor, other.code, 'link');
    t.clock.advance(1000);
    // The latest open wins.
    await t.links.open(viaQr.actor, link.code, 'qr');
    await t.links.open(already.actor, link.code, 'link');
    t.clock.advance(60_000);
    for (const [p, text] of [
      [viaLink, 'Book a table'],
      [viaQr, 'Book a table'],
      [late, 'hello'],
      [direct, 'hi'],
      [already, 'again'],
    ] as const) {
      await write(t, p, phone, text);
    }

    const conversations = await t.inbox.list(owner.actor, businessId, {});
    const via = (p: { account_id: string }) =>
      conversations.find((c) => c.person.account_id === p.account_id)?.started_via;
    expect([via(viaLink), via(viaQr), via(late), via(direct), via(already)]).toEqual([
      'link',
      'qr',
      'direct',
      'direct',
      'direct',
    ]);
    expect((await t.links.list(owner.actor, businessId)).map((l) => [l.code, l.chats_started])).toEqual([
      [link.code, 2],
      [other.code, 0],
    ]);
    await expect(t.links.open(viaLink.actor, 'nothere', 'link')).rejects.toMatchObject({
      code: 'LINK_NOT_FOUND',
    });
  });

  it('forgets opens once they can no longer credit a conversation', async () => {
    const { t, owner, businessId } = await setup(storage());
    const link = await t.links.create(owner.actor, businessId, { text: 'Hi' });
    const [old, fresh] = [await t.newPerson('Old'), await t.newPerson('Fresh')];
    await t.links.open(old.actor, link.code, 'link');
    t.clock.advance(LINK_ATTRIBUTION_MS + 1);
    await t.links.open(fresh.actor, link.code, 'qr');
    const opensOf = async (who: { account_id: string }) =>
      (
        await storage()
          .db.kysely.selectFrom('link_opens')
          .select('code')
          .where('account_id', '=', who.account_id)
          .execute()
      ).length;
    expect(await t.links.expireOpens()).toBeGreaterThanOrEqual(1);
    expect([await opensOf(old), await opensOf(fresh)]).toEqual([0, 1]);
    expect(await t.links.expireOpens()).toBe(0);
  });

  it('never lets an agent of one business near another business’s links', async () => {
    const { t, owner, businessId } = await setup(storage());
    const link = await t.links.create(owner.actor, businessId, { text: 'mine', code: 'mine' });
    const other = await t.newPerson('Other');
    const b = await t.business.create({ name: 'Beta', phone: newPhone(), owner: other.phone });
    for (const attempt of [
      () => t.links.list(other.actor, businessId),
      () => t.links.get(other.actor, businessId, link.code),
      () => t.links.create(other.actor, businessId, { text: 'x' }),
      () => t.links.update(other.actor, businessId, link.code, { text: 'hijack' }),
      () => t.links.remove(other.actor, businessId, link.code),
    ]) {
      await expect(attempt()).rejects.toMatchObject({ code: 'BUSINESS_NOT_FOUND' });
    }
    for (const attempt of [
      () => t.links.get(other.actor, b.business_id, link.code),
      () => t.links.update(other.actor, b.business_id, link.code, { text: 'hijack' }),
      () => t.links.remove(other.actor, b.business_id, link.code),
    ]) {
      await expect(attempt()).rejects.toMatchObject({ code: 'LINK_NOT_FOUND' });
    }
    // Another business's number is not one to link to.
    await expect(
      t.links.create(owner.actor, businessId, { text: 'x', phoneNumberId: b.phone_number_id }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(await t.links.resolve('mine')).toMatchObject({ text: 'mine', business_name: 'Acme & Sons' });
    expect(await t.links.list(other.actor, b.business_id)).toEqual([]);
  });
});
