/** SQL of the Business Messaging API's limits: tiers, throughput, quality, opt-outs, counts. */
import { sql } from 'kysely';
import type { Executor } from '../../../platform/db.js';
import type { BusinessLimitsTable, NumberLimitsTable } from '../../../platform/schema.js';
import type { Quality, Tier } from './limits.policy.js';

/** What a send needs to know about one person and one number, read in one round trip. */
export interface RecipientState {
  /** The person's last message to the number (null: never, or no conversation). */
  last_inbound_at: number | null;
  started_via: string | null;
  conversation_at: number | null;
  /** The person blocked the number. */
  blocked: boolean;
  /** The person sent STOP to the number (and no START since). */
  opted_out: boolean;
}

export interface NumberSettings {
  business_id: string;
  throughput_mps: number | null;
  quality_rating: Quality | null;
  tier: Tier | null;
}

export interface DueBusiness {
  id: string;
  name_verified: number;
  tier: Tier | null;
  tier_changed_at: number | null;
  tier_changed_by: BusinessLimitsTable['tier_changed_by'] | null;
}

const num = (v: unknown): number => Number(v ?? 0);

export function createLimitsRepo(db: Executor) {
  /** Business-initiated API messages: templates sent while the person's window was closed. */
  const businessInitiated = (tx: Executor, businessId: string, since: number) =>
    tx
      .selectFrom('api_messages')
      .where('business_id', '=', businessId)
      .where('created_at', '>=', since)
      .where('type', '=', 'template')
      .where('window_open', '=', 0);

  return {
    /**
     * The person's conversation with the number, whether they blocked it and whether they
     * opted out of marketing: three primary-key or unique-index probes in one statement, as
     * this runs for every API send.
     */
    async recipientState(
      phoneNumberId: string,
      numberAccountId: string,
      personAccountId: string,
      tx: Executor = db,
    ): Promise<RecipientState> {
      const conversation = () =>
        tx
          .selectFrom('conversations')
          .where('phone_number_id', '=', phoneNumberId)
          .where('person_account_id', '=', personAccountId);
      const row = await tx
        .selectNoFrom((eb) => [
          conversation().select('last_inbound_at').as('last_inbound_at'),
          conversation().select('started_via').as('started_via'),
          conversation().select('created_at').as('conversation_at'),
          eb
            .selectFrom('blocks')
            .select(sql<number>`1`.as('one'))
            .where('account_id', '=', personAccountId)
            .where('blocked_id', '=', numberAccountId)
            .as('blocked'),
          eb
            .selectFrom('marketing_opt_outs')
            .select(sql<number>`1`.as('one'))
            .where('phone_number_id', '=', phoneNumberId)
            .where('person_account_id', '=', personAccountId)
            .as('opted_out'),
        ])
        .executeTakeFirstOrThrow();
      return {
        last_inbound_at: row.last_inbound_at === null ? null : Number(row.last_inbound_at),
        started_via: row.started_via ?? null,
        conversation_at: row.conversation_at === null ? null : Number(row.conversation_at),
        blocked: row.blocked !== null,
        opted_out: row.opted_out !== null,
      };
    },

    /** A number's throughput and quality, and its business's stored tier (undefined: no such number). */
    async numberSettings(phoneNumberId: string, tx: Executor = db): Promise<NumberSettings | undefined> {
      return tx
        .selectFrom('business_numbers as n')
        .leftJoin('number_limits as nl', 'nl.phone_number_id', 'n.phone_number_id')
        .leftJoin('business_limits as bl', 'bl.business_id', 'n.business_id')
        .select(['n.business_id', 'nl.throughput_mps', 'nl.quality_rating', 'bl.tier'])
        .where('n.phone_number_id', '=', phoneNumberId)
        .executeTakeFirst();
    },

    async setThroughput(
      tx: Executor,
      row: Pick<NumberLimitsTable, 'phone_number_id' | 'business_id' | 'throughput_mps'> & { at: number },
    ): Promise<void> {
      await tx
        .insertInto('number_limits')
        .values({
          phone_number_id: row.phone_number_id,
          business_id: row.business_id,
          throughput_mps: row.throughput_mps,
          quality_rating: 'GREEN',
          quality_changed_at: row.at,
        })
        .onConflict((oc) => oc.column('phone_number_id').doUpdateSet({ throughput_mps: row.throughput_mps }))
        .execute();
    },

    async setQuality(
      tx: Executor,
      row: Pick<
        NumberLimitsTable,
        'phone_number_id' | 'business_id' | 'quality_rating' | 'quality_changed_at'
      >,
    ): Promise<void> {
      await tx
        .insertInto('number_limits')
        .values({ ...row, throughput_mps: null })
        .onConflict((oc) =>
          oc.column('phone_number_id').doUpdateSet({
            quality_rating: row.quality_rating,
            quality_changed_at: row.quality_changed_at,
          }),
        )
        .execute();
    },

    /** Stores a tier (and, with `evaluated_at`, the time of an evaluation). */
    async setTier(tx: Executor, row: BusinessLimitsTable): Promise<void> {
      await tx
        .insertInto('business_limits')
        .values(row)
        .onConflict((oc) =>
          oc.column('business_id').doUpdateSet({
            tier: row.tier,
            tier_changed_at: row.tier_changed_at,
            tier_changed_by: row.tier_changed_by,
            evaluated_at: row.evaluated_at,
          }),
        )
        .execute();
    },

    async businessLimits(businessId: string, tx: Executor = db) {
      return tx
        .selectFrom('businesses as b')
        .leftJoin('business_limits as bl', 'bl.business_id', 'b.id')
        .select([
          'b.id',
          'b.name_verified',
          'bl.tier',
          'bl.tier_changed_at',
          'bl.tier_changed_by',
          'bl.evaluated_at',
        ])
        .where('b.id', '=', businessId)
        .executeTakeFirst();
    },

    /** Opts the person out of the number's marketing (the first STOP's time is kept). */
    async optOut(
      tx: Executor,
      row: { phone_number_id: string; person_account_id: string; business_id: string; opted_out_at: number },
    ): Promise<void> {
      await tx
        .insertInto('marketing_opt_outs')
        .values(row)
        .onConflict((oc) => oc.columns(['phone_number_id', 'person_account_id']).doNothing())
        .execute();
    },
    async optIn(tx: Executor, phoneNumberId: string, personAccountId: string): Promise<void> {
      await tx
        .deleteFrom('marketing_opt_outs')
        .where('phone_number_id', '=', phoneNumberId)
        .where('person_account_id', '=', personAccountId)
        .execute();
    },

    /** Each person reached by a business-initiated message since `since`, with the last time. */
    async reachedSince(businessId: string, since: number, tx: Executor = db) {
      const rows = await businessInitiated(tx, businessId, since)
        .where('status', '!=', 'failed')
        .select((eb) => ['to_phone', eb.fn.max('created_at').as('at')])
        .groupBy('to_phone')
        .execute();
      return rows.map((r) => ({ person: r.to_phone, at: num(r.at) }));
    },

    /** Unique people reached by business-initiated messages since `since` (not failed ones). */
    async uniqueReached(businessId: string, since: number, tx: Executor = db): Promise<number> {
      const row = await businessInitiated(tx, businessId, since)
        .where('status', '!=', 'failed')
        .select((eb) => eb.fn.count('to_phone').distinct().as('n'))
        .executeTakeFirst();
      return num(row?.n);
    },
    /** Unique people a business-initiated template was delivered to since `since`. */
    async uniqueDelivered(businessId: string, since: number, tx: Executor = db): Promise<number> {
      const row = await businessInitiated(tx, businessId, since)
        .where('status', 'in', ['delivered', 'read'])
        .select((eb) => eb.fn.count('to_phone').distinct().as('n'))
        .executeTakeFirst();
      return num(row?.n);
    },

    /** Businesses not evaluated since `cutoff` (or never), oldest id first. */
    async dueBusinesses(cutoff: number, limit: number, tx: Executor = db): Promise<DueBusiness[]> {
      return tx
        .selectFrom('businesses as b')
        .leftJoin('business_limits as bl', 'bl.business_id', 'b.id')
        .select(['b.id', 'b.name_verified', 'bl.tier', 'bl.tier_changed_at', 'bl.tier_changed_by'])
        .where((eb) => eb.or([eb('bl.evaluated_at', 'is', null), eb('bl.evaluated_at', '<=', cutoff)]))
        .orderBy('b.id')
        .limit(limit)
        .execute();
    },

    /** A business's numbers with their stored quality. */
    async numbersOf(businessId: string, tx: Executor = db) {
      return tx
        .selectFrom('business_numbers as n')
        .leftJoin('number_limits as nl', 'nl.phone_number_id', 'n.phone_number_id')
        .select(['n.phone_number_id', 'n.account_id', 'nl.quality_rating'])
        .where('n.business_id', '=', businessId)
        .execute();
    },

    /** Unique people the number sent anything to since `since` (API, agents, automations). */
    async messagedPeople(
      businessId: string,
      phoneNumberId: string,
      since: number,
      tx: Executor = db,
    ): Promise<number> {
      const row = await tx
        .selectFrom('business_messages as m')
        .innerJoin('conversations as c', 'c.id', 'm.conversation_id')
        .where('m.business_id', '=', businessId)
        .where('m.created_at', '>=', since)
        .where('m.direction', '=', 'out')
        .where('c.phone_number_id', '=', phoneNumberId)
        .select((eb) => eb.fn.count('c.person_account_id').distinct().as('n'))
        .executeTakeFirst();
      return num(row?.n);
    },

    /**
     * Unique people who blocked or reported the number since `since` and whom it had
     * messaged since then too: negative feedback on what the number sent.
     */
    async negativePeople(
      phoneNumberId: string,
      numberAccountId: string,
      since: number,
      tx: Executor = db,
    ): Promise<number> {
      const feedback = tx
        .selectFrom('blocks')
        .select('account_id as person')
        .where('blocked_id', '=', numberAccountId)
        .where('created_at', '>=', since)
        .union(
          tx
            .selectFrom('reports')
            .select('reporter_id as person')
            .where('reported_id', '=', numberAccountId)
            .where('created_at', '>=', since),
        );
      const row = await tx
        .selectFrom(feedback.as('f'))
        .where(({ exists, selectFrom }) =>
          exists(
            selectFrom('conversations as c')
              .innerJoin('business_messages as m', 'm.conversation_id', 'c.id')
              .select(sql<number>`1`.as('one'))
              .where('c.phone_number_id', '=', phoneNumberId)
              .whereRef('c.person_account_id', '=', 'f.person')
              .where('m.direction', '=', 'out')
              .where('m.created_at', '>=', since),
          ),
        )
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirst();
      return num(row?.n);
    },
  };
}

export type LimitsRepo = ReturnType<typeof createLimitsRepo>;
