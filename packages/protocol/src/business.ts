/** Wire shapes of business accounts and the shared inbox (REST, under /api/v1/businesses). */

/** Business categories, as the Cloud API names them. */
export const BUSINESS_VERTICALS = [
  'UNDEFINED',
  'OTHER',
  'AUTO',
  'BEAUTY',
  'APPAREL',
  'EDU',
  'ENTERTAIN',
  'EVENT_PLAN',
  'FINANCE',
  'GROCERY',
  'GOVT',
  'HOTEL',
  'HEALTH',
  'NONPROFIT',
  'PROF_SERVICES',
  'RETAIL',
  'TRAVEL',
  'RESTAURANT',
  'NOT_A_BIZ',
] as const;
export type BusinessVertical = (typeof BUSINESS_VERTICALS)[number];

export interface OpeningInterval {
  /** Local wall-clock time, `HH:MM`. */
  open: string;
  /** `HH:MM` (or `24:00`); earlier than `open` runs past midnight. */
  close: string;
}

export interface OpeningHours {
  /** IANA time zone, e.g. `Europe/Berlin`. */
  time_zone: string;
  days: Partial<Record<'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun', OpeningInterval[]>>;
}

export interface BusinessProfile {
  about: string;
  description: string;
  address: string;
  email: string;
  /** At most 2. */
  websites: string[];
  vertical: BusinessVertical;
  hours: OpeningHours | null;
  /** Media id of the profile photo. */
  photo: string | null;
}

export interface BusinessNumberView {
  phone_number_id: string;
  phone: string;
  account_id: string;
}

export type AgentRole = 'owner' | 'admin' | 'agent';

/** A business as its agents see it. */
export interface BusinessView {
  business_id: string;
  waba_id: string;
  name: string;
  /** The operator verified the name: show the verified badge. */
  verified: boolean;
  profile: BusinessProfile;
  plan: string;
  retention_days: number;
  numbers: BusinessNumberView[];
  /** The role of the agent asking. */
  role: AgentRole;
  created_at: string;
}

/** What people see of a business on its number's profile (`business` in ProfileView). */
export interface BusinessPublicView {
  business_id: string;
  name: string;
  verified: boolean;
  /** Always true: the chat is with a business the platform hosts (it reads the messages). */
  hosted: true;
  profile: BusinessProfile;
  /**
   * Ice breakers the business set on this number (Business Messaging API
   * `conversational_automation`): suggested first messages a client may offer to tap.
   */
  ice_breakers?: string[];
  /** Commands the business answers (`/name`), to offer when the person types `/`. */
  commands?: { name: string; description: string }[];
}

/** `parley business create --json` and POST /api/v1/businesses. */
export interface BusinessCreatedView {
  business_id: string;
  waba_id: string;
  phone_number_id: string;
  /** Business Messaging API bearer token; shown once. */
  access_token: string;
  /** Signs webhook payloads; shown once. */
  app_secret: string;
}

/** An access token of the Business Messaging API, as listed (the token itself is shown only once). */
export interface ApiTokenView {
  token_id: string;
  name: string;
  /** The token's first characters, to recognise it by; null for tokens made before ids existed. */
  prefix: string | null;
  created_at: string;
  /** Within a minute or so: use is recorded at most once a minute per token. */
  last_used_at: string | null;
}

/** A new access token: `access_token` is shown this once and stored only hashed. */
export interface ApiTokenCreatedView extends ApiTokenView {
  access_token: string;
}

export interface AgentView {
  account_id: string;
  phone: string;
  display_name: string;
  role: AgentRole;
  added_at: string;
}

export type ConversationStatus = 'open' | 'pending' | 'closed';
export type EntryPoint = 'direct' | 'link' | 'qr' | 'catalog' | 'broadcast';

export interface ConversationView {
  conversation_id: string;
  business_id: string;
  phone_number_id: string;
  person: { account_id: string; phone: string; display_name: string };
  status: ConversationStatus;
  /** The agent (account id) the chat is assigned to. */
  assignee: string | null;
  unread: number;
  started_via: EntryPoint;
  labels: string[];
  created_at: string;
  last_message_at: string;
}

export interface BusinessMessageView {
  message_id: string;
  conversation_id: string;
  direction: 'in' | 'out';
  /** The person, the agent who wrote it, or `automation:<kind>`. */
  author: string;
  kind: string;
  text: string | null;
  payload: string;
  created_at: string;
  delivered_at: string | null;
  read_at: string | null;
}

export interface NoteView {
  note_id: string;
  conversation_id: string;
  author: string;
  text: string;
  created_at: string;
}
