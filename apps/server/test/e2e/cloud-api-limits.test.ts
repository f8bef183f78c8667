/**
 * The rules Meta enforces, on a whole server with simulated time: the limits the send
 * pipeline asks before accepting an API message, the phone-number views that show them, and
 * the operator's commands.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GraphError } from '../../src/modules/cloud-api/index.js';
import { createManualClock } from '../../src/platform/clock.js';
import { newPhone } from '../harness/builders.js';
import { runParley } from '../harness/process.js';
import { createSdkPool } from '../harness/sdk.js';
import { startTestServer, type TestServer } from '../harness/server.js';
import { tempDir } from '../harness/storage.js';

const DAY = 24 * 60 * 60 * 1000;

async function refusal(p: Promise<unknown>): Promise<GraphError> {
  try {
    await p;
  } catch (e: unknown) {
    if (e instanceof GraphError) return e;
    throw e;
  }
  throw new Error('expected a refusal, but the message was allowed');
}

describe('Business Messaging API limits on a running server', () => {
  let server: TestServer;
  const clock = createManualClock(Date.UTC(2026, 4, 4, 8));
  const sdk = createSdkPool(() => server.url);
  beforeAll(async () => {
    server = await startTestServer({ clock });
  });
  afterAll(async () => {
    await sdk.closeAll();
    await server?.close();
  });

  const get = async (path: string, token: string) => {
    const res = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
    return (await res.json()) as Record<string, unknown>;
  };
  /** Polls storage until the person's message reached the business inbox. */
  async function inboxHas(phoneNumberId: string, accountId: string, since: number) {
    for (let i = 0; i < 500; i++) {
      const row = await server.platform.db.kysely
        .selectFrom('conversations')
        .select('last_inbound_at')
        .where('phone_number_id', '=', phoneNumberId)
        .where('person_account_id', '=', accountId)
        .executeTakeFirst();
      if (
        row?.last_inbound_at !== null &&
        row?.last_inbound_at !== undefined &&
        Number(row.last_inbound_at) >= since
      )
        return;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error('the message did not reach the inbox');
  }

  it('shows a new number’s standing, and enforces throughput, the window and blocks on sends', async () => {
    const bizPhone = newPhone();
    const biz = await server.modules.business.create({ name: 'Acme', phone: bizPhone });
    const view = await get(`/v23.0/${biz.phone_number_id}`, biz.access_token);
    expect(view).toMatchObject({
      quality_rating: 'GREEN',
      messaging_limit_tier: 'TIER_250',
      throughput: { level: 'STANDARD' },
      status: 'CONNECTED',
    });
    const list = await get(`/v23.0/${biz.waba_id}/phone_numbers`, biz.access_token);
    expect((list.data as Record<string, unknown>[])[0]).toMatchObject({ messaging_limit_tier: 'TIER_250' });

    const business = await server.platform.db.kysely
      .selectFrom('businesses')
      .select(['id', 'name_verified'])
      .where('id', '=', biz.business_id)
      .executeTakeFirstOrThrow();
    const number = await server.platform.db.kysely
      .selectFrom('business_numbers')
      .select(['phone_number_id', 'account_id'])
      .where('phone_number_id', '=', biz.phone_number_id)
      .executeTakeFirstOrThrow();
    const limits = server.modules.limits;

    // Throughput: 80 in one instant, the 81st refused at once; a second later, fine.
    const template = () =>
      limits.check({ business, number, personAccountId: undefined, toPhone: newPhone(), kind: 'template' });
    for (let i = 0; i < 80; i++) await template();
    expect((await refusal(template())).code).toBe(130429);
    clock.advance(1000);

    // The window: a person writes through the real client; a free-form reply may follow for 24 h.
    const p = await server.newPerson('Pat');
    const person = await sdk.connect(p.token, { synced: true });
    await person.client.sendText(bizPhone, 'Is my order ready?');
    await inboxHas(biz.phone_number_id, p.account_id, clock.now());
    const reply = () =>
      limits.check({ business, number, personAccountId: p.account_id, toPhone: p.phone, kind: 'free_form' });
    expect(await reply()).toEqual({ windowOpen: true, entryPoint: null });
    clock.advance(DAY);
    const closed = await refusal(reply());
    expect([closed.code, closed.async]).toEqual([131047, true]);

    // STOP through the real client is for the lead's ingest to record (recordInbound); a block
    // is the person's own, and refuses everything.
    await person.client.contacts.block(bizPhone);
    const blocked = await refusal(
      limits.check({ business, number, personAccountId: p.account_id, toPhone: p.phone, kind: 'template' }),
    );
    expect([blocked.code, blocked.async]).toEqual([131026, true]);
  });

  it('takes the operator’s throughput and tier from the command line', async () => {
    const dataDir = tempDir();
    const env = { PARLEY_DATA_DIR: dataDir };
    const created = await runParley(
      ['business', 'create', '--name', 'Big Sender', '--phone', newPhone(), '--json'],
      env,
    );
    expect(created.code).toBe(0);
    const biz = JSON.parse(created.stdout) as {
      business_id: string;
      phone_number_id: string;
      waba_id: string;
      access_token: string;
    };
    const throughput = await runParley(['business', 'throughput', biz.phone_number_id, '1000'], env);
    expect(throughput).toMatchObject({ code: 0, stdout: 'throughput set to 1000 messages/s\n' });
    const tier = await runParley(['business', 'tier', biz.business_id, '100k'], env);
    expect(tier).toMatchObject({ code: 0, stdout: 'messaging limit set to TIER_100K\n' });

    const bad = await runParley(['business', 'throughput', biz.phone_number_id, 'fast'], env);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stderr).error.code).toBe('VALIDATION_FAILED');
    const unknown = await runParley(['business', 'tier', 'biz_nope', 'TIER_2K'], env);
    expect(JSON.parse(unknown.stderr).error.code).toBe('BUSINESS_NOT_FOUND');
    expect((await runParley(['business', 'tier', biz.business_id], env)).code).toBe(2);

    const other = await startTestServer({ env: { PARLEY_DATA_DIR: dataDir } });
    try {
      const res = await fetch(`${other.url}/v23.0/${biz.phone_number_id}`, {
        headers: { authorization: `Bearer ${biz.access_token}` },
      });
      expect(await res.json()).toMatchObject({
        messaging_limit_tier: 'TIER_100K',
        throughput: { level: 'HIGH' },
      });
    } finally {
      await other.close();
    }
  });
});
