/** SQL of the Business Messaging API's media ids (graph_media, migration 0019). */
import type { Selectable } from 'kysely';
import type { Executor } from '../../platform/db.js';
import type { GraphMediaTable } from '../../platform/schema.js';

export type GraphMediaRow = Selectable<GraphMediaTable>;

export function createGraphMediaRepo(db: Executor) {
  return {
    /**
     * Inserts the row unless the business already has an id for that media; answers the row
     * that is there (two racing inserts agree on one id: the unique index decides).
     */
    async insertOrGet(row: GraphMediaRow, tx: Executor = db): Promise<GraphMediaRow> {
      await tx
        .insertInto('graph_media')
        .values(row)
        .onConflict((oc) => oc.columns(['business_id', 'media_id']).doNothing())
        .execute();
      const found = await tx
        .selectFrom('graph_media')
        .selectAll()
        .where('business_id', '=', row.business_id)
        .where('media_id', '=', row.media_id)
        .executeTakeFirstOrThrow();
      return normalize(found);
    },

    async find(graphId: string, tx: Executor = db): Promise<GraphMediaRow | undefined> {
      const row = await tx
        .selectFrom('graph_media')
        .selectAll()
        .where('graph_id', '=', graphId)
        .executeTakeFirst();
      return row && normalize(row);
    },

    async findByMedia(
      businessId: string,
      mediaId: string,
      tx: Executor = db,
    ): Promise<GraphMediaRow | undefined> {
      const row = await tx
        .selectFrom('graph_media')
        .selectAll()
        .where('business_id', '=', businessId)
        .where('media_id', '=', mediaId)
        .executeTakeFirst();
      return row && normalize(row);
    },

    /** Moves a row's expiry later (a received medium seen again keeps its id 7 more days). */
    async extend(graphId: string, expiresAt: number, tx: Executor = db): Promise<void> {
      await tx
        .updateTable('graph_media')
        .set({ expires_at: expiresAt })
        .where('graph_id', '=', graphId)
        .where('expires_at', '<', expiresAt)
        .execute();
    },

    async delete(graphId: string, tx: Executor = db): Promise<boolean> {
      const result = await tx.deleteFrom('graph_media').where('graph_id', '=', graphId).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },

    async deleteExpired(before: number, tx: Executor = db): Promise<number> {
      const result = await tx.deleteFrom('graph_media').where('expires_at', '<', before).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}

/** PostgreSQL returns bigint columns as strings. */
function normalize(row: GraphMediaRow): GraphMediaRow {
  return { ...row, created_at: Number(row.created_at), expires_at: Number(row.expires_at) };
}

export type GraphMediaRepo = ReturnType<typeof createGraphMediaRepo>;
