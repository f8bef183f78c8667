/**
 * Business statistics and broadcast lists over REST, for agents of a business
 * (`client.business.stats(…)`, `client.business.broadcasts.*`).
 */
import type {
  BroadcastListSummary,
  BroadcastListView,
  BroadcastView,
  BusinessStatsView,
} from '@parley/protocol';
import type { Http } from './http.js';

export interface StatsRange {
  /** `YYYY-MM-DD`, local dates in `tz`, both included (at most 366 days). */
  from: string;
  to: string;
  /** IANA time zone such as `Europe/Berlin`; the server uses UTC when absent. */
  tz?: string;
}

export interface CreateBroadcastListInput {
  name: string;
  /** E.164 phone numbers or account ids of opted-in people. */
  members?: string[];
}

export interface BroadcastInput {
  text: string;
  /** The business number to send from; its first number when absent. */
  phoneNumberId?: string;
  /** Idempotency key: a retry with the same id answers with the broadcast already made. */
  clientId?: string;
}

export function createBusinessStatsApi(http: Pick<Http, 'request'>) {
  const business = (id: string) => `/businesses/${encodeURIComponent(id)}`;
  const lists = (id: string, listId?: string, rest = '') =>
    `${business(id)}/broadcast-lists${listId === undefined ? '' : `/${encodeURIComponent(listId)}`}${rest}`;
  return {
    /** Per local day of `tz`: messages sent, delivered, read, received, chats started, response time. */
    stats(businessId: string, range: StatsRange): Promise<BusinessStatsView> {
      const query = new URLSearchParams({ from: range.from, to: range.to });
      if (range.tz !== undefined) query.set('tz', range.tz);
      return http.request('GET', `${business(businessId)}/stats?${query.toString()}`);
    },
    broadcasts: {
      create: (businessId: string, input: CreateBroadcastListInput) =>
        http.request<BroadcastListView>('POST', lists(businessId), {
          name: input.name,
          members: input.members ?? [],
        }),
      list: async (businessId: string): Promise<BroadcastListSummary[]> =>
        (await http.request<{ broadcast_lists: BroadcastListSummary[] }>('GET', lists(businessId)))
          .broadcast_lists,
      get: (businessId: string, listId: string) =>
        http.request<BroadcastListView>('GET', lists(businessId, listId)),
      addMembers: (businessId: string, listId: string, members: string[]) =>
        http.request<BroadcastListView>('POST', lists(businessId, listId, '/members'), { members }),
      removeMember: (businessId: string, listId: string, member: string) =>
        http.request<BroadcastListView>(
          'DELETE',
          lists(businessId, listId, `/members/${encodeURIComponent(member)}`),
        ),
      delete: (businessId: string, listId: string) => http.request<void>('DELETE', lists(businessId, listId)),
      /** Sends `text` to every opted-in member as a 1:1 message from the business number. */
      send: (businessId: string, listId: string, input: BroadcastInput) =>
        http.request<BroadcastView>('POST', lists(businessId, listId, '/messages'), {
          text: input.text,
          ...(input.phoneNumberId === undefined ? {} : { phone_number_id: input.phoneNumberId }),
          ...(input.clientId === undefined ? {} : { client_id: input.clientId }),
        }),
      /** The list's broadcasts, newest first. */
      history: async (businessId: string, listId: string): Promise<BroadcastView[]> =>
        (await http.request<{ broadcasts: BroadcastView[] }>('GET', lists(businessId, listId, '/messages')))
          .broadcasts,
    },
  };
}

export type BusinessStatsApi = ReturnType<typeof createBusinessStatsApi>;
