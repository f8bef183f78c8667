/**
 * Large-test harness: a whole Parley server in-process on real sockets (port 0), with its own
 * data folder, on SQLite or on a fresh PostgreSQL database.
 */
import fs from 'node:fs';
import { createModules, openPlatform, startRoles } from '../../src/app.js';
import { parseConfig } from '../../src/config.js';
import type { Clock } from '../../src/platform/clock.js';
import { newPhone } from './builders.js';
import { createPostgresDatabase, tempDir } from './storage.js';

export interface TestServerOptions {
  dialect?: 'sqlite' | 'postgres';
  env?: Record<string, string>;
  /** Simulated time (createManualClock); the system clock by default. */
  clock?: Clock;
}

export async function startTestServer(options: TestServerOptions = {}) {
  const dataDir = tempDir();
  const pgDb = options.dialect === 'postgres' ? await createPostgresDatabase() : undefined;
  const parsed = parseConfig(
    {
      PARLEY_PORT: '0',
      PARLEY_DATA_DIR: dataDir,
      PARLEY_LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      PARLEY_SQLITE_SYNC: 'normal',
      ...(pgDb ? { DATABASE_URL: pgDb.url } : {}),
      ...options.env,
    },
    process.cwd(),
  );
  if (!parsed.ok) throw new Error(parsed.problems.join('\n'));
  const platform = await openPlatform(parsed.config, {
    ...(process.env.TEST_LOG_LEVEL ? { logDestination: process.stderr } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const modules = createModules(platform);
  const running = await startRoles(platform, modules, parsed.config.roles);
  return {
    url: running.url,
    wsUrl: `${running.url.replace(/^http/, 'ws')}/ws`,
    platform,
    modules,
    async newPerson(name = 'Person') {
      const phone = newPhone();
      const created = await modules.accounts.createAccount({ phone, name });
      return { ...created, phone };
    },
    async close() {
      await running.close();
      await platform.close();
      await pgDb?.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export type TestServer = Awaited<ReturnType<typeof startTestServer>>;
