/**
 * Accounts and devices: sign-up by one-time code, device tokens, profiles, logout.
 * Codes live 10 minutes, allow 5 attempts and are stored as HMACs under a server secret.
 * Tokens are stored as SHA-256 hashes only; the plain token is shown once.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type {
  BusinessPublicView,
  DeviceView,
  LinkCodeResponse,
  LinkDeviceResponse,
  ProfileView,
  RequestCodeResponse,
  VerifyCodeResponse,
} from '@parley/protocol';
import { AppError } from '../../errors.js';
import type { Bus } from '../../platform/bus.js';
import type { Clock } from '../../platform/clock.js';
import type { Db, Executor } from '../../platform/db.js';
import { hashToken, type Ids } from '../../platform/ids.js';
import type { Logger } from '../../platform/logger.js';
import { enforceLimit, type RateLimiterFactory } from '../../platform/rate-limit.js';
import type { CodeSender } from '../../platform/sms.js';
import type { SettingsSync } from '../chats/index.js';
import { canLinkDevices, canLogOut } from './accounts.policy.js';
import { presentDevice, presentProfile } from './accounts.present.js';
import type { AccountsRepo } from './accounts.repo.js';
import { normalizePhone, phoneHash } from './phone.js';

export const CODE_TTL_MS = 10 * 60 * 1000;
export const CODE_ATTEMPTS = 5;
export const CODE_DIGITS = 6;
/** One primary device plus this many companions. */
export const MAX_COMPANIONS = 4;
export const MAX_DEVICES = 1 + MAX_COMPANIONS;
export const LINK_CODE_TTL_MS = 2 * 60 * 1000;
/** A companion not seen for this long is unlinked. */
export const COMPANION_IDLE_MS = 30 * 24 * 3600 * 1000;
const LINK_CODE_LENGTH = 8;
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const RESEND_SECONDS = 30;

/** Who is calling, as the edges know it before authentication. */
export interface AnonymousActor {
  ip: string;
}

/** An authenticated device. */
export interface DeviceActor {
  accountId: string;
  deviceId: string;
  phone: string;
  /** `hosted`: a business number's endpoint, acting for the business (never signs in). */
  role: 'primary' | 'companion' | 'hosted';
}

export const DEVICE_REVOKED_EVENT = 'device.revoked';
export interface DeviceRevokedEvent {
  deviceId: string;
}

export interface AccountsServiceDeps {
  db: Pick<Db, 'kysely'>;
  repo: AccountsRepo;
  clock: Clock;
  ids: Ids;
  bus: Pick<Bus, 'publish'>;
  codeSender: CodeSender;
  rateLimiter: RateLimiterFactory;
  otpKey: string;
  logger: Logger;
  /** Privacy: whether a viewer may see an owner's field (the contacts module decides). */
  canSee?: (viewerId: string, ownerId: string, field: 'about' | 'photo') => Promise<boolean>;
  /** The business behind a number, for its profile (undefined for a person). */
  businessOf?: (accountId: string) => Promise<BusinessPublicView | undefined>;
  /** Throws unless the media is an image the account uploaded (a profile photo). */
  requireOwnImage?: (accountId: string, mediaId: string) => Promise<void>;
  /** Tells the account's other devices about a profile change, in its transaction. */
  settingsSync: SettingsSync;
}

export function createAccountsService(deps: AccountsServiceDeps) {
  const { db, repo, clock, ids, bus } = deps;
  const limits = {
    resendPerPhone: deps.rateLimiter('otp-resend-phone', { points: 1, windowSeconds: RESEND_SECONDS }),
    codesPerPhone: deps.rateLimiter('otp-phone', { points: 5, windowSeconds: 3600 }),
    codesPerAddress: deps.rateLimiter('otp-address', { points: 20, windowSeconds: 3600 }),
    verifyPerAddress: deps.rateLimiter('verify-address', { points: 60, windowSeconds: 3600 }),
    linkCodesPerAccount: deps.rateLimiter('link-codes-account', { points: 20, windowSeconds: 3600 }),
  };

  const codeHash = (phone: string, code: string) =>
    createHmac('sha256', deps.otpKey).update(`${phone}:${code}`).digest('base64url');

  function requirePhone(input: string): string {
    const phone = normalizePhone(input);
    if (!phone) {
      throw new AppError(
        'PHONE_INVALID',
        `"${input}" is not an international phone number such as +15550001111.`,
      );
    }
    return phone;
  }

  /**
   * Creates a device inside tx and returns its token (shown once). A new primary replaces the
   * old one (signing in by phone code moves the account to the new device); a companion needs
   * a free companion slot. Returns the ids of devices it replaced, to revoke after commit.
   */
  async function addDevice(
    tx: Parameters<AccountsRepo['insertDevice']>[1],
    accountId: string,
    name: string,
    role: 'primary' | 'companion',
  ) {
    const devices = await repo.listDevices(accountId, tx);
    let replaced: string[] = [];
    if (role === 'primary') {
      const old = devices.filter((d) => d.role === 'primary').map((d) => d.id);
      replaced = await repo.deleteDevices(accountId, old, tx);
    } else if (devices.filter((d) => d.role === 'companion').length >= MAX_COMPANIONS) {
      throw new AppError(
        'DEVICE_LIMIT_REACHED',
        `This account already has ${MAX_COMPANIONS} linked devices; unlink one first.`,
        { max_companions: MAX_COMPANIONS },
      );
    }
    const token = ids.newToken('pdt');
    const deviceId = ids.newId('dev');
    await repo.insertDevice(
      {
        id: deviceId,
        account_id: accountId,
        name,
        token_hash: hashToken(token),
        created_at: clock.now(),
        last_seen_at: null,
        role,
      },
      tx,
    );
    return { deviceId, token, replaced };
  }

  function revoke(deviceIds: string[]): void {
    for (const deviceId of deviceIds)
      bus.publish(DEVICE_REVOKED_EVENT, { deviceId } satisfies DeviceRevokedEvent);
  }

  /** Link codes are 8 Crockford base32 characters (40 bits), shown as XXXX-XXXX. */
  function normalizeLinkCode(input: string): string | undefined {
    const compact = input.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
    if (compact.length !== LINK_CODE_LENGTH) return undefined;
    for (const c of compact) if (!CROCKFORD.includes(c)) return undefined;
    return compact;
  }

  return {
    async requestCode(actor: AnonymousActor, input: { phone: string }): Promise<RequestCodeResponse> {
      const phone = requirePhone(input.phone);
      await enforceLimit(limits.codesPerAddress, actor.ip, 'code requests from this address');
      await enforceLimit(limits.resendPerPhone, phone, 'code requests for this number');
      await enforceLimit(limits.codesPerPhone, phone, 'code requests for this number');
      const code = ids.newCode(CODE_DIGITS);
      const now = clock.now();
      await repo.upsertCode({
        phone,
        code_hash: codeHash(phone, code),
        expires_at: now + CODE_TTL_MS,
        attempts_left: CODE_ATTEMPTS,
        created_at: now,
      });
      try {
        await deps.codeSender.sendCode(phone, code);
      } catch (e: unknown) {
        // The person never saw this code, so it must not stay valid.
        await repo.deleteCode(phone);
        throw e;
      }
      return { phone, expires_in: CODE_TTL_MS / 1000, resend_in: RESEND_SECONDS };
    },

    async verifyCode(
      actor: AnonymousActor,
      input: { phone: string; code: string; device_name?: string | undefined },
    ): Promise<VerifyCodeResponse> {
      const phone = requirePhone(input.phone);
      await enforceLimit(limits.verifyPerAddress, actor.ip, 'verification attempts from this address');
      const live = await repo.findCode(phone);
      if (!live || live.expires_at <= clock.now()) {
        throw new AppError('CODE_EXPIRED', 'No live code for this number; request a new one.');
      }
      // Spend the attempt atomically before comparing, so parallel guesses cannot exceed 5.
      const left = await repo.spendAttempt(phone);
      if (left === undefined)
        throw new AppError('CODE_EXPIRED', 'No live code for this number; request a new one.');
      if (left < 0) {
        await repo.deleteCode(phone);
        throw new AppError('CODE_ATTEMPTS_EXCEEDED', 'Too many wrong codes; request a new one.');
      }
      const expected = Buffer.from(live.code_hash);
      const given = Buffer.from(codeHash(phone, input.code.trim()));
      if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
        if (left === 0) {
          await repo.deleteCode(phone);
          throw new AppError('CODE_ATTEMPTS_EXCEEDED', 'Too many wrong codes; request a new one.');
        }
        throw new AppError('CODE_INVALID', 'That code is not right.', { attempts_left: left });
      }
      return db.kysely
        .transaction()
        .execute(async (tx) => {
          await repo.deleteCode(phone, tx);
          const existing = await repo.findAccountByPhone(phone, tx);
          const newAccount = !existing;
          const accountId = existing?.id ?? ids.newId('acc');
          if (!existing) {
            await repo.insertAccount(
              {
                id: accountId,
                phone,
                phone_hash: phoneHash(phone),
                display_name: '',
                about: '',
                created_at: clock.now(),
              },
              tx,
            );
          }
          const { deviceId, token, replaced } = await addDevice(
            tx,
            accountId,
            input.device_name?.trim() || 'Device',
            'primary',
          );
          return {
            result: { account_id: accountId, device_id: deviceId, token, new_account: newAccount },
            replaced,
          };
        })
        .then(({ result, replaced }) => {
          revoke(replaced);
          return result;
        });
    },

    /** Operator action (CLI): creates an account with a first device, no code needed. */
    async createAccount(input: { phone: string; name: string; deviceName?: string }) {
      const phone = requirePhone(input.phone);
      return db.kysely.transaction().execute(async (tx) => {
        if (await repo.findAccountByPhone(phone, tx)) {
          throw new AppError('PHONE_TAKEN', `An account already exists for ${phone}.`);
        }
        const accountId = ids.newId('acc');
        await repo.insertAccount(
          {
            id: accountId,
            phone,
            phone_hash: phoneHash(phone),
            display_name: input.name,
            about: '',
            created_at: clock.now(),
          },
          tx,
        );
        const { deviceId, token } = await addDevice(tx, accountId, input.deviceName ?? 'Primary', 'primary');
        return { account_id: accountId, device_id: deviceId, token };
      });
    },

    /**
     * Creates the account of a business phone number with its one hosted device, inside the
     * caller's transaction. The device has no usable token: the server consumes its queue.
     */
    async createHostedNumber(
      tx: Executor,
      input: { phone: string; name: string; businessId: string },
    ): Promise<{ account_id: string; device_id: string; phone: string }> {
      const phone = requirePhone(input.phone);
      if (await repo.findAccountByPhone(phone, tx)) {
        throw new AppError('PHONE_TAKEN', `An account already exists for ${phone}.`);
      }
      const accountId = ids.newId('acc');
      const now = clock.now();
      await repo.insertAccount(
        {
          id: accountId,
          phone,
          phone_hash: phoneHash(phone),
          display_name: input.name,
          about: '',
          created_at: now,
          business_id: input.businessId,
        },
        tx,
      );
      const deviceId = ids.newId('dev');
      await repo.insertDevice(
        {
          id: deviceId,
          account_id: accountId,
          name: 'Hosted endpoint',
          // A hash of a secret nobody holds: the device can never sign in.
          token_hash: hashToken(ids.newToken('hosted')),
          created_at: now,
          last_seen_at: null,
          role: 'hosted',
        },
        tx,
      );
      return { account_id: accountId, device_id: deviceId, phone };
    },

    async authenticate(token: string | undefined): Promise<DeviceActor> {
      if (!token || token.length > 200) throw new AppError('UNAUTHENTICATED', 'A device token is required.');
      const row = await repo.findDeviceByTokenHash(hashToken(token));
      if (!row) throw new AppError('UNAUTHENTICATED', 'This device token is unknown or was logged out.');
      return { accountId: row.account_id, deviceId: row.device_id, phone: row.phone, role: row.role };
    },

    /** Marks devices as seen now (connected); companions unseen for 30 days are unlinked. */
    async touchDevices(deviceIds: string[]): Promise<void> {
      await repo.touchDevices(deviceIds, clock.now());
    },

    /** Shows a code (and QR payload) that links a new companion device to this account. */
    async createLinkCode(actor: DeviceActor): Promise<LinkCodeResponse> {
      if (!canLinkDevices(actor)) {
        throw new AppError('FORBIDDEN', 'Only the primary device can link other devices.');
      }
      await enforceLimit(limits.linkCodesPerAccount, actor.accountId, 'link codes for this account');
      const devices = await repo.listDevices(actor.accountId);
      if (devices.filter((d) => d.role === 'companion').length >= MAX_COMPANIONS) {
        throw new AppError(
          'DEVICE_LIMIT_REACHED',
          `This account already has ${MAX_COMPANIONS} linked devices; unlink one first.`,
          { max_companions: MAX_COMPANIONS },
        );
      }
      const code = ids.newCode(LINK_CODE_LENGTH, CROCKFORD);
      const now = clock.now();
      await repo.insertLinkCode({
        code_hash: codeHash('link', code),
        account_id: actor.accountId,
        created_by: actor.deviceId,
        expires_at: now + LINK_CODE_TTL_MS,
        created_at: now,
      });
      const shown = `${code.slice(0, 4)}-${code.slice(4)}`;
      return { code: shown, qr_payload: `parley:link:${shown}`, expires_in: LINK_CODE_TTL_MS / 1000 };
    },

    /** Links a new companion device with a code shown on the primary; returns its token. */
    async linkDevice(
      actor: AnonymousActor,
      input: { code: string; device_name?: string | undefined },
    ): Promise<LinkDeviceResponse> {
      await enforceLimit(limits.verifyPerAddress, actor.ip, 'link attempts from this address');
      const raw = input.code.startsWith('parley:link:')
        ? input.code.slice('parley:link:'.length)
        : input.code;
      const code = normalizeLinkCode(raw);
      if (!code)
        throw new AppError('LINK_CODE_INVALID', 'That is not a link code (8 characters, XXXX-XXXX).');
      const result = await db.kysely.transaction().execute(async (tx) => {
        const link = await repo.takeLinkCode(codeHash('link', code), tx);
        if (!link) throw new AppError('LINK_CODE_INVALID', 'This link code is wrong or was already used.');
        if (link.expires_at <= clock.now()) return { expired: true as const };
        const { deviceId, token } = await addDevice(
          tx,
          link.account_id,
          input.device_name?.trim() || 'Linked device',
          'companion',
        );
        return { expired: false as const, account_id: link.account_id, device_id: deviceId, token };
      });
      // Outside the transaction, so the spent code stays deleted.
      if (result.expired) throw new AppError('LINK_CODE_EXPIRED', 'This link code expired; show a new one.');
      return { account_id: result.account_id, device_id: result.device_id, token: result.token };
    },

    /** Unlinks companions not seen for 30 days. Returns their ids. */
    async unlinkIdleCompanions(): Promise<string[]> {
      const stale = await repo.findStaleCompanions(clock.now() - COMPANION_IDLE_MS);
      const unlinked: string[] = [];
      for (const device of stale) {
        unlinked.push(
          ...(await db.kysely
            .transaction()
            .execute((tx) => repo.deleteDevices(device.account_id, [device.id], tx))),
        );
      }
      revoke(unlinked);
      return unlinked;
    },

    async getOwnProfile(actor: DeviceActor): Promise<ProfileView> {
      const account = await repo.findAccountById(actor.accountId);
      if (!account) throw new AppError('ACCOUNT_NOT_FOUND', 'This account no longer exists.');
      return presentProfile(account);
    },

    async updateProfile(
      actor: DeviceActor,
      patch: {
        display_name?: string | undefined;
        about?: string | undefined;
        photo?: string | null | undefined;
      },
    ): Promise<ProfileView & { version?: number }> {
      const clean: { display_name?: string; about?: string; photo_media_id?: string | null } = {};
      if (patch.display_name !== undefined) clean.display_name = patch.display_name.trim();
      if (patch.about !== undefined) clean.about = patch.about.trim();
      if (patch.photo !== undefined) {
        if (patch.photo !== null) {
          if (!deps.requireOwnImage) throw new AppError('MEDIA_NOT_FOUND', 'Photos are not available here.');
          await deps.requireOwnImage(actor.accountId, patch.photo);
        }
        clean.photo_media_id = patch.photo;
      }
      if (Object.keys(clean).length === 0) return this.getOwnProfile(actor);
      const synced = await db.kysely.transaction().execute(async (tx) => {
        await repo.updateProfile(actor.accountId, clean, tx);
        return deps.settingsSync.settingsChanged(tx, actor);
      });
      synced.announce();
      // The version lets this device ignore older account.settings events still in its queue.
      return { ...(await this.getOwnProfile(actor)), version: synced.version };
    },

    /** Another account's public profile, by id or phone number. */
    async getProfile(actor: DeviceActor, idOrPhone: string): Promise<ProfileView> {
      const account = idOrPhone.startsWith('acc_')
        ? await repo.findAccountById(idOrPhone)
        : await repo.findAccountByPhone(normalizePhone(idOrPhone) ?? '');
      if (!account) throw new AppError('ACCOUNT_NOT_FOUND', `No account for "${idOrPhone}".`);
      const profile = presentProfile(account);
      // Hidden fields read as empty: the viewer cannot tell "hidden" from "not set".
      if (deps.canSee && !(await deps.canSee(actor.accountId, account.id, 'about'))) profile.about = '';
      if (deps.canSee && !(await deps.canSee(actor.accountId, account.id, 'photo'))) profile.photo = null;
      if (account.business_id) {
        const business = await deps.businessOf?.(account.id);
        if (business) profile.business = business;
      }
      return profile;
    },

    async listDevices(actor: DeviceActor): Promise<DeviceView[]> {
      const rows = await repo.listDevices(actor.accountId);
      return rows.map((row) => presentDevice(row, actor.deviceId));
    },

    /** Logs out one device (or all): its token stops working and its queue is dropped. */
    async logout(actor: DeviceActor, which: { deviceId: string } | 'all'): Promise<{ logged_out: string[] }> {
      if (!canLogOut(actor, which)) {
        throw new AppError('FORBIDDEN', 'A linked device can log out only itself; use the primary device.');
      }
      const deleted = await db.kysely
        .transaction()
        .execute((tx) => repo.deleteDevices(actor.accountId, which === 'all' ? 'all' : [which.deviceId], tx));
      if (which !== 'all' && deleted.length === 0) {
        throw new AppError('DEVICE_NOT_FOUND', `No device ${which.deviceId} on this account.`);
      }
      revoke(deleted);
      return { logged_out: deleted };
    },

    async purgeExpiredCodes(): Promise<number> {
      return (await repo.deleteExpiredCodes(clock.now())) + (await repo.deleteExpiredLinkCodes(clock.now()));
    },
  };
}

export type AccountsService = ReturnType<typeof createAccountsService>;
