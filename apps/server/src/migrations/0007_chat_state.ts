import { type Kysely, sql } from 'kysely';
import type { DbCaps } from '../platform/db.js';

/**
 * Per-account chat state, synced across the account's devices:
 * - accounts.state_version counts every change to the account's chat state, starred messages
 *   and settings; a device asks for "changes since version N". Bumping it takes the account's
 *   row lock, which orders concurrent changes of one account.
 * - accounts.settings_version is the state_version of the last profile or privacy change.
 * - chat_state: archive, pin, mute and read position per (account, chat); `version` is the
 *   account's state_version at the row's last change.
 * - starred: the account's starred messages. Kept after the message's metadata expires: the
 *   devices hold the content, the server only remembers which messages were starred.
 */
export async function up(db: Kysely<unknown>, caps: DbCaps): Promise<void> {
  const strict = <T extends { modifyEnd(s: ReturnType<typeof sql>): T }>(t: T): T =>
    caps.strictTables ? t.modifyEnd(sql`strict`) : t;
  const int64 = caps.int64;

  await db.schema
    .alterTable('accounts')
    .addColumn('state_version', int64, (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .alterTable('accounts')
    .addColumn('settings_version', int64, (c) => c.notNull().defaultTo(0))
    .execute();

  await strict(
    db.schema
      .createTable('chat_state')
      .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
      // The other person's account id (1:1) or the group id.
      .addColumn('chat_id', 'text', (c) => c.notNull())
      .addColumn('archived', 'integer', (c) => c.notNull().defaultTo(0))
      // Null when not pinned; pinned chats sort by it.
      .addColumn('pinned_at', int64)
      // Null when not muted; -1 mutes until unmuted.
      .addColumn('muted_until', int64)
      .addColumn('read_up_to', 'text')
      .addColumn('read_at', int64)
      .addColumn('updated_at', int64, (c) => c.notNull())
      .addColumn('version', int64, (c) => c.notNull())
      .addPrimaryKeyConstraint('chat_state_pk', ['account_id', 'chat_id']),
  ).execute();
  await db.schema
    .createIndex('chat_state_version_idx')
    .on('chat_state')
    .columns(['account_id', 'version'])
    .execute();

  await strict(
    db.schema
      .createTable('starred')
      .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
      .addColumn('message_id', 'text', (c) => c.notNull())
      .addColumn('chat_id', 'text', (c) => c.notNull())
      .addColumn('starred_at', int64, (c) => c.notNull())
      .addPrimaryKeyConstraint('starred_pk', ['account_id', 'message_id']),
  ).execute();
  await db.schema
    .createIndex('starred_account_idx')
    .on('starred')
    .columns(['account_id', 'starred_at'])
    .execute();
}
