import { afterEach, expect, it } from 'vitest';
import {
  closeTestContexts,
  createTestContext,
  newPhone,
  type TestContext,
} from '../../../test/harness/builders.js';
import { describeStorage, type StorageContext } from '../../../test/harness/storage.js';
import { GREETING_SILENCE_MS } from './automations.service.js';

const b64 = (text: string) => Buffer.from(JSON.stringify({ text })).toString('base64');
const textOf = (payload: string) => JSON.parse(Buffer.from(payload, 'base64').toString()).text;
type Person = Awaited<ReturnType<TestContext['newPerson']>>;

async function setup(storage: StorageContext) {
  const t = createTestContext(storage);
  const owner = await t.newPerson('Owner');
  const phone = newPhone();
  const created = await t.business.create({ name: 'Acme', phone, owner: owner.phone });
  await t.business.setPlan(created.business_id, 'premium');
  await t.hostedEndpoint.start();
  let n = 0;
  /** The person writes to the business; resolves with the texts the business answered. */
  const say = async (who: Person, text: string, to = phone) => {
    const before = (await t.delivery.readQueue(who.device_id, 0, 1000)).length;
    await t.delivery.send(who.actor, { clientId: `m${++n}`, to, payload: b64(text) });
    await t.hostedEndpoint.idle();
    return (await t.delivery.readQueue(who.device_id, 0, 1000)).slice(before).map((e) => textOf(e.payload));
  };
  return { t, owner, created, phone, say, biz: created.business_id };
}

describeStorage('business automations', (storage: () => StorageContext) => {
  afterEach(closeTestContexts);

  it('greets a first message and again after 14 days of silence, not in between', async () => {
    const { t, owner, biz, say } = await setup(storage());
    await t.automations.setSettings(owner.actor, biz, {
      greeting: { enabled: true, text: 'Welcome to Acme!' },
    });
    const pat = await t.newPerson('Pat');
    expect(await say(pat, 'hello')).toEqual(['Welcome to Acme!']);
    t.clock.advance(GREETING_SILENCE_MS - 60_000);
    expect(await say(pat, 'still there?')).toEqual([]);
    t.clock.advance(GREETING_SILENCE_MS);
    expect(await say(pat, 'back again')).toEqual(['Welcome to Acme!']);
    // Recorded in the inbox as the automation's.
    const [conv] = await t.inbox.list(owner.actor, biz, {});
    const authors = (await t.inbox.messages(owner.actor, biz, conv?.conversation_id ?? '', {})).map(
      (m) => m.author,
    );
    expect(authors.filter((a) => a === 'automation:greeting')).toHaveLength(2);
  });

  it('answers outside opening hours in the business time zone, across a daylight-saving change', async () => {
    const { t, owner, biz, say } = await setup(storage());
    // Open 09:00–17:00 New York time on weekdays.
    const day = [{ open: '09:00', close: '17:00' }];
    await t.business.updateProfile(owner.actor, biz, {
      hours: { time_zone: 'America/New_York', days: { mon: day, tue: day, wed: day, thu: day, fri: day } },
    });
    await t.automations.setSettings(owner.actor, biz, {
      away: { enabled: true, schedule: { mode: 'outside_hours' }, text: 'We are closed.' },
    });
    const [early, late] = [await t.newPerson('Early'), await t.newPerson('Late')];
    // Friday 2026-03-06 08:30 EST (13:30 UTC): closed.
    t.clock.set(Date.UTC(2026, 2, 6, 13, 30));
    expect(await say(early, 'open?')).toEqual(['We are closed.']);
    // Once per conversation per 24 h.
    expect(await say(early, 'hello??')).toEqual([]);
    // Monday 2026-03-09, after the switch to EDT: 13:30 UTC is 09:30 local, open. In winter
    // time the same UTC instant would have been 08:30 and closed.
    t.clock.set(Date.UTC(2026, 2, 9, 13, 30));
    expect(await say(late, 'open?')).toEqual([]);
    // 21:30 UTC is 17:30 EDT: closed again.
    t.clock.set(Date.UTC(2026, 2, 9, 21, 30));
    expect(await say(late, 'still open?')).toEqual(['We are closed.']);
  });

  it('custom away windows in a time zone; bad schedules are refused and change nothing', async () => {
    const { t, owner, biz, say } = await setup(storage());
    await t.automations.setSettings(owner.actor, biz, {
      away: {
        enabled: true,
        text: 'On holiday',
        schedule: {
          mode: 'custom',
          time_zone: 'Europe/Berlin',
          windows: [{ start: '2026-03-28T18:00', end: '2026-03-30T08:00' }],
        },
      },
    });
    for (const bad of [
      { mode: 'custom', time_zone: 'Mars/Olympus', windows: [] },
      {
        mode: 'custom',
        time_zone: 'Europe/Berlin',
        windows: [{ start: '2026-03-30T08:00', end: '2026-03-28T18:00' }],
      },
      {
        mode: 'custom',
        time_zone: 'Europe/Berlin',
        windows: [{ start: '2026-02-30T08:00', end: '2026-03-01T08:00' }],
      },
      { mode: 'sometimes' },
    ]) {
      await expect(
        t.automations.setSettings(owner.actor, biz, { away: { schedule: bad as never } }),
      ).rejects.toMatchObject({ code: 'AUTOMATION_SCHEDULE_INVALID' });
    }
    await expect(
      t.business.updateProfile(owner.actor, biz, { hours: { time_zone: 'Nowhere/Land', days: {} } }),
    ).rejects.toMatchObject({ code: 'AUTOMATION_SCHEDULE_INVALID' });
    expect((await t.automations.getSettings(owner.actor, biz)).away.schedule).toMatchObject({
      time_zone: 'Europe/Berlin',
    });

    const pat = await t.newPerson('Pat');
    // 2026-03-30 07:30 Berlin is 05:30 UTC (summer time since the 29th): inside the window.
    t.clock.set(Date.UTC(2026, 2, 30, 5, 30));
    expect(await say(pat, 'hi')).toEqual(['On holiday']);
    const quinn = await t.newPerson('Quinn');
    // 06:30 UTC is 08:30 Berlin: the window has ended.
    t.clock.set(Date.UTC(2026, 2, 30, 6, 30));
    expect(await say(quinn, 'hi')).toEqual([]);
  });

  it('keyword rules reply and assign; rules count against the plan', async () => {
    const { t, owner, biz, say } = await setup(storage());
    const agent = await t.newPerson('Agent');
    await t.business.addAgent(owner.actor, biz, agent.phone, 'agent');
    await t.automations.addRule(owner.actor, biz, {
      match: 'word',
      keywords: ['price', 'cost'],
      action: { type: 'reply', text: 'Anvils are $99.' },
    });
    await t.automations.addRule(owner.actor, biz, {
      match: 'contains',
      keywords: ['refund'],
      action: { type: 'assign', agent_account_id: agent.account_id },
    });
    await expect(
      t.automations.addRule(owner.actor, biz, {
        match: 'word',
        keywords: [],
        action: { type: 'reply', text: 'x' },
      }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(
      t.automations.addRule(owner.actor, biz, {
        match: 'word',
        keywords: ['x'],
        action: { type: 'assign', agent_account_id: 'acc_NOBODY' },
      }),
    ).rejects.toMatchObject({ code: 'ACCOUNT_NOT_FOUND' });

    const pat = await t.newPerson('Pat');
    expect(await say(pat, "What's the PRICE?")).toEqual(['Anvils are $99.']);
    expect(await say(pat, 'I want a Refund')).toEqual([]);
    const [conv] = await t.inbox.list(owner.actor, biz, {});
    expect(conv?.assignee).toBe(agent.account_id);

    await t.business.setPlan(biz, 'free');
    await t.plans.set('free', { limits: { keyword_rules: 2 } });
    await expect(
      t.automations.addRule(owner.actor, biz, {
        match: 'exact',
        keywords: ['hi'],
        action: { type: 'reply', text: 'hey' },
      }),
    ).rejects.toMatchObject({ code: 'PLAN_LIMIT_REACHED', details: { limit: 'keyword_rules', max: 2 } });
    expect(await t.automations.listRules(owner.actor, biz)).toHaveLength(2);
  });

  it('never answers another business, nor someone who blocked the business', async () => {
    const { t, owner, biz, phone, say } = await setup(storage());
    await t.automations.setSettings(owner.actor, biz, { greeting: { enabled: true, text: 'Welcome!' } });
    // Beta greets too. Beta's number writes to Acme's: neither automation answers the other.
    const other = await t.newPerson('Other');
    const beta = await t.business.create({ name: 'Beta', phone: newPhone(), owner: other.phone });
    await t.automations.setSettings(other.actor, beta.business_id, {
      greeting: { enabled: true, text: 'Hi from Beta' },
    });
    const betaNumber = await storage()
      .db.kysely.selectFrom('business_numbers')
      .selectAll()
      .where('business_id', '=', beta.business_id)
      .executeTakeFirstOrThrow();
    await t.delivery.send(
      {
        accountId: betaNumber.account_id,
        deviceId: betaNumber.device_id,
        phone: betaNumber.phone,
        role: 'hosted',
      },
      { clientId: 'b2b', to: phone, payload: b64('ping from Beta') },
    );
    await t.hostedEndpoint.idle();
    const [fromBeta] = await t.inbox.list(owner.actor, biz, {});
    expect(fromBeta?.person.account_id).toBe(betaNumber.account_id);
    const acmeSaid = await t.inbox.messages(owner.actor, biz, fromBeta?.conversation_id ?? '', {});
    expect(acmeSaid.map((m) => [m.direction, m.text])).toEqual([['in', 'ping from Beta']]);
    expect(await t.delivery.readQueue(betaNumber.device_id, 0, 10)).toEqual([]);

    // Quinn blocked Acme's number, then writes to it: no greeting goes out.
    const acmeNumber = (await t.business.get(owner.actor, biz)).numbers[0];
    const quinn = await t.newPerson('Quinn');
    await t.contacts.block(quinn.actor, acmeNumber?.account_id ?? '');
    expect(await say(quinn, 'let me complain')).toEqual([]);
    // While someone who did not block it is greeted.
    expect(await say(await t.newPerson('Ray'), 'hello')).toEqual(['Welcome!']);
  });

  it('expands quick replies for agents', async () => {
    const { t, owner, biz, say } = await setup(storage());
    await t.automations.setQuickReply(owner.actor, biz, 'thanks', 'Thank you for shopping at Acme!');
    const pat = await t.newPerson('Pat');
    await say(pat, 'got it');
    const [conv] = await t.inbox.list(owner.actor, biz, {});
    const sent = await t.inbox.reply(owner.actor, biz, conv?.conversation_id ?? '', { text: '/thanks' });
    expect(sent.text).toBe('Thank you for shopping at Acme!');
    const unknown = await t.inbox.reply(owner.actor, biz, conv?.conversation_id ?? '', { text: '/nope' });
    expect(unknown.text).toBe('/nope');
    await expect(t.automations.setQuickReply(owner.actor, biz, 'Bad Shortcut', 'x')).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
  });
});
