import type { Insertable, Selectable } from 'kysely';
import type { Executor } from '../../platform/db.js';
import type {
  AccountsTable,
  DevicesTable,
  LinkCodesTable,
  VerificationCodesTable,
} from '../../platform/schema.js';

export type AccountRow = Selectable<AccountsTable>;
export type DeviceRow = Omit<DevicesTable, 'last_seq'> & { last_seq: number };

export function createAccountsRepo(db: Executor) {
  return {
    async findAccountByPhone(phone: string, tx: Executor = db): Promise<AccountRow | undefined> {
      return tx.selectFrom('accounts').selectAll().where('phone', '=', phone).executeTakeFirst();
    },
    async findAccountById(id: string, tx: Executor = db): Promise<AccountRow | undefined> {
      return tx.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirst();
    },
    async insertAccount(row: Insertable<AccountsTable>, tx: Executor = db): Promise<void> {
      await tx.insertInto('accounts').values(row).execute();
    },
    async updateProfile(
      id: string,
      patch: Partial<Pick<AccountRow, 'display_name' | 'about' | 'photo_media_id'>>,
      tx: Executor = db,
    ) {
      await tx.updateTable('accounts').set(patch).where('id', '=', id).execute();
    },
    async insertDevice(row: Omit<DeviceRow, 'last_seq'>, tx: Executor = db): Promise<void> {
      await tx.insertInto('devices').values(row).execute();
    },
    async findDeviceByTokenHash(tokenHash: string, tx: Executor = db) {
      return tx
        .selectFrom('devices')
        .innerJoin('accounts', 'accounts.id', 'devices.account_id')
        .select(['devices.id as device_id', 'devices.account_id', 'devices.role', 'accounts.phone'])
        .where('devices.token_hash', '=', tokenHash)
        .executeTakeFirst();
    },
    async listDevices(accountId: string, tx: Executor = db): Promise<DeviceRow[]> {
      return tx
        .selectFrom('devices')
        .selectAll()
        .where('account_id', '=', accountId)
        .orderBy('created_at')
        .execute() as Promise<DeviceRow[]>;
    },
    async touchDevices(deviceIds: string[], at: number, tx: Executor = db): Promise<void> {
      if (deviceIds.length === 0) return;
      await tx.updateTable('devices').set({ last_seen_at: at }).where('id', 'in', deviceIds).execute();
    },
    async insertLinkCode(row: LinkCodesTable, tx: Executor = db): Promise<void> {
      await tx.insertInto('link_codes').values(row).execute();
    },
    /** Removes and returns a link code: a code is spent by the first attempt that names it. */
    async takeLinkCode(codeHash: string, tx: Executor = db): Promise<LinkCodesTable | undefined> {
      return tx.deleteFrom('link_codes').where('code_hash', '=', codeHash).returningAll().executeTakeFirst();
    },
    async deleteExpiredLinkCodes(now: number, tx: Executor = db): Promise<number> {
      const r = await tx.deleteFrom('link_codes').where('expires_at', '<', now).executeTakeFirst();
      return Number(r.numDeletedRows);
    },
    /** Companion devices not seen since `before` (never-seen ones count from their creation). */
    async findStaleCompanions(
      before: number,
      tx: Executor = db,
    ): Promise<{ id: string; account_id: string }[]> {
      return tx
        .selectFrom('devices')
        .select(['id', 'account_id'])
        .where('role', '=', 'companion')
        .where((eb) => eb(eb.fn.coalesce('last_seen_at', 'created_at'), '<', before))
        .execute();
    },
    /** Deletes devices and their queued envelopes; returns the ids actually deleted. */
    async deleteDevices(
      accountId: string,
      deviceIds: string[] | 'all',
      tx: Executor = db,
    ): Promise<string[]> {
      let q = tx.deleteFrom('devices').where('account_id', '=', accountId);
      if (deviceIds !== 'all') {
        if (deviceIds.length === 0) return [];
        q = q.where('id', 'in', deviceIds);
      }
      const deleted = (await q.returning('id').execute()).map((r) => r.id);
      if (deleted.length > 0) await tx.deleteFrom('envelopes').where('device_id', 'in', deleted).execute();
      return deleted;
    },
    async findCode(phone: string, tx: Executor = db): Promise<VerificationCodesTable | undefined> {
      return tx.selectFrom('verification_codes').selectAll().where('phone', '=', phone).executeTakeFirst();
    },
    /** One live code per number: a new request replaces the old code. */
    async upsertCode(row: VerificationCodesTable, tx: Executor = db): Promise<void> {
      await tx
        .insertInto('verification_codes')
        .values(row)
        .onConflict((oc) =>
          oc.column('phone').doUpdateSet({
            code_hash: row.code_hash,
            expires_at: row.expires_at,
            attempts_left: row.attempts_left,
            created_at: row.created_at,
          }),
        )
        .execute();
    },
    /** Takes one attempt; returns the attempts left after it, or undefined when no code exists. */
    async spendAttempt(phone: string, tx: Executor = db): Promise<number | undefined> {
      const row = await tx
        .updateTable('verification_codes')
        .set((eb) => ({ attempts_left: eb('attempts_left', '-', 1) }))
        .where('phone', '=', phone)
        .returning('attempts_left')
        .executeTakeFirst();
      return row?.attempts_left;
    },
    async deleteCode(phone: string, tx: Executor = db): Promise<void> {
      await tx.deleteFrom('verification_codes').where('phone', '=', phone).execute();
    },
    async deleteExpiredCodes(now: number, tx: Executor = db): Promise<number> {
      const r = await tx.deleteFrom('verification_codes').where('expires_at', '<', now).executeTakeFirst();
      return Number(r.numDeletedRows);
    },
  };
}

export type AccountsRepo = ReturnType<typeof createAccountsRepo>;
