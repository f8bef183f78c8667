/** SQL of the Business Messaging API's per-number settings (registration, conversational automation). */
import type { Selectable } from 'kysely';
import type { Executor } from '../../platform/db.js';
import type { ApiNumberSettingsTable } from '../../platform/schema.js';

export type NumberSettingsRow = Selectable<ApiNumberSettingsTable>;
type SettingsPatch = Partial<Omit<NumberSettingsRow, 'phone_number_id' | 'business_id' | 'updated_at'>>;

export function createManageRepo(db: Executor) {
  return {
    async settings(phoneNumberId: string, tx: Executor = db): Promise<NumberSettingsRow | undefined> {
      return tx
        .selectFrom('api_number_settings')
        .selectAll()
        .where('phone_number_id', '=', phoneNumberId)
        .executeTakeFirst();
    },
    async settingsOf(phoneNumberIds: string[], tx: Executor = db): Promise<NumberSettingsRow[]> {
      if (phoneNumberIds.length === 0) return [];
      return tx
        .selectFrom('api_number_settings')
        .selectAll()
        .where('phone_number_id', 'in', phoneNumberIds)
        .execute();
    },
    /** Locks the number's row (PostgreSQL) so a read-then-write of its settings is not raced. */
    async lockNumber(tx: Executor, phoneNumberId: string, rowLocks: boolean): Promise<void> {
      const q = tx
        .selectFrom('business_numbers')
        .select('phone_number_id')
        .where('phone_number_id', '=', phoneNumberId);
      await (rowLocks ? q.forUpdate() : q).executeTakeFirst();
    },
    /** Creates the number's settings row with the defaults and the patch, or applies the patch. */
    async upsert(
      tx: Executor,
      key: { phone_number_id: string; business_id: string },
      patch: SettingsPatch,
      at: number,
    ): Promise<void> {
      await tx
        .insertInto('api_number_settings')
        .values({
          ...key,
          deregistered_at: null,
          pin_hash: null,
          data_localization_region: null,
          welcome_message: 0,
          prompts: '[]',
          commands: '[]',
          ...patch,
          updated_at: at,
        })
        .onConflict((oc) => oc.column('phone_number_id').doUpdateSet({ ...patch, updated_at: at }))
        .execute();
    },
  };
}

export type ManageRepo = ReturnType<typeof createManageRepo>;
