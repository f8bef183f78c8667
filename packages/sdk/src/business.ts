/**
 * Business accounts for their agents: the business, its profile and agents, the shared inbox
 * (conversations, messages, replies, notes), automations and plans. Every call uses the
 * agent's own device token; live inbox changes arrive through `onMessage` as `event`s of type
 * `business.conversation`.
 */
import type {
  AgentRole,
  AgentView,
  BusinessCreatedView,
  BusinessMessageView,
  BusinessProfile,
  BusinessView,
  ConversationStatus,
  ConversationView,
  NoteView,
  PlanView,
} from '@parley/protocol';
import type { Http } from './http.js';

export interface AwaySchedule {
  mode: 'always' | 'outside_hours' | 'custom';
  time_zone?: string;
  windows?: { start: string; end: string }[];
}

export interface AutomationSettings {
  greeting: { enabled: boolean; text: string };
  away: { enabled: boolean; schedule: AwaySchedule; text: string };
}

export interface KeywordRuleInput {
  match: 'exact' | 'contains' | 'starts_with' | 'word';
  keywords: string[];
  action:
    | { type: 'reply'; text: string }
    | { type: 'label'; label_id: string }
    | { type: 'assign'; agent_account_id: string };
  enabled?: boolean;
}

export type KeywordRuleView = KeywordRuleInput & { rule_id: string; position: number; enabled: boolean };

const q = (params: Record<string, string | number | undefined>) => {
  const parts = Object.entries(params)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  return parts.length > 0 ? `?${parts.join('&')}` : '';
};

export function createBusinessApi(http: Pick<Http, 'request'>) {
  const b = (businessId: string, rest = '') => `/businesses/${encodeURIComponent(businessId)}${rest}`;
  const c = (businessId: string, conversationId: string, rest = '') =>
    b(businessId, `/conversations/${encodeURIComponent(conversationId)}${rest}`);
  return {
    /** Creates a business with its first number; you become its owner. */
    create: (input: { name: string; phone: string }) =>
      http.request<BusinessCreatedView>('POST', '/businesses', input),
    list: async (): Promise<BusinessView[]> =>
      (await http.request<{ businesses: BusinessView[] }>('GET', '/businesses')).businesses,
    get: (businessId: string) => http.request<BusinessView>('GET', b(businessId)),
    updateProfile: (businessId: string, patch: Partial<BusinessProfile> & { name?: string }) =>
      http.request<BusinessView>('PATCH', b(businessId, '/profile'), patch),
    /** Adds a phone number to the business (owners and admins). */
    addNumber: (businessId: string, phone: string) =>
      http.request<BusinessView>('POST', b(businessId, '/numbers'), { phone }),
    plans: async (): Promise<PlanView[]> =>
      (await http.request<{ plans: PlanView[] }>('GET', '/plans')).plans,

    agents: {
      list: async (businessId: string): Promise<AgentView[]> =>
        (await http.request<{ agents: AgentView[] }>('GET', b(businessId, '/agents'))).agents,
      /** By phone number or account id. */
      add: async (businessId: string, account: string, role: AgentRole = 'agent'): Promise<AgentView[]> =>
        (await http.request<{ agents: AgentView[] }>('POST', b(businessId, '/agents'), { account, role }))
          .agents,
      remove: (businessId: string, accountId: string) =>
        http.request<void>('DELETE', b(businessId, `/agents/${encodeURIComponent(accountId)}`)),
    },

    inbox: {
      list: async (
        businessId: string,
        filter: {
          status?: ConversationStatus;
          assignee?: string;
          label?: string;
          before?: number;
          limit?: number;
        } = {},
      ): Promise<ConversationView[]> =>
        (
          await http.request<{ conversations: ConversationView[] }>(
            'GET',
            b(businessId, `/conversations${q(filter)}`),
          )
        ).conversations,
      get: (businessId: string, conversationId: string) =>
        http.request<ConversationView>('GET', c(businessId, conversationId)),
      update: (
        businessId: string,
        conversationId: string,
        patch: { status?: ConversationStatus; assignee?: string | null },
      ) => http.request<ConversationView>('PATCH', c(businessId, conversationId), patch),
      markRead: (businessId: string, conversationId: string) =>
        http.request<ConversationView>('POST', c(businessId, conversationId, '/read')),
      messages: async (
        businessId: string,
        conversationId: string,
        page: { before?: number; limit?: number } = {},
      ): Promise<BusinessMessageView[]> =>
        (
          await http.request<{ messages: BusinessMessageView[] }>(
            'GET',
            c(businessId, conversationId, `/messages${q(page)}`),
          )
        ).messages,
      /** Replies as the business (`/shortcut` expands); `clientId` makes a retry safe. */
      reply: (businessId: string, conversationId: string, text: string, clientId?: string) =>
        http.request<BusinessMessageView>('POST', c(businessId, conversationId, '/messages'), {
          text,
          ...(clientId ? { client_id: clientId } : {}),
        }),
      notes: async (businessId: string, conversationId: string): Promise<NoteView[]> =>
        (await http.request<{ notes: NoteView[] }>('GET', c(businessId, conversationId, '/notes'))).notes,
      addNote: (businessId: string, conversationId: string, text: string) =>
        http.request<NoteView>('POST', c(businessId, conversationId, '/notes'), { text }),
    },

    automations: {
      get: (businessId: string) => http.request<AutomationSettings>('GET', b(businessId, '/automations')),
      update: (
        businessId: string,
        patch: {
          greeting?: Partial<AutomationSettings['greeting']>;
          away?: Partial<AutomationSettings['away']>;
        },
      ) => http.request<AutomationSettings>('PATCH', b(businessId, '/automations'), patch),
      rules: async (businessId: string): Promise<KeywordRuleView[]> =>
        (await http.request<{ rules: KeywordRuleView[] }>('GET', b(businessId, '/keyword-rules'))).rules,
      addRule: (businessId: string, rule: KeywordRuleInput) =>
        http.request<KeywordRuleView>('POST', b(businessId, '/keyword-rules'), rule),
      deleteRule: (businessId: string, ruleId: string) =>
        http.request<void>('DELETE', b(businessId, `/keyword-rules/${encodeURIComponent(ruleId)}`)),
      quickReplies: async (businessId: string): Promise<{ shortcut: string; text: string }[]> =>
        (
          await http.request<{ quick_replies: { shortcut: string; text: string }[] }>(
            'GET',
            b(businessId, '/quick-replies'),
          )
        ).quick_replies,
      setQuickReply: (businessId: string, shortcut: string, text: string) =>
        http.request<{ shortcut: string; text: string }>(
          'PUT',
          b(businessId, `/quick-replies/${encodeURIComponent(shortcut)}`),
          {
            text,
          },
        ),
      deleteQuickReply: (businessId: string, shortcut: string) =>
        http.request<void>('DELETE', b(businessId, `/quick-replies/${encodeURIComponent(shortcut)}`)),
    },
  };
}

export type BusinessApi = ReturnType<typeof createBusinessApi>;
