/** SQL of the contacts module: blocks, discovered contacts, privacy settings, reports. */
import type { Executor } from '../../platform/db.js';
import type { ReportsTable, Visibility } from '../../platform/schema.js';

export interface PrivacyRow {
  privacy_last_seen: Visibility;
  privacy_online: Visibility;
  privacy_photo: Visibility;
  privacy_about: Visibility;
  read_receipts: number;
}

export function createContactsRepo(db: Executor) {
  return {
    async block(accountId: string, blockedId: string, at: number, tx: Executor = db): Promise<void> {
      await tx
        .insertInto('blocks')
        .values({ account_id: accountId, blocked_id: blockedId, created_at: at })
        .onConflict((oc) => oc.columns(['account_id', 'blocked_id']).doNothing())
        .execute();
    },
    async unblock(accountId: string, blockedId: string): Promise<void> {
      await db
        .deleteFrom('blocks')
        .where('account_id', '=', accountId)
        .where('blocked_id', '=', blockedId)
        .execute();
    },
    async blocked(accountId: string) {
      return db
        .selectFrom('blocks')
        .innerJoin('accounts', 'accounts.id', 'blocks.blocked_id')
        .select(['blocks.blocked_id as account_id', 'accounts.phone', 'blocks.created_at'])
        .where('blocks.account_id', '=', accountId)
        .orderBy('blocks.created_at')
        .execute();
    },
    async isBlocked(accountId: string, blockedId: string): Promise<boolean> {
      const row = await db
        .selectFrom('blocks')
        .select('account_id')
        .where('account_id', '=', accountId)
        .where('blocked_id', '=', blockedId)
        .executeTakeFirst();
      return row !== undefined;
    },
    async accountsByHash(hashes: string[]) {
      if (hashes.length === 0) return [];
      return db
        .selectFrom('accounts')
        .select(['id', 'phone_hash'])
        .where('phone_hash', 'in', hashes)
        .execute();
    },
    async addContacts(tx: Executor, accountId: string, contactIds: string[], at: number): Promise<void> {
      if (contactIds.length === 0) return;
      await tx
        .insertInto('contacts')
        .values(contactIds.map((id) => ({ account_id: accountId, contact_id: id, created_at: at })))
        .onConflict((oc) => oc.columns(['account_id', 'contact_id']).doNothing())
        .execute();
    },
    async hasContact(accountId: string, contactId: string): Promise<boolean> {
      const row = await db
        .selectFrom('contacts')
        .select('account_id')
        .where('account_id', '=', accountId)
        .where('contact_id', '=', contactId)
        .executeTakeFirst();
      return row !== undefined;
    },
    async privacy(accountId: string): Promise<PrivacyRow | undefined> {
      return db
        .selectFrom('accounts')
        .select(['privacy_last_seen', 'privacy_online', 'privacy_photo', 'privacy_about', 'read_receipts'])
        .where('id', '=', accountId)
        .executeTakeFirst();
    },
    async setPrivacy(accountId: string, patch: Partial<PrivacyRow>, tx: Executor = db): Promise<void> {
      await tx.updateTable('accounts').set(patch).where('id', '=', accountId).execute();
    },
    /** When any device of the account was last seen (null when never). */
    async lastSeen(accountId: string): Promise<number | null> {
      const row = await db
        .selectFrom('devices')
        .select((eb) => eb.fn.max('last_seen_at').as('at'))
        .where('account_id', '=', accountId)
        .executeTakeFirst();
      return row?.at === null || row?.at === undefined ? null : Number(row.at);
    },
    async insertReport(row: ReportsTable, tx: Executor = db): Promise<void> {
      await tx.insertInto('reports').values(row).execute();
    },
    async findAccount(idOrPhone: { id: string } | { phone: string }) {
      const q = db.selectFrom('accounts').select(['id', 'phone']);
      return (
        'id' in idOrPhone ? q.where('id', '=', idOrPhone.id) : q.where('phone', '=', idOrPhone.phone)
      ).executeTakeFirst();
    },
  };
}

export type ContactsRepo = ReturnType<typeof createContactsRepo>;
