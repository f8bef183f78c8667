/**
 * "What will this send cost?": the classification under the pricing model in force and the
 * unit price from the rate card in force, for one message to one number. Metering's
 * reserve-at-send uses `preview` inside its transaction; businesses ask through the API.
 */
import { AppError } from '../../errors.js';
import type { Clock } from '../../platform/clock.js';
import type { Db, Executor } from '../../platform/db.js';
import type { DeviceActor } from '../accounts/index.js';
import { normalizePhone } from '../accounts/index.js';
import type { BusinessService } from '../business/index.js';
import { marketOf } from '../cloud-api/pricing.js';
import { formatMicros } from './money.js';
import {
  type BillingCategory,
  type Classification,
  classify,
  type PricingModel,
  rateCategory,
} from './pricing-models.js';
import type { PricingModelsService } from './pricing-models.service.js';
import { createRateCardsRepo } from './rate-cards.repo.js';
import type { RateCardsService } from './rate-cards.service.js';

/** A business without a billing account yet is quoted in this currency. */
export const DEFAULT_CURRENCY = 'USD';

export interface PreviewInput {
  currency: string;
  /** The recipient's E.164 number. */
  to: string;
  category: BillingCategory;
  windowOpen: boolean;
  freeEntryPoint: boolean;
  at: number;
  /** Billable messages of this category × market this month before this one (tiers); 0 if unknown. */
  monthlyCount?: number | undefined;
  serviceCountThisMonth?: number | undefined;
  conversationOpen?: boolean | undefined;
}

export interface Preview {
  currency: string;
  market: string;
  model: PricingModel;
  classification: Classification;
  /** What one such message costs, in micros (0 when not billable). */
  unitPriceMicros: bigint;
  rateCardVersionId: string | null;
  /** Billable, but the card in force has no price for this category in this market (nor `*`). */
  noPrice: boolean;
}

export interface PreviewView {
  currency: string;
  market: string;
  pricing_model: 'PMP' | 'CBP';
  billable: boolean;
  category: Classification['category'];
  type: Classification['type'];
  unit_price_micros: string;
  unit_price: string;
  rate_card_version_id: string | null;
  /** Why the price is 0 though the message is billable: no rate card, or no row for the market. */
  no_price?: 'no_rate_card' | 'no_price_for_market';
}

export function previewView(p: Preview): PreviewView {
  const view: PreviewView = {
    currency: p.currency,
    market: p.market,
    pricing_model: p.classification.pricing_model,
    billable: p.classification.billable,
    category: p.classification.category,
    type: p.classification.type,
    unit_price_micros: p.unitPriceMicros.toString(),
    unit_price: formatMicros(p.unitPriceMicros),
    rate_card_version_id: p.rateCardVersionId,
  };
  if (p.classification.billable && p.rateCardVersionId === null) view.no_price = 'no_rate_card';
  else if (p.noPrice) view.no_price = 'no_price_for_market';
  return view;
}

export function createPricePreview(deps: {
  db: Pick<Db, 'kysely' | 'caps'>;
  clock: Clock;
  rateCards: Pick<RateCardsService, 'priceAt'>;
  pricingModels: Pick<PricingModelsService, 'modelAt'>;
  business?: Pick<BusinessService, 'requireManager'>;
}) {
  const { db, clock, rateCards, pricingModels } = deps;
  const repo = createRateCardsRepo(db);

  async function preview(tx: Executor, input: PreviewInput): Promise<Preview> {
    const to = normalizePhone(input.to);
    if (!to)
      throw new AppError('PHONE_INVALID', 'The recipient must be an E.164 number such as +4917612345678.');
    const market = marketOf(to);
    const model = await pricingModels.modelAt(tx, input.at);
    const classification = classify(model, {
      category: input.category,
      windowOpen: input.windowOpen,
      freeEntryPoint: input.freeEntryPoint,
      serviceCountThisMonth: input.serviceCountThisMonth,
      conversationOpen: input.conversationOpen,
    });
    const price = await rateCards.priceAt(tx, {
      currency: input.currency,
      category: rateCategory(model, input.category),
      market,
      at: input.at,
      monthlyCount: input.monthlyCount ?? 0,
    });
    return {
      currency: input.currency,
      market,
      model,
      classification,
      unitPriceMicros: classification.billable ? (price?.unitPriceMicros ?? 0n) : 0n,
      rateCardVersionId: price?.versionId ?? null,
      noPrice: classification.billable && price?.noPrice === true,
    };
  }

  return {
    preview,
    /** A business manager's question about one message to `to` now. */
    async forBusiness(
      actor: DeviceActor,
      businessId: string,
      query: { to: string; category: BillingCategory; windowOpen: boolean; freeEntryPoint: boolean },
    ): Promise<PreviewView> {
      if (!deps.business) throw new AppError('INTERNAL_ERROR', 'The price preview has no business service.');
      await deps.business.requireManager(actor, businessId);
      const currency = (await repo.businessCurrency(businessId)) ?? DEFAULT_CURRENCY;
      return previewView(await preview(db.kysely, { ...query, currency, at: clock.now() }));
    },
  };
}

export type PricePreview = ReturnType<typeof createPricePreview>;
