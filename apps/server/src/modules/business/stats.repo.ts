/**
 * SQL of business statistics. Every figure is counted from stored rows (`business_messages`,
 * `conversations`), never from counters. The local days arrive as a table of UTC boundaries
 * (`days(i, day_start, day_end)`), so each day is a range scan of the
 * `(business_id, created_at)` indexes however long the day is (DST days included), and the
 * database aggregates: the answer has one row per day, not one per message.
 */
import { type RawBuilder, sql } from 'kysely';
import type { Executor } from '../../platform/db.js';
import type { EntryPoint } from '../../platform/schema.js';
import type { LocalDay } from './stats.days.js';

export interface DayMessageCounts {
  i: number;
  sent: number;
  delivered: number;
  read: number;
  received: number;
}

/** An inbound message and when an agent first answered it (null: not yet). */
export interface ResponseRow {
  asked_at: number;
  answered_at: number | null;
}

function daysTable(days: readonly LocalDay[]): RawBuilder<unknown> {
  // Cast, so PostgreSQL types the VALUES columns as integers rather than text.
  const rows = days.map(
    (d, i) => sql`(cast(${i} as integer), cast(${d.start} as bigint), cast(${d.end} as bigint))`,
  );
  return sql`days(i, day_start, day_end) as (values ${sql.join(rows)})`;
}

// Only `message` rows count: reactions, edits and deletes are stored in the inbox too, but are
// not messages of their own.
export function createStatsRepo(db: Executor) {
  return {
    async messageCounts(businessId: string, days: readonly LocalDay[], tx: Executor = db) {
      if (days.length === 0) return [];
      type Row = Record<'i' | 'sent' | 'delivered' | 'read_count' | 'received', number | string>;
      const result = await sql<Row>`
        with ${daysTable(days)}
        select d.i as i,
          sum(case when m.direction = 'out' then 1 else 0 end) as sent,
          sum(case when m.direction = 'out' and m.delivered_at is not null then 1 else 0 end) as delivered,
          sum(case when m.direction = 'out' and m.read_at is not null then 1 else 0 end) as read_count,
          sum(case when m.direction = 'in' then 1 else 0 end) as received
        from days d
        join business_messages m
          on m.business_id = ${businessId} and m.created_at >= d.day_start and m.created_at < d.day_end
        where m.kind = 'message'
        group by d.i`.execute(tx);
      return result.rows.map(
        (r): DayMessageCounts => ({
          i: Number(r.i),
          sent: Number(r.sent),
          delivered: Number(r.delivered),
          read: Number(r.read_count),
          received: Number(r.received),
        }),
      );
    },

    /** Conversations created per day and entry point. */
    async chatsStarted(businessId: string, days: readonly LocalDay[], tx: Executor = db) {
      if (days.length === 0) return [];
      const result = await sql<{ i: number | string; started_via: EntryPoint; n: number | string }>`
        with ${daysTable(days)}
        select d.i as i, c.started_via as started_via, count(*) as n
        from days d
        join conversations c
          on c.business_id = ${businessId} and c.created_at >= d.day_start and c.created_at < d.day_end
        group by d.i, c.started_via`.execute(tx);
      return result.rows.map((r) => ({ i: Number(r.i), started_via: r.started_via, n: Number(r.n) }));
    },

    /**
     * Each inbound message in `[start, end)` with the time of the first agent's message after
     * it in its conversation. An agent's message is outbound and authored by an account
     * (`acc_…`): automations (`automation:…`) and broadcasts (`broadcast:…`) are not answers.
     */
    async responses(
      businessId: string,
      start: number,
      end: number,
      tx: Executor = db,
    ): Promise<ResponseRow[]> {
      const rows = await tx
        .selectFrom('business_messages as m')
        .select((eb) => [
          'm.created_at as asked_at',
          eb
            .selectFrom('business_messages as o')
            .select('o.created_at')
            .whereRef('o.conversation_id', '=', 'm.conversation_id')
            .where('o.direction', '=', 'out')
            .where('o.kind', '=', 'message')
            .where(sql<string>`substr(o.author, 1, 4)`, '=', 'acc_')
            .whereRef('o.created_at', '>', 'm.created_at')
            .orderBy('o.created_at')
            .limit(1)
            .as('answered_at'),
        ])
        .where('m.business_id', '=', businessId)
        .where('m.direction', '=', 'in')
        .where('m.kind', '=', 'message')
        .where('m.created_at', '>=', start)
        .where('m.created_at', '<', end)
        .execute();
      return rows.map((r) => ({
        asked_at: Number(r.asked_at),
        answered_at: r.answered_at === null || r.answered_at === undefined ? null : Number(r.answered_at),
      }));
    },

    async retentionDays(businessId: string, tx: Executor = db): Promise<number | undefined> {
      const row = await tx
        .selectFrom('businesses')
        .select('retention_days')
        .where('id', '=', businessId)
        .executeTakeFirst();
      return row?.retention_days;
    },
  };
}

export type StatsRepo = ReturnType<typeof createStatsRepo>;
