/** The migration stream, in order. Append only: a released migration is never edited. */
import type { MigrationModule } from '../platform/migrate.js';
import * as m0001 from './0001_init.js';

export const migrations: Record<string, MigrationModule> = {
  '0001_init': m0001,
};
