/** SQL of the Business Messaging API's access tokens (stored hashed). */
import type { Executor } from '../../platform/db.js';
import type { BusinessTokensTable } from '../../platform/schema.js';

export type TokenRow = BusinessTokensTable & { id: string };

export function createTokensRepo(db: Executor) {
  return {
    /** Serialises a business's token creations on PostgreSQL, so the cap on live tokens holds. */
    async lockBusiness(tx: Executor, businessId: string, rowLocks: boolean): Promise<void> {
      const q = tx.selectFrom('businesses').select('id').where('id', '=', businessId);
      await (rowLocks ? q.forUpdate() : q).executeTakeFirst();
    },
    async insert(tx: Executor, row: TokenRow): Promise<void> {
      await tx.insertInto('business_tokens').values(row).execute();
    },
    /** The business's live tokens, oldest first. */
    async live(businessId: string, tx: Executor = db): Promise<TokenRow[]> {
      const rows = await tx
        .selectFrom('business_tokens')
        .selectAll()
        .where('business_id', '=', businessId)
        .where('revoked_at', 'is', null)
        .orderBy('created_at')
        .orderBy('id')
        .execute();
      return rows.filter((r): r is TokenRow => r.id !== null);
    },
    /** Revokes a live token of the business; false when there is none with this id. */
    async revoke(tx: Executor, businessId: string, tokenId: string, at: number): Promise<boolean> {
      const result = await tx
        .updateTable('business_tokens')
        .set({ revoked_at: at })
        .where('id', '=', tokenId)
        .where('business_id', '=', businessId)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
    async touch(tokenHash: string, at: number, tx: Executor = db): Promise<void> {
      await tx
        .updateTable('business_tokens')
        .set({ last_used_at: at })
        .where('token_hash', '=', tokenHash)
        .execute();
    },
  };
}

export type TokensRepo = ReturnType<typeof createTokensRepo>;
