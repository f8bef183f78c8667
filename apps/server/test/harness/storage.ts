/**
 * Medium-test harness: runs a suite once on SQLite and once on PostgreSQL, each on a fresh,
 * migrated database. PostgreSQL comes from PARLEY_TEST_PG_URL (default: the local server);
 * without it the PostgreSQL suite is skipped, except under CI=true where it must run.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe } from 'vitest';
import { type Db, openDb } from '../../src/platform/db.js';
import { migrateToLatest } from '../../src/platform/migrate.js';

export const PG_ADMIN_URL = process.env.PARLEY_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REQUIRED = process.env.CI === 'true';

let pgAvailable: Promise<boolean> | undefined;
export function postgresAvailable(): Promise<boolean> {
  pgAvailable ??= (async () => {
    const client = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 3000 });
    try {
      await client.connect();
      await client.query('select 1');
      return true;
    } catch {
      return false;
    } finally {
      await client.end().catch(() => {});
    }
  })();
  return pgAvailable;
}

const available = await postgresAvailable();
/** Whether the PostgreSQL suites run (always true under CI=true, or the import throws). */
export const PG_AVAILABLE = available;
if (!available && REQUIRED) {
  throw new Error(`CI=true requires PostgreSQL for the medium tests, but ${PG_ADMIN_URL} does not answer.`);
}

/** Creates an empty PostgreSQL database; returns its URL and a function that drops it. */
export async function createPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `parley_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      try {
        await c.query(`drop database if exists ${name} with (force)`);
      } finally {
        await c.end();
      }
    },
  };
}

export function tempDir(prefix = 'parley-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface StorageContext {
  dialect: 'sqlite' | 'postgres';
  db: Db;
  dataDir: string;
  /** DATABASE_URL for a child process using the same database (undefined on SQLite). */
  databaseUrl: string | undefined;
}

/** Declares `suite` twice: on a fresh SQLite file and on a fresh PostgreSQL database. */
export function describeStorage(
  name: string,
  suite: (get: () => StorageContext) => void,
  dialects: readonly ('sqlite' | 'postgres')[] = ['sqlite', 'postgres'],
): void {
  for (const dialect of dialects) {
    const skip = dialect === 'postgres' && !available;
    (skip ? describe.skip : describe)(`${name} [${dialect}]`, () => {
      let ctx: StorageContext | undefined;
      let drop: (() => Promise<void>) | undefined;
      beforeAll(async () => {
        const dataDir = tempDir();
        let databaseUrl: string | undefined;
        if (dialect === 'postgres') {
          const created = await createPostgresDatabase();
          databaseUrl = created.url;
          drop = created.drop;
        }
        const db = openDb({ databaseUrl, dataDir, poolSize: 4 });
        await migrateToLatest(db);
        ctx = { dialect, db, dataDir, databaseUrl };
      });
      afterAll(async () => {
        await ctx?.db.close();
        await drop?.();
        if (ctx) fs.rmSync(ctx.dataDir, { recursive: true, force: true });
      });
      suite(() => {
        if (!ctx) throw new Error('storage context used outside a test');
        return ctx;
      });
    });
  }
}
