/**
 * Billing notices: in-app alerts to a business or a person (a failed payment, a reminder
 * before the consumer plan expires, a low balance). A notice the worker may produce more than
 * once (each tick re-examines the same state) carries a dedupe key and appears only once.
 */
import type { Clock } from '../../platform/clock.js';
import type { Executor } from '../../platform/db.js';
import type { Ids } from '../../platform/ids.js';
import type { NoticeRow, NoticesRepo } from './notices.repo.js';

export interface AddNoticeInput {
  ownerType: 'business' | 'person';
  ownerId: string;
  /** e.g. `payment_failed`, `subscription_downgraded`, `consumer_plan_reminder`, `low_balance`. */
  kind: string;
  title: string;
  body: string;
  data?: Record<string, unknown>;
  /** Same key, same notice: a second add with it does nothing. */
  dedupeKey?: string;
}

export interface NoticeView {
  notice_id: string;
  kind: string;
  title: string;
  body: string;
  data: Record<string, unknown>;
  created_at: number;
  read_at: number | null;
}

export function presentNotice(row: NoticeRow): NoticeView {
  return {
    notice_id: row.id,
    kind: row.kind,
    title: row.title,
    body: row.body,
    data: JSON.parse(row.data) as Record<string, unknown>,
    created_at: Number(row.created_at),
    read_at: row.read_at === null ? null : Number(row.read_at),
  };
}

export function createNoticesService(deps: { repo: NoticesRepo; clock: Clock; ids: Ids }) {
  const { repo, clock, ids } = deps;
  return {
    /** Adds a notice in the caller's transaction; false when its dedupe key was already used. */
    async add(tx: Executor, input: AddNoticeInput): Promise<boolean> {
      return repo.insert(tx, {
        id: ids.newId('ntc'),
        owner_type: input.ownerType,
        owner_id: input.ownerId,
        kind: input.kind,
        title: input.title,
        body: input.body,
        data: JSON.stringify(input.data ?? {}),
        dedupe_key: input.dedupeKey ?? null,
        created_at: clock.now(),
        read_at: null,
      });
    },
    async list(
      ownerType: 'business' | 'person',
      ownerId: string,
      opts: { limit?: number; tx?: Executor } = {},
    ): Promise<NoticeView[]> {
      return (await repo.list(ownerType, ownerId, opts.limit ?? 100, opts.tx)).map(presentNotice);
    },
    async markAllRead(ownerType: 'business' | 'person', ownerId: string): Promise<void> {
      await repo.markRead(ownerType, ownerId, clock.now());
    },
  };
}

export type NoticesService = ReturnType<typeof createNoticesService>;
