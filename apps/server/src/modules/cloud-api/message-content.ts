/**
 * The content of a Business Messaging API send (`POST /{v}/{phone-number-id}/messages`), checked
 * as the Cloud API checks it and turned into what Parley stores and delivers. Pure: no I/O.
 *
 * Errors follow Meta's codes: a required field that is missing answers 131008, a field whose
 * value is not valid (type, length, range, format, duplicates) 131009, a message type or
 * interactive type Parley does not deliver 131051, and a field the type does not take, or a
 * `context`/`reaction` message id that is not a message of this server, 100. Every error says
 * which field in `error_data.details`. Keys the Cloud API does not define are ignored (client
 * libraries add their own, e.g. `recipient`), and never copied into the payload.
 *
 * ## The payload convention
 * A Business Messaging API message reaches the person as a Parley message whose payload is the
 * UTF-8 JSON object `{"type": "<cloud api type>", "<cloud api type>": {…}}`, where the inner
 * object is the Cloud API's, allowlisted, with media named by their Parley media id instead of
 * a Cloud API id or link: `{"media_id": "med_…", "mime_type", "sha256" (hex), "file_size",
 * "caption"?, "filename"?}`. The media ids also travel in the send's `media` field, which is
 * what gives the person the right to download them. Beside it, `"text"` carries the message's
 * readable text where it has one (a text's body, a media caption, an interactive body), so a
 * client that only knows Parley's text messages (`{"text": "…"}`) still shows something. A
 * text message is the one exception to the shape: `{"type": "text", "text": "<body>",
 * "preview_url"?}`, its body being that very `text`. A template is `{"type": "template",
 * "template": {…}}` as the templates part renders it. A
 * reaction is the Parley reaction act (kind `reaction`, `ref`), its payload `{"type":
 * "reaction", "reaction": {"emoji"}, "text": emoji}`, or empty to remove it.
 */
import { graphErrors } from './graph-error.js';
import { fromWamid } from './wamid.js';

export const CLOUD_MESSAGE_TYPES = [
  'text',
  'image',
  'audio',
  'video',
  'document',
  'sticker',
  'location',
  'contacts',
  'reaction',
  'interactive',
  'template',
] as const;
export type CloudMessageType = (typeof CLOUD_MESSAGE_TYPES)[number];

export const CLOUD_MEDIA_KINDS = ['image', 'audio', 'video', 'document', 'sticker'] as const;
export type CloudMediaKind = (typeof CLOUD_MEDIA_KINDS)[number];

/** The interactive types Parley delivers (the person's client renders them). */
export const INTERACTIVE_TYPES = [
  'button',
  'list',
  'cta_url',
  'product',
  'product_list',
  'catalog_message',
  'flow',
] as const;
export type InteractiveType = (typeof INTERACTIVE_TYPES)[number];

export const LIMITS = {
  textBody: 4096,
  caption: 1024,
  filename: 240,
  callbackData: 512,
  contacts: 5,
  headerText: 60,
  interactiveBody: 1024,
  footer: 60,
  buttons: 3,
  buttonId: 256,
  buttonTitle: 20,
  listButton: 20,
  sections: 10,
  listRows: 10,
  rowId: 200,
  rowTitle: 24,
  rowDescription: 72,
  sectionTitle: 24,
  productItems: 30,
  ctaDisplayText: 20,
  flowCta: 30,
  /** Parley's largest payload (protocol: 65,536 bytes decoded). */
  payloadBytes: 65_536,
} as const;

/** A media the send names: by the id of a Graph media, or by a link the server fetches. */
export interface MediaRef {
  /** Where it sits: the message itself, or the header of an interactive message or template. */
  slot: 'message' | 'header';
  kind: CloudMediaKind;
  source: { id: string } | { link: string };
}

/** What a media ref became once resolved (see graph-media.service.ts resolveMedia). */
export interface ResolvedMedia {
  /** Parley media id (`med_…`). */
  mediaId: string;
  mimeType: string;
  /** Hex SHA-256 of the content. */
  sha256: string;
  size: number;
}

export interface OutgoingMessage {
  type: CloudMessageType;
  /** `to` exactly as the client sent it (the success response echoes it as `input`). */
  to: string;
  /** The Parley send kind: a plain message, or a reaction act on `ref`. */
  kind: 'message' | 'reaction';
  /** Reactions: the Parley message reacted to. */
  ref?: string;
  /** `context.message_id` as a Parley message id: the message this one replies to. */
  replyTo?: string;
  /** `biz_opaque_callback_data`, echoed in status webhooks. */
  callbackData?: string;
  /**
   * The payload object (see the convention above), media still named by their Cloud API
   * source until `bindMedia`; null for an empty payload (a reaction removed).
   */
  content: Record<string, unknown> | null;
  /** Media to resolve before sending, in the order `bindMedia` expects them. */
  media: MediaRef[];
  /** `type: "template"`: the raw template object, for the templates part to check and render. */
  template?: Record<string, unknown>;
}

type Json = Record<string, unknown>;

const isRecord = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

const missing = (field: string) => graphErrors.missingParameter(`Parameter ${field} is required.`);
const bad = (field: string, why: string) => graphErrors.badValue(`Parameter ${field} ${why}.`);

/** Characters as people count them (a flag or a family emoji is one). */
const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
export function graphemeLength(s: string): number {
  let n = 0;
  for (const _ of segmenter.segment(s)) n++;
  return n;
}

function object(parent: Json, key: string, path: string): Json {
  const value = parent[key];
  if (value === undefined || value === null) throw missing(path);
  if (!isRecord(value)) throw bad(path, 'must be an object');
  return value;
}

function optionalObject(parent: Json, key: string, path: string): Json | undefined {
  const value = parent[key];
  if (value === undefined || value === null) return undefined;
  if (!isRecord(value)) throw bad(path, 'must be an object');
  return value;
}

/** A required string; `allowEmpty` false treats "" as missing. */
function str(parent: Json, key: string, path: string, max?: number, allowEmpty = false): string {
  const value = parent[key];
  if (value === undefined || value === null || (value === '' && !allowEmpty)) throw missing(path);
  if (typeof value !== 'string') throw bad(path, 'must be a string');
  if (max !== undefined && graphemeLength(value) > max) throw bad(path, `is limited to ${max} characters`);
  return value;
}

function optionalStr(parent: Json, key: string, path: string, max?: number): string | undefined {
  const value = parent[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw bad(path, 'must be a string');
  if (max !== undefined && graphemeLength(value) > max) throw bad(path, `is limited to ${max} characters`);
  return value;
}

function array(parent: Json, key: string, path: string, min: number, max: number): unknown[] {
  const value = parent[key];
  if (value === undefined || value === null) throw missing(path);
  if (!Array.isArray(value)) throw bad(path, 'must be an array');
  if (value.length < min) throw bad(path, `needs at least ${min} item${min === 1 ? '' : 's'}`);
  if (value.length > max) throw bad(path, `takes at most ${max} items`);
  return value;
}

function items(list: unknown[], path: string): Json[] {
  return list.map((item, i) => {
    if (!isRecord(item)) throw bad(`${path}[${i}]`, 'must be an object');
    return item;
  });
}

/** Copies the present string fields (checked as strings) of an allowlist. */
function pick(source: Json, keys: readonly string[], path: string): Json {
  const out: Json = {};
  for (const key of keys) {
    const value = optionalStr(source, key, `${path}.${key}`);
    if (value !== undefined) out[key] = value;
  }
  return out;
}

function refuseKey(source: Json, key: string, path: string): void {
  if (source[key] !== undefined) {
    throw graphErrors.invalidParameter(`Unexpected key "${key}" on param "${path}".`);
  }
}

function httpUrl(value: string, path: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw bad(path, 'must be an http(s) URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw bad(path, 'must be an http(s) URL');
  return value;
}

/** `{id}` or `{link}`, exactly one. */
function mediaSource(media: Json, path: string): MediaRef['source'] {
  const id = optionalStr(media, 'id', `${path}.id`);
  const link = optionalStr(media, 'link', `${path}.link`);
  if (id !== undefined && link !== undefined) {
    throw graphErrors.invalidParameter(`Parameter ${path} takes either id or link, not both.`);
  }
  if (id) return { id };
  if (link) return { link: httpUrl(link, `${path}.link`) };
  throw missing(`${path}.id or ${path}.link`);
}

function mediaContent(kind: CloudMediaKind, media: Json, path: string): Json {
  const out: Json = {};
  if (kind === 'image' || kind === 'video' || kind === 'document') {
    const caption = optionalStr(media, 'caption', `${path}.caption`, LIMITS.caption);
    if (caption !== undefined) out.caption = caption;
  } else {
    refuseKey(media, 'caption', path);
  }
  if (kind === 'document') {
    const filename = optionalStr(media, 'filename', `${path}.filename`, LIMITS.filename);
    if (filename !== undefined) {
      if (/[/\\\0]/.test(filename)) throw bad(`${path}.filename`, 'must be a file name, not a path');
      out.filename = filename;
    }
  } else {
    refuseKey(media, 'filename', path);
  }
  return out;
}

function coordinate(location: Json, key: 'latitude' | 'longitude', limit: number): number {
  const value = location[key];
  const path = `location.${key}`;
  if (value === undefined || value === null || value === '') throw missing(path);
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value.trim()) : Number.NaN;
  if (!Number.isFinite(n)) throw bad(path, 'must be a number');
  if (n < -limit || n > limit) throw bad(path, `must be between -${limit} and ${limit}`);
  return n;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
function isDate(value: string): boolean {
  const m = DATE.exec(value);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1;
}

function contact(c: Json, path: string): Json {
  const out: Json = {};
  const name = object(c, 'name', `${path}.name`);
  str(name, 'formatted_name', `${path}.name.formatted_name`);
  out.name = pick(
    name,
    ['formatted_name', 'first_name', 'last_name', 'middle_name', 'prefix', 'suffix'],
    `${path}.name`,
  );
  const lists = [
    ['phones', 'phone', ['phone', 'type', 'wa_id']],
    ['emails', 'email', ['email', 'type']],
    ['urls', 'url', ['url', 'type']],
    ['addresses', undefined, ['street', 'city', 'state', 'zip', 'country', 'country_code', 'type']],
  ] as const;
  for (const [key, required, fields] of lists) {
    if (c[key] === undefined || c[key] === null) continue;
    const list = items(array(c, key, `${path}.${key}`, 0, 20), `${path}.${key}`);
    out[key] = list.map((entry, i) => {
      if (required) str(entry, required, `${path}.${key}[${i}].${required}`);
      if (key === 'emails' && !/^[^\s@]+@[^\s@]+$/.test(entry.email as string)) {
        throw bad(`${path}.emails[${i}].email`, 'must be an email address');
      }
      return pick(entry, fields, `${path}.${key}[${i}]`);
    });
  }
  const org = optionalObject(c, 'org', `${path}.org`);
  if (org) out.org = pick(org, ['company', 'department', 'title'], `${path}.org`);
  const birthday = optionalStr(c, 'birthday', `${path}.birthday`);
  if (birthday !== undefined) {
    if (!isDate(birthday)) throw bad(`${path}.birthday`, 'must be a date as YYYY-MM-DD');
    out.birthday = birthday;
  }
  return out;
}

/** A single emoji (one grapheme that is a pictograph, a flag or a keycap), or "" to remove. */
const EMOJI = /^(?:\p{Extended_Pictographic}|\p{Regional_Indicator}|[#*0-9]\uFE0F?\u20E3)/u;
export function isSingleEmoji(s: string): boolean {
  return graphemeLength(s) === 1 && EMOJI.test(s);
}

function parleyMessageId(wamid: string, path: string): string {
  const id = fromWamid(wamid);
  if (!id) throw graphErrors.invalidParameter(`Parameter ${path} ${wamid} is not a message of this server.`);
  return id;
}

function interactive(body: Json, media: MediaRef[]): { content: Json; text?: string } {
  const inter = object(body, 'interactive', 'interactive');
  const type = str(inter, 'type', 'interactive.type');
  if (!(INTERACTIVE_TYPES as readonly string[]).includes(type)) {
    throw graphErrors.unsupportedType(
      `Interactive type "${type}" is not supported; use one of ${INTERACTIVE_TYPES.join(', ')}.`,
    );
  }
  const t = type as InteractiveType;
  const out: Json = { type: t };

  // Which header each type takes (Meta: product and catalog messages have none, lists and
  // multi-product messages only a text header, which a multi-product message requires).
  const headerRule: Record<InteractiveType, 'none' | 'text' | 'any'> = {
    button: 'any',
    list: 'text',
    cta_url: 'any',
    product: 'none',
    product_list: 'text',
    catalog_message: 'none',
    flow: 'any',
  };
  const header = optionalObject(inter, 'header', 'interactive.header');
  if (header) {
    if (headerRule[t] === 'none') {
      throw graphErrors.invalidParameter(`An interactive ${t} message takes no header.`);
    }
    const htype = str(header, 'type', 'interactive.header.type');
    if (htype === 'text') {
      const h: Json = {
        type: 'text',
        text: str(header, 'text', 'interactive.header.text', LIMITS.headerText),
      };
      const sub = optionalStr(header, 'sub_text', 'interactive.header.sub_text', LIMITS.headerText);
      if (sub !== undefined) h.sub_text = sub;
      out.header = h;
    } else if (htype === 'image' || htype === 'video' || htype === 'document') {
      if (headerRule[t] === 'text') {
        throw bad('interactive.header.type', `must be text for an interactive ${t} message`);
      }
      const m = object(header, htype, `interactive.header.${htype}`);
      media.push({ slot: 'header', kind: htype, source: mediaSource(m, `interactive.header.${htype}`) });
      const h: Json = { type: htype, [htype]: {} };
      if (htype === 'document') {
        const filename = optionalStr(m, 'filename', 'interactive.header.document.filename', LIMITS.filename);
        if (filename !== undefined) h[htype] = { filename };
      }
      out.header = h;
    } else {
      throw bad('interactive.header.type', 'must be text, image, video or document');
    }
  } else if (t === 'product_list') {
    throw missing('interactive.header');
  }

  const bodyObj = optionalObject(inter, 'body', 'interactive.body');
  let text: string | undefined;
  if (bodyObj) {
    text = str(bodyObj, 'text', 'interactive.body.text', LIMITS.interactiveBody);
    out.body = { text };
  } else if (t !== 'product') {
    throw missing('interactive.body');
  }
  const footer = optionalObject(inter, 'footer', 'interactive.footer');
  if (footer) out.footer = { text: str(footer, 'text', 'interactive.footer.text', LIMITS.footer) };

  const action = object(inter, 'action', 'interactive.action');
  out.action = interactiveAction(t, action);
  return text === undefined ? { content: out } : { content: out, text };
}

function unique(values: string[], path: string, what: string): void {
  const seen = new Set<string>();
  for (const v of values) {
    if (seen.has(v)) throw bad(path, `has two ${what} "${v}"; they must be unique`);
    seen.add(v);
  }
}

function interactiveAction(t: InteractiveType, action: Json): Json {
  const p = 'interactive.action';
  switch (t) {
    case 'button': {
      const buttons = items(array(action, 'buttons', `${p}.buttons`, 1, LIMITS.buttons), `${p}.buttons`);
      const out = buttons.map((b, i) => {
        const path = `${p}.buttons[${i}]`;
        const type = str(b, 'type', `${path}.type`);
        if (type !== 'reply') throw bad(`${path}.type`, 'must be "reply"');
        const reply = object(b, 'reply', `${path}.reply`);
        const id = str(reply, 'id', `${path}.reply.id`, LIMITS.buttonId);
        if (id.trim() !== id) throw bad(`${path}.reply.id`, 'must not start or end with spaces');
        const title = str(reply, 'title', `${path}.reply.title`, LIMITS.buttonTitle);
        return { type: 'reply', reply: { id, title } };
      });
      unique(
        out.map((b) => b.reply.id),
        `${p}.buttons`,
        'button ids',
      );
      unique(
        out.map((b) => b.reply.title),
        `${p}.buttons`,
        'button titles',
      );
      return { buttons: out };
    }
    case 'list': {
      const button = str(action, 'button', `${p}.button`, LIMITS.listButton);
      const sections = items(array(action, 'sections', `${p}.sections`, 1, LIMITS.sections), `${p}.sections`);
      let rows = 0;
      const out = sections.map((s, i) => {
        const path = `${p}.sections[${i}]`;
        const title =
          sections.length > 1
            ? str(s, 'title', `${path}.title`, LIMITS.sectionTitle)
            : optionalStr(s, 'title', `${path}.title`, LIMITS.sectionTitle);
        const list = items(array(s, 'rows', `${path}.rows`, 1, LIMITS.listRows), `${path}.rows`);
        rows += list.length;
        const section: Json = title === undefined ? {} : { title };
        section.rows = list.map((r, j) => {
          const row: Json = {
            id: str(r, 'id', `${path}.rows[${j}].id`, LIMITS.rowId),
            title: str(r, 'title', `${path}.rows[${j}].title`, LIMITS.rowTitle),
          };
          const description = optionalStr(
            r,
            'description',
            `${path}.rows[${j}].description`,
            LIMITS.rowDescription,
          );
          if (description !== undefined) row.description = description;
          return row;
        });
        return section;
      });
      if (rows > LIMITS.listRows) {
        throw bad(`${p}.sections`, `hold ${rows} rows; a list takes at most ${LIMITS.listRows} in all`);
      }
      unique(
        out.flatMap((s) => (s.rows as Json[]).map((r) => r.id as string)),
        `${p}.sections`,
        'row ids',
      );
      return { button, sections: out };
    }
    case 'cta_url': {
      if (action.name !== 'cta_url') throw bad(`${p}.name`, 'must be "cta_url"');
      const params = object(action, 'parameters', `${p}.parameters`);
      return {
        name: 'cta_url',
        parameters: {
          display_text: str(params, 'display_text', `${p}.parameters.display_text`, LIMITS.ctaDisplayText),
          url: httpUrl(str(params, 'url', `${p}.parameters.url`), `${p}.parameters.url`),
        },
      };
    }
    case 'product':
      return {
        catalog_id: str(action, 'catalog_id', `${p}.catalog_id`),
        product_retailer_id: str(action, 'product_retailer_id', `${p}.product_retailer_id`),
      };
    case 'product_list': {
      const catalog_id = str(action, 'catalog_id', `${p}.catalog_id`);
      const sections = items(array(action, 'sections', `${p}.sections`, 1, LIMITS.sections), `${p}.sections`);
      let count = 0;
      const out = sections.map((s, i) => {
        const path = `${p}.sections[${i}]`;
        const title =
          sections.length > 1
            ? str(s, 'title', `${path}.title`, LIMITS.sectionTitle)
            : optionalStr(s, 'title', `${path}.title`, LIMITS.sectionTitle);
        const products = items(
          array(s, 'product_items', `${path}.product_items`, 1, LIMITS.productItems),
          `${path}.product_items`,
        );
        count += products.length;
        const section: Json = title === undefined ? {} : { title };
        section.product_items = products.map((item, j) => ({
          product_retailer_id: str(
            item,
            'product_retailer_id',
            `${path}.product_items[${j}].product_retailer_id`,
          ),
        }));
        return section;
      });
      if (count > LIMITS.productItems) {
        throw bad(`${p}.sections`, `hold ${count} products; a message takes at most ${LIMITS.productItems}`);
      }
      return { catalog_id, sections: out };
    }
    case 'catalog_message': {
      if (action.name !== 'catalog_message') throw bad(`${p}.name`, 'must be "catalog_message"');
      const params = optionalObject(action, 'parameters', `${p}.parameters`);
      const thumb = params
        ? optionalStr(
            params,
            'thumbnail_product_retailer_id',
            `${p}.parameters.thumbnail_product_retailer_id`,
          )
        : undefined;
      return {
        name: 'catalog_message',
        ...(thumb === undefined ? {} : { parameters: { thumbnail_product_retailer_id: thumb } }),
      };
    }
    case 'flow': {
      // Passed through as sent: Parley has no Flows runtime, the person's client shows the
      // call to action and the business gets whatever the client answers.
      if (action.name !== 'flow') throw bad(`${p}.name`, 'must be "flow"');
      const params = object(action, 'parameters', `${p}.parameters`);
      str(params, 'flow_cta', `${p}.parameters.flow_cta`, LIMITS.flowCta);
      if (params.flow_id === undefined && params.flow_name === undefined) {
        throw missing(`${p}.parameters.flow_id or ${p}.parameters.flow_name`);
      }
      if (params.flow_id !== undefined && params.flow_name !== undefined) {
        throw graphErrors.invalidParameter('Parameters flow_id and flow_name cannot both be set.');
      }
      return { name: 'flow', parameters: params };
    }
  }
}

/**
 * Checks a send request and turns it into what Parley sends (see the header). Throws a
 * GraphError for anything Meta refuses. The recipient (`to`) is only checked to be there: the
 * caller resolves it.
 */
export function parseOutgoing(body: Record<string, unknown>): OutgoingMessage {
  if (body.messaging_product === undefined) throw missing('messaging_product');
  if (body.messaging_product !== 'whatsapp') throw bad('messaging_product', 'must be "whatsapp"');
  if (body.recipient_type !== undefined && body.recipient_type !== 'individual') {
    throw bad('recipient_type', 'can only be "individual" (group messaging is not supported)');
  }
  const to = str(body, 'to', 'to');
  if (to.trim() === '') throw missing('to');
  const rawType = body.type ?? 'text';
  if (typeof rawType !== 'string') throw bad('type', 'must be a string');
  if (!(CLOUD_MESSAGE_TYPES as readonly string[]).includes(rawType)) {
    throw graphErrors.unsupportedType(
      `Message type "${rawType}" is not supported; use one of ${CLOUD_MESSAGE_TYPES.join(', ')}.`,
    );
  }
  const type = rawType as CloudMessageType;

  const out: OutgoingMessage = { type, to, kind: 'message', content: null, media: [] };
  const callback = optionalStr(
    body,
    'biz_opaque_callback_data',
    'biz_opaque_callback_data',
    LIMITS.callbackData,
  );
  if (callback !== undefined) out.callbackData = callback;
  const context = optionalObject(body, 'context', 'context');
  if (context) {
    if (type === 'reaction') throw graphErrors.invalidParameter('A reaction takes no context.');
    out.replyTo = parleyMessageId(str(context, 'message_id', 'context.message_id'), 'context.message_id');
  }

  switch (type) {
    case 'text': {
      const text = object(body, 'text', 'text');
      const textBody = str(text, 'body', 'text.body', LIMITS.textBody);
      const preview = text.preview_url;
      if (preview !== undefined && typeof preview !== 'boolean') {
        throw bad('text.preview_url', 'must be a boolean');
      }
      // The one exception to `{"type", "<type>": {…}}`: `text` keeps its Parley meaning (the
      // string every client reads), so the Cloud API's `{body, preview_url}` is flattened.
      out.content = { type: 'text', text: textBody };
      if (preview !== undefined) out.content.preview_url = preview;
      break;
    }
    case 'image':
    case 'audio':
    case 'video':
    case 'document':
    case 'sticker': {
      const media = object(body, type, type);
      out.media.push({ slot: 'message', kind: type, source: mediaSource(media, type) });
      const inner = mediaContent(type, media, type);
      out.content = { type, [type]: inner };
      if (typeof inner.caption === 'string') out.content.text = inner.caption;
      break;
    }
    case 'location': {
      const location = object(body, 'location', 'location');
      const inner: Json = {
        latitude: coordinate(location, 'latitude', 90),
        longitude: coordinate(location, 'longitude', 180),
        ...pick(location, ['name', 'address'], 'location'),
      };
      out.content = { type, location: inner };
      break;
    }
    case 'contacts': {
      const list = items(array(body, 'contacts', 'contacts', 1, LIMITS.contacts), 'contacts');
      out.content = { type, contacts: list.map((c, i) => contact(c, `contacts[${i}]`)) };
      break;
    }
    case 'reaction': {
      const reaction = object(body, 'reaction', 'reaction');
      out.kind = 'reaction';
      out.ref = parleyMessageId(str(reaction, 'message_id', 'reaction.message_id'), 'reaction.message_id');
      if (reaction.emoji === undefined || reaction.emoji === null) throw missing('reaction.emoji');
      const emoji = str(reaction, 'emoji', 'reaction.emoji', undefined, true);
      if (emoji !== '' && !isSingleEmoji(emoji)) {
        throw bad('reaction.emoji', 'must be one emoji, or "" to remove the reaction');
      }
      out.content = emoji === '' ? null : { type, reaction: { emoji }, text: emoji };
      break;
    }
    case 'interactive': {
      const { content, text } = interactive(body, out.media);
      out.content = { type, interactive: content };
      if (text !== undefined) out.content.text = text;
      break;
    }
    case 'template': {
      const template = object(body, 'template', 'template');
      out.template = template;
      out.content = { type, template };
      break;
    }
  }
  if (out.content && Buffer.byteLength(JSON.stringify(out.content)) > LIMITS.payloadBytes) {
    throw graphErrors.badValue(`The message is larger than ${LIMITS.payloadBytes} bytes.`);
  }
  return out;
}

/**
 * The payload object with each media ref replaced by its resolved Parley media (same order as
 * `message.media`), and the media ids for the send's `media` field.
 */
export function bindMedia(
  message: Pick<OutgoingMessage, 'content' | 'media'>,
  resolved: readonly ResolvedMedia[],
): { content: Record<string, unknown> | null; mediaIds: string[] } {
  if (resolved.length !== message.media.length) {
    throw new Error(`bindMedia: ${message.media.length} media refs but ${resolved.length} resolved`);
  }
  if (!message.content || message.media.length === 0) {
    return { content: message.content, mediaIds: [] };
  }
  const content = structuredClone(message.content);
  message.media.forEach((ref, i) => {
    const media = resolved[i] as ResolvedMedia;
    // A header is an interactive message's, or a rendered template's.
    const holder =
      ref.slot === 'message'
        ? content
        : (((content.interactive ?? content.template) as Json | undefined)?.header as Json | undefined);
    if (!holder) throw new Error(`bindMedia: no ${ref.slot} for media ${i}`);
    const before = isRecord(holder[ref.kind]) ? (holder[ref.kind] as Json) : {};
    holder[ref.kind] = {
      media_id: media.mediaId,
      mime_type: media.mimeType,
      sha256: media.sha256,
      file_size: media.size,
      ...before,
    };
  });
  return { content, mediaIds: [...new Set(resolved.map((r) => r.mediaId))] };
}

/** The standard base64 payload of a content object ("" for none), as delivery takes it. */
export function encodePayload(content: Record<string, unknown> | null): string {
  return content ? Buffer.from(JSON.stringify(content), 'utf8').toString('base64') : '';
}
