import { type Kysely, sql } from 'kysely';
import type { DbCaps } from '../platform/db.js';

/**
 * Groups of up to 1,024 members. A group message's payload is stored once (message_bodies)
 * and every member device's envelope points at it. Envelopes get a kind: `message`, or
 * `event` for server-made system events (membership and settings changes).
 */
export async function up(db: Kysely<unknown>, caps: DbCaps): Promise<void> {
  const strict = <T extends { modifyEnd(s: ReturnType<typeof sql>): T }>(t: T): T =>
    caps.strictTables ? t.modifyEnd(sql`strict`) : t;

  await strict(
    db.schema
      .createTable('groups')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('subject', 'text', (c) => c.notNull())
      .addColumn('description', 'text', (c) => c.notNull())
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('created_at', caps.int64, (c) => c.notNull())
      .addColumn('only_admins_send', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('only_admins_edit', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('invite_code', 'text', (c) => c.unique())
      // Bumped by every message and membership change in the group's transaction: the row lock
      // orders them, so a message is fanned out to exactly the members of its moment.
      .addColumn('event_seq', caps.int64, (c) => c.notNull().defaultTo(0)),
  ).execute();

  await strict(
    db.schema
      .createTable('group_members')
      .addColumn('group_id', 'text', (c) => c.notNull().references('groups.id').onDelete('cascade'))
      .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
      .addColumn('role', 'text', (c) => c.notNull())
      .addColumn('joined_at', caps.int64, (c) => c.notNull())
      .addPrimaryKeyConstraint('group_members_pk', ['group_id', 'account_id']),
  ).execute();
  await db.schema.createIndex('group_members_account_idx').on('group_members').column('account_id').execute();

  await strict(
    db.schema
      .createTable('message_bodies')
      .addColumn('message_id', 'text', (c) => c.primaryKey())
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('expires_at', caps.int64, (c) => c.notNull()),
  ).execute();
  await db.schema
    .createIndex('message_bodies_expiry_idx')
    .on('message_bodies')
    .column('expires_at')
    .execute();

  await db.schema
    .alterTable('envelopes')
    .addColumn('kind', 'text', (c) => c.notNull().defaultTo('message'))
    .execute();
}
