/**
 * The deployment's pricing model over time: rows (effective_from, model), the latest one not
 * after an instant wins; `PMP` before the first row. Switches are planned for now or later,
 * never the past, so events already metered keep their classification.
 *
 * Cached like rate cards: dropped on this process's writes, otherwise re-checked with a
 * one-row query at most once a second. `modelAtCached` answers synchronously from the cache
 * (for the status-webhook path, which is synchronous) and refreshes it in the background.
 */
import { AppError } from '../../errors.js';
import type { Clock } from '../../platform/clock.js';
import type { Db, Executor } from '../../platform/db.js';
import type { Logger } from '../../platform/logger.js';
import {
  DEFAULT_PRICING_MODEL,
  isPricingModel,
  PRICING_MODELS,
  type PricingModel,
} from './pricing-models.js';
import { createRateCardsRepo } from './rate-cards.repo.js';
import { CACHE_CHECK_MS } from './rate-cards.service.js';

interface Switch {
  effectiveFrom: number;
  model: PricingModel;
}

interface Snapshot {
  signature: string;
  checkedAt: number;
  switches: Switch[];
}

export interface PricingModelView {
  model: PricingModel;
  effective_from: string;
  status: 'scheduled' | 'in_force' | 'ended';
}

function modelIn(switches: Switch[], at: number): PricingModel {
  for (let i = switches.length - 1; i >= 0; i--) {
    const s = switches[i];
    if (s && s.effectiveFrom <= at) return s.model;
  }
  return DEFAULT_PRICING_MODEL;
}

export function createPricingModelsService(deps: {
  db: Pick<Db, 'kysely' | 'caps'>;
  clock: Clock;
  logger?: Pick<Logger, 'warn'>;
}) {
  const { db, clock } = deps;
  const repo = createRateCardsRepo(db);
  let snapshot: Snapshot | undefined;
  let refreshing: Promise<void> | undefined;

  async function fresh(tx: Executor): Promise<Snapshot> {
    const now = clock.now();
    if (snapshot && now - snapshot.checkedAt < CACHE_CHECK_MS) return snapshot;
    const current = snapshot;
    if (current) current.checkedAt = now;
    const signature = await repo.modelSignature(tx);
    if (current && signature === current.signature) return current;
    snapshot = { signature, checkedAt: now, switches: await repo.modelSwitches(tx) };
    return snapshot;
  }

  const service = {
    async modelAt(tx: Executor, at: number): Promise<PricingModel> {
      return modelIn((await fresh(tx)).switches, at);
    },

    /**
     * The model at `at` from memory, without waiting: a stale or missing cache starts a refresh
     * on the root connection (never awaited here, so it cannot block a caller's transaction)
     * and the answer is the last known one (`PMP` before the first load).
     */
    modelAtCached(at: number): PricingModel {
      const now = clock.now();
      if ((!snapshot || now - snapshot.checkedAt >= CACHE_CHECK_MS) && !refreshing) {
        refreshing = fresh(db.kysely)
          .then(() => undefined)
          .catch((e: unknown) => deps.logger?.warn({ err: e }, 'pricing models: cache refresh failed'))
          .finally(() => {
            refreshing = undefined;
          });
      }
      return snapshot ? modelIn(snapshot.switches, at) : DEFAULT_PRICING_MODEL;
    },

    /** Loads the cache (call once at start so the first webhooks see the right model). */
    async refresh(): Promise<void> {
      snapshot = undefined;
      await fresh(db.kysely);
    },

    async list(): Promise<PricingModelView[]> {
      const now = clock.now();
      const switches = await repo.modelSwitches();
      return switches.map((s, i) => {
        const next = switches[i + 1];
        return {
          model: s.model,
          effective_from: new Date(s.effectiveFrom).toISOString(),
          status:
            s.effectiveFrom > now ? 'scheduled' : next && next.effectiveFrom <= now ? 'ended' : 'in_force',
        };
      });
    },

    /** Plans a switch to `model` from `effectiveFrom` (default now); a plan for the same instant is replaced. */
    async set(model: unknown, effectiveFrom?: number): Promise<PricingModelView[]> {
      const now = clock.now();
      const from = effectiveFrom ?? now;
      if (!isPricingModel(model)) {
        throw new AppError('BILLING_PRICING_MODEL_INVALID', `Unknown pricing model ${String(model)}.`, {
          model,
          models: PRICING_MODELS,
        });
      }
      if (!Number.isSafeInteger(from) || from < now) {
        throw new AppError(
          'BILLING_PRICING_MODEL_INVALID',
          'A pricing-model switch starts now or later: events already metered keep their model.',
          { effective_from: Number.isFinite(from) ? new Date(from).toISOString() : String(from) },
        );
      }
      await db.kysely.transaction().execute((tx) => repo.setModel(tx, from, model, now));
      snapshot = undefined;
      return service.list();
    },
  };
  return service;
}

export type PricingModelsService = ReturnType<typeof createPricingModelsService>;
