/**
 * WebSocket frames of the Parley client protocol, version 1 (documented in docs/protocol.md).
 * Every frame is one JSON text message with a string `op`. Payloads are opaque bytes to the
 * server, carried as standard base64.
 */
import { z } from 'zod';
import type { ErrorCode } from './errors.js';

export const PROTOCOL_VERSION = 1;
/** Largest decoded payload of one message. */
export const MAX_PAYLOAD_BYTES = 64 * 1024;
/** Largest WebSocket frame the server reads; a bigger one closes the connection (1009). */
export const MAX_FRAME_BYTES = 128 * 1024;
/** Longest client message id. */
export const MAX_CLIENT_MESSAGE_ID = 64;

export const CLOSE_CODES = {
  normal: 1000,
  goingAway: 1001,
  policyViolation: 1008,
  frameTooLarge: 1009,
  /** The server could not serve the connection (storage down): reconnect later. */
  internalError: 1011,
  unauthenticated: 4401,
  displaced: 4409,
  rateLimited: 4429,
} as const;

const clientMessageId = z
  .string()
  .min(1)
  .max(MAX_CLIENT_MESSAGE_ID)
  .regex(/^[A-Za-z0-9._:-]+$/, 'letters, digits and . _ : - only');

// Base64 length check before decoding: 64 KiB decodes from at most 87,384 characters.
const payload = z
  .string()
  .max(Math.ceil(MAX_PAYLOAD_BYTES / 3) * 4, 'payload exceeds 64 KiB')
  .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'payload must be standard base64');

export const helloFrame = z.object({
  op: z.literal('hello'),
  token: z.string().min(1).max(200),
  v: z.literal(PROTOCOL_VERSION).optional(),
});

/** Most media one message may carry (an album). */
export const MAX_MEDIA_PER_MESSAGE = 10;

const messageRef = z.string().min(1).max(64);

export const SEND_KINDS = ['message', 'reaction', 'edit', 'delete'] as const;
export type SendKind = (typeof SEND_KINDS)[number];

export const sendFrame = z.object({
  op: z.literal('send'),
  /** Client message id: a retry with the same id never creates a second message. */
  id: clientMessageId,
  /** Recipient: an E.164 phone number, an account id (`acc_…`) or a group id (`grp_…`). */
  to: z.string().min(2).max(64),
  payload,
  /**
   * `message` (default), or an act on the earlier message `ref` of the same chat: `reaction`
   * (the payload holds the reaction; an empty payload removes it), `edit` (the payload is the
   * new content) or `delete` (for everyone; empty payload).
   */
  kind: z.enum(SEND_KINDS).optional(),
  ref: messageRef.optional(),
  /** The message of the same chat this one replies to (the quote itself is in the payload). */
  reply_to: messageRef.optional(),
  /** The received or sent message whose content this one forwards. */
  forward_of: messageRef.optional(),
  /** Uploaded media (`med_…`) the message carries. */
  media: z.array(z.string().min(1).max(64)).min(1).max(MAX_MEDIA_PER_MESSAGE).optional(),
  /** The media can be opened once by each recipient. */
  view_once: z.boolean().optional(),
});

export const ackFrame = z.object({
  op: z.literal('ack'),
  /** Cumulative: acknowledges every envelope of this device with a sequence ≤ seq. */
  seq: z.number().int().positive(),
});

export const pingFrame = z.object({
  op: z.literal('ping'),
  t: z.number().optional(),
});

/** Typing indicator: ephemeral, never stored; reaches only devices connected right now. */
export const typingFrame = z.object({
  op: z.literal('typing'),
  /** E.164 phone number, account id or group id. */
  to: z.string().min(2).max(64),
  state: z.enum(['composing', 'paused']),
});

/** Subscribe to an account's online status and last seen (while this connection lasts). */
export const presenceFrame = z.object({
  op: z.literal('presence'),
  /** E.164 phone number or account id. */
  to: z.string().min(2).max(64),
});

/** Delivered or read receipts for messages this device received (up to 256 ids). */
export const receiptFrame = z.object({
  op: z.literal('receipt'),
  type: z.enum(['delivered', 'read']),
  message_ids: z.array(z.string().min(1).max(64)).min(1).max(256),
});

export const clientFrame = z.discriminatedUnion('op', [
  helloFrame,
  sendFrame,
  ackFrame,
  pingFrame,
  typingFrame,
  presenceFrame,
  receiptFrame,
]);
export const CLIENT_OPS = ['hello', 'send', 'ack', 'ping', 'typing', 'presence', 'receipt'] as const;

export type HelloFrame = z.infer<typeof helloFrame>;
export type SendFrame = z.infer<typeof sendFrame>;
export type AckFrame = z.infer<typeof ackFrame>;
export type PingFrame = z.infer<typeof pingFrame>;
export type TypingFrame = z.infer<typeof typingFrame>;
export type ClientFrame = z.infer<typeof clientFrame>;

export interface WelcomeFrame {
  op: 'welcome';
  v: number;
  account_id: string;
  device_id: string;
  /** The server pings every heartbeat_ms; clients without ping access send `ping` frames as often. */
  heartbeat_ms: number;
  max_payload_bytes: number;
}

/** The server's durable acknowledgement of a send: the message is committed to storage. */
export interface SentFrame {
  op: 'sent';
  id: string;
  message_id: string;
  sent_at: number;
  /** True when this client message id was seen before; message_id is the original one. */
  duplicate: boolean;
}

/** One envelope from this device's queue. Deliver in `seq` order; ack with the highest seq handled. */
export interface MessageFrame {
  op: 'msg';
  seq: number;
  message_id: string;
  from: string;
  from_account: string;
  from_device: string;
  /**
   * The chat this message belongs to, from this device's point of view: the sender's account
   * id for a message received; the addressed account id for a copy of a message one of this
   * account's other devices sent.
   */
  chat: string;
  /**
   * `message` (from a person; payload as sent), `event` (a system event made by the server,
   * e.g. group membership; payload is base64 of its JSON, `{"type":"group.members_added",…}`),
   * or an act on the earlier message `ref`: `reaction`, `edit` or `delete`.
   */
  kind: MessageKind;
  sent_at: number;
  payload: string;
  /** The message a reaction, edit or delete acts on. */
  ref?: string;
  /** The message this one replies to. */
  reply_to?: string;
  /** Forwarding hops behind this content (1 = forwarded once). */
  forwarded?: number;
  /** Forwarded 5 times or more ("forwarded many times"). */
  forwarded_many?: true;
  /** Media ids to download with GET /api/v1/media/{id}. */
  media?: string[];
  view_once?: true;
  /** The chat has disappearing messages on: delete this message at this time (epoch ms). */
  disappears_at?: number;
}

export type MessageKind = 'message' | 'event' | 'reaction' | 'edit' | 'delete';

/** The optional fields of a `msg` frame, as stored with each envelope. */
export type MessageExtra = Pick<
  MessageFrame,
  'ref' | 'reply_to' | 'forwarded' | 'forwarded_many' | 'media' | 'view_once' | 'disappears_at'
>;

/** Everything queued for this device when it connected has been sent (live messages follow). */
export interface SyncedFrame {
  op: 'synced';
}

/** Someone is typing in a chat (ephemeral: no seq, no ack). */
export interface TypingEventFrame {
  op: 'typing';
  /** The chat, from this device's point of view: the typist's account id, or the group id. */
  chat: string;
  from: string;
  from_account: string;
  state: 'composing' | 'paused';
}

/** An account's presence as this viewer may see it (now, and again on every change). */
export interface PresenceEventFrame {
  op: 'presence';
  account_id: string;
  online: boolean | null;
  last_seen: string | null;
}

export interface PongFrame {
  op: 'pong';
  t?: number;
}

export interface ErrorFrame {
  op: 'error';
  code: ErrorCode;
  message: string;
  /** The client message id of the send this error answers, when it answers one. */
  id?: string;
  details?: Record<string, unknown>;
}

export type ServerFrame =
  | WelcomeFrame
  | SentFrame
  | MessageFrame
  | SyncedFrame
  | PongFrame
  | TypingEventFrame
  | PresenceEventFrame
  | ErrorFrame;
