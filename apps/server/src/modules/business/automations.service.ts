/**
 * Automations ("smart messaging") run by the server for every inbound message, inside the
 * inbox's transaction, even when no agent is online:
 * - greeting: the first message of a person, or their first after 14 days of silence;
 * - away: while the away schedule says so (always, outside opening hours, custom windows in a
 *   time zone), at most once per conversation per 24 hours;
 * - keyword rules, in order: reply, label, or assign;
 * - quick replies: `/shortcut` typed by an agent expands to the saved text.
 * Automations never answer another business number (no loops between automations) and never
 * message a person who blocked the business. Replies go out through the inbox's outbox.
 */
import { AppError } from '../../errors.js';
import type { Clock } from '../../platform/clock.js';
import type { Db, Executor } from '../../platform/db.js';
import type { Ids } from '../../platform/ids.js';
import type { DeviceActor } from '../accounts/index.js';
import type { PlansService } from '../plans/index.js';
import type { AutomationsRepo } from './automations.repo.js';
import { AwaySchedule, isAwayAt, type OpeningHours } from './business.hours.js';
import {
  type CompiledRules,
  compileRules,
  KeywordRule,
  type KeywordRuleEntry,
  matchRules,
} from './business.keywords.js';
import { parseProfile } from './business.present.js';
import type { BusinessService } from './business.service.js';
import type { AutomationInput, AutomationOutcome, Automations } from './inbox.service.js';

export const GREETING_SILENCE_MS = 14 * 24 * 3600 * 1000;
export const AWAY_REPEAT_MS = 24 * 3600 * 1000;
/** Automated replies to one inbound message, at most. */
const MAX_REPLIES = 3;
/** Settings and rules are read this often at most per business (5,000 messages/s need no reads). */
const CACHE_MS = 2000;

export interface GreetingSettings {
  enabled: boolean;
  text: string;
}
export interface AwaySettings {
  enabled: boolean;
  schedule: AwaySchedule;
  text: string;
}
export interface AutomationSettings {
  greeting: GreetingSettings;
  away: AwaySettings;
}

const DEFAULTS: AutomationSettings = {
  greeting: { enabled: false, text: '' },
  away: { enabled: false, schedule: { mode: 'outside_hours' }, text: '' },
};

export interface KeywordRuleView {
  rule_id: string;
  position: number;
  match: KeywordRule['match'];
  keywords: string[];
  action: KeywordRule['action'];
  enabled: boolean;
}

export interface AutomationsServiceDeps {
  db: Pick<Db, 'kysely'>;
  repo: AutomationsRepo;
  business: Pick<BusinessService, 'requireAgent' | 'requireManager'>;
  businessRepo: { role(businessId: string, accountId: string, tx?: Executor): Promise<string | undefined> };
  plans?: Pick<PlansService, 'check' | 'lock'>;
  clock: Clock;
  ids: Ids;
}

interface Cached {
  at: number;
  settings: AutomationSettings;
  rules: CompiledRules<KeywordRuleEntry & { rule: KeywordRule }>;
}

function invalidSchedule(issues: { path: PropertyKey[]; message: string }[]): AppError {
  return new AppError('AUTOMATION_SCHEDULE_INVALID', 'The away schedule is not valid.', {
    issues: issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })),
  });
}

export function createAutomationsService(deps: AutomationsServiceDeps) {
  const { db, repo, clock, ids } = deps;
  const cache = new Map<string, Cached>();
  /** conversation id → when an away reply last went out (a cache of automation_sends). */
  const recentAway = new Map<string, number>();

  async function load(tx: Executor, businessId: string): Promise<Cached> {
    const now = clock.now();
    const hit = cache.get(businessId);
    if (hit && now - hit.at < CACHE_MS && now >= hit.at) return hit;
    const row = await repo.settings(businessId, tx);
    const settings: AutomationSettings = row
      ? { greeting: JSON.parse(row.greeting) as GreetingSettings, away: JSON.parse(row.away) as AwaySettings }
      : DEFAULTS;
    const rules = compileRules(
      (await repo.rules(businessId, tx)).map((r) => ({
        id: r.id,
        rule: KeywordRule.parse(JSON.parse(r.rule)),
      })),
    );
    const fresh = { at: now, settings, rules };
    if (cache.size > 10_000) cache.clear();
    cache.set(businessId, fresh);
    return fresh;
  }

  const viewRule = (id: string, position: number, rule: KeywordRule): KeywordRuleView => ({
    rule_id: id,
    position,
    match: rule.match,
    keywords: rule.keywords,
    action: rule.action,
    enabled: rule.enabled,
  });

  async function checkAction(tx: Executor, businessId: string, rule: KeywordRule): Promise<void> {
    if (
      rule.action.type === 'assign' &&
      !(await deps.businessRepo.role(businessId, rule.action.agent_account_id, tx))
    ) {
      throw new AppError(
        'ACCOUNT_NOT_FOUND',
        `${rule.action.agent_account_id} is no agent of this business.`,
      );
    }
  }

  const automations: Automations = {
    async decide(tx: Executor, input: AutomationInput): Promise<AutomationOutcome> {
      const outcome: AutomationOutcome = { replies: [], labels: [] };
      // Blocks were read once for the whole page (AutomationInput.blocked).
      if (input.fromBusiness || input.blocked || input.message.kind !== 'message') return outcome;
      const { settings, rules } = await load(tx, input.business.id);
      const { greeting, away } = settings;
      const conversationId = input.conversation.id;

      const silentLongEnough =
        input.isNew ||
        input.previousInboundAt === null ||
        input.now - input.previousInboundAt >= GREETING_SILENCE_MS;
      if (greeting.enabled && greeting.text && silentLongEnough) {
        outcome.replies.push({ kind: 'greeting', text: greeting.text });
        await repo.markSent(tx, conversationId, 'greeting', input.now);
      }
      if (away.enabled && away.text) {
        const hours = parseProfile(input.business.profile).hours as OpeningHours | null;
        if (isAwayAt(away.schedule, hours ?? undefined, input.now)) {
          // A recent away reply known in memory spares the read (the row stays the truth).
          const known = recentAway.get(conversationId);
          const last =
            known !== undefined && input.now - known < AWAY_REPEAT_MS && input.now >= known
              ? known
              : await repo.lastSent(tx, conversationId, 'away');
          if (last === undefined || input.now - last >= AWAY_REPEAT_MS || input.now < last) {
            outcome.replies.push({ kind: 'away', text: away.text });
            await repo.markSent(tx, conversationId, 'away', input.now);
            if (recentAway.size > 100_000) recentAway.clear();
            recentAway.set(conversationId, input.now);
          } else {
            recentAway.set(conversationId, last);
          }
        }
      }
      if (input.message.text) {
        for (const { rule } of matchRules(rules, input.message.text)) {
          if (rule.action.type === 'reply') outcome.replies.push({ kind: 'keyword', text: rule.action.text });
          else if (rule.action.type === 'label') outcome.labels.push(rule.action.label_id);
          else outcome.assignee = rule.action.agent_account_id;
        }
      }
      outcome.replies = outcome.replies.slice(0, MAX_REPLIES);
      return outcome;
    },

    async expandQuickReply(tx: Executor, businessId: string, text: string): Promise<string> {
      const match = /^\/([a-z0-9_-]{1,32})$/.exec(text.trim());
      if (!match?.[1]) return text;
      return (await repo.quickReply(businessId, match[1], tx))?.text ?? text;
    },
  };

  return {
    automations,

    async getSettings(actor: DeviceActor, businessId: string): Promise<AutomationSettings> {
      await deps.business.requireAgent(actor, businessId);
      cache.delete(businessId);
      return (await load(db.kysely, businessId)).settings;
    },

    /** Replaces the greeting and/or away settings (owners and admins). */
    async setSettings(
      actor: DeviceActor,
      businessId: string,
      patch: { greeting?: Partial<GreetingSettings> | undefined; away?: Partial<AwaySettings> | undefined },
    ): Promise<AutomationSettings> {
      await deps.business.requireManager(actor, businessId);
      if (patch.away?.schedule !== undefined) {
        const parsed = AwaySchedule.safeParse(patch.away.schedule);
        if (!parsed.success) throw invalidSchedule(parsed.error.issues);
        patch.away.schedule = parsed.data;
      }
      const next = await db.kysely.transaction().execute(async (tx) => {
        cache.delete(businessId);
        const current = (await load(tx, businessId)).settings;
        const merged: AutomationSettings = {
          greeting: { ...current.greeting, ...patch.greeting },
          away: { ...current.away, ...patch.away },
        };
        for (const [kind, s] of [
          ['greeting', merged.greeting],
          ['away', merged.away],
        ] as const) {
          if (s.enabled && !s.text.trim()) {
            throw new AppError('VALIDATION_FAILED', `An enabled ${kind} message needs text.`, {
              issues: [{ path: `${kind}.text`, message: 'required when enabled' }],
            });
          }
        }
        await repo.saveSettings(tx, {
          business_id: businessId,
          greeting: JSON.stringify(merged.greeting),
          away: JSON.stringify(merged.away),
          updated_at: clock.now(),
        });
        return merged;
      });
      cache.delete(businessId);
      return next;
    },

    async listRules(actor: DeviceActor, businessId: string): Promise<KeywordRuleView[]> {
      await deps.business.requireAgent(actor, businessId);
      return (await repo.rules(businessId)).map((r) =>
        viewRule(r.id, r.position, KeywordRule.parse(JSON.parse(r.rule))),
      );
    },

    async addRule(actor: DeviceActor, businessId: string, input: unknown): Promise<KeywordRuleView> {
      await deps.business.requireManager(actor, businessId);
      const parsed = KeywordRule.safeParse(input);
      if (!parsed.success) {
        throw new AppError('VALIDATION_FAILED', 'The keyword rule is not valid.', {
          issues: parsed.error.issues.map((i) => ({
            path: i.path.map(String).join('.'),
            message: i.message,
          })),
        });
      }
      const rule = parsed.data;
      const view = await db.kysely.transaction().execute(async (tx) => {
        await deps.plans?.lock(tx, businessId);
        const existing = await repo.rules(businessId, tx);
        await deps.plans?.check(tx, businessId, 'keyword_rules', existing.length + 1);
        await checkAction(tx, businessId, rule);
        const id = ids.newId('kwr');
        const position = (existing.at(-1)?.position ?? 0) + 1;
        await repo.insertRule(tx, {
          id,
          business_id: businessId,
          position,
          rule: JSON.stringify(rule),
          created_at: clock.now(),
        });
        return viewRule(id, position, rule);
      });
      cache.delete(businessId);
      return view;
    },

    async deleteRule(actor: DeviceActor, businessId: string, ruleId: string): Promise<void> {
      await deps.business.requireManager(actor, businessId);
      const deleted = await db.kysely.transaction().execute((tx) => repo.deleteRule(tx, businessId, ruleId));
      if (!deleted)
        throw new AppError('KEYWORD_RULE_NOT_FOUND', `No keyword rule ${ruleId} in this business.`);
      cache.delete(businessId);
    },

    async listQuickReplies(actor: DeviceActor, businessId: string) {
      await deps.business.requireAgent(actor, businessId);
      return (await repo.quickReplies(businessId)).map((q) => ({ shortcut: q.shortcut, text: q.text }));
    },

    async setQuickReply(actor: DeviceActor, businessId: string, shortcut: string, text: string) {
      await deps.business.requireManager(actor, businessId);
      if (!/^[a-z0-9_-]{1,32}$/.test(shortcut)) {
        throw new AppError('VALIDATION_FAILED', 'A shortcut is 1 to 32 of a-z 0-9 _ -.');
      }
      if (!text.trim()) throw new AppError('VALIDATION_FAILED', 'A quick reply needs text.');
      await db.kysely.transaction().execute((tx) =>
        repo.saveQuickReply(tx, {
          business_id: businessId,
          shortcut,
          text,
          media_id: null,
          created_at: clock.now(),
        }),
      );
      return { shortcut, text };
    },

    async deleteQuickReply(actor: DeviceActor, businessId: string, shortcut: string): Promise<void> {
      await deps.business.requireManager(actor, businessId);
      const deleted = await db.kysely
        .transaction()
        .execute((tx) => repo.deleteQuickReply(tx, businessId, shortcut));
      if (!deleted) throw new AppError('QUICK_REPLY_NOT_FOUND', `No quick reply /${shortcut}.`);
    },
  };
}

export type AutomationsService = ReturnType<typeof createAutomationsService>;
