/** SQL of media: uploads, the messages that reference them, view-once records, expiry. */
import type { Selectable } from 'kysely';
import type { Executor } from '../../platform/db.js';
import type { MediaTable } from '../../platform/schema.js';

export type MediaRow = Selectable<MediaTable>;

/** A message that carries a media item and that the viewer may see. */
export interface VisibleReference {
  message_id: string;
  sender_account: string;
  view_once: number;
  expires_at: number;
}

export function createMediaRepo(db: Executor) {
  return {
    async insert(row: MediaTable, tx: Executor = db): Promise<void> {
      await tx.insertInto('media').values(row).execute();
    },

    async delete(id: string, tx: Executor = db): Promise<void> {
      await tx.deleteFrom('media').where('id', '=', id).execute();
    },

    /** Moves an upload's expiry (a Graph upload is kept 30 days; a deleted one goes now). */
    async setExpiry(id: string, expiresAt: number, tx: Executor = db): Promise<void> {
      await tx.updateTable('media').set({ expires_at: expiresAt }).where('id', '=', id).execute();
    },

    async find(id: string, tx: Executor = db): Promise<MediaRow | undefined> {
      return tx.selectFrom('media').selectAll().where('id', '=', id).executeTakeFirst();
    },

    /** The accounts and groups whose photo this media is. */
    async photoOf(mediaId: string, tx: Executor = db): Promise<{ accounts: string[]; groups: string[] }> {
      const accounts = await tx
        .selectFrom('accounts')
        .select('id')
        .where('photo_media_id', '=', mediaId)
        .execute();
      const groups = await tx
        .selectFrom('groups')
        .select('id')
        .where('photo_media_id', '=', mediaId)
        .execute();
      return { accounts: accounts.map((r) => r.id), groups: groups.map((r) => r.id) };
    },

    async isGroupMember(groupId: string, accountId: string, tx: Executor = db): Promise<boolean> {
      const row = await tx
        .selectFrom('group_members')
        .select('account_id')
        .where('group_id', '=', groupId)
        .where('account_id', '=', accountId)
        .executeTakeFirst();
      return row !== undefined;
    },

    /**
     * The live messages carrying `mediaId` that `viewer` can see: they sent it, it was addressed
     * to them, or it went to a group they are in now and were in when it was sent. Deleted
     * (for everyone) and expired messages do not count.
     */
    async visibleReferences(
      mediaId: string,
      viewer: string,
      now: number,
      tx: Executor = db,
    ): Promise<VisibleReference[]> {
      return tx
        .selectFrom('message_media as mm')
        .innerJoin('message_meta as m', 'm.message_id', 'mm.message_id')
        .select(['m.message_id', 'm.sender_account', 'm.view_once', 'm.expires_at'])
        .where('mm.media_id', '=', mediaId)
        .where('mm.expires_at', '>', now)
        .where('m.expires_at', '>', now)
        .where('m.deleted_at', 'is', null)
        .where((eb) =>
          eb.or([
            eb('m.sender_account', '=', viewer),
            eb('m.to_id', '=', viewer),
            eb.exists(
              eb
                .selectFrom('group_members as gm')
                .select('gm.account_id')
                .whereRef('gm.group_id', '=', 'm.to_id')
                .where('gm.account_id', '=', viewer)
                .whereRef('gm.joined_at', '<=', 'm.sent_at'),
            ),
          ]),
        )
        .orderBy('m.sent_at')
        .orderBy('m.message_id')
        .execute();
    },

    /**
     * Records the one view of view-once media; false when this account already had it. The
     * primary key decides between racing downloads: exactly one insert wins.
     */
    async recordView(
      row: {
        message_id: string;
        media_id: string;
        account_id: string;
        viewed_at: number;
        expires_at: number;
      },
      tx: Executor = db,
    ): Promise<boolean> {
      const result = await tx
        .insertInto('media_views')
        .values(row)
        .onConflict((oc) => oc.columns(['message_id', 'media_id', 'account_id']).doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
    },

    /** How many of these messages' view-once views of `mediaId` this account has used. */
    async viewsUsed(
      mediaId: string,
      accountId: string,
      messageIds: string[],
      tx: Executor = db,
    ): Promise<number> {
      if (messageIds.length === 0) return 0;
      const rows = await tx
        .selectFrom('media_views')
        .select('message_id')
        .where('media_id', '=', mediaId)
        .where('account_id', '=', accountId)
        .where('message_id', 'in', messageIds)
        .execute();
      return rows.length;
    },

    async deleteExpiredReferences(before: number, tx: Executor = db): Promise<number> {
      const result = await tx.deleteFrom('message_media').where('expires_at', '<', before).executeTakeFirst();
      return Number(result.numDeletedRows);
    },

    async deleteExpiredViews(before: number, tx: Executor = db): Promise<number> {
      const result = await tx.deleteFrom('media_views').where('expires_at', '<', before).executeTakeFirst();
      return Number(result.numDeletedRows);
    },

    /**
     * Deletes uploads past their window that no message references and that are no profile or
     * group photo; returns their files' hashes.
     */
    async deleteExpiredUploads(
      before: number,
      tx: Executor = db,
    ): Promise<{ sha256: string; thumbnail_sha256: string | null }[]> {
      return tx
        .deleteFrom('media')
        .where('expires_at', '<', before)
        .where((eb) =>
          eb.not(
            eb.exists(
              eb
                .selectFrom('message_media')
                .select('media_id')
                .whereRef('message_media.media_id', '=', 'media.id'),
            ),
          ),
        )
        .where((eb) =>
          eb.not(
            eb.exists(
              eb.selectFrom('accounts').select('id').whereRef('accounts.photo_media_id', '=', 'media.id'),
            ),
          ),
        )
        .where((eb) =>
          eb.not(
            eb.exists(
              eb.selectFrom('groups').select('id').whereRef('groups.photo_media_id', '=', 'media.id'),
            ),
          ),
        )
        .returning(['sha256', 'thumbnail_sha256'])
        .execute();
    },

    /** Whether any media row uses this hash, as content or as thumbnail. */
    async hashInUse(sha256: string, tx: Executor = db): Promise<boolean> {
      const row = await tx
        .selectFrom('media')
        .select('id')
        .where((eb) => eb.or([eb('sha256', '=', sha256), eb('thumbnail_sha256', '=', sha256)]))
        .limit(1)
        .executeTakeFirst();
      return row !== undefined;
    },
  };
}

export type MediaRepo = ReturnType<typeof createMediaRepo>;
