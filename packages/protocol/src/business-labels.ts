/**
 * Wire shapes of business labels and short links (REST, under /api/v1/businesses/{id}/labels,
 * …/links, and the public /c/{code}).
 */

/**
 * The named label colors. A label's color is one of these names or any `#RRGGBB`; every view
 * also carries the resolved `hex`, so a client that knows no palette can still paint it.
 */
export const LABEL_PALETTE = {
  red: '#E53935',
  orange: '#FB8C00',
  yellow: '#FDD835',
  green: '#43A047',
  teal: '#00897B',
  blue: '#1E88E5',
  indigo: '#3949AB',
  purple: '#8E24AA',
  pink: '#D81B60',
  gray: '#757575',
} as const;
export type LabelPaletteColor = keyof typeof LABEL_PALETTE;

export const LABEL_NAME_MAX = 50;

export interface LabelView {
  label_id: string;
  name: string;
  /** A palette name (`blue`) or `#RRGGBB` (upper case), as set. */
  color: string;
  /** The color as `#RRGGBB`. */
  hex: string;
  /** Conversations and messages currently carrying the label. */
  conversation_count: number;
  message_count: number;
  created_at: string;
  updated_at: string;
}

/** The labels of one business message (answer of PUT/DELETE …/messages/{id}/labels/{label_id}). */
export interface MessageLabelsView {
  message_id: string;
  conversation_id: string;
  labels: string[];
}

export const LINK_TEXT_MAX = 1000;
/** Custom codes: 3 to 32 of a-z, 0-9 and `-`. */
export const LINK_CODE_PATTERN = /^[a-z0-9-]{3,32}$/;

export type LinkSource = 'link' | 'qr';

export interface LinkView {
  code: string;
  /** `<public base>/c/<code>`: what people open. */
  url: string;
  qr_png_url: string;
  qr_svg_url: string;
  /** The message prefilled in the person's composer. */
  text: string;
  phone_number_id: string;
  /** Conversations this link (or its QR code) started. */
  chats_started: number;
  created_at: string;
  updated_at: string;
}

/** What `GET /c/{code}` (JSON) and `POST /api/v1/links/{code}/open` answer. */
export interface LinkResolution {
  code: string;
  /** The business number the chat is with (E.164). */
  phone: string;
  business_name: string;
  verified: boolean;
  text: string;
  /** `parley://chat?phone=…&text=…`, for apps registered for the scheme. */
  chat_url: string;
}
