/**
 * `npm run bench -- cloud-api`: businesses' HTTP clients send template messages through the
 * Business Messaging API to connected people, whose devices acknowledge them and report them
 * delivered; a local webhook receiver verifies and counts the status webhooks.
 *
 * accepted_per_s: accepted sends / (first request → last answer), with `concurrency` requests
 * in flight. p99_ms: request → answer, at that load. webhooks_per_s: status webhooks received
 * / (first request → last webhook). lost: accepted messages no device received. double_billed:
 * billing records beyond one per delivered message (read from storage after the run).
 */

import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { openPlatform, parseConfig } from '@parley/server';
import {
  type BenchConnection,
  connectDevice,
  type Handlers,
  percentile,
  pool,
  sleep,
  waitFor,
} from './loadgen.js';
import { startServerProcess } from './server-process.js';
import { createAccounts } from './setup.js';

export interface CloudApiOptions {
  people: number;
  messages: number;
  concurrency: number;
  dataDir: string;
}

const PARLEY_BIN = path.resolve(
  path.dirname(new URL(import.meta.url).pathname),
  '../../apps/server/bin/parley.js',
);

function parley(dataDir: string, args: string[]): string {
  return execFileSync(process.execPath, [PARLEY_BIN, ...args], {
    env: { ...process.env, PARLEY_DATA_DIR: dataDir, PARLEY_LOG_LEVEL: 'warn' },
    encoding: 'utf8',
  });
}

/** A webhook endpoint: answers the handshake, checks every signature, counts statuses. */
async function startReceiver(appSecret: () => string) {
  const statuses = new Map<string, Set<string>>();
  let count = 0;
  let badSignatures = 0;
  let lastAt = 0;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'GET') {
      res.end(url.searchParams.get('hub.challenge') ?? '');
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const expected = `sha256=${createHmac('sha256', appSecret()).update(body).digest('hex')}`;
      if (req.headers['x-hub-signature-256'] !== expected) badSignatures++;
      const payload = JSON.parse(body.toString('utf8')) as {
        entry: { changes: { value: { statuses?: { id: string; status: string }[] } }[] }[];
      };
      for (const entry of payload.entry)
        for (const change of entry.changes)
          for (const s of change.value.statuses ?? []) {
            count++;
            let set = statuses.get(s.id);
            if (!set) {
              set = new Set();
              statuses.set(s.id, set);
            }
            set.add(s.status);
          }
      lastAt = performance.now();
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhook`,
    statuses,
    count: () => count,
    badSignatures: () => badSignatures,
    lastAt: () => lastAt,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export async function runCloudApi(o: CloudApiOptions) {
  process.stderr.write(`creating ${o.people} people and the business…\n`);
  const people = await createAccounts(o.dataDir, o.people);
  const created = JSON.parse(
    parley(o.dataDir, [
      'business',
      'create',
      '--name',
      'Bench API business',
      '--phone',
      '+15559999999',
      '--json',
    ]),
  ) as {
    business_id: string;
    waba_id: string;
    phone_number_id: string;
    access_token: string;
    app_secret: string;
  };
  // Meta's defaults (80 messages/s, 250 people a day) are far below what is measured here.
  parley(o.dataDir, ['business', 'throughput', created.phone_number_id, '100000']);
  parley(o.dataDir, ['business', 'tier', created.business_id, 'TIER_UNLIMITED']);

  const receiver = await startReceiver(() => created.app_secret);
  const server = await startServerProcess({
    PARLEY_DATA_DIR: o.dataDir,
    PARLEY_WS_FRAMES_PER_SECOND: '1000000',
  });
  const graph = (p: string) => `${server.url}/v23.0/${p}`;
  const call = async (method: string, p: string, body?: unknown) => {
    const res = await fetch(graph(p), {
      method,
      headers: { authorization: `Bearer ${created.access_token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const json = (await res.json()) as Record<string, unknown>;
    if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  try {
    // The template, approved by the operator; the webhook endpoint, verified by handshake.
    const template = await call('POST', `${created.waba_id}/message_templates`, {
      name: 'order_update',
      language: 'en_US',
      category: 'UTILITY',
      components: [{ type: 'BODY', text: 'Order {{1}} is on its way.', example: { body_text: [['A-1']] } }],
    });
    // The review rules approve a plain utility template at once; otherwise the operator does.
    if (template.status === 'PENDING') parley(o.dataDir, ['template', 'approve', String(template.id)]);
    await call('POST', `${created.waba_id}/subscribed_apps`, {
      override_callback_uri: receiver.url,
      verify_token: 'bench',
    });

    let received = 0;
    const handlers: Handlers = {
      onMsg(conn, frame) {
        received++;
        conn.ws.send(`{"op":"receipt","type":"delivered","message_ids":["${frame.message_id}"]}`);
      },
      onSent() {},
      onError(_conn, frame) {
        process.stderr.write(`error frame: ${JSON.stringify(frame)}\n`);
      },
    };
    process.stderr.write(`connecting ${o.people} people…\n`);
    const conns: BenchConnection[] = await pool(people, 100, (d) => connectDevice(server.wsUrl, d, handlers));
    await sleep(500);

    process.stderr.write(`sending ${o.messages} template messages, ${o.concurrency} requests in flight…\n`);
    const latencies = new Float64Array(o.messages);
    const wamids: string[] = [];
    let issued = 0;
    let failed = 0;
    const first = performance.now();
    let lastAnswer = first;
    await Promise.all(
      Array.from({ length: o.concurrency }, async () => {
        while (issued < o.messages) {
          const i = issued++;
          const person = people[i % people.length];
          if (!person) break;
          const started = performance.now();
          const res = await fetch(graph(`${created.phone_number_id}/messages`), {
            method: 'POST',
            headers: { authorization: `Bearer ${created.access_token}`, 'content-type': 'application/json' },
            body: JSON.stringify({
              messaging_product: 'whatsapp',
              to: person.phone.slice(1),
              type: 'template',
              template: {
                name: 'order_update',
                language: { code: 'en_US' },
                components: [{ type: 'body', parameters: [{ type: 'text', text: `B-${i}` }] }],
              },
            }),
          });
          const json = (await res.json()) as { messages?: { id: string }[] };
          const now = performance.now();
          latencies[i] = now - started;
          lastAnswer = now;
          const id = json.messages?.[0]?.id;
          if (res.ok && id) wamids.push(id);
          else if (failed++ < 5) process.stderr.write(`refused: ${res.status} ${JSON.stringify(json)}\n`);
        }
      }),
    );
    const acceptedPerS = wamids.length / ((lastAnswer - first) / 1000);
    process.stderr.write(`${Math.round(acceptedPerS)} accepted/s; waiting for deliveries and webhooks…\n`);
    await waitFor(() => received >= wamids.length, 120_000).catch(() => {});
    const complete = () =>
      wamids.every((id) => {
        const s = receiver.statuses.get(id);
        return s?.has('sent') && s.has('delivered');
      });
    await waitFor(complete, 180_000).catch(() => {});
    const webhooksPerS = receiver.count() / ((receiver.lastAt() - first) / 1000);
    const missingWebhooks = wamids.filter((id) => {
      const s = receiver.statuses.get(id);
      return !(s?.has('sent') && s.has('delivered'));
    }).length;
    for (const c of conns) c.ws.close(1000);
    const rss = server.rssBytes();
    await server.stop();

    // Billing records, read from storage: one per delivered message, never more.
    const parsed = parseConfig({ PARLEY_DATA_DIR: o.dataDir, PARLEY_LOG_LEVEL: 'warn' }, process.cwd());
    if (!parsed.ok) throw new Error(parsed.problems.join('\n'));
    const platform = await openPlatform(parsed.config, { logDestination: process.stderr });
    let events = 0;
    let delivered = 0;
    try {
      const db = platform.db.kysely;
      events = Number(
        (
          await db
            .selectFrom('message_events')
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirst()
        )?.n ?? 0,
      );
      delivered = Number(
        (
          await db
            .selectFrom('api_messages')
            .select((eb) => eb.fn.countAll().as('n'))
            .where('delivered_at', 'is not', null)
            .executeTakeFirst()
        )?.n ?? 0,
      );
    } finally {
      await platform.close();
    }

    const sorted = latencies.slice(0, o.messages).sort();
    const result = {
      bench: 'cloud-api',
      accepted_per_s: Math.round(acceptedPerS),
      p99_ms: Math.round(percentile(sorted, 99) * 100) / 100,
      webhooks_per_s: Math.round(webhooksPerS),
      lost: wamids.length - received,
      double_billed: Math.max(0, events - delivered),
    };
    const extra = {
      people: o.people,
      messages: o.messages,
      concurrency: o.concurrency,
      refused: failed,
      p50_ms: Math.round(percentile(sorted, 50) * 100) / 100,
      status_webhooks: receiver.count(),
      messages_missing_a_status_webhook: missingWebhooks,
      bad_signatures: receiver.badSignatures(),
      billing_records: events,
      server_rss_mb: Math.round(rss / 1048576),
    };
    return { result, extra };
  } finally {
    await server.stop();
    await receiver.close();
  }
}
