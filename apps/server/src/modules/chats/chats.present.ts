/** Explicit allowlists from rows to wire shapes. */
import type { AccountSettingsView, ChatStateView, StarredMessageView } from '@parley/protocol';
import type { Visibility } from '../../platform/schema.js';
import type { ChatStateRow } from './chats.repo.js';

export function presentChatState(row: ChatStateRow): ChatStateView {
  return {
    chat_id: row.chat_id,
    archived: row.archived === 1,
    pinned: row.pinned_at !== null,
    pinned_at: row.pinned_at,
    muted_until: row.muted_until,
    read_up_to: row.read_up_to,
    read_at: row.read_at,
    version: row.version,
  };
}

export function presentStarred(row: {
  message_id: string;
  chat_id: string;
  starred_at: number;
}): StarredMessageView {
  return { message_id: row.message_id, chat_id: row.chat_id, starred_at: row.starred_at };
}

export function presentSettings(row: {
  display_name: string;
  about: string;
  photo_media_id: string | null;
  privacy_last_seen: Visibility;
  privacy_online: Visibility;
  privacy_photo: Visibility;
  privacy_about: Visibility;
  read_receipts: number;
  settings_version: number;
}): AccountSettingsView {
  return {
    profile: { display_name: row.display_name, about: row.about, photo: row.photo_media_id },
    privacy: {
      last_seen: row.privacy_last_seen,
      online: row.privacy_online,
      photo: row.privacy_photo,
      about: row.privacy_about,
      read_receipts: row.read_receipts === 1,
    },
    version: row.settings_version,
  };
}
