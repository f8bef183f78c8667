/**
 * Business labels and short links over REST: `client.business.labels` and
 * `client.business.links` for agents, `links.open` for a person following a link, and
 * `resolveLink` (no token) for what a link opens.
 */
import type {
  BusinessMessageView,
  ConversationView,
  LabelView,
  LinkResolution,
  LinkSource,
  LinkView,
  MessageLabelsView,
} from '@parley/protocol';
import { errorFromResponseBody, ParleyError } from './errors.js';
import type { FetchLike, Http } from './http.js';
import { normalizeBaseUrl } from './socket.js';

const enc = encodeURIComponent;
const business = (id: string) => `/businesses/${enc(id)}`;

export interface LabelInput {
  /** 1 to 50 characters, unique in the business ignoring case. */
  name: string;
  /** `#RRGGBB` or a palette name (LABEL_PALETTE); a palette color in turn when left out. */
  color?: string;
}

export interface PageOptions {
  /** Epoch milliseconds: only what is older. */
  before?: number;
  limit?: number;
}

function query(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

export function createLabelsApi(http: Pick<Http, 'request'>) {
  const label = (b: string, l: string) => `${business(b)}/labels/${enc(l)}`;
  return {
    list: async (businessId: string): Promise<LabelView[]> =>
      (await http.request<{ labels: LabelView[] }>('GET', `${business(businessId)}/labels`)).labels,
    create: (businessId: string, input: LabelInput) =>
      http.request<LabelView>('POST', `${business(businessId)}/labels`, input),
    /** Rename and/or recolor. */
    update: (businessId: string, labelId: string, patch: Partial<LabelInput>) =>
      http.request<LabelView>('PATCH', label(businessId, labelId), patch),
    /** Deletes the label; it comes off every conversation and message. */
    delete: async (businessId: string, labelId: string): Promise<void> => {
      await http.request<undefined>('DELETE', label(businessId, labelId));
    },
    applyToConversation: (businessId: string, conversationId: string, labelId: string) =>
      http.request<ConversationView>(
        'PUT',
        `${business(businessId)}/conversations/${enc(conversationId)}/labels/${enc(labelId)}`,
      ),
    removeFromConversation: (businessId: string, conversationId: string, labelId: string) =>
      http.request<ConversationView>(
        'DELETE',
        `${business(businessId)}/conversations/${enc(conversationId)}/labels/${enc(labelId)}`,
      ),
    applyToMessage: (businessId: string, messageId: string, labelId: string) =>
      http.request<MessageLabelsView>(
        'PUT',
        `${business(businessId)}/messages/${enc(messageId)}/labels/${enc(labelId)}`,
      ),
    removeFromMessage: (businessId: string, messageId: string, labelId: string) =>
      http.request<MessageLabelsView>(
        'DELETE',
        `${business(businessId)}/messages/${enc(messageId)}/labels/${enc(labelId)}`,
      ),
    /** The inbox filtered by the label, newest first. */
    conversations: async (
      businessId: string,
      labelId: string,
      page: PageOptions = {},
    ): Promise<ConversationView[]> =>
      (
        await http.request<{ conversations: ConversationView[] }>(
          'GET',
          `${business(businessId)}/conversations${query({ label: labelId, ...page })}`,
        )
      ).conversations,
    /** Messages carrying the label, newest first. */
    messages: async (
      businessId: string,
      labelId: string,
      page: PageOptions = {},
    ): Promise<BusinessMessageView[]> =>
      (
        await http.request<{ messages: BusinessMessageView[] }>(
          'GET',
          `${label(businessId, labelId)}/messages${query({ ...page })}`,
        )
      ).messages,
  };
}

export type LabelsApi = ReturnType<typeof createLabelsApi>;

export interface CreateLinkInput {
  /** The message prefilled in the person's composer (at most 1000 characters; may be empty). */
  text: string;
  /** Defaults to the business's first number. */
  phoneNumberId?: string;
  /** A custom code, 3 to 32 of a-z 0-9 -: a plan feature (custom_link_code). */
  code?: string;
}

export type ResolvedLink = LinkResolution & { source: LinkSource };

export interface ResolveLinkOptions {
  /** `qr` when the URL was scanned from the link's QR code (it carries `?src=qr`). */
  source?: LinkSource;
  fetch?: FetchLike;
}

/** What `<base>/c/<code>` opens: the business number, its name and badge, the prefilled text. No token needed. */
export async function resolveLink(
  baseUrl: string,
  code: string,
  options: ResolveLinkOptions = {},
): Promise<ResolvedLink> {
  const doFetch = options.fetch ?? globalThis.fetch;
  const path = `/c/${enc(code)}${options.source === 'qr' ? '?src=qr' : ''}`;
  let response: Response;
  let text: string;
  try {
    response = await doFetch(`${normalizeBaseUrl(baseUrl)}${path}`, {
      headers: { accept: 'application/json' },
    });
    text = await response.text();
  } catch (cause: unknown) {
    throw new ParleyError('NETWORK_ERROR', `GET ${path} failed: could not reach the server`, { cause });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause: unknown) {
    if (!response.ok) throw errorFromResponseBody(undefined, response.status);
    throw new ParleyError('PROTOCOL_ERROR', `GET ${path} answered with invalid JSON`, {
      status: response.status,
      cause,
    });
  }
  if (!response.ok) throw errorFromResponseBody(parsed, response.status);
  return parsed as ResolvedLink;
}

export function createLinksApi(
  http: Pick<Http, 'request'>,
  publicBase: { baseUrl: string; fetch?: FetchLike },
) {
  const link = (b: string, code: string) => `${business(b)}/links/${enc(code)}`;
  return {
    list: async (businessId: string): Promise<LinkView[]> =>
      (await http.request<{ links: LinkView[] }>('GET', `${business(businessId)}/links`)).links,
    get: (businessId: string, code: string) => http.request<LinkView>('GET', link(businessId, code)),
    /** Owners and admins. */
    create: (businessId: string, input: CreateLinkInput) =>
      http.request<LinkView>('POST', `${business(businessId)}/links`, {
        text: input.text,
        ...(input.phoneNumberId === undefined ? {} : { phone_number_id: input.phoneNumberId }),
        ...(input.code === undefined ? {} : { code: input.code }),
      }),
    /** Owners and admins: a new prefilled text and/or number; the code stays. */
    update: (businessId: string, code: string, patch: { text?: string; phoneNumberId?: string }) =>
      http.request<LinkView>('PATCH', link(businessId, code), {
        ...(patch.text === undefined ? {} : { text: patch.text }),
        ...(patch.phoneNumberId === undefined ? {} : { phone_number_id: patch.phoneNumberId }),
      }),
    delete: async (businessId: string, code: string): Promise<void> => {
      await http.request<undefined>('DELETE', link(businessId, code));
    },
    /** No token needed: see resolveLink. */
    resolve: (code: string, options: { source?: LinkSource } = {}) =>
      resolveLink(publicBase.baseUrl, code, {
        ...options,
        ...(publicBase.fetch ? { fetch: publicBase.fetch } : {}),
      }),
    /**
     * Call when the signed-in person follows a link (`source: 'qr'` for a scanned QR code): the
     * chat they start with the business within 24 hours counts as started by it.
     */
    open: (code: string, source: LinkSource = 'link') =>
      http.request<ResolvedLink>('POST', `/links/${enc(code)}/open`, { source }),
  };
}

export type LinksApi = ReturnType<typeof createLinksApi>;
