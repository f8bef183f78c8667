/**
 * Disappearing messages per chat: off, 24 hours, 7 days or 90 days. The timer is chat state
 * both sides share (a 1:1 chat's key is its two account ids; a group's is its id). The commit
 * reads it in the send's transaction, so every message committed after a change carries the new
 * timer: its `disappears_at` tells clients when to delete it, and the server's own copies
 * (envelopes, stored bodies, metadata, media references, reactions) expire then too (at the
 * latest after the usual 30 days). A change is announced as a `chat.disappearing` event.
 */
import { AppError } from '../../errors.js';
import type { Clock } from '../../platform/clock.js';
import type { Db } from '../../platform/db.js';
import type { DeviceActor } from '../accounts/index.js';
import { type EnvelopeRow, type EventWriter, pairKey } from '../delivery/index.js';
import type { GroupsService } from '../groups/index.js';
import type { DisappearingRepo } from './disappearing.repo.js';

export const TIMERS = {
  off: 0,
  '24h': 24 * 3600 * 1000,
  '7d': 7 * 24 * 3600 * 1000,
  '90d': 90 * 24 * 3600 * 1000,
} as const;
export type TimerName = keyof typeof TIMERS;

export interface DisappearingView {
  chat_id: string;
  timer: TimerName;
  timer_ms: number;
  /** Who set it and when (ISO 8601); null while it was never set. */
  set_by: string | null;
  set_at: string | null;
}

export interface DisappearingServiceDeps {
  db: Pick<Db, 'kysely'>;
  repo: DisappearingRepo;
  groups: Pick<GroupsService, 'setDisappearing'>;
  events: EventWriter;
  clock: Clock;
}

function nameOf(timerMs: number): TimerName {
  const found = (Object.keys(TIMERS) as TimerName[]).find((k) => TIMERS[k] === timerMs);
  return found ?? 'off';
}

export function createDisappearingService(deps: DisappearingServiceDeps) {
  const { db, repo, groups, events, clock } = deps;

  /** The chat's key, after checking the actor has that chat. */
  async function keyOf(actor: DeviceActor, chatId: string): Promise<string> {
    if (chatId.startsWith('grp_')) {
      if (!(await repo.isMember(chatId, actor.accountId))) {
        throw new AppError('NOT_A_GROUP_MEMBER', 'You are not a member of this group.');
      }
      return chatId;
    }
    if (chatId.startsWith('acc_') && (await repo.accountExists(chatId)))
      return pairKey(actor.accountId, chatId);
    throw new AppError('CHAT_NOT_FOUND', `No chat ${chatId}: use an account id or a group id.`);
  }

  return {
    async get(actor: DeviceActor, chatId: string): Promise<DisappearingView> {
      const row = await repo.find(await keyOf(actor, chatId));
      const timerMs = row ? Number(row.timer_ms) : 0;
      return {
        chat_id: chatId,
        timer: nameOf(timerMs),
        timer_ms: timerMs,
        set_by: row?.set_by ?? null,
        set_at: row ? new Date(Number(row.set_at)).toISOString() : null,
      };
    },

    async set(actor: DeviceActor, chatId: string, timer: TimerName): Promise<DisappearingView> {
      const timerMs = TIMERS[timer];
      if (chatId.startsWith('grp_')) {
        await groups.setDisappearing(actor, chatId, timerMs);
        return this.get(actor, chatId);
      }
      const key = await keyOf(actor, chatId);
      let announce: EnvelopeRow[] = [];
      await db.kysely.transaction().execute(async (tx) => {
        await repo.set(tx, {
          chat_key: key,
          timer_ms: timerMs,
          set_by: actor.accountId,
          set_at: clock.now(),
        });
        const event = { type: 'chat.disappearing', actor: actor.accountId, timer_ms: timerMs };
        const own = (await repo.devicesOf(tx, actor.accountId)).filter((d) => d !== actor.deviceId);
        const queued = [{ chatId, devices: own, event }];
        // As with messages, someone who blocked the actor is not told.
        if (chatId !== actor.accountId && !(await repo.hasBlocked(chatId, actor.accountId, tx))) {
          queued.push({ chatId: actor.accountId, devices: await repo.devicesOf(tx, chatId), event });
        }
        announce = await events.queueAll(tx, actor, queued);
      });
      events.announce(announce);
      return this.get(actor, chatId);
    },
  };
}

export type DisappearingService = ReturnType<typeof createDisappearingService>;
