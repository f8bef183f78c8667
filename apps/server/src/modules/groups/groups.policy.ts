/** Pure rules of groups. */
import type { GroupRow, MemberRow } from './groups.repo.js';

export const roleOf = (accountId: string, members: MemberRow[]): 'admin' | 'member' | undefined =>
  members.find((m) => m.account_id === accountId)?.role;

/** Adding, removing, promoting, settings and invite links are for admins. */
export const canManage = (role: 'admin' | 'member'): boolean => role === 'admin';

/** Subject and description: anyone, unless the group restricts them to admins. */
export const canEditInfo = (role: 'admin' | 'member', group: Pick<GroupRow, 'only_admins_edit'>): boolean =>
  role === 'admin' || group.only_admins_edit === 0;
