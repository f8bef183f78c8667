/** SQL of business accounts: businesses, their numbers, agents and API tokens. */
import type { Selectable } from 'kysely';
import type { Executor } from '../../platform/db.js';
import type {
  BusinessAgentsTable,
  BusinessesTable,
  BusinessNumbersTable,
  BusinessTokensTable,
} from '../../platform/schema.js';

export type BusinessRow = Selectable<BusinessesTable>;
export type NumberRow = BusinessNumbersTable;
export type AgentRow = BusinessAgentsTable & { phone: string; display_name: string };

export function createBusinessRepo(db: Executor) {
  return {
    async insertBusiness(tx: Executor, row: Omit<BusinessRow, 'name_verified'>): Promise<void> {
      await tx.insertInto('businesses').values(row).execute();
    },
    async insertNumber(tx: Executor, row: NumberRow): Promise<void> {
      await tx.insertInto('business_numbers').values(row).execute();
    },
    async insertAgent(tx: Executor, row: BusinessAgentsTable): Promise<void> {
      await tx.insertInto('business_agents').values(row).execute();
    },
    async insertToken(tx: Executor, row: BusinessTokensTable): Promise<void> {
      await tx.insertInto('business_tokens').values(row).execute();
    },

    async find(id: string, tx: Executor = db): Promise<BusinessRow | undefined> {
      return tx.selectFrom('businesses').selectAll().where('id', '=', id).executeTakeFirst();
    },
    async all(tx: Executor = db): Promise<{ id: string; retention_days: number }[]> {
      return tx.selectFrom('businesses').select(['id', 'retention_days']).execute();
    },
    async update(
      tx: Executor,
      id: string,
      patch: Partial<Pick<BusinessRow, 'name' | 'profile' | 'name_verified' | 'plan_id' | 'retention_days'>>,
    ): Promise<void> {
      await tx.updateTable('businesses').set(patch).where('id', '=', id).execute();
    },

    async numbers(businessId: string, tx: Executor = db): Promise<NumberRow[]> {
      return tx
        .selectFrom('business_numbers')
        .selectAll()
        .where('business_id', '=', businessId)
        .orderBy('created_at')
        .execute();
    },
    async allNumbers(tx: Executor = db): Promise<NumberRow[]> {
      return tx.selectFrom('business_numbers').selectAll().execute();
    },
    async numberByAccount(accountId: string, tx: Executor = db): Promise<NumberRow | undefined> {
      return tx
        .selectFrom('business_numbers')
        .selectAll()
        .where('account_id', '=', accountId)
        .executeTakeFirst();
    },
    /** Of these accounts, the ones that are business numbers. */
    async businessAccounts(accountIds: string[], tx: Executor = db): Promise<Set<string>> {
      if (accountIds.length === 0) return new Set();
      const rows = await tx
        .selectFrom('business_numbers')
        .select('account_id')
        .where('account_id', 'in', accountIds)
        .execute();
      return new Set(rows.map((r) => r.account_id));
    },
    /** Of these people, the ones who blocked `accountId`. */
    async blockersOf(accountId: string, people: string[], tx: Executor = db): Promise<Set<string>> {
      if (people.length === 0) return new Set();
      const rows = await tx
        .selectFrom('blocks')
        .select('account_id')
        .where('blocked_id', '=', accountId)
        .where('account_id', 'in', people)
        .execute();
      return new Set(rows.map((r) => r.account_id));
    },
    async numberById(phoneNumberId: string, tx: Executor = db): Promise<NumberRow | undefined> {
      return tx
        .selectFrom('business_numbers')
        .selectAll()
        .where('phone_number_id', '=', phoneNumberId)
        .executeTakeFirst();
    },

    async role(businessId: string, accountId: string, tx: Executor = db) {
      const row = await tx
        .selectFrom('business_agents')
        .select('role')
        .where('business_id', '=', businessId)
        .where('account_id', '=', accountId)
        .executeTakeFirst();
      return row?.role;
    },
    async agents(businessId: string, tx: Executor = db): Promise<AgentRow[]> {
      return tx
        .selectFrom('business_agents')
        .innerJoin('accounts', 'accounts.id', 'business_agents.account_id')
        .select([
          'business_agents.business_id',
          'business_agents.account_id',
          'business_agents.role',
          'business_agents.created_at',
          'accounts.phone',
          'accounts.display_name',
        ])
        .where('business_agents.business_id', '=', businessId)
        .orderBy('business_agents.created_at')
        .execute();
    },
    async removeAgent(tx: Executor, businessId: string, accountId: string): Promise<boolean> {
      const result = await tx
        .deleteFrom('business_agents')
        .where('business_id', '=', businessId)
        .where('account_id', '=', accountId)
        .executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
    async businessesOf(
      accountId: string,
      tx: Executor = db,
    ): Promise<{ business_id: string; role: string }[]> {
      return tx
        .selectFrom('business_agents')
        .select(['business_id', 'role'])
        .where('account_id', '=', accountId)
        .execute();
    },
    /** Every device of every agent of the business (for live inbox events). */
    async agentDevices(businessId: string, tx: Executor = db): Promise<string[]> {
      const rows = await tx
        .selectFrom('business_agents')
        .innerJoin('devices', 'devices.account_id', 'business_agents.account_id')
        .select('devices.id')
        .where('business_agents.business_id', '=', businessId)
        .execute();
      return rows.map((r) => r.id);
    },

    async accountByKey(key: string, tx: Executor = db) {
      const q = tx.selectFrom('accounts').select(['id', 'phone', 'display_name', 'business_id']);
      return (
        key.startsWith('acc_') ? q.where('id', '=', key) : q.where('phone', '=', key)
      ).executeTakeFirst();
    },

    async tokenBusiness(tokenHash: string, tx: Executor = db): Promise<string | undefined> {
      const row = await tx
        .selectFrom('business_tokens')
        .select('business_id')
        .where('token_hash', '=', tokenHash)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return row?.business_id;
    },
  };
}

export type BusinessRepo = ReturnType<typeof createBusinessRepo>;
