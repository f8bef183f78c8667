/**
 * The webhook outbox on real SQLite and PostgreSQL: queuing inside the caller's transaction,
 * claiming with leases and per-key order, retries with a simulated clock, dead letters,
 * replay and purge. Outbound HTTP is a scripted double; the storage is real.
 */
import { beforeEach, expect, it } from 'vitest';
import { describeStorage } from '../../../test/harness/storage.js';
import { until } from '../../../test/harness/wait.js';
import { createManualClock } from '../../platform/clock.js';
import type { HttpClient, OutboundRequest, OutboundResponse } from '../../platform/http-client.js';
import { OutboundHttpError } from '../../platform/http-client.js';
import { createIds } from '../../platform/ids.js';
import { createLogger } from '../../platform/logger.js';
import { createBusinessRepo } from '../business/business.repo.js';
import { createDispatcher } from './webhooks.dispatcher.js';
import { RETRY_WINDOW_MS } from './webhooks.policy.js';
import { createWebhooksRepo } from './webhooks.repo.js';
import { createWebhooksService } from './webhooks.service.js';

/** An HTTP double: records requests and answers what the test scripts. */
function scriptedHttp() {
  const requests: OutboundRequest[] = [];
  let answer: (r: OutboundRequest) => OutboundResponse | Error = (r) =>
    r.method === 'GET'
      ? { status: 200, body: new URL(r.url).searchParams.get('hub.challenge') ?? '' }
      : { status: 200, body: '' };
  const http: HttpClient = {
    async request(r) {
      requests.push(r);
      const a = answer(r);
      if (a instanceof Error) throw a;
      return a;
    },
    close() {},
  };
  return {
    http,
    requests,
    posts: () => requests.filter((r) => r.method === 'POST'),
    answer(f: typeof answer) {
      answer = f;
    },
  };
}

describeStorage('webhook outbox', (ctx) => {
  const clock = createManualClock();
  const ids = createIds(clock);
  let http: ReturnType<typeof scriptedHttp>;
  const setup = () => {
    const db = ctx().db;
    const repo = createWebhooksRepo(db);
    const service = createWebhooksService({
      db,
      repo,
      businessRepo: createBusinessRepo(db.kysely),
      business: { requireManager: async () => 'owner' },
      http: http.http,
      clock,
      ids,
      publicUrl: () => 'http://parley.test',
    });
    const dispatcher = createDispatcher({
      repo,
      http: http.http,
      clock,
      logger: createLogger('silent'),
      random: () => 0.5,
      concurrency: 8,
    });
    return { db, repo, service, dispatcher };
  };
  const actor = { accountId: 'acc_x', deviceId: 'dev_x', phone: '+15550000000' } as never;

  let seq = 0;
  async function newBusiness(subscribed: boolean) {
    const { db, service } = setup();
    seq++;
    const id = `biz_${seq}_${Date.now()}`;
    const waba = `${900000 + seq}${Date.now() % 100000}`;
    await db.kysely
      .insertInto('businesses')
      .values({
        id,
        waba_id: waba,
        name: `Biz ${seq}`,
        profile: '{}',
        plan_id: 'free',
        retention_days: 30,
        app_secret: `secret-${seq}`,
        created_at: clock.now(),
      })
      .execute();
    if (subscribed) {
      await service.subscribe(id, waba, {
        override_callback_uri: `http://hook-${seq}.test/wh`,
        verify_token: 'tok',
      });
    }
    return { id, waba, url: `http://hook-${seq}.test/wh`, secret: `secret-${seq}` };
  }

  beforeEach(() => {
    http = scriptedHttp();
  });

  it('queues only for subscribed businesses, inside the caller’s transaction', async () => {
    const { db, repo, service } = setup();
    const on = await newBusiness(true);
    const off = await newBusiness(false);
    await db.kysely.transaction().execute(async (tx) => {
      await service.port.enqueue(tx, [
        { businessId: on.id, field: 'messages', value: { a: 'é/' }, orderKey: 'k1' },
        { businessId: off.id, field: 'messages', value: { a: 1 } },
      ]);
    });
    await expect(
      db.kysely.transaction().execute(async (tx) => {
        await service.port.enqueue(tx, [{ businessId: on.id, field: 'messages', value: { lost: true } }]);
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    const mine = await repo.list(on.id, { limit: 10 });
    expect(mine.map((r) => r.body)).toEqual([
      `{"object":"whatsapp_business_account","entry":[{"id":"${on.waba}","changes":[{"value":{"a":"\\u00e9\\/"},"field":"messages"}]}]}`,
    ]);
    expect(mine[0]).toMatchObject({ state: 'pending', order_key: 'k1', attempts: 0 });
    expect(await repo.list(off.id, { limit: 10 })).toEqual([]);
  });

  it('claims only the head of an order key, and never a leased row twice', async () => {
    const { db, repo, service } = setup();
    const b = await newBusiness(true);
    const key = `pn:${b.id}`;
    await db.kysely.transaction().execute((tx) =>
      service.port.enqueue(tx, [
        { businessId: b.id, field: 'messages', value: { n: 1 }, orderKey: key },
        { businessId: b.id, field: 'messages', value: { n: 2 }, orderKey: key },
        { businessId: b.id, field: 'messages', value: { n: 3 } },
      ]),
    );
    const now = clock.now();
    const first = (await repo.claim(now, 100, 60_000)).filter((r) => r.business_id === b.id);
    expect(first.map((r) => JSON.parse(r.body).entry[0].changes[0].value.n).sort()).toEqual([1, 3]);
    expect(first[0]).toMatchObject({ callback_url: b.url, app_secret: b.secret });
    // Leased: a second worker gets none of them, nor the blocked second row of the key.
    expect((await repo.claim(now, 100, 60_000)).filter((r) => r.business_id === b.id)).toEqual([]);
    // Lease expired without an outcome (a crashed worker): claimable again, still head first.
    const again = (await repo.claim(now + 60_000, 100, 60_000)).filter((r) => r.business_id === b.id);
    expect(again.map((r) => JSON.parse(r.body).entry[0].changes[0].value.n).sort()).toEqual([1, 3]);
    const head = again.find((r) => r.order_key === key);
    if (!head) throw new Error('no head');
    await repo.markDelivered([{ id: head.id, status: 200 }], now + 60_000);
    const next = (await repo.claim(now + 120_000, 100, 60_000)).filter((r) => r.business_id === b.id);
    expect(next.map((r) => JSON.parse(r.body).entry[0].changes[0].value.n).sort()).toEqual([2, 3]);
  });

  it('sends signed, retries a failing receiver with backoff keeping order, then delivers all in order', async () => {
    const { db, repo, service, dispatcher } = setup();
    const b = await newBusiness(true);
    const key = `pn:${b.id}:1`;
    await db.kysely.transaction().execute((tx) =>
      service.port.enqueue(
        tx,
        [1, 2, 3].map((n) => ({ businessId: b.id, field: 'messages', value: { n }, orderKey: key })),
      ),
    );
    let up = false;
    http.answer((r) =>
      up
        ? { status: 200, body: 'ok' }
        : r.url === b.url
          ? { status: 500, body: 'down' }
          : { status: 200, body: '' },
    );
    const sentTo = () => http.posts().filter((r) => r.url === b.url);
    // Down for an hour of simulated time: only the head is ever tried.
    const start = clock.now();
    while (clock.now() - start < 60 * 60_000) {
      await dispatcher.drain();
      clock.advance(30_000);
    }
    const tries = sentTo();
    expect(tries.length).toBeGreaterThan(5);
    expect(new Set(tries.map((r) => JSON.parse(r.body ?? '').entry[0].changes[0].value.n))).toEqual(
      new Set([1]),
    );
    const head = (await repo.list(b.id, { limit: 10, state: 'pending' })).find(
      (r) => JSON.parse(r.body).entry[0].changes[0].value.n === 1,
    );
    expect(head?.last_status).toBe(500);
    expect(head?.last_error).toContain('HTTP 500');
    up = true;
    clock.advance(60 * 60_000);
    await dispatcher.drain();
    const delivered = sentTo().slice(tries.length);
    expect(delivered.map((r) => JSON.parse(r.body ?? '').entry[0].changes[0].value.n)).toEqual([1, 2, 3]);
    for (const r of delivered) {
      expect(r.headers?.['x-hub-signature-256']).toMatch(/^sha256=[0-9a-f]{64}$/);
      expect(r.headers?.['content-type']).toBe('application/json');
    }
    expect((await repo.list(b.id, { limit: 10 })).map((r) => r.state)).toEqual([
      'delivered',
      'delivered',
      'delivered',
    ]);
  });

  it('dead-letters after 7 days of failures, lets later rows of the key go, and replays', async () => {
    const { db, repo, service, dispatcher } = setup();
    const b = await newBusiness(true);
    const key = `pn:${b.id}:2`;
    await db.kysely
      .transaction()
      .execute((tx) =>
        service.port.enqueue(tx, [{ businessId: b.id, field: 'messages', value: { n: 1 }, orderKey: key }]),
      );
    http.answer((r) =>
      r.url === b.url ? new OutboundHttpError('connect ECONNREFUSED', 'network') : { status: 200, body: '' },
    );
    const start = clock.now();
    while (clock.now() - start <= RETRY_WINDOW_MS + 60 * 60_000) {
      await dispatcher.drain();
      clock.advance(60 * 60_000);
    }
    const [dead] = await repo.list(b.id, { limit: 10 });
    expect(dead).toMatchObject({ state: 'failed', last_status: null });
    expect(dead?.last_error).toContain('ECONNREFUSED');
    expect(dead?.attempts).toBeGreaterThan(150);
    const listed = await service.deliveries(actor, b.id, { state: 'failed' });
    expect(listed.deliveries.map((d) => d.id)).toEqual([String(dead?.id)]);

    // A later row of the same key is not held back by the dead letter.
    http.answer(() => ({ status: 200, body: '' }));
    await db.kysely
      .transaction()
      .execute((tx) =>
        service.port.enqueue(tx, [{ businessId: b.id, field: 'messages', value: { n: 2 }, orderKey: key }]),
      );
    await dispatcher.drain();
    expect((await repo.list(b.id, { limit: 10 })).map((r) => r.state)).toEqual(['delivered', 'failed']);

    expect(await service.replay(actor, b.id)).toEqual({ queued: 1 });
    await dispatcher.drain();
    expect((await repo.list(b.id, { limit: 10 })).map((r) => r.state)).toEqual(['delivered', 'delivered']);
    expect(await service.replay(actor, b.id)).toEqual({ queued: 0 });
  });

  it('keeps queued rows while unsubscribed and sends them after subscribing again; purges old rows', async () => {
    const { db, repo, service, dispatcher } = setup();
    const b = await newBusiness(true);
    await service.unsubscribe(b.id, b.waba);
    await db.kysely
      .transaction()
      .execute((tx) => service.port.enqueue(tx, [{ businessId: b.id, field: 'messages', value: { n: 1 } }]));
    expect(await repo.list(b.id, { limit: 10 })).toEqual([]);
    // Subscribed, queued, unsubscribed: the row waits.
    await service.subscribe(b.id, b.waba, { override_callback_uri: b.url, verify_token: 't' });
    await db.kysely
      .transaction()
      .execute((tx) => service.port.enqueue(tx, [{ businessId: b.id, field: 'messages', value: { n: 2 } }]));
    await service.unsubscribe(b.id, b.waba);
    await dispatcher.drain();
    expect((await repo.list(b.id, { limit: 10 })).map((r) => r.state)).toEqual(['pending']);
    await service.subscribe(b.id, b.waba, { override_callback_uri: b.url, verify_token: 't' });
    await dispatcher.drain();
    expect((await repo.list(b.id, { limit: 10 })).map((r) => r.state)).toEqual(['delivered']);

    clock.advance(7 * 24 * 60 * 60_000 + 1);
    const purged = await service.purge();
    expect(purged.delivered).toBeGreaterThanOrEqual(1);
    expect(await repo.list(b.id, { limit: 10 })).toEqual([]);
  });

  it('is woken by a commit in this process, without waiting for its poll', async () => {
    const { db, repo } = setup();
    const b = await newBusiness(true);
    const dispatcher = createDispatcher({
      repo,
      http: http.http,
      clock,
      logger: createLogger('silent'),
      pollMs: 60 * 60_000,
    });
    const service = createWebhooksService({
      db,
      repo,
      businessRepo: createBusinessRepo(db.kysely),
      business: { requireManager: async () => 'owner' },
      http: http.http,
      clock,
      ids,
      publicUrl: () => 'http://parley.test',
      onQueued: () => dispatcher.wake(),
    });
    dispatcher.start();
    try {
      // The first pass at start finds nothing; only the wake can send what is queued next.
      await dispatcher.drain();
      await db.kysely
        .transaction()
        .execute((tx) =>
          service.port.enqueue(tx, [{ businessId: b.id, field: 'messages', value: { woken: true } }]),
        );
      await until(() => http.posts().some((r) => r.url === b.url && (r.body ?? '').includes('woken')));
    } finally {
      await dispatcher.stop();
    }
  });

  it('two workers on one database send each delivery once and keep every key in order', async () => {
    const { db, repo, service } = setup();
    const b = await newBusiness(true);
    const keys = ['a', 'b', 'c', 'd'].map((k) => `${b.id}:${k}`);
    const changes = Array.from({ length: 60 }, (_, n) => ({
      businessId: b.id,
      field: 'messages',
      value: { n, key: n % 5 === 4 ? null : keys[n % 4] },
      ...(n % 5 === 4 ? {} : { orderKey: keys[n % 4] }),
    }));
    await db.kysely.transaction().execute((tx) => service.port.enqueue(tx, changes));
    // A receiver that answers after a few turns of the event loop, so both workers overlap.
    const seen: { n: number; key: string | null }[] = [];
    const slow: HttpClient = {
      async request(r) {
        for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
        if (r.url === b.url) seen.push(JSON.parse(r.body ?? '').entry[0].changes[0].value);
        return { status: 200, body: '' };
      },
      close() {},
    };
    const worker = () =>
      createDispatcher({ repo, http: slow, clock, logger: createLogger('silent'), concurrency: 4 });
    const [one, two] = [worker(), worker()];
    await Promise.all([one.drain(), two.drain(), one.drain(), two.drain()]);
    await Promise.all([one.drain(), two.drain()]);
    expect(seen.map((v) => v.n).sort((x, y) => x - y)).toEqual(changes.map((_, n) => n));
    for (const key of keys) {
      const order = seen.filter((v) => v.key === key).map((v) => v.n);
      expect(order).toEqual([...order].sort((x, y) => x - y));
    }
  });

  it('a receiver that never answers does not hold up another business’s deliveries', async () => {
    const { db, repo, service } = setup();
    const stuck = await newBusiness(true);
    const fine = await newBusiness(true);
    const hanging: (() => void)[] = [];
    const delivered: string[] = [];
    const client: HttpClient = {
      request(r) {
        if (r.url === stuck.url) {
          return new Promise((resolve) => hanging.push(() => resolve({ status: 200, body: '' })));
        }
        delivered.push(r.url);
        return Promise.resolve({ status: 200, body: '' });
      },
      close() {},
    };
    await db.kysely
      .transaction()
      .execute((tx) =>
        service.port.enqueue(tx, [
          ...Array.from({ length: 20 }, () => ({ businessId: stuck.id, field: 'messages', value: {} })),
          ...Array.from({ length: 5 }, () => ({ businessId: fine.id, field: 'messages', value: {} })),
        ]),
      );
    const dispatcher = createDispatcher({
      repo,
      http: client,
      clock,
      logger: createLogger('silent'),
      concurrency: 4,
      perEndpoint: 2,
    });
    dispatcher.start();
    try {
      await until(() => delivered.filter((u) => u === fine.url).length === 5);
      expect(hanging.length).toBeLessThanOrEqual(2);
    } finally {
      for (const answer of hanging.splice(0)) answer();
      await dispatcher.stop();
    }
  });
});
