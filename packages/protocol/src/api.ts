import type { BusinessPublicView } from './business.js';
/** Shapes of the REST client API (`/api/v1`), shared by the server's presenters and the SDK. */

export interface RequestCodeResponse {
  phone: string;
  /** Seconds until the code expires. */
  expires_in: number;
  /** Seconds before another code may be requested for this number. */
  resend_in: number;
}

export interface VerifyCodeResponse {
  account_id: string;
  device_id: string;
  token: string;
  /** True when this verification created the account. */
  new_account: boolean;
}

export interface ProfileView {
  account_id: string;
  phone: string;
  display_name: string;
  about: string;
  /**
   * The profile photo's media id (download with GET /api/v1/media/{id}), or null when there is
   * none or the owner's photo privacy setting hides it from you.
   */
  photo: string | null;
  /**
   * Present when this number belongs to a business hosted on the platform: show its name,
   * verified badge and profile, and that the platform handles (reads) the chat for it.
   */
  business?: BusinessPublicView;
}

export interface DeviceView {
  device_id: string;
  name: string;
  /** `primary` (signed in by phone code) or `companion` (linked by a code from the primary). */
  role: 'primary' | 'companion' | 'hosted';
  created_at: string;
  last_seen_at: string | null;
  current: boolean;
}

/** A code the primary device shows (as text or QR) to link a companion device. */
export interface LinkCodeResponse {
  /** 8 characters shown as XXXX-XXXX; single use. */
  code: string;
  /** The same code as a QR payload: `parley:link:XXXX-XXXX`. */
  qr_payload: string;
  /** Seconds until the code expires. */
  expires_in: number;
}

export interface LinkDeviceResponse {
  account_id: string;
  device_id: string;
  token: string;
}

export interface GroupMemberView {
  account_id: string;
  phone: string;
  role: 'admin' | 'member';
  joined_at: string;
}

export interface GroupView {
  group_id: string;
  subject: string;
  description: string;
  created_by: string;
  created_at: string;
  /** Only admins may send messages. */
  only_admins_send: boolean;
  /** Only admins may change the subject and description. */
  only_admins_edit: boolean;
  /** The invite link code; shown to admins only (null otherwise, or when there is none). */
  invite_code: string | null;
  /** The group photo's media id, or null. */
  photo: string | null;
  members: GroupMemberView[];
}

export type Visibility = 'everyone' | 'contacts' | 'nobody';

export type DisappearingTimer = 'off' | '24h' | '7d' | '90d';

/** GET/PUT /api/v1/chats/{chat_id}/disappearing */
export interface DisappearingView {
  chat_id: string;
  timer: DisappearingTimer;
  timer_ms: number;
  set_by: string | null;
  /** ISO 8601, or null while the timer was never set. */
  set_at: string | null;
}

/** Who sees what of an account. `contacts`: accounts it found in its own address book. */
export interface PrivacySettings {
  last_seen: Visibility;
  online: Visibility;
  photo: Visibility;
  about: Visibility;
  /** Sends read receipts (and so sees others'). */
  read_receipts: boolean;
}

/** A contact-discovery match: the hash you sent and the account it belongs to. */
export interface ContactMatch {
  hash: string;
  account_id: string;
}

/** Online status and last seen as the viewer may see them; null when hidden or unknown. */
export interface PresenceView {
  account_id: string;
  online: boolean | null;
  /** ISO time the account was last connected; null while online, hidden or never. */
  last_seen: string | null;
}

/** Who has received and read a message (for its sender). */
export interface MessageReceiptsView {
  message_id: string;
  delivered: { account_id: string; at: string }[];
  read: { account_id: string; at: string }[];
}

/** `muted_until` value that mutes a chat until it is unmuted. */
export const MUTE_FOREVER = -1;
/** How many chats an account may pin at once. */
export const MAX_PINNED_CHATS = 3;

/**
 * One account's state of one chat, the same on every device of the account. Times are epoch
 * milliseconds. A chat never changed reads as not archived, not pinned, not muted, version 0.
 */
export interface ChatStateView {
  /** The other person's account id (one-to-one chat) or the group id. */
  chat_id: string;
  archived: boolean;
  pinned: boolean;
  pinned_at: number | null;
  /** Null: not muted; `MUTE_FOREVER` (-1): until unmuted; else muted until this time. */
  muted_until: number | null;
  /** The newest message of the chat read on any device of the account. */
  read_up_to: string | null;
  read_at: number | null;
  /** The account's state version at this chat's last change. */
  version: number;
}

/** Profile and privacy settings of the account, as synced to its devices. */
export interface AccountSettingsView {
  profile: { display_name: string; about: string; photo: string | null };
  privacy: PrivacySettings;
  /** The account's state version at the last settings change (0: never changed). */
  version: number;
}

/** `GET /api/v1/chats`: chat states (all, or changed after `since`), settings and the account's version. */
export interface ChatListResponse {
  chats: ChatStateView[];
  settings: AccountSettingsView;
  /** The account's state version now: pass it as `since` next time. */
  version: number;
}

export interface UpdateChatRequest {
  archived?: boolean;
  pinned?: boolean;
  muted_until?: number | null;
  read_up_to?: string;
}

export interface StarredMessageView {
  message_id: string;
  chat_id: string;
  starred_at: number;
}

/** Answer of starring or unstarring a message. */
export interface StarResponse {
  message_id: string;
  chat_id: string;
  starred: boolean;
  starred_at: number | null;
  /** The account's state version after the call (unchanged when it changed nothing). */
  version: number;
}

export interface StarredListResponse {
  starred: StarredMessageView[];
  version: number;
}

/** System event sent to an account's other devices when one of them changes a chat's state. */
export interface ChatStateEvent extends ChatStateView {
  type: 'chat.state';
}

export interface MessageStarEvent {
  type: 'message.starred' | 'message.unstarred';
  message_id: string;
  chat_id: string;
  /** Set for `message.starred`. */
  starred_at?: number;
  version: number;
}

/** System event sent to an account's other devices when one of them changes profile or privacy. */
export interface AccountSettingsEvent extends AccountSettingsView {
  type: 'account.settings';
}
