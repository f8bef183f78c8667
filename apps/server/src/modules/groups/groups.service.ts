/**
 * Groups of up to 1,024 members: create, info, members, admins, settings, invite links.
 *
 * Ordering model: every change takes the group's row lock (groups.event_seq) in its
 * transaction, as every group message does in the commit path, and queues a system event to the
 * member devices in that same transaction. So each member device's queue holds messages and
 * membership events in one order, and a message reaches exactly the members of its moment.
 * A removed member gets the event of its removal, then nothing more.
 */
import { randomBytes } from 'node:crypto';
import type { GroupView } from '@parley/protocol';
import { AppError } from '../../errors.js';
import type { Clock } from '../../platform/clock.js';
import type { Db, Executor } from '../../platform/db.js';
import type { Ids } from '../../platform/ids.js';
import type { DeviceActor } from '../accounts/index.js';
import { normalizePhone } from '../accounts/index.js';
import type { EnvelopeRow, EventWriter } from '../delivery/index.js';
import { canEditInfo, canManage, roleOf } from './groups.policy.js';
import { presentGroup } from './groups.present.js';
import type { GroupRow, GroupsRepo, MemberRow } from './groups.repo.js';

export const MAX_GROUP_MEMBERS = 1024;

export interface GroupsServiceDeps {
  /** Throws unless the media is an image the account uploaded (a group photo). */
  requireOwnImage?: (accountId: string, mediaId: string) => Promise<void>;
  db: Pick<Db, 'kysely'>;
  repo: GroupsRepo;
  events: EventWriter;
  clock: Clock;
  ids: Ids;
}

interface Locked {
  group: GroupRow;
  members: MemberRow[];
}

export function createGroupsService(deps: GroupsServiceDeps) {
  const { db, repo, events, clock, ids } = deps;

  /** Resolves phones / account ids to account ids; unknown ones fail the whole request. */
  async function resolveAccounts(tx: Executor, keys: string[]): Promise<string[]> {
    const phones: string[] = [];
    const accountIds: string[] = [];
    const unknown: string[] = [];
    for (const key of keys) {
      if (key.startsWith('acc_')) accountIds.push(key);
      else {
        const phone = normalizePhone(key);
        if (phone) phones.push(phone);
        else unknown.push(key);
      }
    }
    const found = await repo.findAccounts(tx, phones, accountIds);
    const byPhone = new Map(found.map((a) => [a.phone, a.id]));
    const byId = new Set(found.map((a) => a.id));
    const out: string[] = [];
    for (const p of phones) {
      const id = byPhone.get(p);
      if (id) out.push(id);
      else unknown.push(p);
    }
    for (const id of accountIds) {
      if (byId.has(id)) out.push(id);
      else unknown.push(id);
    }
    if (unknown.length > 0) {
      throw new AppError('ACCOUNT_NOT_FOUND', `No Parley account for ${unknown.slice(0, 5).join(', ')}.`, {
        unknown,
      });
    }
    return [...new Set(out)];
  }

  /** Runs `change` under the group's lock; queues its event; announces after commit. */
  async function change<T>(
    actor: DeviceActor,
    groupId: string,
    apply: (
      tx: Executor,
      locked: Locked,
    ) => Promise<{ result: T; event?: Record<string, unknown>; notify?: string[] }>,
  ): Promise<T> {
    let announce: EnvelopeRow[] = [];
    const result = await db.kysely.transaction().execute(async (tx) => {
      const group = await repo.lockGroup(tx, groupId);
      if (!group) throw new AppError('GROUP_NOT_FOUND', `No group ${groupId}.`);
      const members = await repo.members(groupId, tx);
      const outcome = await apply(tx, { group, members });
      if (outcome.event) {
        // Everyone who is a member after the change, plus anyone it removed.
        const after = await repo.members(groupId, tx);
        const accounts = new Set([...after.map((m) => m.account_id), ...(outcome.notify ?? [])]);
        announce = await events.queue(tx, {
          actor,
          chatId: groupId,
          devices: await repo.devicesOf(tx, [...accounts]),
          event: { group_id: groupId, actor: actor.accountId, ...outcome.event },
        });
      }
      return outcome.result;
    });
    events.announce(announce);
    return result;
  }

  function requireMember(actor: DeviceActor, members: MemberRow[]): 'admin' | 'member' {
    const role = roleOf(actor.accountId, members);
    if (!role) throw new AppError('NOT_A_GROUP_MEMBER', 'You are not a member of this group.');
    return role;
  }

  function requireAdmin(actor: DeviceActor, members: MemberRow[], what: string): void {
    if (!canManage(requireMember(actor, members))) {
      throw new AppError('GROUP_ADMINS_ONLY', `Only group admins can ${what}.`);
    }
  }

  async function view(actor: DeviceActor, groupId: string, tx: Executor = db.kysely): Promise<GroupView> {
    const group = await repo.findGroup(groupId, tx);
    if (!group) throw new AppError('GROUP_NOT_FOUND', `No group ${groupId}.`);
    const members = await repo.members(groupId, tx);
    return presentGroup(group, members, requireMember(actor, members));
  }

  return {
    async create(
      actor: DeviceActor,
      input: { subject: string; description?: string | undefined; members: string[] },
    ): Promise<GroupView> {
      const subject = input.subject.trim();
      if (!subject) throw new AppError('VALIDATION_FAILED', 'A group needs a subject.');
      const groupId = ids.newId('grp');
      let announce: EnvelopeRow[] = [];
      await db.kysely.transaction().execute(async (tx) => {
        const others = (await resolveAccounts(tx, input.members)).filter((id) => id !== actor.accountId);
        if (others.length + 1 > MAX_GROUP_MEMBERS) {
          throw new AppError('GROUP_FULL', `A group has at most ${MAX_GROUP_MEMBERS} members.`, {
            max_members: MAX_GROUP_MEMBERS,
          });
        }
        const now = clock.now();
        await repo.insertGroup(tx, {
          id: groupId,
          subject,
          description: input.description?.trim() ?? '',
          created_by: actor.accountId,
          created_at: now,
          only_admins_send: 0,
          only_admins_edit: 0,
          photo_media_id: null,
          invite_code: null,
        });
        await repo.insertMembers(tx, [
          { group_id: groupId, account_id: actor.accountId, role: 'admin', joined_at: now },
          ...others.map((id) => ({
            group_id: groupId,
            account_id: id,
            role: 'member' as const,
            joined_at: now,
          })),
        ]);
        announce = await events.queue(tx, {
          actor,
          chatId: groupId,
          devices: await repo.devicesOf(tx, [actor.accountId, ...others]),
          event: {
            type: 'group.created',
            group_id: groupId,
            actor: actor.accountId,
            subject,
            members: others,
          },
        });
      });
      events.announce(announce);
      return view(actor, groupId);
    },

    get: (actor: DeviceActor, groupId: string) => view(actor, groupId),

    async listMine(actor: DeviceActor): Promise<GroupView[]> {
      const groups = await repo.groupsOf(actor.accountId);
      const out: GroupView[] = [];
      for (const group of groups) {
        const members = await repo.members(group.id);
        out.push(presentGroup(group, members, roleOf(actor.accountId, members) ?? 'member'));
      }
      return out;
    },

    async addMembers(actor: DeviceActor, groupId: string, keys: string[]): Promise<GroupView> {
      await change(actor, groupId, async (tx, { members }) => {
        requireAdmin(actor, members, 'add members');
        const current = new Set(members.map((m) => m.account_id));
        const added = (await resolveAccounts(tx, keys)).filter((id) => !current.has(id));
        if (current.size + added.length > MAX_GROUP_MEMBERS) {
          throw new AppError('GROUP_FULL', `A group has at most ${MAX_GROUP_MEMBERS} members.`, {
            max_members: MAX_GROUP_MEMBERS,
            members: current.size,
          });
        }
        const now = clock.now();
        await repo.insertMembers(
          tx,
          added.map((id) => ({ group_id: groupId, account_id: id, role: 'member' as const, joined_at: now })),
        );
        return {
          result: undefined,
          ...(added.length > 0 ? { event: { type: 'group.members_added', members: added } } : {}),
        };
      });
      return view(actor, groupId);
    },

    /** Removes a member (admins), or leaves (any member removing themself). */
    async removeMember(actor: DeviceActor, groupId: string, accountId: string): Promise<void> {
      await change(actor, groupId, async (tx, { members }) => {
        const leaving = accountId === actor.accountId;
        if (leaving) requireMember(actor, members);
        else requireAdmin(actor, members, 'remove members');
        if (!roleOf(accountId, members)) {
          throw new AppError('NOT_A_GROUP_MEMBER', `${accountId} is not a member of this group.`);
        }
        await repo.deleteMember(tx, groupId, accountId);
        const remaining = members.filter((m) => m.account_id !== accountId);
        if (remaining.length === 0) {
          await repo.deleteGroup(tx, groupId);
          return { result: undefined };
        }
        // A group always keeps an admin: the longest-standing member takes over.
        const promoted: string[] = [];
        if (!remaining.some((m) => m.role === 'admin')) {
          const heir = remaining[0] as MemberRow;
          await repo.setRole(tx, groupId, heir.account_id, 'admin');
          promoted.push(heir.account_id);
        }
        return {
          result: undefined,
          event: leaving
            ? { type: 'group.member_left', member: accountId, promoted }
            : { type: 'group.member_removed', member: accountId, promoted },
          notify: [accountId],
        };
      });
    },

    async setRole(
      actor: DeviceActor,
      groupId: string,
      accountId: string,
      role: 'admin' | 'member',
    ): Promise<GroupView> {
      await change(actor, groupId, async (tx, { members }) => {
        requireAdmin(actor, members, 'change admins');
        const current = roleOf(accountId, members);
        if (!current) throw new AppError('NOT_A_GROUP_MEMBER', `${accountId} is not a member of this group.`);
        if (current === role) return { result: undefined };
        if (role === 'member' && members.filter((m) => m.role === 'admin').length === 1) {
          throw new AppError(
            'VALIDATION_FAILED',
            'A group needs at least one admin; promote another member first.',
          );
        }
        await repo.setRole(tx, groupId, accountId, role);
        return { result: undefined, event: { type: 'group.admin_changed', member: accountId, role } };
      });
      return view(actor, groupId);
    },

    async update(
      actor: DeviceActor,
      groupId: string,
      patch: {
        subject?: string | undefined;
        description?: string | undefined;
        only_admins_send?: boolean | undefined;
        only_admins_edit?: boolean | undefined;
        /** An image the actor uploaded (media id), or null to remove the photo. */
        photo?: string | null | undefined;
      },
    ): Promise<GroupView> {
      if (typeof patch.photo === 'string') {
        if (!deps.requireOwnImage) throw new AppError('MEDIA_NOT_FOUND', 'Photos are not available here.');
        await deps.requireOwnImage(actor.accountId, patch.photo);
      }
      await change(actor, groupId, async (tx, { group, members }) => {
        const role = requireMember(actor, members);
        const info: { subject?: string; description?: string; photo_media_id?: string | null } = {};
        if (patch.subject !== undefined) {
          const subject = patch.subject.trim();
          if (!subject) throw new AppError('VALIDATION_FAILED', 'A group needs a subject.');
          info.subject = subject;
        }
        if (patch.description !== undefined) info.description = patch.description.trim();
        if (patch.photo !== undefined) info.photo_media_id = patch.photo;
        const settings: { only_admins_send?: number; only_admins_edit?: number } = {};
        if (patch.only_admins_send !== undefined) settings.only_admins_send = patch.only_admins_send ? 1 : 0;
        if (patch.only_admins_edit !== undefined) settings.only_admins_edit = patch.only_admins_edit ? 1 : 0;
        if (Object.keys(info).length > 0 && !canEditInfo(role, group)) {
          throw new AppError('GROUP_ADMINS_ONLY', 'Only group admins can edit this group’s info.');
        }
        if (Object.keys(settings).length > 0 && !canManage(role)) {
          throw new AppError('GROUP_ADMINS_ONLY', 'Only group admins can change group settings.');
        }
        if (Object.keys(info).length + Object.keys(settings).length === 0) return { result: undefined };
        await repo.updateGroup(tx, groupId, { ...info, ...settings });
        const { photo_media_id, ...text } = info;
        const shown = photo_media_id === undefined ? text : { ...text, photo: photo_media_id };
        const event =
          Object.keys(settings).length > 0
            ? {
                type: 'group.settings_changed',
                ...shown,
                ...(patch.only_admins_send !== undefined ? { only_admins_send: patch.only_admins_send } : {}),
                ...(patch.only_admins_edit !== undefined ? { only_admins_edit: patch.only_admins_edit } : {}),
              }
            : { type: 'group.info_changed', ...shown };
        return { result: undefined, event };
      });
      return view(actor, groupId);
    },

    /**
     * Turns disappearing messages on (timer in ms) or off (0) for the group; who may is who may
     * edit the group's info. Under the group's lock, so the messages after it disappear.
     */
    async setDisappearing(actor: DeviceActor, groupId: string, timerMs: number): Promise<void> {
      await change(actor, groupId, async (tx, { group, members }) => {
        if (!canEditInfo(requireMember(actor, members), group)) {
          throw new AppError('GROUP_ADMINS_ONLY', 'Only group admins can change disappearing messages.');
        }
        await repo.setTimer(tx, groupId, timerMs, actor.accountId, clock.now());
        return { result: undefined, event: { type: 'chat.disappearing', timer_ms: timerMs } };
      });
    },

    /** Creates (or replaces) the group's invite link; admins only. */
    async createInvite(actor: DeviceActor, groupId: string): Promise<{ code: string }> {
      return change(actor, groupId, async (tx, { members }) => {
        requireAdmin(actor, members, 'manage invite links');
        const code = randomBytes(16).toString('base64url');
        await repo.updateGroup(tx, groupId, { invite_code: code });
        return { result: { code } };
      });
    },

    async revokeInvite(actor: DeviceActor, groupId: string): Promise<void> {
      await change(actor, groupId, async (tx, { members }) => {
        requireAdmin(actor, members, 'manage invite links');
        await repo.updateGroup(tx, groupId, { invite_code: null });
        return { result: undefined };
      });
    },

    async join(actor: DeviceActor, code: string): Promise<GroupView> {
      const found = code.length <= 64 ? await repo.findGroupByInvite(code) : undefined;
      if (!found) throw new AppError('GROUP_NOT_FOUND', 'This invite link is unknown or was revoked.');
      await change(actor, found.id, async (tx, { group, members }) => {
        // Checked again under the lock: the link may have been revoked or replaced meanwhile.
        if (group.invite_code !== code) {
          throw new AppError('GROUP_NOT_FOUND', 'This invite link is unknown or was revoked.');
        }
        if (roleOf(actor.accountId, members)) return { result: undefined };
        if (members.length >= MAX_GROUP_MEMBERS) {
          throw new AppError('GROUP_FULL', `A group has at most ${MAX_GROUP_MEMBERS} members.`, {
            max_members: MAX_GROUP_MEMBERS,
          });
        }
        await repo.insertMembers(tx, [
          { group_id: group.id, account_id: actor.accountId, role: 'member', joined_at: clock.now() },
        ]);
        return {
          result: undefined,
          event: { type: 'group.member_joined', member: actor.accountId, via: 'invite' },
        };
      });
      return view(actor, found.id);
    },
  };
}

export type GroupsService = ReturnType<typeof createGroupsService>;
