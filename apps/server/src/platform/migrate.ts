/**
 * One forward-only migration stream for both dialects. Kysely's Migrator takes a lock (a lock
 * table row) so several processes starting together run each migration once.
 */
import { type Kysely, type Migration, type MigrationProvider, Migrator } from 'kysely';
import { migrations } from '../migrations/index.js';
import type { Db, DbCaps } from './db.js';

export interface MigrationModule {
  up(db: Kysely<unknown>, caps: DbCaps): Promise<void>;
}

export async function migrateToLatest(db: Db): Promise<string[]> {
  const provider: MigrationProvider = {
    async getMigrations() {
      const out: Record<string, Migration> = {};
      for (const [name, module] of Object.entries(migrations)) {
        out[name] = { up: (k) => module.up(k, db.caps) };
      }
      return out;
    },
  };
  const migrator = new Migrator({ db: db.kysely, provider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    throw new Error('database migration failed', { cause: error });
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
