/**
 * Delivered and read receipts. A recipient's device reports message ids; the server records
 * them per (message, recipient account) and tells the sender's devices with a durable system
 * event `{"type":"receipt","receipt":"delivered"|"read","message_ids":[…],"by":…,"chat":…}`.
 * Only a message's recipients (the addressed account, or members of its group) may report it.
 * Read receipts follow WhatsApp's rule: when either side turned them off, reads are not
 * reported (the message still counts as delivered). Receipts live as long as the message's
 * metadata (30 days).
 */
import type { MessageReceiptsView } from '@parley/protocol';
import { AppError } from '../../errors.js';
import type { Clock } from '../../platform/clock.js';
import type { Db } from '../../platform/db.js';
import { createTxBatcher } from '../../platform/tx-batcher.js';
import type { DeviceActor } from '../accounts/index.js';
import type { EnvelopeRow, EventWriter, QueuedEvent } from '../delivery/index.js';
import type { ReceiptsRepo } from './receipts.repo.js';

export const MAX_RECEIPT_IDS = 256;

export interface ReceiptsServiceDeps {
  db: Pick<Db, 'kysely' | 'caps'>;
  repo: ReceiptsRepo;
  events: EventWriter;
  clock: Clock;
}

export function createReceiptsService(deps: ReceiptsServiceDeps) {
  const { repo, events, clock } = deps;
  const batcher = createTxBatcher(deps.db);

  return {
    /** Records receipts for messages this account received; returns how many were new. */
    async record(actor: DeviceActor, type: 'delivered' | 'read', messageIds: string[]): Promise<number> {
      const ids = [...new Set(messageIds)];
      if (ids.length > MAX_RECEIPT_IDS) {
        throw new AppError('VALIDATION_FAILED', `At most ${MAX_RECEIPT_IDS} message ids per receipt.`);
      }
      const now = clock.now();
      const metas = (await repo.meta(ids)).filter(
        (m) => m.sender_account !== actor.accountId && m.expires_at > now,
      );
      const groups = await repo.groupsOf(actor.accountId, [
        ...new Set(metas.filter((m) => m.to_id.startsWith('grp_')).map((m) => m.to_id)),
      ]);
      // Only recipients may report: anything else is ignored as if unknown. Kept in the order given.
      const order = new Map(ids.map((id, i) => [id, i]));
      const mine = metas
        .filter((m) => m.to_id === actor.accountId || groups.has(m.to_id))
        .sort((a, b) => (order.get(a.message_id) ?? 0) - (order.get(b.message_id) ?? 0));
      if (mine.length === 0) return 0;
      const settings = await repo.readReceipts([
        actor.accountId,
        ...new Set(mine.map((m) => m.sender_account)),
      ]);
      const readAllowed = (sender: string) =>
        settings.get(actor.accountId) === true && settings.get(sender) === true;

      let changed = 0;
      let announce: EnvelopeRow[] = [];
      // Receipts come by the thousand: they share commits (see tx-batcher.ts).
      await batcher.run(async (tx) => {
        announce = [];
        const existing = await repo.existing(
          tx,
          actor.accountId,
          mine.map((m) => m.message_id),
        );
        // Per sender and chat: which messages newly became delivered, and which read.
        const news = new Map<string, { sender: string; chat: string; delivered: string[]; read: string[] }>();
        for (const meta of mine) {
          const key = `${meta.sender_account}\u0000${meta.to_id}`;
          const entry = news.get(key) ?? {
            sender: meta.sender_account,
            // The chat as the sender sees it: the group, or the person who received it.
            chat: meta.to_id.startsWith('grp_') ? meta.to_id : actor.accountId,
            delivered: [],
            read: [],
          };
          news.set(key, entry);
          const before = existing.get(meta.message_id);
          const read = type === 'read' && readAllowed(meta.sender_account);
          if (!before) {
            await repo.insert(tx, {
              message_id: meta.message_id,
              account_id: actor.accountId,
              delivered_at: now,
              read_at: read ? now : null,
            });
            entry.delivered.push(meta.message_id);
            if (read) entry.read.push(meta.message_id);
            changed++;
          } else if (read && before.read_at === null) {
            await repo.markRead(tx, meta.message_id, actor.accountId, now);
            entry.read.push(meta.message_id);
            changed++;
          }
        }
        // All the receipt events in one queueAll: one sorted lock of the senders' devices.
        const queued: QueuedEvent[] = [];
        for (const entry of news.values()) {
          for (const [receipt, messageIds] of [
            ['delivered', entry.delivered],
            ['read', entry.read],
          ] as const) {
            if (messageIds.length === 0) continue;
            queued.push({
              chatId: entry.chat,
              devices: await repo.devicesOf(entry.sender, tx),
              event: {
                type: 'receipt',
                receipt,
                message_ids: messageIds,
                by: actor.accountId,
                chat: entry.chat,
                at: now,
              },
            });
          }
        }
        announce = await events.queueAll(tx, actor, queued);
      });
      events.announce(announce);
      return changed;
    },

    /** Who has received and read a message; for its sender only. */
    async forMessage(actor: DeviceActor, messageId: string): Promise<MessageReceiptsView> {
      const [meta] = await repo.meta([messageId]);
      if (!meta || meta.sender_account !== actor.accountId) {
        throw new AppError(
          'MESSAGE_NOT_FOUND',
          'No message of yours has this id (receipts are kept 30 days).',
        );
      }
      const rows = await repo.forMessage(messageId);
      return {
        message_id: messageId,
        delivered: rows.map((r) => ({
          account_id: r.account_id,
          at: new Date(r.delivered_at).toISOString(),
        })),
        read: rows
          .filter((r) => r.read_at !== null)
          .map((r) => ({ account_id: r.account_id, at: new Date(r.read_at ?? 0).toISOString() })),
      };
    },
  };
}

export type ReceiptsService = ReturnType<typeof createReceiptsService>;
