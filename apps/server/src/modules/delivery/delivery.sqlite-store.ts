/**
 * The commit's writes for the SQLite writer thread, as single-row prepared statements on the
 * raw better-sqlite3 connection. In-process SQLite has no round trips, so a loop of compiled
 * single-row statements costs less than one multi-row statement, and skipping the query
 * builder saves more: measured about 10 µs instead of 16 µs of CPU per send in a 600-send
 * commit. The Kysely repo (delivery.repo.ts) stays the portable definition; the delivery tests
 * run both against the same expectations.
 */
import type SQLite from 'better-sqlite3';
import type { CommitStore, MetaRow } from './delivery.commit.js';
import type { EnvelopeRow, RecipientRow } from './delivery.repo.js';
import { sendKey } from './delivery.repo.js';

export function createSqliteCommitStore(database: SQLite.Database): CommitStore {
  const q = {
    recipientByPhone: database.prepare<[string], RecipientRow>(
      'select a.id as account_id, a.phone, d.id as device_id from accounts a ' +
        'left join devices d on d.account_id = a.id where a.phone = ?',
    ),
    recipientById: database.prepare<[string], RecipientRow>(
      'select a.id as account_id, a.phone, d.id as device_id from accounts a ' +
        'left join devices d on d.account_id = a.id where a.id = ?',
    ),
    insertSend: database.prepare<[string, string, string, number]>(
      'insert into sends (sender_device, client_id, message_id, sent_at) values (?, ?, ?, ?) ' +
        'on conflict (sender_device, client_id) do nothing',
    ),
    findSend: database.prepare<[string, string], { message_id: string; sent_at: number }>(
      'select message_id, sent_at from sends where sender_device = ? and client_id = ?',
    ),
    reserveSeq: database.prepare<[number, string], { last_seq: number }>(
      'update devices set last_seq = last_seq + ? where id = ? returning last_seq',
    ),
    insertEnvelope: database.prepare<
      [string, number, string, string, string, string, number, number, string, string, string, string | null]
    >(
      'insert into envelopes (device_id, seq, message_id, sender_account, sender_device, sender_phone, ' +
        'sent_at, expires_at, payload, chat_id, kind, extra) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    deleteAcked: database.prepare<[string, number]>('delete from envelopes where device_id = ? and seq <= ?'),
    lockGroup: database.prepare<[string], { only_admins_send: number }>(
      'update groups set event_seq = event_seq + 1 where id = ? returning only_admins_send',
    ),
    groupMembers: database.prepare<[string], { account_id: string; role: string; device_id: string | null }>(
      'select m.account_id, m.role, d.id as device_id from group_members m ' +
        'left join devices d on d.account_id = m.account_id where m.group_id = ?',
    ),
    insertMeta: database.prepare<
      [string, string, string, number, number, string, string | null, string | null, number, number]
    >(
      'insert into message_meta (message_id, sender_account, to_id, sent_at, expires_at, kind, ref_id, ' +
        'reply_to, forward_hops, view_once) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    findMeta: database.prepare<[string], MetaRow>(
      'select message_id, sender_account, to_id, sent_at, expires_at, kind, forward_hops, view_once, ' +
        'deleted_at from message_meta where message_id = ?',
    ),
    memberSince: database.prepare<[string, string], { joined_at: number }>(
      'select joined_at from group_members where group_id = ? and account_id = ?',
    ),
    // Same rule as the Kysely repo's findUsableMedia.
    usableMedia: database.prepare<{ id: string; account: string; now: number }, { id: string }>(
      'select m.id from media m where m.id = @id ' +
        'and (m.expires_at > @now or exists (select 1 from message_media x where x.media_id = m.id ' +
        'and x.expires_at > @now)) ' +
        'and (m.owner_account = @account or exists (select 1 from message_media mm ' +
        'join message_meta mt on mt.message_id = mm.message_id where mm.media_id = m.id ' +
        'and mt.deleted_at is null and mt.expires_at > @now ' +
        'and (mt.view_once = 0 or mt.sender_account = @account) and (mt.sender_account = @account ' +
        'or mt.to_id = @account or exists (select 1 from group_members g where g.group_id = mt.to_id ' +
        'and g.account_id = @account and g.joined_at <= mt.sent_at))))',
    ),
    insertMessageMedia: database.prepare<[string, string, number]>(
      'insert into message_media (message_id, media_id, expires_at) values (?, ?, ?) on conflict do nothing',
    ),
    findTimer: database.prepare<[string], { timer_ms: number }>(
      'select timer_ms from chat_timers where chat_key = ?',
    ),
    markEdited: database.prepare<[number, string]>(
      'update message_meta set edited_at = ? where message_id = ?',
    ),
    tombstoneEnvelopes: database.prepare<[string, string]>(
      'delete from envelopes where message_id = ? or message_id in ' +
        "(select message_id from message_meta where ref_id = ? and kind = 'edit')",
    ),
    tombstoneBodies: database.prepare<[string, string]>(
      'delete from message_bodies where message_id = ? or message_id in ' +
        "(select message_id from message_meta where ref_id = ? and kind = 'edit')",
    ),
    tombstoneMedia: database.prepare<[string]>('delete from message_media where message_id = ?'),
    tombstoneReactions: database.prepare<[string]>('delete from reactions where message_id = ?'),
    tombstoneMeta: database.prepare<[number, string]>(
      'update message_meta set deleted_at = ? where message_id = ?',
    ),
    setReaction: database.prepare<[string, string, string, number, number]>(
      'insert into reactions (message_id, account_id, reaction_id, reacted_at, expires_at) values (?, ?, ?, ?, ?) ' +
        'on conflict (message_id, account_id) do update set reaction_id = excluded.reaction_id, ' +
        'reacted_at = excluded.reacted_at, expires_at = excluded.expires_at',
    ),
    removeReaction: database.prepare<[string, string]>(
      'delete from reactions where message_id = ? and account_id = ?',
    ),
    isBlocked: database.prepare<[string, string], { one: number }>(
      'select 1 as one from blocks where account_id = ? and blocked_id = ?',
    ),
    insertBody: database.prepare<[string, string, number]>(
      'insert into message_bodies (message_id, payload, expires_at) values (?, ?, ?)',
    ),
  };

  return {
    async findRecipients(phones, accountIds) {
      const out: RecipientRow[] = [];
      for (const phone of phones) out.push(...q.recipientByPhone.all(phone));
      for (const id of accountIds) out.push(...q.recipientById.all(id));
      return out;
    },
    async insertSendKeys(rows) {
      const fresh = new Set<string>();
      for (const r of rows) {
        if (q.insertSend.run(r.sender_device, r.client_id, r.message_id, r.sent_at).changes === 1) {
          fresh.add(sendKey(r.sender_device, r.client_id));
        }
      }
      return fresh;
    },
    async findSends(keys) {
      const out = new Map<string, { message_id: string; sent_at: number }>();
      for (const k of keys) {
        const row = q.findSend.get(k.sender_device, k.client_id);
        if (row) out.set(sendKey(k.sender_device, k.client_id), row);
      }
      return out;
    },
    async reserveSeqs(counts) {
      const out = new Map<string, number>();
      for (const [device, n] of counts) {
        const row = q.reserveSeq.get(n, device);
        if (row) out.set(device, Number(row.last_seq));
      }
      return out;
    },
    async insertEnvelopes(rows: EnvelopeRow[]) {
      for (const e of rows) {
        q.insertEnvelope.run(
          e.device_id,
          e.seq,
          e.message_id,
          e.sender_account,
          e.sender_device,
          e.sender_phone,
          e.sent_at,
          e.expires_at,
          e.payload,
          e.chat_id,
          e.kind,
          e.extra,
        );
      }
    },
    async lockGroup(groupId) {
      return q.lockGroup.get(groupId);
    },
    async findGroupMembers(groupId) {
      return q.groupMembers.all(groupId);
    },
    async insertMeta(row) {
      q.insertMeta.run(
        row.message_id,
        row.sender_account,
        row.to_id,
        row.sent_at,
        row.expires_at,
        row.kind,
        row.ref_id,
        row.reply_to,
        row.forward_hops,
        row.view_once,
      );
    },
    async findMeta(ids) {
      const out = new Map<string, MetaRow>();
      for (const id of ids) {
        const row = q.findMeta.get(id);
        if (row) out.set(id, row);
      }
      return out;
    },
    async memberSince(groupId, accountId) {
      return q.memberSince.get(groupId, accountId)?.joined_at;
    },
    async findUsableMedia(account, ids, now) {
      const out = new Set<string>();
      for (const id of ids) if (q.usableMedia.get({ id, account, now })) out.add(id);
      return out;
    },
    async insertMessageMedia(rows) {
      for (const r of rows) q.insertMessageMedia.run(r.message_id, r.media_id, r.expires_at);
    },
    async findTimers(keys) {
      const out = new Map<string, number>();
      for (const key of keys) {
        const row = q.findTimer.get(key);
        if (row && row.timer_ms > 0) out.set(key, row.timer_ms);
      }
      return out;
    },
    async markEdited(id, at) {
      q.markEdited.run(at, id);
    },
    async tombstone(id, at) {
      q.tombstoneEnvelopes.run(id, id);
      q.tombstoneBodies.run(id, id);
      q.tombstoneMedia.run(id);
      q.tombstoneReactions.run(id);
      q.tombstoneMeta.run(at, id);
    },
    async setReaction(r) {
      q.setReaction.run(r.message_id, r.account_id, r.reaction_id, r.reacted_at, r.expires_at);
    },
    async removeReaction(id, accountId) {
      q.removeReaction.run(id, accountId);
    },
    async findBlocks(pairs) {
      const out = new Set<string>();
      for (const [blocker, blocked] of pairs) {
        if (q.isBlocked.get(blocker, blocked)) out.add(`${blocker}\u0000${blocked}`);
      }
      return out;
    },
    async insertBody(row) {
      q.insertBody.run(row.message_id, row.payload, row.expires_at);
    },
    async deleteAcked(acks) {
      let deleted = 0;
      for (const [device, seq] of acks) deleted += q.deleteAcked.run(device, seq).changes;
      return deleted;
    },
  };
}
