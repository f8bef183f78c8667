/**
 * Per-account chat state (archive, pin, mute, read position) and starred messages, the same on
 * every device of the account, plus a mirror that applies the sync recipe of docs/protocol.md.
 *
 * Sync model: every change bumps the account's `version` on the server and reaches the
 * account's other devices as a system event (`chat.state`, `message.starred`,
 * `message.unstarred`, `account.settings`) carrying the version. A device keeps the version of
 * each thing it holds and applies an event only when the event is newer, so events that were
 * still queued when it fetched the full state, or when it made its own change, never roll it back.
 */
import type {
  AccountSettingsView,
  ChatListResponse,
  ChatStateView,
  PrivacySettings,
  ProfileView,
  StarResponse,
  StarredListResponse,
  StarredMessageView,
} from '@parley/protocol';
import type { Http } from './http.js';

export interface UpdateChatInput {
  archived?: boolean;
  pinned?: boolean;
  /** Epoch ms in the future, `MUTE_FOREVER` (-1) for always, or null to unmute. */
  mutedUntil?: number | null;
  /** A message id of this chat; an older one than the current position is ignored. */
  readUpTo?: string;
}

/** Chat state calls over REST. A chat id is the other person's account id, or a group id. */
export function createChatsApi(http: Pick<Http, 'request'>) {
  const star = (messageId: string) => `/messages/${encodeURIComponent(messageId)}/star`;
  return {
    /** Every chat state, the settings and the version; with `since`, only chats changed after it. */
    list: (since?: number) =>
      http.request<ChatListResponse>('GET', since === undefined ? '/chats' : `/chats?since=${since}`),
    update(chatId: string, patch: UpdateChatInput): Promise<ChatStateView> {
      const body: Record<string, unknown> = {};
      if (patch.archived !== undefined) body.archived = patch.archived;
      if (patch.pinned !== undefined) body.pinned = patch.pinned;
      if (patch.mutedUntil !== undefined) body.muted_until = patch.mutedUntil;
      if (patch.readUpTo !== undefined) body.read_up_to = patch.readUpTo;
      return http.request('PATCH', `/chats/${encodeURIComponent(chatId)}`, body);
    },
    star: (messageId: string) => http.request<StarResponse>('PUT', star(messageId)),
    unstar: (messageId: string) => http.request<StarResponse>('DELETE', star(messageId)),
    /** Newest first, with the account's version. */
    starred: () => http.request<StarredListResponse>('GET', '/starred'),
  };
}

export type ChatsApi = ReturnType<typeof createChatsApi>;

export interface ChatMirrorSnapshot {
  /** Sorted by chat id. */
  chats: ChatStateView[];
  /** Newest first. */
  starred: StarredMessageView[];
  settings: AccountSettingsView | undefined;
}

/**
 * One device's copy of the account's chat state. Feed it the full fetch (`load`), the answers
 * to this device's own changes (`applyChat`, `applyStar`) and every system event (`apply`).
 * Pure and synchronous: store its snapshot wherever the app keeps state.
 */
export function createChatMirror() {
  const chats = new Map<string, ChatStateView>();
  const starred = new Map<string, StarredMessageView>();
  /** Per message: the version of the last star or unstar applied. */
  const starVersions = new Map<string, number>();
  /** The starred list reflects every change up to this version. */
  let starredLoadedAt = 0;
  /**
   * Profile and privacy each keep the version they were last set at: this device's own
   * change answers with only one of them, so the other must still take an older event.
   */
  let profile: { value: AccountSettingsView['profile']; version: number } | undefined;
  let privacy: { value: PrivacySettings; version: number } | undefined;

  function applyChat(view: ChatStateView): boolean {
    const held = chats.get(view.chat_id);
    if (held && held.version >= view.version) return false;
    chats.set(view.chat_id, view);
    return true;
  }

  function applyStar(change: {
    message_id: string;
    chat_id: string;
    starred: boolean;
    starred_at?: number | null | undefined;
    version: number;
  }): boolean {
    const held = Math.max(starVersions.get(change.message_id) ?? 0, starredLoadedAt);
    if (change.version <= held) return false;
    starVersions.set(change.message_id, change.version);
    if (change.starred) {
      starred.set(change.message_id, {
        message_id: change.message_id,
        chat_id: change.chat_id,
        starred_at: change.starred_at ?? 0,
      });
    } else {
      starred.delete(change.message_id);
    }
    return true;
  }

  function applySettings(next: AccountSettingsView): boolean {
    let changed = false;
    if (!profile || next.version > profile.version) {
      profile = {
        value: {
          display_name: next.profile.display_name,
          about: next.profile.about,
          photo: next.profile.photo ?? null,
        },
        version: next.version,
      };
      changed = true;
    }
    if (!privacy || next.version > privacy.version) {
      privacy = { value: { ...next.privacy }, version: next.version };
      changed = true;
    }
    return changed;
  }

  return {
    /** A full fetch: `client.chats.list()` and, for stars, `client.chats.starred()`. */
    load(list: ChatListResponse, stars?: StarredListResponse): void {
      for (const view of list.chats) applyChat(view);
      applySettings(list.settings);
      if (stars && stars.version > starredLoadedAt) {
        starred.clear();
        starVersions.clear();
        for (const s of stars.starred) starred.set(s.message_id, s);
        starredLoadedAt = stars.version;
      }
    },
    /** The answer to this device's own `chats.update`. */
    applyChat,
    /** The answer to this device's own `chats.star` / `chats.unstar`. */
    applyStar: (answer: StarResponse) => applyStar(answer),
    /** The answer to this device's own `contacts.setPrivacy` (after `load`). */
    applyPrivacy(answer: PrivacySettings & { version?: number }): boolean {
      const { version, ...value } = answer;
      if (version === undefined || (privacy && privacy.version >= version)) return false;
      privacy = { value, version };
      return true;
    },
    /** The answer to this device's own `updateProfile` (after `load`). */
    applyProfile(answer: ProfileView & { version?: number }): boolean {
      if (answer.version === undefined || (profile && profile.version >= answer.version)) return false;
      profile = {
        value: { display_name: answer.display_name, about: answer.about, photo: answer.photo },
        version: answer.version,
      };
      return true;
    },
    /** Applies a system event (`ReceivedMessage.event`); returns whether it changed anything. */
    apply(event: Record<string, unknown> | undefined): boolean {
      switch (event?.type) {
        case 'chat.state': {
          const { type: _type, ...view } = event;
          return applyChat(view as unknown as ChatStateView);
        }
        case 'message.starred':
        case 'message.unstarred':
          return applyStar({
            message_id: String(event.message_id),
            chat_id: String(event.chat_id),
            starred: event.type === 'message.starred',
            starred_at: typeof event.starred_at === 'number' ? event.starred_at : null,
            version: Number(event.version),
          });
        case 'account.settings':
          return applySettings(event as unknown as AccountSettingsView);
        default:
          return false;
      }
    },
    snapshot(): ChatMirrorSnapshot {
      return {
        chats: [...chats.values()].sort((a, b) =>
          a.chat_id < b.chat_id ? -1 : a.chat_id > b.chat_id ? 1 : 0,
        ),
        starred: [...starred.values()].sort(
          (a, b) => b.starred_at - a.starred_at || (a.message_id < b.message_id ? 1 : -1),
        ),
        settings:
          profile && privacy
            ? {
                profile: profile.value,
                privacy: privacy.value,
                version: Math.max(profile.version, privacy.version),
              }
            : undefined,
      };
    },
  };
}

export type ChatMirror = ReturnType<typeof createChatMirror>;
