/**
 * Storage: one Kysely instance over SQLite (embedded default, better-sqlite3 in WAL mode) or
 * PostgreSQL (`pg`). Repositories write portable Kysely; where the dialects differ, code asks
 * the capabilities in `DbCaps` instead of testing dialect names.
 */
import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import {
  CompiledQuery,
  type DatabaseConnection,
  type Driver,
  Kysely,
  PostgresDialect,
  SqliteDialect,
  type SqliteDialectConfig,
  SqliteDriver,
  sql,
  type Transaction,
} from 'kysely';
import pg from 'pg';
import type { Database } from './schema.js';

export interface DbCaps {
  dialect: 'sqlite' | 'postgres';
  /** Column type for raw bytes. */
  bytes: 'blob' | 'bytea';
  /** Column type for 64-bit integers (ids, sequences, epoch milliseconds). */
  int64: 'integer' | 'bigint';
  /** SQLite only: tables declared STRICT so types are enforced as in PostgreSQL. */
  strictTables: boolean;
  /**
   * `SELECT … FOR UPDATE` takes row locks (PostgreSQL). SQLite has no row locks and no such
   * clause: its one writer at a time already serialises transactions.
   */
  rowLocks: boolean;
}

export interface Db {
  kysely: Kysely<Database>;
  caps: DbCaps;
  /** Cheap round trip used by /healthz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export type Executor = Kysely<Database> | Transaction<Database>;

export interface OpenDbOptions {
  databaseUrl?: string | undefined;
  dataDir: string;
  sqliteSync?: 'full' | 'normal';
  /** PostgreSQL pool size. */
  poolSize?: number;
  /** An idle pooled connection failed (PostgreSQL restarted, network blip). */
  onPoolError?: (e: Error) => void;
}

export function openDb(options: OpenDbOptions): Db {
  return options.databaseUrl
    ? openPostgres(options.databaseUrl, options.poolSize ?? 10, options.onPoolError ?? (() => {}))
    : openSqlite(options);
}

/** Opens the embedded database file with Parley's settings (used by Kysely and the writer thread). */
export function openSqliteDatabase(options: Pick<OpenDbOptions, 'dataDir' | 'sqliteSync'>): SQLite.Database {
  fs.mkdirSync(options.dataDir, { recursive: true });
  const file = path.join(options.dataDir, 'parley.sqlite');
  const database = new SQLite(file);
  database.pragma('journal_mode = WAL');
  database.pragma(`synchronous = ${options.sqliteSync === 'normal' ? 'NORMAL' : 'FULL'}`);
  // CLI commands write while the server runs: wait for the other writer instead of failing.
  database.pragma('busy_timeout = 5000');
  database.pragma('foreign_keys = ON');
  // The default page cache is 2 MB; the idempotency-key and queue indexes outgrow it within
  // minutes at full load and every insert then reads pages back through system calls.
  database.pragma('cache_size = -65536');
  // Queue pages are written and rewritten within seconds (insert, then delete on ack); a
  // larger WAL between checkpoints copies each hot page back once instead of many times.
  database.pragma('wal_autocheckpoint = 10000');
  return database;
}

/**
 * Transactions begin IMMEDIATE: they take SQLite's write lock at the start, waiting for it up
 * to busy_timeout. A deferred transaction that read first and then writes cannot wait: if the
 * writer thread committed meanwhile, its snapshot is stale and SQLite fails it at once with
 * "database is locked" (SQLITE_BUSY_SNAPSHOT) instead.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;
  constructor(config: SqliteDialectConfig) {
    super(config);
    this.#config = config;
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config);
  }
}

function openSqlite(options: OpenDbOptions): Db {
  const database = openSqliteDatabase(options);
  const kysely = new Kysely<Database>({
    dialect: new ImmediateSqliteDialect({ database: withStatementCache(database, 500) }),
  });
  return {
    kysely,
    caps: { dialect: 'sqlite', bytes: 'blob', int64: 'integer', strictTables: true, rowLocks: false },
    async ping() {
      await sql`select 1`.execute(kysely);
    },
    async close() {
      await kysely.destroy();
    },
  };
}

/**
 * better-sqlite3 compiles SQL on every prepare(); Kysely prepares on every query. The hot
 * statements repeat verbatim (same shape, new parameters), so keep the compiled ones.
 * Least-recently-used entries go first; a Map iterates in insertion order.
 */
function withStatementCache(database: SQLite.Database, size: number) {
  const cache = new Map<string, SQLite.Statement>();
  return {
    close: () => database.close(),
    prepare(text: string): SQLite.Statement {
      let statement = cache.get(text);
      if (statement) {
        cache.delete(text);
      } else {
        statement = database.prepare(text);
        if (cache.size >= size) {
          const oldest = cache.keys().next().value;
          if (oldest !== undefined) cache.delete(oldest);
        }
      }
      cache.set(text, statement);
      return statement;
    },
  };
}

// int8 (sequences, epoch milliseconds) as JS numbers: every value we store is below 2^53.
// Money columns (later issues) must not use this path; they are read as text and parsed to bigint.
const pgTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === pg.types.builtins.INT8) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format);
  },
} as pg.CustomTypesConfig;

function openPostgres(url: string, poolSize: number, onPoolError: (e: Error) => void): Db {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    types: pgTypes,
    connectionTimeoutMillis: 5000,
  });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', onPoolError);
  const kysely = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    kysely,
    caps: { dialect: 'postgres', bytes: 'bytea', int64: 'bigint', strictTables: false, rowLocks: true },
    async ping() {
      await sql`select 1`.execute(kysely);
    },
    async close() {
      await kysely.destroy();
    },
  };
}
