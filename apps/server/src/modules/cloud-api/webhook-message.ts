/**
 * A message a person sent to a business number, as the Cloud API puts it in a `messages`
 * webhook's `value.messages[]` (Meta's `IncomingMessage` shapes). Pure: the caller has the
 * message, its decoded payload and the Graph ids of its media.
 *
 * What a person's client puts in the payload is documented in docs/protocol.md (Business
 * messages): Parley's plain `{"text"}` (with `media` for images, files, …), or the typed
 * convention of message-content.ts (`{"type": "interactive", "interactive": {"type":
 * "button_reply", …}}` to answer a button, and so on). Anything this cannot map goes out as
 * `type: "unsupported"` with error 131051, as the Cloud API does for message types it does not
 * support, so the business still learns that the person wrote.
 */
import { CLOUD_MEDIA_KINDS, type CloudMediaKind } from './message-content.js';
import { toWamid } from './wamid.js';

export interface InboundMedia {
  /** The numeric Graph media id (graphMediaIdFor). */
  graphId: string;
  mime_type: string;
  /** Hex SHA-256 of the content (Parley's); the webhook carries it base64 as Meta does. */
  sha256: string;
  caption?: string;
  filename?: string;
}

export interface InboundMessageInput {
  messageId: string;
  /** E.164 of the person. */
  fromPhone: string;
  /** ms */
  sentAt: number;
  kind: 'message' | 'reaction' | 'edit' | 'delete';
  /** The message a reaction, edit or delete acts on. */
  ref?: string;
  /** The message this one replies to, and the E.164 of who sent that one. */
  replyTo?: string;
  replyToFrom?: string;
  forwarded?: boolean;
  forwardedMany?: boolean;
  /** The decoded JSON payload, or its raw text when it is not JSON (or null when empty). */
  payload: unknown;
  media?: InboundMedia[];
}

type Json = Record<string, unknown>;
export type WebhookMessage = Json & { from: string; id: string; timestamp: string; type: string };

const isRecord = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const digits = (phone: string) => phone.replace(/\D/g, '');

/** Hex SHA-256 → base64, the form Meta's webhooks carry. */
export function sha256Base64(hex: string): string {
  return /^[0-9a-f]{64}$/i.test(hex) ? Buffer.from(hex, 'hex').toString('base64') : hex;
}

function unsupported(details: string): Json {
  return {
    type: 'unsupported',
    errors: [
      {
        code: 131051,
        title: 'Message type unknown',
        message: 'Message type unknown',
        error_data: { details },
      },
    ],
  };
}

function copyStrings(source: Json, keys: readonly string[]): Json {
  const out: Json = {};
  for (const key of keys) {
    const value = str(source[key]);
    if (value !== undefined) out[key] = value;
  }
  return out;
}

/** The kind of media a mime type is when the payload does not say. */
function kindOfMime(mime: string): CloudMediaKind {
  if (mime === 'image/webp') return 'sticker';
  if (mime.startsWith('image/')) return 'image';
  if (mime.startsWith('video/')) return 'video';
  if (mime.startsWith('audio/')) return 'audio';
  return 'document';
}

function mediaBody(kind: CloudMediaKind, media: InboundMedia, inner: Json, text: string | undefined): Json {
  const out: Json = {};
  const caption = str(inner.caption) ?? media.caption ?? text;
  if (
    caption !== undefined &&
    caption !== '' &&
    (kind === 'image' || kind === 'video' || kind === 'document')
  ) {
    out.caption = caption;
  }
  out.mime_type = media.mime_type;
  out.sha256 = sha256Base64(media.sha256);
  out.id = media.graphId;
  if (kind === 'document') out.filename = str(inner.filename) ?? media.filename ?? 'document';
  if (kind === 'audio') out.voice = inner.voice === true;
  if (kind === 'sticker') out.animated = inner.animated === true;
  return out;
}

function contactOf(c: Json): Json {
  const out: Json = {};
  if (isRecord(c.name)) {
    out.name = copyStrings(c.name, [
      'formatted_name',
      'first_name',
      'last_name',
      'middle_name',
      'prefix',
      'suffix',
    ]);
  }
  const lists = [
    ['phones', ['phone', 'wa_id', 'type']],
    ['emails', ['email', 'type']],
    ['urls', ['url', 'type']],
    ['addresses', ['street', 'city', 'state', 'zip', 'country', 'country_code', 'type']],
  ] as const;
  for (const [key, fields] of lists) {
    const list = c[key];
    if (Array.isArray(list)) out[key] = list.filter(isRecord).map((e) => copyStrings(e, fields));
  }
  if (isRecord(c.org)) out.org = copyStrings(c.org, ['company', 'department', 'title']);
  if (typeof c.birthday === 'string') out.birthday = c.birthday;
  return out;
}

function finiteNumber(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN;
  return Number.isFinite(n) ? n : undefined;
}

/** The type-specific part of a plain message (`type` and its object). */
function body(input: InboundMessageInput): Json {
  const media = input.media ?? [];
  const payload = input.payload;
  if (typeof payload === 'string') {
    return payload === '' ? unsupported('The message is empty.') : { type: 'text', text: { body: payload } };
  }
  if (!isRecord(payload)) return unsupported('The message has no content this API can show.');
  const text = str(payload.text);
  const type = str(payload.type);

  if (type === undefined || type === 'text') {
    const first = media[0];
    if (first) {
      const kind = kindOfMime(first.mime_type);
      return { type: kind, [kind]: mediaBody(kind, first, {}, text) };
    }
    if (text !== undefined && text !== '') return { type: 'text', text: { body: text } };
    return unsupported('The message has no content this API can show.');
  }

  if ((CLOUD_MEDIA_KINDS as readonly string[]).includes(type)) {
    const kind = type as CloudMediaKind;
    const first = media[0];
    if (!first) return unsupported(`The ${kind} message carries no media.`);
    const inner = isRecord(payload[kind]) ? (payload[kind] as Json) : {};
    return { type: kind, [kind]: mediaBody(kind, first, inner, text) };
  }

  switch (type) {
    case 'location': {
      const loc = isRecord(payload.location) ? payload.location : {};
      const latitude = finiteNumber(loc.latitude);
      const longitude = finiteNumber(loc.longitude);
      if (latitude === undefined || longitude === undefined)
        return unsupported('The location has no coordinates.');
      // Meta's schema lists name and address as always present: empty when the person sent a
      // dropped pin rather than a named place.
      const out: Json = {
        latitude,
        longitude,
        name: str(loc.name) ?? '',
        address: str(loc.address) ?? '',
      };
      const url = str(loc.url);
      if (url !== undefined) out.url = url;
      return { type: 'location', location: out };
    }
    case 'contacts': {
      const list = Array.isArray(payload.contacts) ? payload.contacts.filter(isRecord) : [];
      if (list.length === 0) return unsupported('The contacts message holds no contact.');
      return { type: 'contacts', contacts: list.map(contactOf) };
    }
    case 'interactive': {
      const inter = isRecord(payload.interactive) ? payload.interactive : {};
      const itype = str(inter.type);
      if (itype === 'button_reply' && isRecord(inter.button_reply)) {
        const reply = inter.button_reply;
        const id = str(reply.id);
        const title = str(reply.title);
        if (id === undefined || title === undefined)
          return unsupported('The button reply has no id or title.');
        return { type: 'interactive', interactive: { type: 'button_reply', button_reply: { id, title } } };
      }
      if (itype === 'list_reply' && isRecord(inter.list_reply)) {
        const reply = inter.list_reply;
        const id = str(reply.id);
        const title = str(reply.title);
        if (id === undefined || title === undefined) return unsupported('The list reply has no id or title.');
        return {
          type: 'interactive',
          interactive: {
            type: 'list_reply',
            list_reply: { id, title, description: str(reply.description) ?? '' },
          },
        };
      }
      if (itype === 'nfm_reply' && isRecord(inter.nfm_reply)) {
        const reply = inter.nfm_reply;
        const json = reply.response_json;
        const out: Json = {
          name: str(reply.name) ?? 'flow',
          response_json: typeof json === 'string' ? json : JSON.stringify(json ?? {}),
        };
        const replyBody = str(reply.body);
        if (replyBody !== undefined) out.body = replyBody;
        return { type: 'interactive', interactive: { type: 'nfm_reply', nfm_reply: out } };
      }
      return unsupported(`Interactive reply type "${itype ?? ''}" is not supported.`);
    }
    case 'button': {
      const button = isRecord(payload.button) ? payload.button : {};
      const buttonPayload = str(button.payload);
      const buttonText = str(button.text) ?? buttonPayload;
      if (buttonPayload === undefined || buttonText === undefined) {
        return unsupported('The button reply has no payload.');
      }
      return { type: 'button', button: { payload: buttonPayload, text: buttonText } };
    }
    case 'order': {
      const order = isRecord(payload.order) ? payload.order : {};
      const catalog = str(order.catalog_id);
      const products = Array.isArray(order.product_items) ? order.product_items.filter(isRecord) : [];
      const items = products.flatMap((p) => {
        const id = str(p.product_retailer_id);
        const quantity = finiteNumber(p.quantity);
        const price = finiteNumber(p.item_price);
        const currency = str(p.currency);
        if (id === undefined || quantity === undefined || price === undefined || currency === undefined)
          return [];
        return [{ product_retailer_id: id, quantity, item_price: price, currency }];
      });
      if (catalog === undefined || items.length === 0 || items.length !== products.length) {
        return unsupported('The order is incomplete.');
      }
      return {
        type: 'order',
        order: { catalog_id: catalog, text: str(order.text) ?? '', product_items: items },
      };
    }
    default:
      return unsupported(`Message type "${type}" is not supported.`);
  }
}

/**
 * The Cloud API inbound message object of a person's message (see the header). The API
 * observer puts it in `value.messages[]` beside `contacts[{profile, wa_id}]`.
 */
export function toWebhookMessage(input: InboundMessageInput): WebhookMessage {
  const head = {
    from: digits(input.fromPhone),
    id: toWamid(input.messageId),
    timestamp: String(Math.floor(input.sentAt / 1000)),
  };
  let rest: Json;
  if (input.kind === 'reaction') {
    if (!input.ref) {
      rest = unsupported('The reaction names no message.');
    } else {
      const payload = input.payload;
      // Parley's reaction payload is `{"text": "👍"}` (SDK) or the typed convention; an empty
      // payload removes the reaction, which the Cloud API sends with an empty emoji.
      const emoji = isRecord(payload)
        ? (str(isRecord(payload.reaction) ? payload.reaction.emoji : undefined) ?? str(payload.text) ?? '')
        : typeof payload === 'string'
          ? payload
          : '';
      rest = { type: 'reaction', reaction: { message_id: toWamid(input.ref), emoji } };
    }
  } else if (input.kind === 'edit') {
    rest = unsupported('Message edits are not supported by this API.');
  } else if (input.kind === 'delete') {
    rest = unsupported('Deleted messages are not supported by this API.');
  } else {
    rest = body(input);
  }

  const context: Json = {};
  if (input.replyTo && input.kind === 'message') {
    if (input.replyToFrom) context.from = digits(input.replyToFrom);
    context.id = toWamid(input.replyTo);
  }
  if (input.forwarded || input.forwardedMany) context.forwarded = true;
  if (input.forwardedMany) context.frequently_forwarded = true;

  const type = rest.type as string;
  const out: WebhookMessage = { ...head, type, ...rest };
  if (Object.keys(context).length > 0) out.context = context;
  return out;
}
