/**
 * Contacts and privacy: contact discovery by hashed numbers, blocks, privacy settings, spam
 * reports. Discovery never stores the address book: only the matches, which define "my
 * contacts" for privacy settings. Numbers are few enough to enumerate from their hashes, so
 * discovery is rate limited per account (requests and hashes per day).
 */
import type { ContactMatch, PresenceView, PrivacySettings } from '@parley/protocol';
import { AppError } from '../../errors.js';
import type { Clock } from '../../platform/clock.js';
import type { Db, Executor } from '../../platform/db.js';
import type { Ids } from '../../platform/ids.js';
import type { PresenceRegistry } from '../../platform/presence.js';
import { enforceLimit, type RateLimiterFactory } from '../../platform/rate-limit.js';
import type { Visibility } from '../../platform/schema.js';
import type { DeviceActor } from '../accounts/index.js';
import { normalizePhone } from '../accounts/index.js';
import type { SettingsSync } from '../chats/index.js';
import { visibleTo } from './contacts.policy.js';
import type { ContactsRepo, PrivacyRow } from './contacts.repo.js';

export const MAX_HASHES_PER_REQUEST = 1000;
export const MAX_HASHES_PER_DAY = 10_000;

export interface ContactsServiceDeps {
  /**
   * A person blocked or reported an account, inside that transaction (a business number's
   * template quality counts such feedback).
   */
  onNegativeFeedback?: (
    tx: Executor,
    input: { person: DeviceActor; target: string; at: number },
  ) => Promise<void>;
  db: Pick<Db, 'kysely'>;
  repo: ContactsRepo;
  clock: Clock;
  ids: Ids;
  rateLimiter: RateLimiterFactory;
  presence: Pick<PresenceRegistry, 'isOnline'>;
  /** Tells the account's other devices about a privacy change, in its transaction. */
  settingsSync: SettingsSync;
}

function presentPrivacy(row: PrivacyRow): PrivacySettings {
  return {
    last_seen: row.privacy_last_seen,
    online: row.privacy_online,
    photo: row.privacy_photo,
    about: row.privacy_about,
    read_receipts: row.read_receipts === 1,
  };
}

export function createContactsService(deps: ContactsServiceDeps) {
  const { db, repo, clock, ids } = deps;
  const limits = {
    discoverRequests: deps.rateLimiter('discover-requests', { points: 50, windowSeconds: 24 * 3600 }),
    discoverHashes: deps.rateLimiter('discover-hashes', {
      points: MAX_HASHES_PER_DAY,
      windowSeconds: 24 * 3600,
    }),
    reports: deps.rateLimiter('reports', { points: 50, windowSeconds: 24 * 3600 }),
  };

  async function requireAccount(idOrPhone: string) {
    const key = idOrPhone.startsWith('acc_') ? { id: idOrPhone } : { phone: normalizePhone(idOrPhone) ?? '' };
    const account = await repo.findAccount(key);
    if (!account) throw new AppError('ACCOUNT_NOT_FOUND', `No account for "${idOrPhone}".`);
    return account;
  }

  return {
    /** Which of these number hashes are Parley accounts; the matches become your contacts. */
    async discover(actor: DeviceActor, hashes: string[]): Promise<ContactMatch[]> {
      const unique = [...new Set(hashes)];
      if (unique.length > MAX_HASHES_PER_REQUEST) {
        throw new AppError('VALIDATION_FAILED', `At most ${MAX_HASHES_PER_REQUEST} hashes per request.`, {
          max_hashes: MAX_HASHES_PER_REQUEST,
        });
      }
      await enforceLimit(limits.discoverRequests, actor.accountId, 'discovery requests today');
      await enforceLimit(
        limits.discoverHashes,
        actor.accountId,
        'numbers looked up today',
        Math.max(1, unique.length),
      );
      const found = (await repo.accountsByHash(unique)).filter((a) => a.id !== actor.accountId);
      await db.kysely.transaction().execute((tx) =>
        repo.addContacts(
          tx,
          actor.accountId,
          found.map((a) => a.id),
          clock.now(),
        ),
      );
      return found.map((a) => ({ hash: a.phone_hash ?? '', account_id: a.id }));
    },

    async block(actor: DeviceActor, idOrPhone: string): Promise<void> {
      const account = await requireAccount(idOrPhone);
      if (account.id === actor.accountId)
        throw new AppError('VALIDATION_FAILED', 'You cannot block yourself.');
      const at = clock.now();
      await db.kysely.transaction().execute(async (tx) => {
        await repo.block(actor.accountId, account.id, at, tx);
        await deps.onNegativeFeedback?.(tx, { person: actor, target: account.id, at });
      });
    },

    async unblock(actor: DeviceActor, idOrPhone: string): Promise<void> {
      const account = await requireAccount(idOrPhone);
      await repo.unblock(actor.accountId, account.id);
    },

    async listBlocked(actor: DeviceActor) {
      return (await repo.blocked(actor.accountId)).map((b) => ({
        account_id: b.account_id,
        phone: b.phone,
        blocked_at: new Date(b.created_at).toISOString(),
      }));
    },

    async getPrivacy(actor: DeviceActor): Promise<PrivacySettings> {
      const row = await repo.privacy(actor.accountId);
      if (!row) throw new AppError('ACCOUNT_NOT_FOUND', 'This account no longer exists.');
      return presentPrivacy(row);
    },

    async setPrivacy(
      actor: DeviceActor,
      patch: Partial<Record<'last_seen' | 'online' | 'photo' | 'about', Visibility>> & {
        read_receipts?: boolean | undefined;
      },
    ): Promise<PrivacySettings & { version?: number }> {
      const update: Partial<PrivacyRow> = {};
      if (patch.last_seen) update.privacy_last_seen = patch.last_seen;
      if (patch.online) update.privacy_online = patch.online;
      if (patch.photo) update.privacy_photo = patch.photo;
      if (patch.about) update.privacy_about = patch.about;
      if (patch.read_receipts !== undefined) update.read_receipts = patch.read_receipts ? 1 : 0;
      if (Object.keys(update).length === 0) return this.getPrivacy(actor);
      const synced = await db.kysely.transaction().execute(async (tx) => {
        await repo.setPrivacy(actor.accountId, update, tx);
        return deps.settingsSync.settingsChanged(tx, actor);
      });
      synced.announce();
      // The version lets this device ignore older account.settings events still in its queue.
      return { ...(await this.getPrivacy(actor)), version: synced.version };
    },

    /** Reports an account for spam or abuse; optionally blocks it too. */
    async report(
      actor: DeviceActor,
      input: { account: string; reason?: string | undefined; block?: boolean | undefined },
    ): Promise<{ report_id: string; blocked: boolean }> {
      await enforceLimit(limits.reports, actor.accountId, 'reports today');
      const account = await requireAccount(input.account);
      const reportId = ids.newId('rep');
      const at = clock.now();
      await db.kysely.transaction().execute(async (tx) => {
        await repo.insertReport(
          {
            id: reportId,
            reporter_id: actor.accountId,
            reported_id: account.id,
            reason: input.reason?.trim() || 'spam',
            created_at: at,
          },
          tx,
        );
        if (input.block && account.id !== actor.accountId)
          await repo.block(actor.accountId, account.id, at, tx);
        await deps.onNegativeFeedback?.(tx, { person: actor, target: account.id, at });
      });
      return { report_id: reportId, blocked: input.block === true };
    },

    /**
     * Online status and last seen of an account as `viewer` may see them: a field the owner's
     * privacy settings (or a block) hide is null, indistinguishable from unknown.
     */
    async presence(viewer: DeviceActor, idOrPhone: string): Promise<PresenceView> {
      const owner = await requireAccount(idOrPhone);
      const online = deps.presence.isOnline(owner.id);
      const [seeOnline, seeLastSeen] = [
        await this.canSee(viewer.accountId, owner.id, 'online'),
        await this.canSee(viewer.accountId, owner.id, 'last_seen'),
      ];
      const lastSeen = seeLastSeen && !online ? await repo.lastSeen(owner.id) : null;
      return {
        account_id: owner.id,
        online: seeOnline ? online : null,
        last_seen: lastSeen === null ? null : new Date(lastSeen).toISOString(),
      };
    },

    /**
     * Whether `viewer` may see `owner`'s field under its privacy setting. A blocked viewer sees
     * nothing; `contacts` means accounts the owner found in its own address book.
     */
    async canSee(
      viewerId: string,
      ownerId: string,
      field: 'about' | 'photo' | 'last_seen' | 'online',
    ): Promise<boolean> {
      if (viewerId === ownerId) return true;
      if (await repo.isBlocked(ownerId, viewerId)) return false;
      const privacy = await repo.privacy(ownerId);
      if (!privacy) return false;
      const setting = privacy[`privacy_${field}`];
      return visibleTo(setting, setting === 'contacts' ? await repo.hasContact(ownerId, viewerId) : false);
    },
  };
}

export type ContactsService = ReturnType<typeof createContactsService>;
