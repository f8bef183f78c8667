/**
 * Per-account chat state (archive, pin, mute, read position), starred messages and the sync of
 * settings across an account's devices.
 *
 * Convergence model: every change takes the account's row lock, bumps the account's state
 * version and, in the same transaction, queues a system event with the new state of what it
 * changed to the account's other devices. Versions therefore follow commit order, and each
 * device's durable queue holds the events in that order. A device applies an event only when
 * its version is above the version it holds for that chat, message or the settings, so an old
 * event arriving after a fresher full fetch (GET /api/v1/chats) or after the device's own
 * change never rolls state back: last writer in server order wins, per field.
 * Nothing is written until every part of a request is validated; a request that changes
 * nothing bumps nothing and sends nothing.
 */
import {
  type AccountSettingsView,
  type ChatListResponse,
  type ChatStateView,
  MAX_PINNED_CHATS,
  MUTE_FOREVER,
  type StarResponse,
  type StarredListResponse,
} from '@parley/protocol';
import { AppError } from '../../errors.js';
import type { Clock } from '../../platform/clock.js';
import type { Db, Executor } from '../../platform/db.js';
import type { DeviceActor } from '../accounts/index.js';
import type { EnvelopeRow, EventWriter } from '../delivery/index.js';
import { chatOfMessage, isLater, isLiveMessage, isValidMute } from './chats.policy.js';
import { presentChatState, presentSettings, presentStarred } from './chats.present.js';
import type { ChatStateRow, ChatsRepo, MetaRow } from './chats.repo.js';

export interface ChatsServiceDeps {
  db: Pick<Db, 'kysely'>;
  repo: ChatsRepo;
  events: EventWriter;
  clock: Clock;
}

export interface UpdateChatInput {
  archived?: boolean | undefined;
  pinned?: boolean | undefined;
  /** Epoch ms in the future, `MUTE_FOREVER`, or null to unmute. */
  muted_until?: number | null | undefined;
  read_up_to?: string | undefined;
}

const notFound = (messageId: string) =>
  new AppError('MESSAGE_NOT_FOUND', `No message ${messageId} in your chats (messages are kept 30 days).`);

export function createChatsService(deps: ChatsServiceDeps) {
  const { db, repo, events, clock } = deps;

  /**
   * Runs `apply` under the account's row lock. `apply` validates everything, then answers
   * either `unchanged` (nothing written, nothing bumped or sent) or a `write` that gets the
   * new version and returns the event to queue.
   */
  async function change<T>(
    actor: DeviceActor,
    apply: (tx: Executor, current: number) => Promise<Outcome<T>>,
  ): Promise<T> {
    let announce: EnvelopeRow[] = [];
    const result = await db.kysely.transaction().execute(async (tx) => {
      const current = await repo.lockAccount(tx, actor.accountId);
      if (current === undefined) throw new AppError('ACCOUNT_NOT_FOUND', 'This account no longer exists.');
      const outcome = await apply(tx, current);
      if ('unchanged' in outcome) return outcome.unchanged;
      const written = await outcome.write(tx, await repo.bumpVersion(tx, actor.accountId));
      announce = await events.queue(tx, {
        actor,
        chatId: written.chatId,
        devices: await repo.otherDevices(tx, actor.accountId, actor.deviceId),
        event: written.event,
      });
      return written.result;
    });
    events.announce(announce);
    return result;
  }

  /** The chat must be an existing account or a group the actor is a member of. */
  async function requireChat(tx: Executor, actor: DeviceActor, chatId: string): Promise<void> {
    const known = chatId.startsWith('grp_')
      ? await repo.isMember(tx, chatId, actor.accountId)
      : chatId.startsWith('acc_') && (await repo.accountExists(tx, chatId));
    if (!known) throw new AppError('CHAT_NOT_FOUND', `You have no chat ${chatId}.`);
  }

  /** The message's metadata and its chat, when the actor can see it. */
  async function visibleMessage(
    tx: Executor,
    actor: DeviceActor,
    messageId: string,
  ): Promise<{ meta: MetaRow; chatId: string } | undefined> {
    const meta = await repo.meta(tx, messageId);
    if (!meta || !isLiveMessage(meta, clock.now())) return undefined;
    const chatId = chatOfMessage(actor.accountId, meta);
    if (!chatId) return undefined;
    if (chatId.startsWith('grp_') && !(await repo.isMember(tx, chatId, actor.accountId))) return undefined;
    return { meta, chatId };
  }

  const blank = (accountId: string, chatId: string): ChatStateRow => ({
    account_id: accountId,
    chat_id: chatId,
    archived: 0,
    pinned_at: null,
    muted_until: null,
    read_up_to: null,
    read_at: null,
    updated_at: 0,
    version: 0,
  });

  return {
    /** Every chat state of the account (or those changed after `since`), its settings and version. */
    async list(actor: DeviceActor, since = 0): Promise<ChatListResponse> {
      // The version first: a change committed after this read may show up in the list too
      // (harmless: its version is above), but none at or below it can be missing.
      const version = await repo.version(actor.accountId);
      const chats = (await repo.listStates(actor.accountId, since)).map(presentChatState);
      return { chats, settings: await this.settings(actor), version };
    },

    async settings(actor: DeviceActor): Promise<AccountSettingsView> {
      const row = await repo.settings(actor.accountId);
      if (!row) throw new AppError('ACCOUNT_NOT_FOUND', 'This account no longer exists.');
      return presentSettings(row);
    },

    async update(actor: DeviceActor, chatId: string, patch: UpdateChatInput): Promise<ChatStateView> {
      return change<ChatStateView>(actor, async (tx) => {
        const now = clock.now();
        if (patch.muted_until !== undefined && !isValidMute(patch.muted_until, now)) {
          throw new AppError(
            'VALIDATION_FAILED',
            `muted_until must be a future time (epoch ms), ${MUTE_FOREVER} for always, or null to unmute.`,
            { issues: [{ path: 'body.muted_until', message: 'in the past' }] },
          );
        }
        await requireChat(tx, actor, chatId);
        const before = (await repo.findState(tx, actor.accountId, chatId)) ?? blank(actor.accountId, chatId);
        const next = { ...before };
        if (patch.archived !== undefined) next.archived = patch.archived ? 1 : 0;
        if (patch.pinned === false) next.pinned_at = null;
        if (patch.pinned === true && before.pinned_at === null) {
          if ((await repo.countPinned(tx, actor.accountId)) >= MAX_PINNED_CHATS) {
            throw new AppError(
              'CHAT_PIN_LIMIT',
              `You can pin at most ${MAX_PINNED_CHATS} chats; unpin one first.`,
              { max_pinned: MAX_PINNED_CHATS },
            );
          }
          next.pinned_at = now;
        }
        if (patch.muted_until !== undefined) next.muted_until = patch.muted_until;
        if (patch.read_up_to !== undefined) {
          const seen = await visibleMessage(tx, actor, patch.read_up_to);
          if (!seen || seen.chatId !== chatId) throw notFound(patch.read_up_to);
          // A read position only moves forward: devices report reads late and out of order.
          const previous = before.read_up_to ? await repo.meta(tx, before.read_up_to) : undefined;
          if (!previous || isLater(seen.meta, previous)) {
            next.read_up_to = seen.meta.message_id;
            next.read_at = now;
          }
        }
        const changed =
          next.archived !== before.archived ||
          next.pinned_at !== before.pinned_at ||
          next.muted_until !== before.muted_until ||
          next.read_up_to !== before.read_up_to;
        if (!changed) return { unchanged: presentChatState(before) };
        return {
          async write(tx, version) {
            const row = { ...next, updated_at: now, version };
            await repo.upsertState(tx, row);
            const view = presentChatState(row);
            return { result: view, chatId, event: { type: 'chat.state', ...view } };
          },
        };
      });
    },

    /** Stars a message the account can see; starring it again changes nothing. */
    async star(actor: DeviceActor, messageId: string): Promise<StarResponse> {
      return change<StarResponse>(actor, async (tx, current) => {
        const existing = await repo.findStarred(tx, actor.accountId, messageId);
        if (existing) return { unchanged: { ...presentStarred(existing), starred: true, version: current } };
        const seen = await visibleMessage(tx, actor, messageId);
        // A message deleted for everyone is a tombstone: there is nothing to keep.
        if (!seen || seen.meta.deleted_at !== null) throw notFound(messageId);
        const row = {
          account_id: actor.accountId,
          message_id: messageId,
          chat_id: seen.chatId,
          starred_at: clock.now(),
        };
        return {
          async write(tx, version) {
            await repo.insertStarred(tx, row);
            const starred = presentStarred(row);
            return {
              result: { ...starred, starred: true, version },
              chatId: row.chat_id,
              event: { type: 'message.starred', ...starred, version },
            };
          },
        };
      });
    },

    /**
     * Unstars a message. Works after the message's metadata expired (the star outlives it);
     * a message that is not starred but visible changes nothing; an unknown one is refused.
     */
    async unstar(actor: DeviceActor, messageId: string): Promise<StarResponse> {
      return change<StarResponse>(actor, async (tx, current) => {
        const existing = await repo.findStarred(tx, actor.accountId, messageId);
        if (!existing) {
          const seen = await visibleMessage(tx, actor, messageId);
          if (!seen) throw notFound(messageId);
          return {
            unchanged: {
              message_id: messageId,
              chat_id: seen.chatId,
              starred: false,
              starred_at: null,
              version: current,
            },
          };
        }
        const chatId = existing.chat_id;
        return {
          async write(tx, version) {
            await repo.deleteStarred(tx, actor.accountId, messageId);
            return {
              result: { message_id: messageId, chat_id: chatId, starred: false, starred_at: null, version },
              chatId,
              event: { type: 'message.unstarred', message_id: messageId, chat_id: chatId, version },
            };
          },
        };
      });
    },

    async starred(actor: DeviceActor): Promise<StarredListResponse> {
      const version = await repo.version(actor.accountId);
      return { starred: (await repo.listStarred(actor.accountId)).map(presentStarred), version };
    },

    /**
     * For the accounts and contacts modules: call inside the transaction that changed the
     * account's profile or privacy settings, after the change. Bumps the account's version and
     * queues `account.settings` (the whole new settings) to the account's other devices under
     * the account's own id as chat. Call `announce` after commit.
     */
    async settingsChanged(tx: Executor, actor: DeviceActor): Promise<{ version: number; announce(): void }> {
      await repo.bumpVersion(tx, actor.accountId, true);
      const row = await repo.settings(actor.accountId, tx);
      if (!row) throw new AppError('ACCOUNT_NOT_FOUND', 'This account no longer exists.');
      const settings = presentSettings(row);
      const rows = await events.queue(tx, {
        actor,
        chatId: actor.accountId,
        devices: await repo.otherDevices(tx, actor.accountId, actor.deviceId),
        event: { type: 'account.settings', ...settings },
      });
      return { version: settings.version, announce: () => events.announce(rows) };
    },
  };
}

type Outcome<T> =
  | { unchanged: T }
  | {
      write(
        tx: Executor,
        version: number,
      ): Promise<{ result: T; chatId: string; event: Record<string, unknown> }>;
    };

export type ChatsService = ReturnType<typeof createChatsService>;
/** What the accounts and contacts modules need to sync settings. */
export type SettingsSync = Pick<ChatsService, 'settingsChanged'>;
