import { randomBytes } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import type { DbCaps } from '../platform/db.js';

/**
 * Business management on the Business Messaging API.
 *
 * `business_tokens` gains an id (what a manager names to revoke a token: the token itself is
 * only stored hashed), a short prefix of the token to recognise it by, and when it was last
 * used. Tokens made before this migration get an id here and no prefix (it cannot be known).
 *
 * `api_number_settings` holds what the Cloud API lets a business set per phone number: its
 * registration (deregistered numbers cannot send; the two-step PIN, scrypt-hashed) and its
 * conversational automation (welcome message, ice breakers, commands). No row means the
 * defaults: registered, no PIN, no automation; so numbers made before or without the API
 * need no row.
 */
export async function up(db: Kysely<unknown>, caps: DbCaps): Promise<void> {
  const strict = <T extends { modifyEnd(s: ReturnType<typeof sql>): T }>(t: T): T =>
    caps.strictTables ? t.modifyEnd(sql`strict`) : t;
  const int64 = caps.int64;

  await db.schema.alterTable('business_tokens').addColumn('id', 'text').execute();
  await db.schema.alterTable('business_tokens').addColumn('prefix', 'text').execute();
  await db.schema.alterTable('business_tokens').addColumn('last_used_at', int64).execute();
  const tokens = db as unknown as Kysely<{ business_tokens: { token_hash: string; id: string | null } }>;
  for (const row of await tokens.selectFrom('business_tokens').select('token_hash').execute()) {
    // `tok_` + 26 characters like every other id; these sort before any made from now on.
    const id = `tok_0000000000${randomBytes(10).toString('hex').toUpperCase().slice(0, 16)}`;
    await tokens
      .updateTable('business_tokens')
      .set({ id })
      .where('token_hash', '=', row.token_hash)
      .execute();
  }
  await db.schema.createIndex('business_tokens_id_idx').on('business_tokens').column('id').unique().execute();
  await db.schema
    .createIndex('business_tokens_business_idx')
    .on('business_tokens')
    .columns(['business_id', 'created_at'])
    .execute();

  await strict(
    db.schema
      .createTable('api_number_settings')
      .addColumn('phone_number_id', 'text', (c) => c.primaryKey())
      .addColumn('business_id', 'text', (c) => c.notNull())
      // Set while the number is deregistered (POST /deregister); null: registered.
      .addColumn('deregistered_at', int64)
      // scrypt of the two-step verification PIN: `<salt hex>:<hash hex>`.
      .addColumn('pin_hash', 'text')
      .addColumn('data_localization_region', 'text')
      .addColumn('welcome_message', 'integer', (c) => c.notNull().defaultTo(0))
      // JSON arrays: ice breaker texts; commands as {command_name, command_description}.
      .addColumn('prompts', 'text', (c) => c.notNull().defaultTo('[]'))
      .addColumn('commands', 'text', (c) => c.notNull().defaultTo('[]'))
      .addColumn('updated_at', int64, (c) => c.notNull()),
  ).execute();
}
