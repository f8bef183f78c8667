/**
 * Two real SDK clients and the real command line against the `parley` program running as its
 * own process: offline delivery, reconnect and resume, idempotent resend, and a kill -9 in the
 * middle of a send storm.
 */
import fs from 'node:fs';
import { ParleyClient, type ReceivedMessage } from '@parley/sdk';
import { afterEach, describe, expect, it } from 'vitest';
import { newPhone } from '../harness/builders.js';
import { freePort, runParley, type ServerChild, spawnServer } from '../harness/process.js';
import { createPostgresDatabase, PG_AVAILABLE, tempDir } from '../harness/storage.js';
import { until } from '../harness/wait.js';

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe.skipIf(dialect === 'postgres' && !PG_AVAILABLE)(`parley program [${dialect}]`, () => {
    const cleanups: (() => Promise<unknown>)[] = [];
    afterEach(async () => {
      for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
    });

    async function environment() {
      const dataDir = tempDir();
      const env: Record<string, string> = { PARLEY_DATA_DIR: dataDir, PARLEY_PORT: String(await freePort()) };
      if (dialect === 'postgres') {
        const database = await createPostgresDatabase();
        env.DATABASE_URL = database.url;
        cleanups.push(() => database.drop());
      }
      cleanups.push(async () => fs.rmSync(dataDir, { recursive: true, force: true }));
      return env;
    }

    async function start(env: Record<string, string>): Promise<ServerChild> {
      const server = await spawnServer(env);
      cleanups.push(() => server.stop());
      return server;
    }

    async function createAccount(env: Record<string, string>, name: string) {
      const phone = newPhone();
      const r = await runParley(['account', 'create', '--phone', phone, '--name', name, '--json'], env);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const created = JSON.parse(r.stdout) as { account_id: string; device_id: string; token: string };
      expect(Object.keys(created).sort()).toEqual(['account_id', 'device_id', 'token']);
      return { ...created, phone };
    }

    function client(url: string, token: string) {
      const c = new ParleyClient({ baseUrl: url, token, reconnect: { minDelayMs: 50, maxDelayMs: 500 } });
      const inbox: ReceivedMessage[] = [];
      c.onMessage((m) => {
        inbox.push(m);
      });
      // Connection-level errors (e.g. RATE_LIMITED during the storm) are handled by the SDK.
      const errors: unknown[] = [];
      c.on('error', (e) => errors.push(e));
      cleanups.push(() => c.close());
      return { c, inbox };
    }

    it('two SDK clients chat, one of them offline part of the time', async () => {
      const env = await environment();
      const server = await start(env);
      // The operator CLI works on the same storage while the server runs.
      const alice = await createAccount(env, 'Alice');
      const bob = await createAccount(env, 'Bob');

      const a = client(server.url, alice.token);
      await a.c.connect();
      // Bob is offline: his messages wait for him.
      const sent = [];
      for (let i = 1; i <= 30; i++) sent.push(await a.c.sendText(bob.phone, `offline ${i} ✓`));

      const b = client(server.url, bob.token);
      await b.c.connect();
      await b.c.whenSynced();
      expect(b.inbox.map((m) => m.text)).toEqual(sent.map((_, i) => `offline ${i + 1} ✓`));
      expect(b.inbox.map((m) => m.messageId)).toEqual(sent.map((s) => s.messageId));
      expect(b.inbox.every((m) => m.from === alice.phone && m.fromAccount === alice.account_id)).toBe(true);

      // Live both ways.
      await b.c.sendText(alice.phone, 'got them');
      await until(() => a.inbox.length === 1);
      expect(a.inbox[0]?.text).toBe('got them');

      // Bob drops off, Alice keeps writing, Bob comes back: nothing lost, nothing twice, in order.
      await b.c.close();
      for (let i = 1; i <= 20; i++) await a.c.sendText(bob.phone, `later ${i}`);
      const b2 = client(server.url, bob.token);
      await b2.c.connect();
      await b2.c.whenSynced();
      expect(b2.inbox.map((m) => m.text)).toEqual(Array.from({ length: 20 }, (_, i) => `later ${i + 1}`));

      // A retried send with the same client id is the same message, delivered once.
      const first = await a.c.sendText(bob.phone, 'exactly once', { clientId: 'retry-me' });
      const again = await a.c.sendText(bob.phone, 'exactly once', { clientId: 'retry-me' });
      expect(again).toMatchObject({ messageId: first.messageId, duplicate: true });
      await until(() => b2.inbox.some((m) => m.messageId === first.messageId));
      await new Promise((r) => setTimeout(r, 200));
      expect(b2.inbox.filter((m) => m.messageId === first.messageId)).toHaveLength(1);
    });

    it('the command-line client sends and receives', async () => {
      const env = await environment();
      const server = await start(env);
      const alice = await createAccount(env, 'Alice');
      const bob = await createAccount(env, 'Bob');
      const clientEnv = { ...env, PARLEY_URL: server.url };

      const s1 = await runParley(
        ['send', '--token', alice.token, '--to', bob.phone, '--text', 'hi', '--json'],
        clientEnv,
      );
      expect(s1.code).toBe(0);
      const { message_id } = JSON.parse(s1.stdout) as { message_id: string };
      expect(message_id).toMatch(/^msg_/);
      await runParley(
        ['send', '--token', alice.token, '--to', bob.phone, '--text', 'héllo 👋', '--json'],
        clientEnv,
      );

      const r1 = await runParley(['receive', '--token', bob.token, '--json'], clientEnv);
      expect(r1.code).toBe(0);
      const lines = r1.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(lines).toEqual([
        expect.objectContaining({ message_id, from: alice.phone, text: 'hi', sent_at: expect.any(String) }),
        expect.objectContaining({ from: alice.phone, text: 'héllo 👋' }),
      ]);
      expect(Number.isNaN(Date.parse(lines[0].sent_at))).toBe(false);
      // Printed means acked: a second receive finds nothing.
      const r2 = await runParley(['receive', '--token', bob.token, '--json'], clientEnv);
      expect(r2).toMatchObject({ code: 0, stdout: '' });

      const bad = await runParley(
        ['send', '--token', 'pdt_nope', '--to', bob.phone, '--text', 'x', '--json'],
        clientEnv,
      );
      expect(bad.code).toBe(1);
      expect(JSON.parse(bad.stderr).error.code).toBe('UNAUTHENTICATED');
      const nobody = await runParley(
        ['send', '--token', alice.token, '--to', '+15559999996', '--text', 'x', '--json'],
        clientEnv,
      );
      expect(nobody.code).toBe(1);
      expect(JSON.parse(nobody.stderr).error.code).toBe('RECIPIENT_NOT_FOUND');
    });

    it('kill -9 during a send storm: every acked message is delivered after restart, none twice', async () => {
      const env = await environment();
      let server = await start(env);
      const alice = await createAccount(env, 'Alice');
      const bob = await createAccount(env, 'Bob');

      const a = client(server.url, alice.token);
      await a.c.connect();
      const acked = new Set<string>();
      const total = 3000;
      const results = Array.from({ length: total }, (_, i) =>
        a.c.sendText(bob.phone, `storm ${i}`, { clientId: `storm-${i}` }).then((r) => {
          acked.add(r.messageId);
          return r;
        }),
      );
      await until(() => acked.size >= 300, 30_000);
      await server.crash();
      const ackedAtCrash = new Set(acked);
      expect(ackedAtCrash.size).toBeLessThan(total);

      // Same address, same storage. The SDK reconnects and resends unanswered sends by client id.
      server = await start(env);
      const all = await Promise.all(results);
      expect(new Set(all.map((r) => r.messageId)).size).toBe(total);

      const b = client(server.url, bob.token);
      await b.c.connect();
      await until(() => b.inbox.length >= total, 60_000);
      await b.c.whenSynced();
      const received = b.inbox.map((m) => m.messageId);
      expect(new Set(received).size).toBe(received.length);
      for (const id of ackedAtCrash) expect(received).toContain(id);
      // Each client id became exactly one message, in Alice's order.
      expect(b.inbox.map((m) => m.text)).toEqual(Array.from({ length: total }, (_, i) => `storm ${i}`));
    }, 120_000);
  });
}
