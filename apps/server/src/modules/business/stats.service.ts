/**
 * Statistics of a business, per local day of a time zone the agent picks: messages sent,
 * delivered, read and received, chats started per entry point, and agents' response time.
 *
 * Everything is computed from stored rows when asked (see stats.repo.ts), so figures never
 * drift from the inbox; they cover what the business's retention still keeps. Day boundaries
 * come from stats.days.ts (23- and 25-hour days included).
 *
 * Response time, precisely: for each inbound message (kind `message`) received in the range,
 * the time until the first outbound message after it in the same conversation written by an
 * agent (author an account, not `automation:…` or `broadcast:…`). Messages no agent answered
 * yet are left out; automated replies neither count nor stop the clock. A burst of several
 * messages answered by one reply yields one sample per message. A sample belongs to the day
 * its inbound message arrived. Median and p90 use the nearest-rank method: the value at rank
 * ⌈p·n⌉ of the n samples sorted ascending.
 */
import type { BusinessStatsView, EntryPoint, ResponseTimeStats, StatsCounts } from '@parley/protocol';
import { AppError } from '../../errors.js';
import type { Clock } from '../../platform/clock.js';
import type { DeviceActor } from '../accounts/index.js';
import { isValidTimeZone } from './business.hours.js';
import type { BusinessService } from './business.service.js';
import { dayIndexOf, type LocalDay, localDays, parseDate } from './stats.days.js';
import type { StatsRepo } from './stats.repo.js';

export const MAX_STATS_DAYS = 366;
const DAY_MS = 86_400_000;
const ENTRY_POINTS: readonly EntryPoint[] = ['direct', 'link', 'qr', 'catalog', 'broadcast'];

export interface StatsQuery {
  /** `YYYY-MM-DD`, local dates in `tz`, both included. */
  from: string;
  to: string;
  /** IANA time zone; UTC when absent. */
  tz?: string | undefined;
}

export interface StatsServiceDeps {
  repo: StatsRepo;
  business: Pick<BusinessService, 'requireAgent'>;
  clock: Clock;
}

/** Nearest-rank percentile of ascending `sorted` (0 < p ≤ 1). */
export function nearestRank(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] ?? null;
}

function responseTime(samplesMs: number[]): ResponseTimeStats {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const seconds = (ms: number | null) => (ms === null ? null : ms / 1000);
  return {
    count: sorted.length,
    median_seconds: seconds(nearestRank(sorted, 0.5)),
    p90_seconds: seconds(nearestRank(sorted, 0.9)),
  };
}

function emptyCounts(): Omit<StatsCounts, 'response_time'> {
  return {
    sent: 0,
    delivered: 0,
    read: 0,
    received: 0,
    chats_started: Object.fromEntries(ENTRY_POINTS.map((e) => [e, 0])) as Record<EntryPoint, number>,
  };
}

/** Parses the query; every problem at once, as VALIDATION_FAILED issues. */
function parseQuery(query: StatsQuery): { from: number; to: number; tz: string } {
  const issues: { path: string; message: string }[] = [];
  const tz = query.tz ?? 'UTC';
  const from = parseDate(query.from);
  const to = parseDate(query.to);
  if (from === undefined) issues.push({ path: 'from', message: 'expected a calendar date YYYY-MM-DD' });
  if (to === undefined) issues.push({ path: 'to', message: 'expected a calendar date YYYY-MM-DD' });
  if (!isValidTimeZone(tz)) {
    issues.push({ path: 'tz', message: 'unknown time zone; expected an IANA name such as "Europe/Berlin"' });
  }
  if (from !== undefined && to !== undefined) {
    if (from > to) issues.push({ path: 'to', message: 'must not be before from' });
    else if ((to - from) / DAY_MS + 1 > MAX_STATS_DAYS) {
      issues.push({ path: 'to', message: `a range covers at most ${MAX_STATS_DAYS} days` });
    }
  }
  if (issues.length > 0 || from === undefined || to === undefined) {
    throw new AppError('VALIDATION_FAILED', 'The statistics range is not valid.', { issues });
  }
  return { from, to, tz };
}

export function createStatsService(deps: StatsServiceDeps) {
  const { repo, clock } = deps;

  return {
    async stats(actor: DeviceActor, businessId: string, query: StatsQuery): Promise<BusinessStatsView> {
      // Who may ask comes first: a stranger learns nothing, not even that the range is wrong.
      await deps.business.requireAgent(actor, businessId);
      const { from, to, tz } = parseQuery(query);
      const days: LocalDay[] = localDays(tz, from, to);
      const first = days[0];
      const last = days[days.length - 1];
      if (!first || !last) throw new AppError('INTERNAL_ERROR', 'A statistics range without days.');

      const [messages, started, responses, retention] = await Promise.all([
        repo.messageCounts(businessId, days),
        repo.chatsStarted(businessId, days),
        repo.responses(businessId, first.start, last.end),
        repo.retentionDays(businessId),
      ]);

      const perDay = days.map(() => ({ ...emptyCounts(), samples: [] as number[] }));
      for (const row of messages) {
        const day = perDay[row.i];
        if (!day) continue;
        day.sent = row.sent;
        day.delivered = row.delivered;
        day.read = row.read;
        day.received = row.received;
      }
      for (const row of started) {
        const day = perDay[row.i];
        if (day && row.started_via in day.chats_started) day.chats_started[row.started_via] += row.n;
      }
      for (const row of responses) {
        if (row.answered_at === null) continue;
        perDay[dayIndexOf(days, row.asked_at)]?.samples.push(row.answered_at - row.asked_at);
      }

      const totals = emptyCounts();
      for (const day of perDay) {
        totals.sent += day.sent;
        totals.delivered += day.delivered;
        totals.read += day.read;
        totals.received += day.received;
        for (const e of ENTRY_POINTS) totals.chats_started[e] += day.chats_started[e];
      }
      return {
        business_id: businessId,
        from: query.from,
        to: query.to,
        tz,
        retained_since: new Date(clock.now() - (retention ?? 0) * DAY_MS).toISOString(),
        days: days.map((d, i) => {
          const { samples, ...counts } = perDay[i] ?? { ...emptyCounts(), samples: [] };
          return {
            date: d.date,
            start: new Date(d.start).toISOString(),
            end: new Date(d.end).toISOString(),
            ...counts,
            response_time: responseTime(samples),
          };
        }),
        // Percentiles of the whole range come from all its samples, not from the days' figures.
        totals: { ...totals, response_time: responseTime(perDay.flatMap((d) => d.samples)) },
      };
    },
  };
}

export type StatsService = ReturnType<typeof createStatsService>;
