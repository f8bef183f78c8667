/** zod shapes of the business REST edge (requests and answers). */
import { BUSINESS_VERTICALS } from '@parley/protocol';
import { z } from 'zod';

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'HH:MM (00:00 to 24:00)');
export const openingHoursShape = z.object({
  time_zone: z.string().min(1).max(64),
  days: z
    .object({
      mon: z.array(z.object({ open: hhmm, close: hhmm })).max(8),
      tue: z.array(z.object({ open: hhmm, close: hhmm })).max(8),
      wed: z.array(z.object({ open: hhmm, close: hhmm })).max(8),
      thu: z.array(z.object({ open: hhmm, close: hhmm })).max(8),
      fri: z.array(z.object({ open: hhmm, close: hhmm })).max(8),
      sat: z.array(z.object({ open: hhmm, close: hhmm })).max(8),
      sun: z.array(z.object({ open: hhmm, close: hhmm })).max(8),
    })
    .partial(),
});

export const profileShape = z.object({
  about: z.string(),
  description: z.string(),
  address: z.string(),
  email: z.string(),
  websites: z.array(z.string()),
  vertical: z.enum(BUSINESS_VERTICALS),
  hours: openingHoursShape.nullable(),
  photo: z.string().nullable(),
});

export const profilePatch = z
  .object({
    name: z.string().trim().min(1).max(128),
    about: z.string().max(139),
    description: z.string().max(512),
    address: z.string().max(256),
    email: z.union([z.string().email().max(128), z.literal('')]),
    websites: z
      .array(
        z
          .string()
          .url()
          .max(256)
          .regex(/^https?:\/\//, 'http or https'),
      )
      .max(2),
    vertical: z.enum(BUSINESS_VERTICALS),
    // Checked by the service (time zone, intervals), so bad hours answer AUTOMATION_SCHEDULE_INVALID.
    hours: z.record(z.string(), z.unknown()).nullable(),
    photo: z.string().min(1).max(64).nullable(),
    retention_days: z.number().int().min(1).max(3650).describe('how long the inbox keeps messages'),
  })
  .partial()
  .strict();

export const businessView = z.object({
  business_id: z.string(),
  waba_id: z.string(),
  name: z.string(),
  verified: z.boolean(),
  profile: profileShape,
  plan: z.string(),
  retention_days: z.number(),
  numbers: z.array(z.object({ phone_number_id: z.string(), phone: z.string(), account_id: z.string() })),
  role: z.enum(['owner', 'admin', 'agent']),
  created_at: z.string(),
});

export const createdView = z.object({
  business_id: z.string(),
  waba_id: z.string(),
  phone_number_id: z.string(),
  access_token: z.string(),
  app_secret: z.string(),
});

export const agentView = z.object({
  account_id: z.string(),
  phone: z.string(),
  display_name: z.string(),
  role: z.enum(['owner', 'admin', 'agent']),
  added_at: z.string(),
});

export const conversationView = z.object({
  conversation_id: z.string(),
  business_id: z.string(),
  phone_number_id: z.string(),
  person: z.object({ account_id: z.string(), phone: z.string(), display_name: z.string() }),
  status: z.enum(['open', 'pending', 'closed']),
  assignee: z.string().nullable(),
  unread: z.number(),
  started_via: z.enum(['direct', 'link', 'qr', 'catalog', 'broadcast']),
  labels: z.array(z.string()),
  created_at: z.string(),
  last_message_at: z.string(),
});

export const messageView = z.object({
  message_id: z.string(),
  conversation_id: z.string(),
  direction: z.enum(['in', 'out']),
  author: z.string(),
  kind: z.string(),
  text: z.string().nullable(),
  payload: z.string(),
  created_at: z.string(),
  delivered_at: z.string().nullable(),
  read_at: z.string().nullable(),
});

export const noteView = z.object({
  note_id: z.string(),
  conversation_id: z.string(),
  author: z.string(),
  text: z.string(),
  created_at: z.string(),
});

export const businessParams = z.object({ business_id: z.string().min(5).max(64) });
export const conversationParams = businessParams.extend({ conversation_id: z.string().min(5).max(64) });
