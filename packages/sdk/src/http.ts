/**
 * The REST half of the SDK: a fetch wrapper that turns non-2xx answers into ParleyErrors, the two
 * sign-in calls (which need no token) and the signed-in account calls.
 */
import type {
  ContactMatch,
  DeviceView,
  DisappearingTimer,
  DisappearingView,
  GroupView,
  LinkCodeResponse,
  LinkDeviceResponse,
  MessageReceiptsView,
  PresenceView,
  PrivacySettings,
  ProfileView,
  RequestCodeResponse,
  VerifyCodeResponse,
} from '@parley/protocol';
import { createBusinessApi } from './business.js';
import { createBusinessStatsApi } from './business-stats.js';
import { createChatsApi } from './chats.js';
import { errorFromResponseBody, ParleyError } from './errors.js';
import { createMediaApi } from './media.js';
import { normalizeBaseUrl } from './socket.js';

export type FetchLike = typeof fetch;

export interface HttpOptions {
  baseUrl: string;
  token?: string;
  /** Defaults to the global fetch; pass one to add proxies, logging or a test double. */
  fetch?: FetchLike;
}

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

export function createHttp(options: HttpOptions) {
  const base = normalizeBaseUrl(options.baseUrl);

  /**
   * One JSON request under `/api/v1`. The response type is trusted rather than validated: the
   * shapes come from the shared protocol package the server presents with.
   */
  async function request<T>(method: HttpMethod, path: string, body?: unknown): Promise<T> {
    const doFetch = options.fetch ?? globalThis.fetch;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    let response: Response;
    let text: string;
    try {
      // Called as a plain function: browsers throw "Illegal invocation" if fetch's `this` is not window.
      response = await doFetch(`${base}/api/v1${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      text = await response.text();
    } catch (cause: unknown) {
      throw new ParleyError('NETWORK_ERROR', `${method} ${path} failed: could not reach the server`, {
        cause,
      });
    }
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch (cause: unknown) {
      if (!response.ok) throw errorFromResponseBody(undefined, response.status);
      throw new ParleyError('PROTOCOL_ERROR', `${method} ${path} answered with invalid JSON`, {
        status: response.status,
        cause,
      });
    }
    if (!response.ok) throw errorFromResponseBody(parsed, response.status);
    return parsed as T;
  }

  /**
   * One request whose body or answer is not JSON (media uploads and downloads). Answers the
   * Response of a 2xx; anything else becomes the server's ParleyError.
   */
  async function raw(method: HttpMethod, path: string, body?: FormData): Promise<Response> {
    const doFetch = options.fetch ?? globalThis.fetch;
    const headers: Record<string, string> = {};
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    let response: Response;
    try {
      // fetch sets the multipart Content-Type (with its boundary) for a FormData body.
      response = await doFetch(`${base}/api/v1${path}`, { method, headers, ...(body ? { body } : {}) });
    } catch (cause: unknown) {
      throw new ParleyError('NETWORK_ERROR', `${method} ${path} failed: could not reach the server`, {
        cause,
      });
    }
    if (response.ok) return response;
    let parsed: unknown;
    try {
      parsed = JSON.parse(await response.text());
    } catch {
      // No readable error body: the status alone says what went wrong.
      parsed = undefined;
    }
    throw errorFromResponseBody(parsed, response.status);
  }

  return { request, raw };
}

export type Http = ReturnType<typeof createHttp>;

export interface AuthCallOptions {
  fetch?: FetchLike;
}

/** Asks the server to text a one-time code to `phone` (E.164). */
export function requestCode(
  baseUrl: string,
  phone: string,
  options: AuthCallOptions = {},
): Promise<RequestCodeResponse> {
  return createHttp({ baseUrl, ...options }).request('POST', '/auth/code', { phone });
}

export interface VerifyCodeInput {
  phone: string;
  code: string;
  /** Shown in the account's device list, e.g. "Firefox on Linux". */
  deviceName?: string;
}

/** Trades a one-time code for a device token (creating the account on first sign-in). */
export function verifyCode(
  baseUrl: string,
  input: VerifyCodeInput,
  options: AuthCallOptions = {},
): Promise<VerifyCodeResponse> {
  const body = {
    phone: input.phone,
    code: input.code,
    ...(input.deviceName ? { device_name: input.deviceName } : {}),
  };
  return createHttp({ baseUrl, ...options }).request('POST', '/auth/verify', body);
}

export interface LinkDeviceInput {
  /** The code shown on the primary device (XXXX-XXXX), or its QR payload `parley:link:…`. */
  code: string;
  deviceName?: string;
}

/** Links this device as a companion of the account whose primary showed the code. */
export function linkDevice(
  baseUrl: string,
  input: LinkDeviceInput,
  options: AuthCallOptions = {},
): Promise<LinkDeviceResponse> {
  const body = { code: input.code, ...(input.deviceName ? { device_name: input.deviceName } : {}) };
  return createHttp({ baseUrl, ...options }).request('POST', '/devices/link', body);
}

export interface UpdateProfileInput {
  displayName?: string;
  about?: string;
  /** An image you uploaded (`client.media.upload`), or null to remove the photo. */
  photo?: string | null;
}

export interface LogoutResponse {
  /** Device ids whose tokens were revoked. */
  logged_out: string[];
}

/** The calls that need a device token. */
export function createAccountApi(http: Pick<Http, 'request' | 'raw'>) {
  return {
    me: () => http.request<ProfileView>('GET', '/me'),
    /** `version`: the account's state version after the change (absent when nothing changed). */
    updateProfile(input: UpdateProfileInput): Promise<ProfileView & { version?: number }> {
      const body: { display_name?: string; about?: string; photo?: string | null } = {};
      if (input.displayName !== undefined) body.display_name = input.displayName;
      if (input.about !== undefined) body.about = input.about;
      if (input.photo !== undefined) body.photo = input.photo;
      return http.request('PATCH', '/me', body);
    },
    /** By account id (`acc_…`) or E.164 phone number. */
    getProfile: (idOrPhone: string) =>
      http.request<ProfileView>('GET', `/accounts/${encodeURIComponent(idOrPhone)}`),
    listDevices: async (): Promise<DeviceView[]> =>
      (await http.request<{ devices: DeviceView[] }>('GET', '/devices')).devices,
    /** Primary device only: a short-lived code (and QR payload) to link a companion. */
    createLinkCode: () => http.request<LinkCodeResponse>('POST', '/devices/link-codes'),
    logoutDevice: (deviceId: string) =>
      http.request<LogoutResponse>('DELETE', `/devices/${encodeURIComponent(deviceId)}`),
    logout: () => http.request<LogoutResponse>('POST', '/auth/logout'),
    groups: createGroupsApi(http),
    messageReceipts: (messageId: string) =>
      http.request<MessageReceiptsView>('GET', `/messages/${encodeURIComponent(messageId)}/receipts`),
    contacts: createContactsApi(http),
    media: createMediaApi(http),
    disappearing: (chatId: string) =>
      http.request<DisappearingView>('GET', `/chats/${encodeURIComponent(chatId)}/disappearing`),
    setDisappearing: (chatId: string, timer: DisappearingTimer) =>
      http.request<DisappearingView>('PUT', `/chats/${encodeURIComponent(chatId)}/disappearing`, { timer }),
    chats: createChatsApi(http),
    business: { ...createBusinessApi(http), ...createBusinessStatsApi(http) },
    logoutAll: () => http.request<LogoutResponse>('POST', '/auth/logout-all'),
  };
}

export type AccountApi = ReturnType<typeof createAccountApi>;

export interface CreateGroupInput {
  subject: string;
  description?: string;
  /** E.164 phone numbers or account ids; you are added as the first admin. */
  members: string[];
}

export interface UpdateGroupInput {
  subject?: string;
  description?: string;
  onlyAdminsSend?: boolean;
  onlyAdminsEdit?: boolean;
  /** An image you uploaded, or null to remove the photo. */
  photo?: string | null;
}

/** Group management over REST. Send to a group with `client.send(groupId, …)`. */
export function createGroupsApi(http: Pick<Http, 'request'>) {
  const path = (groupId: string, rest = '') => `/groups/${encodeURIComponent(groupId)}${rest}`;
  return {
    create: (input: CreateGroupInput) => http.request<GroupView>('POST', '/groups', input),
    list: async (): Promise<GroupView[]> =>
      (await http.request<{ groups: GroupView[] }>('GET', '/groups')).groups,
    get: (groupId: string) => http.request<GroupView>('GET', path(groupId)),
    update(groupId: string, input: UpdateGroupInput): Promise<GroupView> {
      const body: Record<string, unknown> = {};
      if (input.subject !== undefined) body.subject = input.subject;
      if (input.description !== undefined) body.description = input.description;
      if (input.onlyAdminsSend !== undefined) body.only_admins_send = input.onlyAdminsSend;
      if (input.onlyAdminsEdit !== undefined) body.only_admins_edit = input.onlyAdminsEdit;
      if (input.photo !== undefined) body.photo = input.photo;
      return http.request('PATCH', path(groupId), body);
    },
    addMembers: (groupId: string, members: string[]) =>
      http.request<GroupView>('POST', path(groupId, '/members'), { members }),
    removeMember: (groupId: string, accountId: string) =>
      http.request<void>('DELETE', path(groupId, `/members/${encodeURIComponent(accountId)}`)),
    leave: (groupId: string) => http.request<void>('POST', path(groupId, '/leave')),
    setAdmin: (groupId: string, accountId: string, admin: boolean) =>
      http.request<GroupView>(
        admin ? 'PUT' : 'DELETE',
        path(groupId, `/admins/${encodeURIComponent(accountId)}`),
      ),
    createInvite: (groupId: string) => http.request<{ code: string }>('POST', path(groupId, '/invite')),
    revokeInvite: (groupId: string) => http.request<void>('DELETE', path(groupId, '/invite')),
    join: (code: string) => http.request<GroupView>('POST', '/groups/join', { code }),
  };
}

export type GroupsApi = ReturnType<typeof createGroupsApi>;

/**
 * The contact-discovery hash of an E.164 number: SHA-256, base64url (as the server computes
 * it). Uses WebCrypto, available in browsers and Node.
 */
export async function hashPhone(e164: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(e164)));
  let binary = '';
  for (const byte of digest) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

/** Contact discovery, blocks, privacy settings and reports. */
export function createContactsApi(http: Pick<Http, 'request'>) {
  const account = (idOrPhone: string) => encodeURIComponent(idOrPhone);
  return {
    /** Which of these E.164 numbers are on Parley; only their hashes leave the device. */
    async discover(phones: string[]): Promise<{ phone: string; account_id: string }[]> {
      const byHash = new Map<string, string>();
      for (const phone of phones) byHash.set(await hashPhone(phone), phone);
      const { matches } = await http.request<{ matches: ContactMatch[] }>('POST', '/contacts/discover', {
        hashes: [...byHash.keys()],
      });
      return matches.map((m) => ({ phone: byHash.get(m.hash) ?? '', account_id: m.account_id }));
    },
    block: (idOrPhone: string) => http.request<void>('PUT', `/blocks/${account(idOrPhone)}`),
    unblock: (idOrPhone: string) => http.request<void>('DELETE', `/blocks/${account(idOrPhone)}`),
    listBlocked: async () =>
      (
        await http.request<{ blocked: { account_id: string; phone: string; blocked_at: string }[] }>(
          'GET',
          '/blocks',
        )
      ).blocked,
    presence: (idOrPhone: string) => http.request<PresenceView>('GET', `/presence/${account(idOrPhone)}`),
    getPrivacy: () => http.request<PrivacySettings>('GET', '/me/privacy'),
    /** `version`: the account's state version after the change (absent when nothing changed). */
    setPrivacy: (patch: Partial<PrivacySettings>) =>
      http.request<PrivacySettings & { version?: number }>('PATCH', '/me/privacy', patch),
    report: (input: { account: string; reason?: string; block?: boolean }) =>
      http.request<{ report_id: string; blocked: boolean }>('POST', '/reports', input),
  };
}

export type ContactsApi = ReturnType<typeof createContactsApi>;
