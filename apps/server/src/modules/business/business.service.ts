/**
 * Business accounts, hosted by the platform: a business has a name (verified by the operator),
 * a profile, one or more phone numbers and agents who work its inbox with their own devices.
 *
 * A business number is an ordinary account with one `hosted` device, so people message it
 * like anyone and every guarantee of delivery holds; the hosted endpoint (hosted-endpoint.ts)
 * consumes that device's queue. Agents act through the API with their own device tokens;
 * everything they ask is checked against their role in that business, and a business they
 * are no agent of answers BUSINESS_NOT_FOUND (its existence is not revealed).
 */
import type {
  AgentRole,
  AgentView,
  BusinessCreatedView,
  BusinessProfile,
  BusinessPublicView,
  BusinessView,
} from '@parley/protocol';
import { AppError } from '../../errors.js';
import type { Clock } from '../../platform/clock.js';
import type { Db, Executor } from '../../platform/db.js';
import type { Ids } from '../../platform/ids.js';
import type { AccountsService, DeviceActor } from '../accounts/index.js';
import { normalizePhone } from '../accounts/index.js';
import type { PlansService } from '../plans/index.js';
import { OpeningHours } from './business.hours.js';
import { canGrant, canManage } from './business.policy.js';
import {
  EMPTY_PROFILE,
  parseProfile,
  presentAgent,
  presentBusiness,
  presentPublic,
} from './business.present.js';
import type { BusinessRepo, NumberRow } from './business.repo.js';
import { newTokenRow } from './tokens.service.js';

export const DEFAULT_RETENTION_DAYS = 365;
export const DEFAULT_PLAN = 'free';

export interface BusinessServiceDeps {
  db: Pick<Db, 'kysely'>;
  repo: BusinessRepo;
  accounts: Pick<AccountsService, 'createHostedNumber'>;
  clock: Clock;
  ids: Ids;
  /** The plan limits every change that counts against one is checked with. */
  plans?: Pick<PlansService, 'check' | 'lock' | 'requireFeature' | 'requireExists'>;
  /** Told when a number is created, so its hosted endpoint starts consuming at once. */
  onNumberCreated?: (number: NumberRow) => void;
  /** Throws unless the media is an image the account uploaded (the profile photo). */
  requireOwnImage?: (accountId: string, mediaId: string) => Promise<void>;
}

export interface CreateBusinessInput {
  name: string;
  phone: string;
  /** The person (account id or phone) who becomes the first owner; none for an operator-made business. */
  owner?: string;
}

/** Cloud API ids are numeric strings of 15 to 16 digits. */
function numericId(ids: Ids): string {
  return `1${ids.newCode(14)}`;
}

export function createBusinessService(deps: BusinessServiceDeps) {
  const { db, repo, clock, ids } = deps;

  async function requireAgent(actor: DeviceActor, businessId: string, tx: Executor = db.kysely) {
    const role = await repo.role(businessId, actor.accountId, tx);
    if (!role) throw new AppError('BUSINESS_NOT_FOUND', `No business ${businessId} you work for.`);
    return role;
  }

  async function requireManager(actor: DeviceActor, businessId: string, tx: Executor = db.kysely) {
    const role = await requireAgent(actor, businessId, tx);
    if (!canManage(role)) {
      throw new AppError('BUSINESS_ROLE_REQUIRED', 'Only the business’s owners and admins can do this.', {
        required: ['owner', 'admin'],
      });
    }
    return role;
  }

  async function view(businessId: string, role: AgentRole, tx: Executor = db.kysely): Promise<BusinessView> {
    const row = await repo.find(businessId, tx);
    if (!row) throw new AppError('BUSINESS_NOT_FOUND', `No business ${businessId}.`);
    return presentBusiness(row, await repo.numbers(businessId, tx), role);
  }

  /** Writes a profile patch (and name, retention); callers have checked who may. */
  async function applyProfile(
    businessId: string,
    patch: Partial<Omit<BusinessProfile, 'hours'>> & {
      name?: string;
      hours?: unknown;
      retention_days?: number;
    },
  ): Promise<void> {
    await db.kysely.transaction().execute(async (tx) => {
      const row = await repo.find(businessId, tx);
      if (!row) throw new AppError('BUSINESS_NOT_FOUND', `No business ${businessId}.`);
      const { name, retention_days, ...profile } = patch;
      const next = { ...parseProfile(row.profile), ...profile };
      const update: { profile: string; name?: string; name_verified?: number; retention_days?: number } = {
        profile: JSON.stringify(next),
      };
      if (retention_days !== undefined) update.retention_days = retention_days;
      // A new name needs verifying again: the badge vouches for a name, not for an account.
      if (name !== undefined && name.trim() !== row.name) {
        update.name = name.trim();
        update.name_verified = 0;
      }
      await repo.update(tx, businessId, update);
    });
  }

  return {
    requireAgent,
    requireManager,

    /** Creates a business with its first number, API token and app secret (shown once). */
    async create(input: CreateBusinessInput): Promise<BusinessCreatedView> {
      const name = input.name.trim();
      if (!name || name.length > 128) {
        throw new AppError('VALIDATION_FAILED', 'A business needs a name of 1 to 128 characters.', {
          issues: [{ path: 'name', message: 'required, at most 128 characters' }],
        });
      }
      const businessId = ids.newId('biz');
      const wabaId = numericId(ids);
      const phoneNumberId = numericId(ids);
      const appSecret = ids.newCode(32, '0123456789abcdef');
      const now = clock.now();
      const token = newTokenRow(ids, businessId, 'default', now);
      let created: NumberRow | undefined;
      await db.kysely.transaction().execute(async (tx) => {
        let ownerId: string | undefined;
        if (input.owner !== undefined) {
          const owner = await repo.accountByKey(
            input.owner.startsWith('acc_') ? input.owner : (normalizePhone(input.owner) ?? input.owner),
            tx,
          );
          if (!owner || owner.business_id) {
            throw new AppError(
              'ACCOUNT_NOT_FOUND',
              `No person's account for "${input.owner}" to own the business.`,
            );
          }
          ownerId = owner.id;
        }
        await repo.insertBusiness(tx, {
          id: businessId,
          waba_id: wabaId,
          name,
          profile: JSON.stringify(EMPTY_PROFILE),
          plan_id: DEFAULT_PLAN,
          retention_days: DEFAULT_RETENTION_DAYS,
          app_secret: appSecret,
          created_at: now,
        });
        const number = await deps.accounts.createHostedNumber(tx, { phone: input.phone, name, businessId });
        created = {
          phone_number_id: phoneNumberId,
          business_id: businessId,
          account_id: number.account_id,
          device_id: number.device_id,
          phone: number.phone,
          created_at: now,
        };
        await repo.insertNumber(tx, created);
        await repo.insertToken(tx, token.row);
        if (ownerId)
          await repo.insertAgent(tx, {
            business_id: businessId,
            account_id: ownerId,
            role: 'owner',
            created_at: now,
          });
      });
      if (created) deps.onNumberCreated?.(created);
      return {
        business_id: businessId,
        waba_id: wabaId,
        phone_number_id: phoneNumberId,
        access_token: token.token,
        app_secret: appSecret,
      };
    },

    /** Adds another phone number to the business (owners and admins); people reach it like the first. */
    async addNumber(actor: DeviceActor, businessId: string, phone: string): Promise<BusinessView> {
      const role = await requireManager(actor, businessId);
      let created: NumberRow | undefined;
      await db.kysely.transaction().execute(async (tx) => {
        const row = await repo.find(businessId, tx);
        if (!row) throw new AppError('BUSINESS_NOT_FOUND', `No business ${businessId}.`);
        const number = await deps.accounts.createHostedNumber(tx, { phone, name: row.name, businessId });
        created = {
          phone_number_id: numericId(ids),
          business_id: businessId,
          account_id: number.account_id,
          device_id: number.device_id,
          phone: number.phone,
          created_at: clock.now(),
        };
        await repo.insertNumber(tx, created);
      });
      if (created) deps.onNumberCreated?.(created);
      return view(businessId, role);
    },

    /** A person creates a business and becomes its owner. */
    async createAsOwner(
      actor: DeviceActor,
      input: { name: string; phone: string },
    ): Promise<BusinessCreatedView> {
      return this.create({ ...input, owner: actor.accountId });
    },

    async get(actor: DeviceActor, businessId: string): Promise<BusinessView> {
      return view(businessId, await requireAgent(actor, businessId));
    },

    async listMine(actor: DeviceActor): Promise<BusinessView[]> {
      const mine = await repo.businessesOf(actor.accountId);
      return Promise.all(mine.map((m) => view(m.business_id, m.role as AgentRole)));
    },

    async updateProfile(
      actor: DeviceActor,
      businessId: string,
      patch: Partial<Omit<BusinessProfile, 'hours'>> & {
        name?: string;
        hours?: unknown;
        retention_days?: number;
      },
    ): Promise<BusinessView> {
      const role = await requireManager(actor, businessId);
      const days = patch.retention_days;
      if (days !== undefined && (!Number.isInteger(days) || days < 1 || days > 3650)) {
        throw new AppError('VALIDATION_FAILED', 'Retention is a whole number of days from 1 to 3650.', {
          issues: [{ path: 'retention_days', message: 'from 1 to 3650' }],
        });
      }
      if (patch.hours !== undefined && patch.hours !== null) {
        const parsed = OpeningHours.safeParse(patch.hours);
        if (!parsed.success) {
          throw new AppError('AUTOMATION_SCHEDULE_INVALID', 'The opening hours are not valid.', {
            issues: parsed.error.issues.map((i) => ({
              path: i.path.map(String).join('.'),
              message: i.message,
            })),
          });
        }
        patch.hours = parsed.data;
      }
      if (typeof patch.photo === 'string') await deps.requireOwnImage?.(actor.accountId, patch.photo);
      await applyProfile(businessId, patch);
      return view(businessId, role);
    },

    /**
     * The Business Messaging API's profile update (POST whatsapp_business_profile): the access
     * token already names the business. Its edge validates the fields as the Cloud API does.
     */
    async updateProfileOf(
      businessId: string,
      patch: Partial<
        Pick<BusinessProfile, 'about' | 'address' | 'description' | 'email' | 'websites' | 'vertical'>
      >,
    ): Promise<void> {
      await applyProfile(businessId, patch);
    },

    /** Operator action: the business's name is verified (the badge), or no longer. */
    async setVerified(businessId: string, verified: boolean): Promise<void> {
      await db.kysely.transaction().execute(async (tx) => {
        if (!(await repo.find(businessId, tx)))
          throw new AppError('BUSINESS_NOT_FOUND', `No business ${businessId}.`);
        // The badge is a plan feature: only an eligible plan's business can be verified.
        if (verified) await deps.plans?.requireFeature(tx, businessId, 'verified_badge');
        await repo.update(tx, businessId, { name_verified: verified ? 1 : 0 });
      });
    },

    /** Operator action: the business's plan. */
    async setPlan(businessId: string, planId: string): Promise<void> {
      await db.kysely.transaction().execute(async (tx) => {
        if (!(await repo.find(businessId, tx)))
          throw new AppError('BUSINESS_NOT_FOUND', `No business ${businessId}.`);
        await deps.plans?.requireExists(tx, planId);
        await repo.update(tx, businessId, { plan_id: planId });
      });
    },

    async listAgents(actor: DeviceActor, businessId: string): Promise<AgentView[]> {
      await requireAgent(actor, businessId);
      return (await repo.agents(businessId)).map(presentAgent);
    },

    async addAgent(
      actor: DeviceActor,
      businessId: string,
      key: string,
      role: AgentRole,
    ): Promise<AgentView[]> {
      await db.kysely.transaction().execute(async (tx) => {
        const mine = await requireManager(actor, businessId, tx);
        if (!canGrant(mine, role)) {
          throw new AppError('BUSINESS_ROLE_REQUIRED', `Only an owner can make someone ${role}.`, {
            required: ['owner'],
          });
        }
        const person = await repo.accountByKey(
          key.startsWith('acc_') ? key : (normalizePhone(key) ?? key),
          tx,
        );
        if (!person || person.business_id)
          throw new AppError('ACCOUNT_NOT_FOUND', `No person's account for "${key}".`);
        if (await repo.role(businessId, person.id, tx)) {
          await repo.removeAgent(tx, businessId, person.id);
        } else {
          await deps.plans?.lock(tx, businessId);
          await deps.plans?.check(tx, businessId, 'agents', (await repo.agents(businessId, tx)).length + 1);
        }
        await repo.insertAgent(tx, {
          business_id: businessId,
          account_id: person.id,
          role,
          created_at: clock.now(),
        });
      });
      return (await repo.agents(businessId)).map(presentAgent);
    },

    async removeAgent(actor: DeviceActor, businessId: string, accountId: string): Promise<void> {
      await db.kysely.transaction().execute(async (tx) => {
        const mine = await requireManager(actor, businessId, tx);
        const theirs = await repo.role(businessId, accountId, tx);
        if (!theirs) throw new AppError('ACCOUNT_NOT_FOUND', `${accountId} is no agent of this business.`);
        if (!canGrant(mine, theirs)) {
          throw new AppError('BUSINESS_ROLE_REQUIRED', `Only an owner can remove an ${theirs}.`, {
            required: ['owner'],
          });
        }
        const owners = (await repo.agents(businessId, tx)).filter((a) => a.role === 'owner');
        if (theirs === 'owner' && owners.length === 1) {
          throw new AppError('VALIDATION_FAILED', 'A business keeps at least one owner.');
        }
        await repo.removeAgent(tx, businessId, accountId);
      });
    },

    /** Deletes inbox messages older than each business's retention (the worker runs it). */
    async expireInbox(
      deleteBefore: (businessId: string, before: number) => Promise<number>,
    ): Promise<number> {
      let deleted = 0;
      for (const row of await repo.all()) {
        deleted += await deleteBefore(row.id, clock.now() - row.retention_days * 24 * 3600 * 1000);
      }
      return deleted;
    },

    /** What people see of the business behind a number (undefined for a person's account). */
    async publicOf(accountId: string): Promise<BusinessPublicView | undefined> {
      const number = await repo.numberByAccount(accountId);
      if (!number) return undefined;
      const row = await repo.find(number.business_id);
      return row ? presentPublic(row) : undefined;
    },
  };
}

export type BusinessService = ReturnType<typeof createBusinessService>;
