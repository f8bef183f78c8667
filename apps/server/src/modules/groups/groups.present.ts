import type { GroupView } from '@parley/protocol';
import type { GroupRow, MemberRow } from './groups.repo.js';

/** The wire shape of a group; the invite code is shown to admins only. */
export function presentGroup(
  group: GroupRow,
  members: MemberRow[],
  viewerRole: 'admin' | 'member',
): GroupView {
  return {
    group_id: group.id,
    subject: group.subject,
    description: group.description,
    created_by: group.created_by,
    created_at: new Date(group.created_at).toISOString(),
    only_admins_send: group.only_admins_send === 1,
    only_admins_edit: group.only_admins_edit === 1,
    invite_code: viewerRole === 'admin' ? group.invite_code : null,
    photo: group.photo_media_id,
    members: members.map((m) => ({
      account_id: m.account_id,
      phone: m.phone,
      role: m.role,
      joined_at: new Date(m.joined_at).toISOString(),
    })),
  };
}
