/** The `parley` program's own behaviour: configuration errors, help, graceful shutdown. */
import fs from 'node:fs';
import { ParleyClient } from '@parley/sdk';
import { describe, expect, it } from 'vitest';
import { newPhone } from '../harness/builders.js';
import { freePort, runParley, spawnServer } from '../harness/process.js';
import { tempDir } from '../harness/storage.js';

describe('parley program', () => {
  it('lists every configuration problem with a hint and exits 1, touching nothing', async () => {
    const dataDir = `${tempDir()}/never-created`;
    const r = await runParley(['serve'], {
      PARLEY_DATA_DIR: dataDir,
      PARLEY_PORT: 'eighty',
      PARLEY_ROLES: 'api,chef',
      DATABASE_URL: 'mysql://localhost/x',
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/3 problem\(s\)/);
    expect(r.stderr).toMatch(/PARLEY_PORT="eighty".*hint/);
    expect(r.stderr).toMatch(/PARLEY_ROLES="api,chef".*hint/);
    expect(r.stderr).toMatch(/DATABASE_URL=.*postgres:\/\//);
    expect(fs.existsSync(dataDir)).toBe(false);
  });

  it('prints usage, and refuses unknown commands and bad arguments', async () => {
    const help = await runParley(['help'], {});
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('parley account create');
    expect((await runParley(['frobnicate'], {})).code).toBe(2);
    const missing = await runParley(['account', 'create', '--name', 'x'], { PARLEY_DATA_DIR: tempDir() });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--phone is required');
    const bad = await runParley(['account', 'create', '--phone', '12345', '--json'], {
      PARLEY_DATA_DIR: tempDir(),
    });
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stderr).error.code).toBe('PHONE_INVALID');
  });

  it('generates its secrets on first run and reuses them', async () => {
    const dataDir = tempDir();
    const env = { PARLEY_DATA_DIR: dataDir };
    expect((await runParley(['migrate'], env)).code).toBe(0);
    const secrets = fs.readFileSync(`${dataDir}/secrets.json`, 'utf8');
    expect(JSON.parse(secrets).otp_key.length).toBeGreaterThanOrEqual(32);
    expect(fs.statSync(`${dataDir}/secrets.json`).mode & 0o777).toBe(0o600);
    expect((await runParley(['migrate'], env)).code).toBe(0);
    expect(fs.readFileSync(`${dataDir}/secrets.json`, 'utf8')).toBe(secrets);
  });

  it('on SIGTERM answers the sends it accepted, closes connections and exits 0', async () => {
    const dataDir = tempDir();
    const env = { PARLEY_DATA_DIR: dataDir, PARLEY_PORT: String(await freePort()) };
    const server = await spawnServer({ ...env, PARLEY_LOG_LEVEL: 'info' });
    const created = JSON.parse(
      (await runParley(['account', 'create', '--phone', newPhone(), '--name', 'A', '--json'], env)).stdout,
    );
    const bob = newPhone();
    const bobAccount = JSON.parse(
      (await runParley(['account', 'create', '--phone', bob, '--name', 'B', '--json'], env)).stdout,
    );
    const client = new ParleyClient({ baseUrl: server.url, token: created.token });
    client.on('error', () => {});
    await client.connect();
    const sends = Array.from({ length: 200 }, (_, i) => client.sendText(bob, `m${i}`));
    const answered = Promise.allSettled(sends);
    await new Promise((r) => setTimeout(r, 20));
    expect(await server.stop()).toBe(0);
    expect(server.output()).toContain('stopped cleanly');
    await client.close();
    const results = await answered;
    const acked = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.messageId] : []));
    expect(acked.length).toBeGreaterThan(0);

    // Every message the server acknowledged before stopping is there after a restart.
    const again = await spawnServer(env);
    try {
      const received = await runParley(['receive', '--token', bobAccount.token, '--json'], {
        ...env,
        PARLEY_URL: again.url,
      });
      const ids = received.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line).message_id as string);
      for (const id of acked) expect(ids).toContain(id);
      expect(new Set(ids).size).toBe(ids.length);
    } finally {
      await again.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
