/**
 * SQL of the delivery module: recipients, idempotency keys, per-device sequence allocation,
 * envelope queues. Every write here runs inside the write batcher's transaction.
 */
import { sql } from 'kysely';
import type { DbCaps, Executor } from '../../platform/db.js';
import type { EnvelopesTable } from '../../platform/schema.js';
import type { MetaInsert, MetaRow } from './delivery.commit.js';

export type EnvelopeRow = EnvelopesTable;

export interface RecipientRow {
  account_id: string;
  phone: string;
  /** Null when the account has no device (all logged out). */
  device_id: string | null;
}

// Parameter budgets: SQLite allows 32,766 bound values per statement, PostgreSQL 65,535.
const ENVELOPE_CHUNK = 1024; // × 12 columns
const KEY_CHUNK = 512;
const ACK_CHUNK = 256; // × 2 values

/**
 * Splits items into chunks whose sizes are powers of two (largest first, at most `max`). A
 * statement's text depends on its row count; with only ~10 sizes per statement, every shape
 * stays in the compiled-statement cache instead of being compiled again for each batch size.
 */
function chunks<T>(items: readonly T[], max: number): T[][] {
  const out: T[][] = [];
  let i = 0;
  while (i < items.length) {
    let size = 1;
    while (size * 2 <= Math.min(max, items.length - i)) size *= 2;
    out.push(items.slice(i, i + size));
    i += size;
  }
  return out;
}

export function createDeliveryRepo(caps: Pick<DbCaps, 'rowLocks'>) {
  return {
    /** Accounts (and their devices) matching any of the phones or account ids. */
    async findRecipients(tx: Executor, phones: string[], accountIds: string[]): Promise<RecipientRow[]> {
      if (phones.length === 0 && accountIds.length === 0) return [];
      const out: RecipientRow[] = [];
      for (const [list, column] of [
        [phones, 'accounts.phone'],
        [accountIds, 'accounts.id'],
      ] as const) {
        for (const part of chunks(list, KEY_CHUNK)) {
          const rows = await tx
            .selectFrom('accounts')
            .leftJoin('devices', 'devices.account_id', 'accounts.id')
            .select(['accounts.id as account_id', 'accounts.phone', 'devices.id as device_id'])
            .where(column, 'in', part)
            .execute();
          out.push(...rows);
        }
      }
      return out;
    },

    /**
     * Records idempotency keys; returns the keys that were new. A key already present (a retried
     * send) is left untouched and not returned.
     */
    async insertSendKeys(
      tx: Executor,
      rows: { sender_device: string; client_id: string; message_id: string; sent_at: number }[],
    ): Promise<Set<string>> {
      const fresh = new Set<string>();
      for (const part of chunks(rows, KEY_CHUNK)) {
        const inserted = await tx
          .insertInto('sends')
          .values(part)
          .onConflict((oc) => oc.columns(['sender_device', 'client_id']).doNothing())
          .returning(['sender_device', 'client_id'])
          .execute();
        for (const r of inserted) fresh.add(sendKey(r.sender_device, r.client_id));
      }
      return fresh;
    },

    async findSends(
      tx: Executor,
      keys: { sender_device: string; client_id: string }[],
    ): Promise<Map<string, { message_id: string; sent_at: number }>> {
      const out = new Map<string, { message_id: string; sent_at: number }>();
      const byDevice = new Map<string, string[]>();
      for (const k of keys) {
        const list = byDevice.get(k.sender_device) ?? [];
        list.push(k.client_id);
        byDevice.set(k.sender_device, list);
      }
      for (const [device, clientIds] of byDevice) {
        for (const part of chunks(clientIds, KEY_CHUNK)) {
          const rows = await tx
            .selectFrom('sends')
            .select(['client_id', 'message_id', 'sent_at'])
            .where('sender_device', '=', device)
            .where('client_id', 'in', part)
            .execute();
          for (const r of rows)
            out.set(sendKey(device, r.client_id), { message_id: r.message_id, sent_at: r.sent_at });
        }
      }
      return out;
    },

    /**
     * Reserves `count` consecutive sequence numbers for each device in one statement and returns
     * the last one reserved (the device's new last_seq). The row lock this takes in PostgreSQL
     * serialises writers per device, so sequences commit in order. Devices deleted meanwhile are
     * absent from the result.
     */
    async reserveSeqs(tx: Executor, counts: Map<string, number>): Promise<Map<string, number>> {
      const out = new Map<string, number>();
      // Device rows are locked in id order, chunk after chunk: two transactions reserving
      // overlapping sets (a group's fan-out and a membership event, say) then wait for each
      // other instead of deadlocking. `locked` takes the locks in that order (PostgreSQL locks
      // rows as the sorted select returns them); SQLite has one writer and ignores the clause.
      const sorted = [...counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      for (const part of chunks(sorted, KEY_CHUNK)) {
        // A join against a VALUES list (not a CASE per id, which is quadratic in the batch).
        const values = sql.join(part.map(([id, n]) => sql`(${id}, cast(${n} as bigint))`));
        const lock = caps.rowLocks ? sql`for update of devices` : sql``;
        const result = await sql<{ id: string; last_seq: number }>`
          with reserve(id, n) as (values ${values}),
          locked as (select devices.id from devices join reserve on reserve.id = devices.id order by devices.id ${lock})
          update devices set last_seq = devices.last_seq + reserve.n
          from reserve, locked where devices.id = reserve.id and locked.id = reserve.id
          returning devices.id, devices.last_seq`.execute(tx);
        for (const r of result.rows) out.set(r.id, Number(r.last_seq));
      }
      return out;
    },

    async insertEnvelopes(tx: Executor, rows: EnvelopeRow[]): Promise<void> {
      for (const part of chunks(rows, ENVELOPE_CHUNK)) {
        await tx.insertInto('envelopes').values(part).execute();
      }
    },

    /** Cumulative acks: deletes each device's envelopes up to and including its seq. */
    async deleteAcked(tx: Executor, acks: Map<string, number>): Promise<number> {
      let deleted = 0;
      for (const part of chunks([...acks], ACK_CHUNK)) {
        const result = await tx
          .deleteFrom('envelopes')
          .where((eb) =>
            eb.or(part.map(([device, seq]) => eb.and([eb('device_id', '=', device), eb('seq', '<=', seq)]))),
          )
          .executeTakeFirst();
        deleted += Number(result.numDeletedRows);
      }
      return deleted;
    },

    async lockGroup(tx: Executor, groupId: string): Promise<{ only_admins_send: number } | undefined> {
      return tx
        .updateTable('groups')
        .set((eb) => ({ event_seq: eb('event_seq', '+', 1) }))
        .where('id', '=', groupId)
        .returning('only_admins_send')
        .executeTakeFirst();
    },

    async findGroupMembers(tx: Executor, groupId: string) {
      return tx
        .selectFrom('group_members')
        .leftJoin('devices', 'devices.account_id', 'group_members.account_id')
        .select(['group_members.account_id', 'group_members.role', 'devices.id as device_id'])
        .where('group_members.group_id', '=', groupId)
        .execute();
    },

    async insertMeta(tx: Executor, row: MetaInsert): Promise<void> {
      await tx.insertInto('message_meta').values(row).execute();
    },

    async findMeta(tx: Executor, messageIds: string[]): Promise<Map<string, MetaRow>> {
      const out = new Map<string, MetaRow>();
      for (const part of chunks(messageIds, KEY_CHUNK)) {
        const rows = await tx
          .selectFrom('message_meta')
          .select([
            'message_id',
            'sender_account',
            'to_id',
            'sent_at',
            'expires_at',
            'kind',
            'forward_hops',
            'view_once',
            'deleted_at',
          ])
          .where('message_id', 'in', part)
          .execute();
        for (const r of rows)
          out.set(r.message_id, {
            ...r,
            sent_at: Number(r.sent_at),
            expires_at: Number(r.expires_at),
            deleted_at: r.deleted_at === null ? null : Number(r.deleted_at),
          });
      }
      return out;
    },

    async memberSince(tx: Executor, groupId: string, accountId: string): Promise<number | undefined> {
      const row = await tx
        .selectFrom('group_members')
        .select('joined_at')
        .where('group_id', '=', groupId)
        .where('account_id', '=', accountId)
        .executeTakeFirst();
      return row === undefined ? undefined : Number(row.joined_at);
    },

    /**
     * Media the account may attach: its own uploads, or media of a message it can see (a
     * forward; not of a view-once message it received). An expired upload no live message
     * uses is about to be deleted and is not usable.
     */
    async findUsableMedia(
      tx: Executor,
      accountId: string,
      mediaIds: string[],
      now: number,
    ): Promise<Set<string>> {
      const out = new Set<string>();
      for (const part of chunks(mediaIds, KEY_CHUNK)) {
        const rows = await tx
          .selectFrom('media as m')
          .select('m.id')
          .where('m.id', 'in', part)
          .where((eb) =>
            eb.or([
              eb('m.expires_at', '>', now),
              eb.exists(
                eb
                  .selectFrom('message_media as x')
                  .select('x.media_id')
                  .whereRef('x.media_id', '=', 'm.id')
                  .where('x.expires_at', '>', now),
              ),
            ]),
          )
          .where((eb) =>
            eb.or([
              eb('m.owner_account', '=', accountId),
              eb.exists(
                eb
                  .selectFrom('message_media as mm')
                  .innerJoin('message_meta as mt', 'mt.message_id', 'mm.message_id')
                  .select('mm.media_id')
                  .whereRef('mm.media_id', '=', 'm.id')
                  .where('mt.deleted_at', 'is', null)
                  .where('mt.expires_at', '>', now)
                  // View-once media is not reusable by its recipients (that would undo view-once).
                  .where((w) => w.or([w('mt.view_once', '=', 0), w('mt.sender_account', '=', accountId)]))
                  .where((w) =>
                    w.or([
                      w('mt.sender_account', '=', accountId),
                      w('mt.to_id', '=', accountId),
                      w.exists(
                        w
                          .selectFrom('group_members as g')
                          .select('g.group_id')
                          .whereRef('g.group_id', '=', 'mt.to_id')
                          .where('g.account_id', '=', accountId)
                          .whereRef('g.joined_at', '<=', 'mt.sent_at'),
                      ),
                    ]),
                  ),
              ),
            ]),
          )
          .execute();
        for (const r of rows) out.add(r.id);
      }
      return out;
    },

    async insertMessageMedia(
      tx: Executor,
      rows: { message_id: string; media_id: string; expires_at: number }[],
    ): Promise<void> {
      if (rows.length === 0) return;
      await tx
        .insertInto('message_media')
        .values(rows)
        .onConflict((oc) => oc.columns(['message_id', 'media_id']).doNothing())
        .execute();
    },

    async findTimers(tx: Executor, chatKeys: string[]): Promise<Map<string, number>> {
      const out = new Map<string, number>();
      for (const part of chunks(chatKeys, KEY_CHUNK)) {
        const rows = await tx
          .selectFrom('chat_timers')
          .select(['chat_key', 'timer_ms'])
          .where('chat_key', 'in', part)
          .execute();
        for (const r of rows) if (Number(r.timer_ms) > 0) out.set(r.chat_key, Number(r.timer_ms));
      }
      return out;
    },

    async markEdited(tx: Executor, messageId: string, at: number): Promise<void> {
      await tx
        .updateTable('message_meta')
        .set({ edited_at: at })
        .where('message_id', '=', messageId)
        .execute();
    },

    async tombstone(tx: Executor, messageId: string, at: number): Promise<void> {
      // The message and its edits: what the sender wanted gone must not reach anyone now.
      const edits = tx
        .selectFrom('message_meta')
        .select('message_id')
        .where('ref_id', '=', messageId)
        .where('kind', '=', 'edit');
      await tx
        .deleteFrom('envelopes')
        .where((eb) => eb.or([eb('message_id', '=', messageId), eb('message_id', 'in', edits)]))
        .execute();
      await tx
        .deleteFrom('message_bodies')
        .where((eb) => eb.or([eb('message_id', '=', messageId), eb('message_id', 'in', edits)]))
        .execute();
      await tx.deleteFrom('message_media').where('message_id', '=', messageId).execute();
      await tx.deleteFrom('reactions').where('message_id', '=', messageId).execute();
      await tx
        .updateTable('message_meta')
        .set({ deleted_at: at })
        .where('message_id', '=', messageId)
        .execute();
    },

    async setReaction(
      tx: Executor,
      row: {
        message_id: string;
        account_id: string;
        reaction_id: string;
        reacted_at: number;
        expires_at: number;
      },
    ): Promise<void> {
      await tx
        .insertInto('reactions')
        .values(row)
        .onConflict((oc) =>
          oc.columns(['message_id', 'account_id']).doUpdateSet({
            reaction_id: row.reaction_id,
            reacted_at: row.reacted_at,
            expires_at: row.expires_at,
          }),
        )
        .execute();
    },

    async removeReaction(tx: Executor, messageId: string, accountId: string): Promise<void> {
      await tx
        .deleteFrom('reactions')
        .where('message_id', '=', messageId)
        .where('account_id', '=', accountId)
        .execute();
    },

    async findBlocks(tx: Executor, pairs: [string, string][]): Promise<Set<string>> {
      const out = new Set<string>();
      for (const part of chunks(pairs, KEY_CHUNK)) {
        const rows = await tx
          .selectFrom('blocks')
          .select(['account_id', 'blocked_id'])
          .where((eb) =>
            eb.or(part.map(([a, b]) => eb.and([eb('account_id', '=', a), eb('blocked_id', '=', b)]))),
          )
          .execute();
        for (const r of rows) out.add(`${r.account_id}\u0000${r.blocked_id}`);
      }
      return out;
    },

    async insertBody(
      tx: Executor,
      row: { message_id: string; payload: string; expires_at: number },
    ): Promise<void> {
      await tx.insertInto('message_bodies').values(row).execute();
    },

    /** A page of a device's queue after `afterSeq`, in order, with stored bodies joined back. */
    async readQueue(tx: Executor, deviceId: string, afterSeq: number, limit: number): Promise<EnvelopeRow[]> {
      return tx
        .selectFrom('envelopes')
        .leftJoin('message_bodies', 'message_bodies.message_id', 'envelopes.message_id')
        .select([
          'envelopes.device_id',
          'envelopes.seq',
          'envelopes.message_id',
          'envelopes.sender_account',
          'envelopes.sender_device',
          'envelopes.sender_phone',
          'envelopes.sent_at',
          'envelopes.expires_at',
          'envelopes.chat_id',
          'envelopes.kind',
          'envelopes.extra',
        ])
        .select((eb) => eb.fn.coalesce('message_bodies.payload', 'envelopes.payload').as('payload'))
        .where('device_id', '=', deviceId)
        .where('seq', '>', afterSeq)
        .orderBy('seq')
        .limit(limit)
        .execute();
    },

    async lastSeq(tx: Executor, deviceId: string): Promise<number | undefined> {
      const row = await tx
        .selectFrom('devices')
        .select('last_seq')
        .where('id', '=', deviceId)
        .executeTakeFirst();
      return row === undefined ? undefined : Number(row.last_seq);
    },

    /** Deletes up to `limit` envelopes that expired before `now`; returns how many. */
    async deleteExpiredEnvelopes(tx: Executor, now: number, limit: number): Promise<number> {
      const victims = tx
        .selectFrom('envelopes')
        .select(['device_id', 'seq'])
        .where('expires_at', '<', now)
        .limit(limit)
        .$asTuple('device_id', 'seq');
      const result = await tx
        .deleteFrom('envelopes')
        .where((eb) => eb(eb.refTuple('device_id', 'seq'), 'in', victims))
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },

    /** Deletes message metadata, receipts and reactions of messages past their expiry. */
    async deleteExpiredMeta(tx: Executor, now: number): Promise<number> {
      const old = tx.selectFrom('message_meta').select('message_id').where('expires_at', '<', now);
      await tx.deleteFrom('receipts').where('message_id', 'in', old).execute();
      await tx.deleteFrom('reactions').where('expires_at', '<', now).execute();
      const result = await tx.deleteFrom('message_meta').where('expires_at', '<', now).executeTakeFirst();
      return Number(result.numDeletedRows);
    },

    /** Deletes stored group-message and event bodies whose envelopes have all expired. */
    async deleteExpiredBodies(tx: Executor, now: number): Promise<number> {
      const result = await tx.deleteFrom('message_bodies').where('expires_at', '<', now).executeTakeFirst();
      return Number(result.numDeletedRows);
    },

    /** Forgets idempotency keys older than `before` (a retry that late is a new message). */
    async deleteOldSendKeys(tx: Executor, before: number): Promise<number> {
      const result = await tx.deleteFrom('sends').where('sent_at', '<', before).executeTakeFirst();
      return Number(result.numDeletedRows);
    },

    async countQueued(tx: Executor): Promise<number> {
      const row = await tx
        .selectFrom('envelopes')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
  };
}

export function sendKey(senderDevice: string, clientId: string): string {
  return `${senderDevice}\u0000${clientId}`;
}

export type DeliveryRepo = ReturnType<typeof createDeliveryRepo>;
