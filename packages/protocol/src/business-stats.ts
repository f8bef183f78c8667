/**
 * Wire shapes of business statistics and broadcast lists (REST, under
 * /api/v1/businesses/{id}/stats and /api/v1/businesses/{id}/broadcast-lists).
 */
import type { EntryPoint } from './business.js';

/** Median and 90th percentile of agents' response times (see docs/business.md). */
export interface ResponseTimeStats {
  /** Inbound messages that got an agent's reply. */
  count: number;
  /** Seconds (ms precision); null when count is 0. */
  median_seconds: number | null;
  p90_seconds: number | null;
}

export interface StatsCounts {
  /** Outbound messages (agents, automations, broadcasts). */
  sent: number;
  /** Of those sent, how many the person's device received / read (by the day sent). */
  delivered: number;
  read: number;
  /** Inbound messages from people. */
  received: number;
  chats_started: Record<EntryPoint, number>;
  response_time: ResponseTimeStats;
}

export interface StatsDay extends StatsCounts {
  /** Local date `YYYY-MM-DD` in the requested time zone. */
  date: string;
  /** The local day's first and end instants (ISO, UTC): 23 or 25 hours apart on DST days. */
  start: string;
  end: string;
}

export interface BusinessStatsView {
  business_id: string;
  from: string;
  to: string;
  tz: string;
  /** Messages older than this were deleted by the business's retention and are not counted. */
  retained_since: string;
  days: StatsDay[];
  totals: StatsCounts;
}

export interface BroadcastListView {
  list_id: string;
  business_id: string;
  name: string;
  member_count: number;
  members: { account_id: string; phone: string; display_name: string; added_at: string }[];
  created_at: string;
  updated_at: string;
}

/** A list in `GET …/broadcast-lists` (without its members). */
export type BroadcastListSummary = Omit<BroadcastListView, 'members'>;

export type BroadcastSkipReason = 'blocked' | 'not_opted_in';

export interface BroadcastView {
  broadcast_id: string;
  list_id: string;
  phone_number_id: string;
  text: string;
  created_at: string;
  /** Members it was queued for (each gets one 1:1 message from the business number). */
  recipients: number;
  /** Of those, how many are still waiting in the outbox (sent shortly, exactly once). */
  pending: number;
  skipped: { account_id: string; reason: BroadcastSkipReason }[];
}
