/** Row to wire shape for broadcast lists and broadcasts. */
import type {
  BroadcastListSummary,
  BroadcastListView,
  BroadcastSkipReason,
  BroadcastView,
} from '@parley/protocol';
import type { BroadcastListRow, BroadcastRow, MemberRow } from './broadcasts.repo.js';

const iso = (ms: number) => new Date(ms).toISOString();

export function presentListSummary(row: BroadcastListRow, memberCount: number): BroadcastListSummary {
  return {
    list_id: row.id,
    business_id: row.business_id,
    name: row.name,
    member_count: memberCount,
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
  };
}

export function presentList(row: BroadcastListRow, members: MemberRow[]): BroadcastListView {
  return {
    ...presentListSummary(row, members.length),
    members: members.map((m) => ({
      account_id: m.account_id,
      phone: m.phone,
      display_name: m.display_name,
      added_at: iso(m.added_at),
    })),
  };
}

export function presentBroadcast(row: BroadcastRow, pending: number): BroadcastView {
  return {
    broadcast_id: row.id,
    list_id: row.list_id,
    phone_number_id: row.phone_number_id,
    text: row.text,
    created_at: iso(row.created_at),
    recipients: row.recipients,
    pending,
    skipped: JSON.parse(row.skipped) as { account_id: string; reason: BroadcastSkipReason }[],
  };
}
