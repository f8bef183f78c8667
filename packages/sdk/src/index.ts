/**
 * @parley/sdk: the TypeScript client for Parley, for Node and the browser.
 * REST sign-in and account calls, and ParleyClient for the WebSocket messaging protocol.
 */

export {
  type AccountSettingsEvent,
  type AccountSettingsView,
  type ChatListResponse,
  type ChatStateEvent,
  type ChatStateView,
  LABEL_PALETTE,
  type LabelView,
  type LinkResolution,
  type LinkSource,
  type LinkView,
  MAX_PINNED_CHATS,
  type MessageLabelsView,
  type MessageStarEvent,
  MUTE_FOREVER,
  type StarResponse,
  type StarredListResponse,
  type StarredMessageView,
} from '@parley/protocol';
export type { BackoffOptions } from './backoff.js';
export type {
  AutomationSettings,
  AwaySchedule,
  BusinessApi,
  KeywordRuleInput,
  KeywordRuleView,
} from './business.js';
export {
  type CreateLinkInput,
  type LabelInput,
  type LabelsApi,
  type LinksApi,
  type PageOptions,
  type ResolvedLink,
  type ResolveLinkOptions,
  resolveLink,
} from './business-labels.js';
export type {
  BroadcastInput,
  BusinessStatsApi,
  CreateBroadcastListInput,
  StatsRange,
} from './business-stats.js';
export type {
  WebhookDeliveriesPage,
  WebhookDeliveryState,
  WebhookDeliveryView,
  WebhooksApi,
} from './business-webhooks.js';
export {
  type ChatMirror,
  type ChatMirrorSnapshot,
  type ChatsApi,
  createChatMirror,
  type UpdateChatInput,
} from './chats.js';
export { ParleyClient } from './client.js';
export { ParleyError, type ParleyErrorCode, type ParleyErrorOptions, type SdkErrorCode } from './errors.js';
export {
  type AuthCallOptions,
  type ContactsApi,
  type CreateGroupInput,
  type FetchLike,
  type GroupsApi,
  hashPhone,
  type LinkDeviceInput,
  type LogoutResponse,
  linkDevice,
  requestCode,
  type UpdateGroupInput,
  type UpdateProfileInput,
  type VerifyCodeInput,
  verifyCode,
} from './http.js';
export { CLIENT_ID_PATTERN, isValidClientId, newClientId } from './ids.js';
export type { MessageHandler, ReceivedMessage } from './inbox.js';
export type { DownloadedMedia, MediaApi, UploadMediaOptions } from './media.js';
export type { SendResult } from './outbox.js';
export { base64ToBytes, bytesToBase64, decodeText, encodeText } from './payload.js';
export type { SocketCloseEvent, SocketMessageEvent, WebSocketConstructor, WebSocketLike } from './socket.js';
export type {
  ClientEvents,
  ConnectionState,
  ParleyClientOptions,
  PresenceEvent,
  SendOptions,
  SessionInfo,
  TypingEvent,
} from './types.js';
