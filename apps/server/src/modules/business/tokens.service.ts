/**
 * Access tokens of the Business Messaging API. A business may hold several (one per
 * integration, say) so that one can be revoked without stopping the others. A token is shown
 * once, when made, and stored as its SHA-256 hash; revoking it takes effect on the next
 * request (authentication reads the row every time, there is no cache to outlive it).
 *
 * Managers (owners and admins) manage tokens over REST; the operator does from the CLI.
 * `last_used_at` is written at most once a minute per token and process, so a token sending
 * thousands of messages a second costs one small write a minute, not one per request.
 */
import type { ApiTokenCreatedView, ApiTokenView } from '@parley/protocol';
import { AppError } from '../../errors.js';
import type { Clock } from '../../platform/clock.js';
import type { Db } from '../../platform/db.js';
import { hashToken, type Ids } from '../../platform/ids.js';
import type { DeviceActor } from '../accounts/index.js';
import type { BusinessRepo } from './business.repo.js';
import type { BusinessService } from './business.service.js';
import type { TokenRow, TokensRepo } from './tokens.repo.js';

export const TOKEN_PREFIX = 'pbt';
/** How many live tokens a business may hold: plenty for integrations, a bound for a runaway script. */
export const MAX_LIVE_TOKENS = 50;
const TOUCH_EVERY_MS = 60_000;
/** `pbt_` and the first 6 random characters: enough to tell tokens apart, far too few to guess one. */
const SHOWN_CHARS = TOKEN_PREFIX.length + 1 + 6;

export interface TokensServiceDeps {
  db: Pick<Db, 'kysely' | 'caps'>;
  repo: TokensRepo;
  businessRepo: Pick<BusinessRepo, 'find'>;
  business: Pick<BusinessService, 'requireManager'>;
  clock: Clock;
  ids: Pick<Ids, 'newId' | 'newToken'>;
}

export function presentToken(row: TokenRow): ApiTokenView {
  return {
    token_id: row.id,
    name: row.name,
    prefix: row.prefix,
    created_at: new Date(row.created_at).toISOString(),
    last_used_at: row.last_used_at === null ? null : new Date(row.last_used_at).toISOString(),
  };
}

/** A new token's row (also used for the business's first token, made with the business). */
export function newTokenRow(
  ids: Pick<Ids, 'newId' | 'newToken'>,
  businessId: string,
  name: string,
  now: number,
): { token: string; row: TokenRow } {
  const token = ids.newToken(TOKEN_PREFIX);
  return {
    token,
    row: {
      id: ids.newId('tok'),
      token_hash: hashToken(token),
      business_id: businessId,
      name,
      prefix: token.slice(0, SHOWN_CHARS),
      created_at: now,
      revoked_at: null,
      last_used_at: null,
    },
  };
}

function nameOf(name: string | undefined): string {
  const trimmed = (name ?? 'api').trim();
  if (!trimmed || trimmed.length > 64) {
    throw new AppError('VALIDATION_FAILED', 'A token name has 1 to 64 characters.', {
      issues: [{ path: 'name', message: '1 to 64 characters' }],
    });
  }
  return trimmed;
}

export function createTokensService(deps: TokensServiceDeps) {
  const { db, repo, clock, ids } = deps;
  const touched = new Map<string, number>();

  async function requireBusiness(businessId: string) {
    if (!(await deps.businessRepo.find(businessId)))
      throw new AppError('BUSINESS_NOT_FOUND', `No business ${businessId}.`);
  }

  const ops = {
    async create(businessId: string, name?: string): Promise<ApiTokenCreatedView> {
      const clean = nameOf(name);
      await requireBusiness(businessId);
      const made = newTokenRow(ids, businessId, clean, clock.now());
      await db.kysely.transaction().execute(async (tx) => {
        await repo.lockBusiness(tx, businessId, db.caps.rowLocks);
        if ((await repo.live(businessId, tx)).length >= MAX_LIVE_TOKENS) {
          throw new AppError(
            'VALIDATION_FAILED',
            `A business holds at most ${MAX_LIVE_TOKENS} live tokens.`,
            {
              issues: [{ path: 'tokens', message: `revoke one first (at most ${MAX_LIVE_TOKENS})` }],
            },
          );
        }
        await repo.insert(tx, made.row);
      });
      return { ...presentToken(made.row), access_token: made.token };
    },
    async list(businessId: string): Promise<ApiTokenView[]> {
      await requireBusiness(businessId);
      return (await repo.live(businessId)).map(presentToken);
    },
    async revoke(businessId: string, tokenId: string): Promise<void> {
      const done = await db.kysely
        .transaction()
        .execute((tx) => repo.revoke(tx, businessId, tokenId, clock.now()));
      if (!done) throw new AppError('TOKEN_NOT_FOUND', `No live token ${tokenId} in this business.`);
    },
  };

  return {
    /** Operator (CLI): no actor, the business id is enough. */
    operator: ops,

    /** Owners and admins of the business. */
    async create(actor: DeviceActor, businessId: string, name?: string): Promise<ApiTokenCreatedView> {
      await deps.business.requireManager(actor, businessId);
      return ops.create(businessId, name);
    },
    async list(actor: DeviceActor, businessId: string): Promise<ApiTokenView[]> {
      await deps.business.requireManager(actor, businessId);
      return ops.list(businessId);
    },
    async revoke(actor: DeviceActor, businessId: string, tokenId: string): Promise<void> {
      await deps.business.requireManager(actor, businessId);
      return ops.revoke(businessId, tokenId);
    },

    /** A token authenticated a request: records when, at most once a minute per token (see the header). */
    async used(tokenHash: string): Promise<void> {
      const now = clock.now();
      const last = touched.get(tokenHash);
      if (last !== undefined && now - last < TOUCH_EVERY_MS) return;
      touched.set(tokenHash, now);
      // Bounded: a map of every token ever seen would grow without end in a long-lived process.
      if (touched.size > 10_000) touched.clear();
      await repo.touch(tokenHash, now);
    },
  };
}

export type TokensService = ReturnType<typeof createTokensService>;
