/** Table types for Kysely. Times are epoch milliseconds; sequences are per device. */
import type { ColumnType, Generated } from 'kysely';

export type Visibility = 'everyone' | 'contacts' | 'nobody';

export interface AccountsTable {
  id: string;
  phone: string;
  display_name: string;
  about: string;
  created_at: number;
  /** SHA-256 of the E.164 number (base64url), for contact discovery. */
  phone_hash: string | null;
  privacy_last_seen: Generated<Visibility>;
  privacy_online: Generated<Visibility>;
  privacy_photo: Generated<Visibility>;
  privacy_about: Generated<Visibility>;
  /** 1 when the account sends read receipts (and so sees others'). */
  read_receipts: Generated<number>;
  /** The profile photo: an image upload of the account's (media id), or null. */
  photo_media_id: string | null;
  /** Set when this account is a business's phone number (hosted by the platform). */
  business_id: string | null;
  /** Counts every change to the account's chat state, starred messages and settings. */
  state_version: Generated<number>;
  /** The state_version of the last profile or privacy change (0: never changed). */
  settings_version: Generated<number>;
}

export interface BlocksTable {
  account_id: string;
  blocked_id: string;
  created_at: number;
}

/** Accounts an account found in its address book (matches only). */
export interface ContactsTable {
  account_id: string;
  contact_id: string;
  created_at: number;
}

export interface ReportsTable {
  id: string;
  reporter_id: string;
  reported_id: string;
  reason: string;
  created_at: number;
}

export interface DevicesTable {
  id: string;
  account_id: string;
  name: string;
  token_hash: string;
  created_at: number;
  last_seen_at: number | null;
  /** Highest envelope sequence handed out for this device; the next envelope gets last_seq + 1. */
  last_seq: Generated<number>;
  /**
   * One `primary` per account (signed in by phone code); up to 4 `companion`s linked by code;
   * `hosted`: a business number's endpoint, consumed by the server itself.
   */
  role: 'primary' | 'companion' | 'hosted';
}

export interface LinkCodesTable {
  /** HMAC of the code shown on the linking device; single use. */
  code_hash: string;
  account_id: string;
  created_by: string;
  expires_at: number;
  created_at: number;
}

export interface VerificationCodesTable {
  phone: string;
  code_hash: string;
  expires_at: number;
  attempts_left: number;
  created_at: number;
}

export interface EnvelopesTable {
  device_id: string;
  seq: number;
  message_id: string;
  sender_account: string;
  sender_device: string;
  sender_phone: string;
  sent_at: number;
  expires_at: number;
  /** Opaque payload as the client sent it (standard base64), relayed unchanged. */
  payload: string;
  /** What the envelope carries: a message, a system event, or an act on an earlier message. */
  kind: EnvelopeKind;
  /** JSON of the frame's extra fields (ref, reply_to, forwarded, media, …); null when none. */
  extra: string | null;
  /**
   * The chat this envelope belongs to, from its device's point of view: the sender's account
   * for a message received, the addressed account for a copy on the sender's other devices.
   */
  chat_id: string;
}

export interface GroupsTable {
  id: string;
  subject: string;
  description: string;
  created_by: string;
  created_at: number;
  /** 0 or 1 (portable booleans). */
  only_admins_send: number;
  only_admins_edit: number;
  invite_code: string | null;
  event_seq: Generated<number>;
  /** The group photo: an image upload (media id), or null. */
  photo_media_id: string | null;
}

export interface GroupMembersTable {
  group_id: string;
  account_id: string;
  role: 'admin' | 'member';
  joined_at: number;
}

/** A payload stored once for every envelope of a group message (envelopes.payload is empty). */
export interface MessageBodiesTable {
  message_id: string;
  payload: string;
  expires_at: number;
}

/**
 * `message` (from a person), `event` (made by the server), or a person's act on an earlier
 * message: `reaction`, `edit`, `delete` (for everyone).
 */
export type EnvelopeKind = 'message' | 'event' | 'reaction' | 'edit' | 'delete';

export interface MessageMetaTable {
  message_id: string;
  sender_account: string;
  /** The addressed account (1:1) or group. */
  to_id: string;
  sent_at: number;
  expires_at: number;
  kind: Generated<EnvelopeKind>;
  /** The message a reaction, edit or delete acts on. */
  ref_id: string | null;
  reply_to: string | null;
  /** How many times the content was forwarded to get here (0: written by the sender). */
  forward_hops: Generated<number>;
  view_once: Generated<number>;
  edited_at: number | null;
  /** Set when the sender deleted it for everyone: the message is a tombstone. */
  deleted_at: number | null;
}

/** Each person's current reaction to a message. */
export interface ReactionsTable {
  message_id: string;
  account_id: string;
  reaction_id: string;
  reacted_at: number;
  expires_at: number;
}

/** Disappearing-messages timer per chat (1:1: sorted account ids joined by ':'; group: its id). */
export interface ChatTimersTable {
  chat_key: string;
  timer_ms: number;
  set_by: string;
  set_at: number;
}

export type MediaKind = 'image' | 'video' | 'audio' | 'document' | 'sticker';

/** An upload, stored once per content hash in the data folder's media store. */
export interface MediaTable {
  id: string;
  owner_account: string;
  sha256: string;
  size: number;
  content_type: string;
  kind: MediaKind;
  width: number | null;
  height: number | null;
  thumbnail_sha256: string | null;
  created_at: number;
  /**
   * Upload time + 24 h: after it, the row (and its file) is deleted once no message_media row
   * references it. Never cleared, so media whose messages expired go the same way.
   */
  expires_at: number | null;
}

/** A Business Messaging API media id (numeric string) of one business's Parley media (0019). */
export interface GraphMediaTable {
  graph_id: string;
  business_id: string;
  media_id: string;
  phone_number_id: string;
  origin: 'upload' | 'received';
  created_at: number;
  expires_at: number;
}

/** Which messages use which media (kept as long as the message's metadata). */
export interface MessageMediaTable {
  message_id: string;
  media_id: string;
  expires_at: number;
}

/** The one download of view-once media each recipient account gets, per message. */
export interface MediaViewsTable {
  message_id: string;
  media_id: string;
  account_id: string;
  viewed_at: number;
  /** The message's metadata expiry: the record is useless once the message is gone. */
  expires_at: number;
}

export interface ReceiptsTable {
  message_id: string;
  account_id: string;
  delivered_at: number;
  read_at: number | null;
}

/** One account's state of one chat (1:1: the other account's id; group: its id). */
export interface ChatStateTable {
  account_id: string;
  chat_id: string;
  /** 0 or 1. */
  archived: number;
  pinned_at: number | null;
  /** Epoch ms; -1: muted until unmuted; null: not muted. */
  muted_until: number | null;
  /** The newest message of the chat the account has read. */
  read_up_to: string | null;
  read_at: number | null;
  updated_at: number;
  /** The account's state_version at this row's last change. */
  version: number;
}

export interface StarredTable {
  account_id: string;
  message_id: string;
  chat_id: string;
  starred_at: number;
}

export interface SendsTable {
  sender_device: string;
  client_id: string;
  message_id: string;
  sent_at: number;
}

export interface BusinessesTable {
  id: string;
  waba_id: string;
  name: string;
  name_verified: Generated<number>;
  /** JSON of BusinessProfile. */
  profile: string;
  plan_id: string;
  retention_days: number;
  app_secret: string;
  created_at: number;
}

export interface BusinessNumbersTable {
  phone_number_id: string;
  business_id: string;
  account_id: string;
  device_id: string;
  phone: string;
  created_at: number;
}

export type AgentRole = 'owner' | 'admin' | 'agent';

export interface BusinessAgentsTable {
  business_id: string;
  account_id: string;
  role: AgentRole;
  created_at: number;
}

export interface BusinessTokensTable {
  token_hash: string;
  business_id: string;
  name: string;
  created_at: number;
  revoked_at: number | null;
  /** `tok_…`; every token has one (migration 0021 gave older tokens theirs). */
  id: string | null;
  /** The token's first characters, to recognise it by; null for tokens made before 0021. */
  prefix: string | null;
  last_used_at: number | null;
}

/** Per-number settings of the Business Messaging API; no row means the defaults. */
export interface ApiNumberSettingsTable {
  phone_number_id: string;
  business_id: string;
  deregistered_at: number | null;
  pin_hash: string | null;
  data_localization_region: string | null;
  welcome_message: number;
  /** JSON string[] */
  prompts: string;
  /** JSON {command_name, command_description}[] */
  commands: string;
  updated_at: number;
}

export type ConversationStatus = 'open' | 'pending' | 'closed';
export type EntryPoint = 'direct' | 'link' | 'qr' | 'catalog' | 'broadcast';

export interface ConversationsTable {
  id: string;
  business_id: string;
  phone_number_id: string;
  person_account_id: string;
  status: ConversationStatus;
  assignee: string | null;
  unread: number;
  started_via: EntryPoint;
  started_ref: string | null;
  created_at: number;
  last_message_at: number;
  last_inbound_at: number | null;
}

export interface BusinessMessagesTable {
  message_id: string;
  conversation_id: string;
  business_id: string;
  direction: 'in' | 'out';
  author: string;
  kind: string;
  payload: string;
  text: string | null;
  created_at: number;
  delivered_at: number | null;
  read_at: number | null;
}

export interface ConversationNotesTable {
  id: string;
  conversation_id: string;
  business_id: string;
  author: string;
  text: string;
  created_at: number;
}

export interface BusinessOutboxTable {
  client_id: string;
  phone_number_id: string;
  to_account: string;
  author: string;
  payload: string;
  created_at: number;
  /** JSON of what the send needs besides its payload (see OutboxFields); null for plain text. */
  fields: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface ApiMessagesTable {
  message_id: string;
  business_id: string;
  phone_number_id: string;
  to_phone: string;
  to_account: string | null;
  type: string;
  category: string | null;
  template_id: string | null;
  callback_data: string | null;
  window_open: number;
  entry_point: string | null;
  status: 'accepted' | 'sent' | 'delivered' | 'read' | 'failed';
  error_code: number | null;
  error_details: string | null;
  created_at: number;
  sent_at: number | null;
  delivered_at: number | null;
  read_at: number | null;
}

export interface MessageEventsTable {
  event_key: string;
  kind: 'delivered';
  business_id: string;
  phone_number_id: string;
  message_id: string;
  category: 'marketing' | 'utility' | 'authentication' | 'service';
  market: string;
  window_open: number;
  entry_point: string | null;
  source: 'api' | 'agent' | 'automation' | 'broadcast';
  occurred_at: number;
  /** The person's E.164 number (migration 0023; null on older rows). */
  recipient: string | null;
}

/** Billing (migration 0023). int64 columns read back as number (SQLite) or string (PostgreSQL). */
type Int64 = number | string | bigint;

export interface BillingAccountsTable {
  id: string;
  owner_type: 'business' | 'person';
  owner_id: string;
  currency: string;
  country: string | null;
  mode: 'prepaid' | 'credit';
  credit_limit_minor: Int64;
  ledger_account_id: string;
  partner_id: string | null;
  low_balance_minor: Int64 | null;
  low_balance_alerted_at: number | null;
  carry_micros: Int64;
  created_at: number;
  updated_at: number;
}

export type ChargeStream =
  | 'api_messages'
  | 'premium_plan'
  | 'consumer_plan'
  | 'payment_commission'
  | 'adjustment';

export interface BillingChargesTable {
  id: string;
  idempotency_key: string;
  billing_account_id: string;
  business_id: string | null;
  person_account_id: string | null;
  stream: ChargeStream;
  category: string | null;
  market: string | null;
  pricing_model: string | null;
  pricing_type: string | null;
  billable: number;
  quantity: number;
  unit_price_micros: Int64;
  amount_micros: Int64;
  partner_id: string | null;
  partner_markup_micros: Int64;
  currency: string;
  rate_card_version_id: string | null;
  rounding: string;
  period: string;
  occurred_at: number;
  created_at: number;
  description: string | null;
  ledger_transfer_id: string | null;
}

export interface BillingUsageCountersTable {
  counter_key: string;
  count: Int64;
}

export interface BillingConversationsTable {
  conversation_key: string;
  opened_at: number;
  expires_at: number;
}

/**
 * The ledger (migration 0022). Money columns are int64 minor units; the ledger repo reads them
 * as text and parses them to bigint, so no value passes through a float.
 */
export interface LedgerAccountsTable {
  id: string;
  code: string;
  currency: string;
  kind: 'business' | 'person' | 'revenue' | 'tax' | 'partner' | 'external';
  overdraft_limit: Int64 | null;
  debits_posted: Int64;
  credits_posted: Int64;
  debits_pending: Int64;
  credits_pending: Int64;
  created_at: number;
}

export interface LedgerTransfersTable {
  id: string;
  idempotency_key: string;
  debit_account_id: string;
  credit_account_id: string;
  amount: Int64;
  currency: string;
  kind: string;
  ref: string | null;
  flag: 'single' | 'pending' | 'post' | 'void';
  pending_id: string | null;
  expires_at: number | null;
  created_at: number;
}

// rate cards (issue 6, migration 0024)
export interface BillingRateCardVersionsTable {
  id: string;
  currency: string;
  effective_from: Int64;
  effective_to: Int64 | null;
  name: string | null;
  superseded_by: string | null;
  created_at: Int64;
  updated_at: Int64;
}

export interface BillingRateCardPricesTable {
  version_id: string;
  category: string;
  market: string;
  from_count: Int64;
  unit_price_micros: Int64;
}

export interface BillingPricingModelsTable {
  effective_from: Int64;
  model: string;
  created_at: Int64;
}
// end rate cards
// billing: invoices (migration 0025)
export type InvoiceStatus = 'draft' | 'finalized' | 'paid' | 'void';
export type InvoiceLineKind = 'usage' | 'subscription' | 'fee' | 'credit';

export interface InvoicesTable {
  id: string;
  billing_account_id: string;
  business_id: string | null;
  person_account_id: string | null;
  period: string;
  currency: string;
  status: InvoiceStatus;
  number: string | null;
  subtotal_minor: Int64;
  tax_minor: Int64;
  credits_minor: Int64;
  total_minor: Int64;
  tax_country: string | null;
  tax_rate_bps: number | null;
  tax_name: string | null;
  tax_transfer_id: string | null;
  issued_at: number | null;
  due_at: number | null;
  paid_at: number | null;
  paid_provider: string | null;
  paid_reference: string | null;
  voided_at: number | null;
  void_reason: string | null;
  created_at: number;
  updated_at: number;
}

export interface InvoiceLinesTable {
  invoice_id: string;
  position: number;
  kind: InvoiceLineKind;
  stream: string;
  category: string | null;
  market: string | null;
  quantity: Int64;
  unit_price_micros: Int64;
  amount_micros: Int64;
  amount_minor: Int64;
  description: string;
}

export interface TaxRatesTable {
  country: string;
  effective_from: number;
  rate_bps: number;
  name: string;
  created_at: number;
}

export interface CreditNotesTable {
  id: string;
  number: string;
  billing_account_id: string;
  invoice_id: string | null;
  stream: string;
  currency: string;
  amount_minor: Int64;
  reason: string;
  ledger_transfer_id: string | null;
  applied_invoice_id: string | null;
  created_at: number;
}

export interface CreditApplicationsTable {
  invoice_id: string;
  credit_note_id: string;
  amount_minor: Int64;
  created_at: number;
}

export interface BillingNumberCountersTable {
  series: string;
  last: Int64;
}
// end billing: invoices

/** A business's messaging-limit tier (migration 0020); no row: the starting tier. */
export interface BusinessLimitsTable {
  business_id: string;
  tier: 'TIER_250' | 'TIER_2K' | 'TIER_10K' | 'TIER_100K' | 'TIER_UNLIMITED';
  tier_changed_at: number;
  tier_changed_by: 'initial' | 'automatic' | 'operator';
  evaluated_at: number | null;
}

/** A business number's throughput and quality rating (migration 0020). */
export interface NumberLimitsTable {
  phone_number_id: string;
  business_id: string;
  throughput_mps: number | null;
  quality_rating: 'GREEN' | 'YELLOW' | 'RED';
  quality_changed_at: number;
}

/** A person who sent STOP to a business number (migration 0020). */
export interface MarketingOptOutsTable {
  phone_number_id: string;
  person_account_id: string;
  business_id: string;
  opted_out_at: number;
}

export type TemplateStatus = 'PENDING' | 'APPROVED' | 'REJECTED' | 'PAUSED' | 'DISABLED';
export type TemplateCategory = 'MARKETING' | 'UTILITY' | 'AUTHENTICATION';
export type TemplateQuality = 'GREEN' | 'YELLOW' | 'RED' | 'UNKNOWN';

export interface TemplatesTable {
  id: string;
  business_id: string;
  name: string;
  language: string;
  category: TemplateCategory;
  previous_category: TemplateCategory | null;
  parameter_format: 'POSITIONAL' | 'NAMED';
  /** JSON of the validated components. */
  components: string;
  allow_category_change: number;
  status: TemplateStatus;
  rejected_reason: string | null;
  /** JSON `{reason, recommendation}` of a rejection, or null. */
  rejection_info: string | null;
  quality_score: TemplateQuality;
  pause_count: number;
  paused_until: number | null;
  /** JSON array of the times (ms) an approved template was edited in the last 30 days. */
  edit_times: string;
  created_at: number;
  updated_at: number;
}

export interface TemplateReviewRulesTable {
  id: string;
  /** JSON of ReviewRules. */
  rules: string;
  updated_at: number;
}

export interface TemplateFeedbackTable {
  message_id: string;
  template_id: string;
  business_id: string;
  at: number;
}

export interface PlansTable {
  id: string;
  name: string;
  price_minor: number;
  currency: string;
  /** JSON: { agents, broadcast_size, keyword_rules, labels, short_links }. */
  limits: string;
  /** JSON: { custom_link_code, verified_badge }. */
  features: string;
  rank: number;
  updated_at: number;
}

export interface BusinessAutomationsTable {
  business_id: string;
  /** JSON: { enabled, text }. */
  greeting: string;
  /** JSON: { enabled, schedule (AwaySchedule), text }. */
  away: string;
  updated_at: number;
}

export interface KeywordRulesTable {
  id: string;
  business_id: string;
  position: number;
  /** JSON of a KeywordRule. */
  rule: string;
  created_at: number;
}

export interface QuickRepliesTable {
  business_id: string;
  shortcut: string;
  text: string;
  media_id: string | null;
  created_at: number;
}

export interface AutomationSendsTable {
  conversation_id: string;
  kind: string;
  last_at: number;
}

export interface BroadcastListsTable {
  id: string;
  business_id: string;
  name: string;
  created_at: number;
  updated_at: number;
}

export interface BroadcastListMembersTable {
  list_id: string;
  account_id: string;
  added_at: number;
}

export interface BroadcastsTable {
  id: string;
  list_id: string;
  business_id: string;
  phone_number_id: string;
  created_by: string;
  text: string;
  created_at: number;
  recipients: number;
  /** JSON: [{ account_id, reason }] of members the broadcast was not sent to. */
  skipped: string;
  /** The client's idempotency key for the send (unique per list), when it gave one. */
  client_key: string | null;
}

export interface LabelsTable {
  id: string;
  business_id: string;
  name: string;
  /** The name as compared: lower case, NFC. */
  name_key: string;
  /** A palette name or #RRGGBB. */
  color: string;
  created_at: number;
  updated_at: number;
}

export interface ConversationLabelsTable {
  conversation_id: string;
  label_id: string;
  business_id: string;
  created_at: number;
}

export interface MessageLabelsTable {
  message_id: string;
  label_id: string;
  conversation_id: string;
  business_id: string;
  created_at: number;
}

export interface ShortLinksTable {
  code: string;
  business_id: string;
  phone_number_id: string;
  text: string;
  /** 1: a code the business chose; 0: generated. */
  custom: number;
  created_at: number;
  updated_at: number;
  /** Deleted links keep their code reserved. */
  deleted_at: number | null;
}

export type LinkOpenSource = 'link' | 'qr';

export interface LinkOpensTable {
  id: string;
  code: string;
  account_id: string;
  source: LinkOpenSource;
  opened_at: number;
}

export interface WebhookSubscriptionsTable {
  business_id: string;
  app_id: string;
  callback_url: string;
  created_at: number;
  updated_at: number;
}

export type WebhookDeliveryState = 'pending' | 'delivered' | 'failed';

export interface WebhookDeliveriesTable {
  id: Generated<number>;
  business_id: string;
  field: string;
  body: string;
  order_key: string | null;
  state: WebhookDeliveryState;
  attempts: number;
  next_attempt_at: number;
  locked_until: number;
  first_attempt_at: number | null;
  last_status: number | null;
  last_error: string | null;
  created_at: number;
  delivered_at: number | null;
  failed_at: number | null;
}

/** Subscriptions, consumer plan, receipts and notices (migration 0026). */
export interface SubscriptionsTable {
  id: string;
  business_id: string;
  plan_id: string;
  status: 'active' | 'past_due' | 'canceled';
  current_period_start: Int64;
  current_period_end: Int64;
  cancel_at_period_end: number;
  payment_provider: string | null;
  charge_seq: number;
  dunning_step: number;
  next_attempt_at: Int64 | null;
  grace_until: Int64 | null;
  canceled_at: Int64 | null;
  created_at: Int64;
  updated_at: Int64;
}

export interface ConsumerPlansTable {
  account_id: string;
  expires_at: Int64;
  renewed_at: Int64 | null;
  updated_at: Int64;
}

export interface BillingSettingsTable {
  key: string;
  value: string;
  updated_at: Int64;
}

export interface BillingReceiptsTable {
  id: string;
  number: Int64;
  idempotency_key: string;
  billing_account_id: string;
  amount_minor: Int64;
  currency: string;
  provider: string;
  reference: string | null;
  ledger_transfer_id: string;
  created_at: Int64;
}

export interface BillingNoticesTable {
  id: string;
  owner_type: 'business' | 'person';
  owner_id: string;
  kind: string;
  title: string;
  body: string;
  data: string;
  dedupe_key: string | null;
  created_at: Int64;
  read_at: Int64 | null;
}

/** Partners: business solution providers and their markups (migration 0027). */
export interface PartnersTable {
  id: string;
  name: string;
  markup_bps: number;
  markup_micros: Int64;
  created_at: number;
  updated_at: number;
}

export interface PartnerMarkupsTable {
  partner_id: string;
  category: string;
  markup_bps: number;
  markup_micros: Int64;
  updated_at: number;
}

export interface PartnerClientsTable {
  business_id: string;
  partner_id: string;
  since: number;
}

export type PartnerRole = 'admin' | 'viewer';

export interface PartnerMembersTable {
  partner_id: string;
  account_id: string;
  role: PartnerRole;
  created_at: number;
}

export interface PartnerRevisionTable {
  id: number;
  revision: Int64;
}

export interface Database {
  accounts: AccountsTable;
  devices: DevicesTable;
  verification_codes: VerificationCodesTable;
  envelopes: EnvelopesTable;
  link_codes: LinkCodesTable;
  groups: GroupsTable;
  group_members: GroupMembersTable;
  message_bodies: MessageBodiesTable;
  blocks: BlocksTable;
  contacts: ContactsTable;
  reports: ReportsTable;
  message_meta: MessageMetaTable;
  receipts: ReceiptsTable;
  sends: SendsTable;
  reactions: ReactionsTable;
  chat_timers: ChatTimersTable;
  media: MediaTable;
  message_media: MessageMediaTable;
  graph_media: GraphMediaTable;
  businesses: BusinessesTable;
  business_numbers: BusinessNumbersTable;
  business_agents: BusinessAgentsTable;
  business_tokens: BusinessTokensTable;
  api_number_settings: ApiNumberSettingsTable;
  conversations: ConversationsTable;
  business_messages: BusinessMessagesTable;
  conversation_notes: ConversationNotesTable;
  business_outbox: BusinessOutboxTable;
  api_messages: ApiMessagesTable;
  message_events: MessageEventsTable;
  // Partners (migration 0027).
  partners: PartnersTable;
  partner_markups: PartnerMarkupsTable;
  partner_clients: PartnerClientsTable;
  partner_members: PartnerMembersTable;
  partner_revision: PartnerRevisionTable;
  // Subscriptions, consumer plan, receipts and notices (migration 0026).
  subscriptions: SubscriptionsTable;
  consumer_plans: ConsumerPlansTable;
  billing_settings: BillingSettingsTable;
  billing_receipts: BillingReceiptsTable;
  billing_notices: BillingNoticesTable;
  billing_accounts: BillingAccountsTable;
  billing_charges: BillingChargesTable;
  billing_usage_counters: BillingUsageCountersTable;
  billing_conversations: BillingConversationsTable;
  // The ledger (issue 6).
  ledger_accounts: LedgerAccountsTable;
  ledger_transfers: LedgerTransfersTable;
  // rate cards (issue 6)
  billing_rate_card_versions: BillingRateCardVersionsTable;
  billing_rate_card_prices: BillingRateCardPricesTable;
  billing_pricing_models: BillingPricingModelsTable;
  // billing: invoices
  invoices: InvoicesTable;
  invoice_lines: InvoiceLinesTable;
  tax_rates: TaxRatesTable;
  credit_notes: CreditNotesTable;
  credit_applications: CreditApplicationsTable;
  billing_number_counters: BillingNumberCountersTable;
  // end billing: invoices
  business_limits: BusinessLimitsTable;
  number_limits: NumberLimitsTable;
  marketing_opt_outs: MarketingOptOutsTable;
  templates: TemplatesTable;
  template_review_rules: TemplateReviewRulesTable;
  template_feedback: TemplateFeedbackTable;
  webhook_subscriptions: WebhookSubscriptionsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  plans: PlansTable;
  business_automations: BusinessAutomationsTable;
  keyword_rules: KeywordRulesTable;
  quick_replies: QuickRepliesTable;
  automation_sends: AutomationSendsTable;
  broadcast_lists: BroadcastListsTable;
  broadcast_list_members: BroadcastListMembersTable;
  broadcasts: BroadcastsTable;
  labels: LabelsTable;
  conversation_labels: ConversationLabelsTable;
  message_labels: MessageLabelsTable;
  short_links: ShortLinksTable;
  link_opens: LinkOpensTable;
  media_views: MediaViewsTable;
  chat_state: ChatStateTable;
  starred: StarredTable;
}
