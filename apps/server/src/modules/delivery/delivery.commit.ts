/**
 * One group commit, as plain data in and out so that it can run in this thread (PostgreSQL)
 * or in the SQLite writer thread. In one transaction:
 *   1. resolve recipients (phone or account id → account → devices);
 *   2. record idempotency keys; a key already stored, or repeated inside the batch, answers
 *      with the original message instead of creating one;
 *   3. reserve consecutive seqs per recipient device (one statement) and insert one envelope
 *      per device, in batch order, so each device's queue keeps the senders' order;
 *   4. delete acked envelopes (cumulative per device).
 * Message features ride the same transaction and work from metadata only (message_meta), so
 * they keep working once payloads are end-to-end encrypted: a reaction, edit or delete must
 * name a message of the same chat (edits by its sender within 15 minutes, deletes by its
 * sender, or a group admin, within 2 days); replies name a message of the same chat; a forward
 * names a message the sender can see and carries its hop count + 1; media must be the sender's
 * upload or visible to it. A chat's disappearing timer shortens every copy's expiry.
 * Nothing is visible to anyone before the transaction commits.
 */
import type { MessageExtra, SendKind } from '@parley/protocol';
import type { Kysely } from 'kysely';
import type { Database, EnvelopeKind } from '../../platform/schema.js';
import type { DeliveryRepo, EnvelopeRow, RecipientRow } from './delivery.repo.js';
import { sendKey } from './delivery.repo.js';

/** The writes of one commit, bound to its transaction. */
export interface CommitStore {
  findRecipients(phones: string[], accountIds: string[]): Promise<RecipientRow[]>;
  insertSendKeys(
    rows: { sender_device: string; client_id: string; message_id: string; sent_at: number }[],
  ): Promise<Set<string>>;
  findSends(
    keys: { sender_device: string; client_id: string }[],
  ): Promise<Map<string, { message_id: string; sent_at: number }>>;
  reserveSeqs(counts: Map<string, number>): Promise<Map<string, number>>;
  insertEnvelopes(rows: EnvelopeRow[]): Promise<void>;
  deleteAcked(acks: Map<string, number>): Promise<number>;
  /**
   * Bumps the group's event counter (taking its row lock, which orders this transaction with
   * membership changes) and returns its send rule, or undefined when there is no such group.
   */
  lockGroup(groupId: string): Promise<{ only_admins_send: number } | undefined>;
  /** Members of a group with each of their devices (device_id null for none). */
  findGroupMembers(
    groupId: string,
  ): Promise<{ account_id: string; role: string; device_id: string | null }[]>;
  insertBody(row: { message_id: string; payload: string; expires_at: number }): Promise<void>;
  /** Who sent what to which account or group, kept as long as the message's envelopes. */
  insertMeta(row: MetaInsert): Promise<void>;
  /** Metadata of earlier messages (unexpired or not; the caller checks). */
  findMeta(messageIds: string[]): Promise<Map<string, MetaRow>>;
  /** When the account joined the group, or undefined when it is not a member. */
  memberSince(groupId: string, accountId: string): Promise<number | undefined>;
  /** Of these media ids, the ones the account may attach (its uploads, or media it can see). */
  findUsableMedia(accountId: string, mediaIds: string[], now: number): Promise<Set<string>>;
  insertMessageMedia(rows: { message_id: string; media_id: string; expires_at: number }[]): Promise<void>;
  /** Disappearing timers (ms) of these chat keys; absent when off. */
  findTimers(chatKeys: string[]): Promise<Map<string, number>>;
  markEdited(messageId: string, at: number): Promise<void>;
  /**
   * Deletes a message for everyone: marks it deleted and removes what is left of it and of its
   * edits (undelivered envelopes, stored bodies, media references, reactions to it).
   */
  tombstone(messageId: string, at: number): Promise<void>;
  /** Records the account's current reaction to a message (replacing any earlier one). */
  setReaction(row: {
    message_id: string;
    account_id: string;
    reaction_id: string;
    reacted_at: number;
    expires_at: number;
  }): Promise<void>;
  removeReaction(messageId: string, accountId: string): Promise<void>;
  /** Of these [blocker, blocked] pairs, the ones where the first blocked the second. */
  findBlocks(pairs: [blocker: string, blocked: string][]): Promise<Set<string>>;
}

export interface MetaInsert {
  message_id: string;
  sender_account: string;
  to_id: string;
  sent_at: number;
  expires_at: number;
  kind: EnvelopeKind;
  ref_id: string | null;
  reply_to: string | null;
  forward_hops: number;
  view_once: number;
}

export interface MetaRow {
  message_id: string;
  sender_account: string;
  to_id: string;
  sent_at: number;
  expires_at: number;
  kind: EnvelopeKind;
  forward_hops: number;
  view_once: number;
  deleted_at: number | null;
}

export const EDIT_WINDOW_MS = 15 * 60 * 1000;
export const DELETE_WINDOW_MS = 2 * 24 * 3600 * 1000;
/** From this many hops on, a forward is shown as "forwarded many times". */
export const FORWARDED_MANY_HOPS = 5;

/** A 1:1 chat's key: both account ids, sorted (a group's key is its id). */
export function pairKey(a: string, b: string): string {
  return a < b ? `${a}:${b}` : `${b}:${a}`;
}

export interface CommitItem {
  senderAccount: string;
  senderDevice: string;
  senderPhone: string;
  clientId: string;
  /** The recipient as the client wrote it, for error messages. */
  to: string;
  recipient: { phone: string } | { accountId: string } | { groupId: string };
  payload: string;
  /** The id this message gets if it is new (drawn by the caller, which owns randomness). */
  messageId: string;
  kind: SendKind;
  ref?: string;
  replyTo?: string;
  forwardOf?: string;
  media?: string[];
  viewOnce: boolean;
}

/** How a created message's envelopes differ from a plain message's. */
export interface EnvelopeShape {
  /** JSON of the msg frame's optional fields. */
  extra: string | null;
  expiresAt: number;
}

export type CommitOutcome =
  | { ok: true; message_id: string; sent_at: number; duplicate: boolean }
  | {
      ok: false;
      code:
        | 'RECIPIENT_NOT_FOUND'
        | 'GROUP_NOT_FOUND'
        | 'NOT_A_GROUP_MEMBER'
        | 'GROUP_ADMINS_ONLY'
        | 'MESSAGE_NOT_FOUND'
        | 'MESSAGE_DELETED'
        | 'NOT_MESSAGE_SENDER'
        | 'EDIT_WINDOW_EXPIRED'
        | 'DELETE_WINDOW_EXPIRED'
        | 'MEDIA_NOT_FOUND'
        | 'FORBIDDEN'
        | 'INTERNAL_ERROR';
      message: string;
    };

export interface CommitResult {
  /** One per item, in item order. */
  outcomes: CommitOutcome[];
  /**
   * Envelopes created, to announce after the commit, as [item index, device id, seq]: the
   * caller holds the rest of each row, so the payloads never travel back from a writer thread.
   */
  created: [item: number, deviceId: string, seq: number, chatId: string][];
  /** Items whose envelopes are not plain messages with the default expiry. */
  shapes: [item: number, shape: EnvelopeShape][];
  /** Envelopes deleted by acks. */
  delivered: number;
}

export interface CommitInput {
  items: CommitItem[];
  acks: [deviceId: string, seq: number][];
  now: number;
  ttlMs: number;
}

interface RecipientAccount {
  accountId: string;
  devices: string[];
}

/** A commit through Kysely (both dialects). */
export async function commitBatch(
  db: Kysely<Database>,
  repo: DeliveryRepo,
  input: CommitInput,
): Promise<CommitResult> {
  return db.transaction().execute((tx) =>
    commitWith(
      {
        findRecipients: (phones, accountIds) => repo.findRecipients(tx, phones, accountIds),
        insertSendKeys: (rows) => repo.insertSendKeys(tx, rows),
        findSends: (keys) => repo.findSends(tx, keys),
        reserveSeqs: (counts) => repo.reserveSeqs(tx, counts),
        insertEnvelopes: (rows) => repo.insertEnvelopes(tx, rows),
        deleteAcked: (acks) => repo.deleteAcked(tx, acks),
        lockGroup: (groupId) => repo.lockGroup(tx, groupId),
        findGroupMembers: (groupId) => repo.findGroupMembers(tx, groupId),
        insertBody: (row) => repo.insertBody(tx, row),
        insertMeta: (row) => repo.insertMeta(tx, row),
        findBlocks: (pairs) => repo.findBlocks(tx, pairs),
        findMeta: (ids) => repo.findMeta(tx, ids),
        memberSince: (groupId, accountId) => repo.memberSince(tx, groupId, accountId),
        findUsableMedia: (accountId, mediaIds, now) => repo.findUsableMedia(tx, accountId, mediaIds, now),
        insertMessageMedia: (rows) => repo.insertMessageMedia(tx, rows),
        findTimers: (keys) => repo.findTimers(tx, keys),
        markEdited: (id, at) => repo.markEdited(tx, id, at),
        tombstone: (id, at) => repo.tombstone(tx, id, at),
        setReaction: (row) => repo.setReaction(tx, row),
        removeReaction: (id, accountId) => repo.removeReaction(tx, id, accountId),
      },
      input,
    ),
  );
}

/** The commit algorithm; the caller runs it inside one transaction of `repo`. */
export async function commitWith(
  repo: CommitStore,
  { items, acks, now, ttlMs }: CommitInput,
): Promise<CommitResult> {
  const outcomes: CommitOutcome[] = new Array(items.length);

  const phones = new Set<string>();
  const accountIds = new Set<string>();
  const groupIds = new Set<string>();
  const refIds = new Set<string>();
  for (const item of items) {
    const r = item.recipient;
    if ('phone' in r) phones.add(r.phone);
    else if ('accountId' in r) accountIds.add(r.accountId);
    else groupIds.add(r.groupId);
    // The sender's other devices get a copy of what it sends.
    accountIds.add(item.senderAccount);
    for (const id of [item.ref, item.replyTo, item.forwardOf]) if (id !== undefined) refIds.add(id);
  }
  const recipients = indexRecipients(await repo.findRecipients([...phones], [...accountIds]));
  // A person who blocked the sender does not receive its 1:1 messages. The sender is not told
  // (as in the apps people know): its send succeeds and its own devices keep their copies.
  const blockPairs: [string, string][] = [];
  for (const item of items) {
    const r = item.recipient;
    const account =
      'phone' in r
        ? recipients.byPhone.get(r.phone)
        : 'accountId' in r
          ? recipients.byId.get(r.accountId)
          : undefined;
    if (account && account.accountId !== item.senderAccount)
      blockPairs.push([account.accountId, item.senderAccount]);
  }
  const blocks = blockPairs.length > 0 ? await repo.findBlocks(blockPairs) : new Set<string>();
  const groups = new Map<string, GroupTarget | undefined>();
  // Groups in id order, like device rows: two commits (from two processes in a cluster) that
  // lock the same groups wait for each other instead of deadlocking.
  for (const groupId of [...groupIds].sort()) {
    const rule = await repo.lockGroup(groupId);
    groups.set(groupId, rule ? indexGroup(rule, await repo.findGroupMembers(groupId)) : undefined);
  }
  const metas = refIds.size > 0 ? await repo.findMeta([...refIds]) : new Map<string, MetaRow>();

  // Who gets each send, and under which chat; a group message stores its payload once.
  const resolve = (item: CommitItem): Resolved | CommitOutcome => {
    const r = item.recipient;
    if ('groupId' in r) {
      const group = groups.get(r.groupId);
      if (!group) return { ok: false, code: 'GROUP_NOT_FOUND', message: `No group ${r.groupId}.` };
      const role = group.roles.get(item.senderAccount);
      if (!role)
        return { ok: false, code: 'NOT_A_GROUP_MEMBER', message: 'You are not a member of this group.' };
      if (group.onlyAdminsSend && role !== 'admin') {
        return { ok: false, code: 'GROUP_ADMINS_ONLY', message: 'Only admins can send to this group.' };
      }
      const targets = group.devices
        .filter((d) => d !== item.senderDevice)
        .map((d): [string, string] => [d, r.groupId]);
      return { targets, body: true, toId: r.groupId, chatKey: r.groupId, admin: role === 'admin' };
    }
    const account = 'phone' in r ? recipients.byPhone.get(r.phone) : recipients.byId.get(r.accountId);
    if (!account)
      return { ok: false, code: 'RECIPIENT_NOT_FOUND', message: `No Parley account for "${item.to}".` };
    // Every device of the recipient and every other device of the sender, with the chat from
    // that device's point of view: the sender for the recipient's, the recipient for the sender's.
    const own = (recipients.byId.get(item.senderAccount)?.devices ?? []).map((d): [string, string] => [
      d,
      account.accountId,
    ]);
    const blocked = blocks.has(`${account.accountId}\u0000${item.senderAccount}`);
    const theirs = blocked ? [] : account.devices.map((d): [string, string] => [d, item.senderAccount]);
    const all = account.accountId === item.senderAccount ? own : [...theirs, ...own];
    return {
      targets: all.filter(([device]) => device !== item.senderDevice),
      body: false,
      toId: account.accountId,
      chatKey: pairKey(item.senderAccount, account.accountId),
      admin: false,
    };
  };

  // One candidate per idempotency key; later items with the same key answer like a retry.
  type Candidate = { index: number; hops: number } & Resolved;
  const candidates = new Map<string, Candidate>();
  const repeats: { index: number; key: string }[] = [];
  const refused: { index: number; key: string }[] = [];
  const resolvedAll: [number, Resolved][] = [];
  for (const [index, item] of items.entries()) {
    const resolved = resolve(item);
    if ('ok' in resolved) {
      outcomes[index] = resolved;
      refused.push({ index, key: sendKey(item.senderDevice, item.clientId) });
      continue;
    }
    resolvedAll.push([index, resolved]);
  }
  // Feature checks need a few reads, made only for the items that use features.
  const usableMedia = await findUsableMedia(repo, items, resolvedAll, now);
  const timers = await repo.findTimers([...new Set(resolvedAll.map(([, r]) => r.chatKey))]);
  for (const [index, resolved] of resolvedAll) {
    const item = items[index] as CommitItem;
    const key = sendKey(item.senderDevice, item.clientId);
    const checked = await checkFeatures(repo, item, resolved, metas, usableMedia, now);
    if ('ok' in checked) {
      outcomes[index] = checked;
      refused.push({ index, key });
      continue;
    }
    if (candidates.has(key)) repeats.push({ index, key });
    else candidates.set(key, { index, hops: checked.hops, ...resolved });
  }

  const fresh = await repo.insertSendKeys(
    [...candidates.values()].map(({ index }) => {
      const item = items[index] as CommitItem;
      return {
        sender_device: item.senderDevice,
        client_id: item.clientId,
        message_id: item.messageId,
        sent_at: now,
      };
    }),
  );
  const created: Candidate[] = [];
  const retried: { index: number; key: string }[] = [];
  for (const [key, c] of candidates) {
    if (fresh.has(key)) created.push(c);
    else retried.push({ index: c.index, key });
  }
  // A send that fails its checks now may have succeeded before (a retry after the edit window
  // closed, or after leaving the group): it answers with the original message, like any retry.
  const originals = await repo.findSends(
    [...retried, ...refused].map(({ index }) => {
      const item = items[index] as CommitItem;
      return { sender_device: item.senderDevice, client_id: item.clientId };
    }),
  );

  // Every device of the recipient and every other device of the sender, each once.
  const counts = new Map<string, number>();
  for (const { targets } of created) {
    for (const [device] of targets) counts.set(device, (counts.get(device) ?? 0) + 1);
  }
  const lastSeqs = await repo.reserveSeqs(counts);
  const nextSeq = new Map<string, number>();
  for (const [device, last] of lastSeqs) nextSeq.set(device, last - (counts.get(device) ?? 0) + 1);

  const envelopes: EnvelopeRow[] = [];
  const createdRefs: [number, string, number, string][] = [];
  const shapes: [number, EnvelopeShape][] = [];
  const byKey = new Map<string, { message_id: string; sent_at: number }>();
  for (const { index, targets, body, toId, chatKey, hops } of created) {
    const item = items[index] as CommitItem;
    const timer = timers.get(chatKey);
    const expiresAt = now + (timer !== undefined && timer < ttlMs ? timer : ttlMs);
    const shape = shapeOf(item, hops, timer === undefined ? undefined : now + timer, expiresAt, now + ttlMs);
    if (shape) shapes.push([index, shape]);
    await repo.insertMeta({
      message_id: item.messageId,
      sender_account: item.senderAccount,
      to_id: toId,
      sent_at: now,
      expires_at: expiresAt,
      kind: item.kind,
      ref_id: item.ref ?? null,
      reply_to: item.replyTo ?? null,
      forward_hops: hops,
      view_once: item.viewOnce ? 1 : 0,
    });
    if (body)
      await repo.insertBody({ message_id: item.messageId, payload: item.payload, expires_at: expiresAt });
    if (item.media) {
      await repo.insertMessageMedia(
        item.media.map((media_id) => ({ message_id: item.messageId, media_id, expires_at: expiresAt })),
      );
    }
    await applyAct(repo, item, now, expiresAt);
    for (const [device, chatId] of targets) {
      const seq = nextSeq.get(device);
      if (seq === undefined) continue; // logged out meanwhile
      nextSeq.set(device, seq + 1);
      createdRefs.push([index, device, seq, chatId]);
      const envelope = envelopeOf(item, chatId, device, seq, now, ttlMs, shape);
      // The payload lives once in message_bodies; queue reads join it back.
      if (body) envelope.payload = '';
      envelopes.push(envelope);
    }
    outcomes[index] = { ok: true, message_id: item.messageId, sent_at: now, duplicate: false };
    byKey.set(sendKey(item.senderDevice, item.clientId), { message_id: item.messageId, sent_at: now });
  }
  for (const { index, key } of retried) {
    const original = originals.get(key);
    if (original) {
      outcomes[index] = { ok: true, ...original, duplicate: true };
      byKey.set(key, original);
    } else {
      outcomes[index] = {
        ok: false,
        code: 'INTERNAL_ERROR',
        message: 'The original of a retried send vanished.',
      };
    }
  }
  for (const { index, key } of refused) {
    const original = originals.get(key);
    if (original) outcomes[index] = { ok: true, ...original, duplicate: true };
  }
  for (const { index, key } of repeats) {
    const first = byKey.get(key);
    outcomes[index] = first
      ? { ok: true, ...first, duplicate: true }
      : { ok: false, code: 'INTERNAL_ERROR', message: 'The original of a repeated send failed.' };
  }

  await repo.insertEnvelopes(envelopes);
  const delivered = acks.length > 0 ? await repo.deleteAcked(new Map(acks)) : 0;
  return { outcomes, created: createdRefs, shapes, delivered };
}

interface Resolved {
  targets: [deviceId: string, chatId: string][];
  /** Store the payload once (group) instead of in every envelope. */
  body: boolean;
  /** The addressed account or group, as message_meta records it. */
  toId: string;
  chatKey: string;
  /** The sender is an admin of the addressed group. */
  admin: boolean;
}

async function findUsableMedia(
  repo: CommitStore,
  items: CommitItem[],
  resolved: [number, Resolved][],
  now: number,
): Promise<Map<string, Set<string>>> {
  const wanted = new Map<string, Set<string>>();
  for (const [index] of resolved) {
    const item = items[index] as CommitItem;
    if (!item.media) continue;
    const set = wanted.get(item.senderAccount) ?? new Set<string>();
    for (const id of item.media) set.add(id);
    wanted.set(item.senderAccount, set);
  }
  const out = new Map<string, Set<string>>();
  for (const [account, ids] of wanted) out.set(account, await repo.findUsableMedia(account, [...ids], now));
  return out;
}

/** Checks a send's references; returns its forwarding hop count, or why it is refused. */
async function checkFeatures(
  repo: CommitStore,
  item: CommitItem,
  resolved: Resolved,
  metas: Map<string, MetaRow>,
  usableMedia: Map<string, Set<string>>,
  now: number,
): Promise<{ hops: number } | CommitOutcome> {
  const refuse = (code: Extract<CommitOutcome, { ok: false }>['code'], message: string): CommitOutcome => ({
    ok: false,
    code,
    message,
  });
  // A message of this chat, still kept: the 1:1 pair or the group must match.
  const inChat = (id: string): MetaRow | CommitOutcome => {
    const meta = metas.get(id);
    const sameChat =
      meta !== undefined &&
      meta.expires_at > now &&
      (resolved.body
        ? meta.to_id === resolved.toId
        : pairKey(meta.sender_account, meta.to_id) === resolved.chatKey);
    if (!meta || !sameChat || meta.kind === 'event')
      return refuse('MESSAGE_NOT_FOUND', `No message ${id} in this chat.`);
    if (meta.kind !== 'message')
      return refuse('MESSAGE_NOT_FOUND', `${id} is a ${meta.kind}, not a message.`);
    if (meta.deleted_at !== null) return refuse('MESSAGE_DELETED', `Message ${id} was deleted for everyone.`);
    return meta;
  };

  if (item.media) {
    const usable = usableMedia.get(item.senderAccount);
    const missing = item.media.find((id) => !usable?.has(id));
    if (missing !== undefined) return refuse('MEDIA_NOT_FOUND', `No media ${missing} you can send.`);
  }
  if (item.replyTo !== undefined) {
    const target = inChat(item.replyTo);
    if ('ok' in target) return target;
  }
  let hops = 0;
  if (item.forwardOf !== undefined) {
    const meta = metas.get(item.forwardOf);
    const visible =
      meta !== undefined &&
      meta.expires_at > now &&
      meta.kind === 'message' &&
      (meta.sender_account === item.senderAccount ||
        meta.to_id === item.senderAccount ||
        (meta.to_id.startsWith('grp_') &&
          ((await repo.memberSince(meta.to_id, item.senderAccount)) ?? Number.POSITIVE_INFINITY) <=
            meta.sent_at));
    if (!meta || !visible)
      return refuse('MESSAGE_NOT_FOUND', `No message ${item.forwardOf} you can forward.`);
    if (meta.deleted_at !== null)
      return refuse('MESSAGE_DELETED', `Message ${item.forwardOf} was deleted for everyone.`);
    if (meta.view_once === 1) return refuse('FORBIDDEN', 'View-once messages cannot be forwarded.');
    hops = meta.forward_hops + 1;
  }
  if (item.ref !== undefined) {
    const target = inChat(item.ref);
    if ('ok' in target) return target;
    if (item.kind === 'edit') {
      if (target.sender_account !== item.senderAccount)
        return refuse('NOT_MESSAGE_SENDER', 'Only the sender can edit a message.');
      if (now - target.sent_at > EDIT_WINDOW_MS)
        return refuse('EDIT_WINDOW_EXPIRED', 'Messages can be edited for 15 minutes after sending.');
    } else if (item.kind === 'delete') {
      // Group admins may delete anyone's message in their group, as in the apps people know.
      if (target.sender_account !== item.senderAccount && !resolved.admin)
        return refuse(
          'NOT_MESSAGE_SENDER',
          'Only the sender (or a group admin) can delete a message for everyone.',
        );
      if (now - target.sent_at > DELETE_WINDOW_MS)
        return refuse(
          'DELETE_WINDOW_EXPIRED',
          'Messages can be deleted for everyone for 2 days after sending.',
        );
    }
  }
  return { hops };
}

/** What a reaction, edit or delete does to the message it names. */
async function applyAct(repo: CommitStore, item: CommitItem, now: number, expiresAt: number): Promise<void> {
  if (item.ref === undefined) return;
  if (item.kind === 'reaction') {
    // One reaction per person: a new one replaces it, an empty one removes it.
    if (item.payload === '') await repo.removeReaction(item.ref, item.senderAccount);
    else
      await repo.setReaction({
        message_id: item.ref,
        account_id: item.senderAccount,
        reaction_id: item.messageId,
        reacted_at: now,
        expires_at: expiresAt,
      });
  } else if (item.kind === 'edit') {
    await repo.markEdited(item.ref, now);
  } else if (item.kind === 'delete') {
    await repo.tombstone(item.ref, now);
  }
}

/** The optional msg-frame fields and expiry of a created message; undefined when plain. */
function shapeOf(
  item: CommitItem,
  hops: number,
  disappearsAt: number | undefined,
  expiresAt: number,
  defaultExpiry: number,
): EnvelopeShape | undefined {
  const extra: MessageExtra = {};
  if (item.ref !== undefined) extra.ref = item.ref;
  if (item.replyTo !== undefined) extra.reply_to = item.replyTo;
  if (hops > 0) extra.forwarded = hops;
  if (hops >= FORWARDED_MANY_HOPS) extra.forwarded_many = true;
  if (item.media) extra.media = item.media;
  if (item.viewOnce) extra.view_once = true;
  if (disappearsAt !== undefined) extra.disappears_at = disappearsAt;
  const json = Object.keys(extra).length > 0 ? JSON.stringify(extra) : null;
  if (json === null && expiresAt === defaultExpiry) return undefined;
  return { extra: json, expiresAt };
}

/** The queue row of one send for one device. */
export function envelopeOf(
  item: CommitItem,
  chatId: string,
  deviceId: string,
  seq: number,
  now: number,
  ttlMs: number,
  shape?: EnvelopeShape,
): EnvelopeRow {
  return {
    device_id: deviceId,
    seq,
    message_id: item.messageId,
    sender_account: item.senderAccount,
    sender_device: item.senderDevice,
    sender_phone: item.senderPhone,
    sent_at: now,
    expires_at: shape?.expiresAt ?? now + ttlMs,
    payload: item.payload,
    chat_id: chatId,
    kind: item.kind,
    extra: shape?.extra ?? null,
  };
}

interface GroupTarget {
  onlyAdminsSend: boolean;
  roles: Map<string, string>;
  devices: string[];
}

function indexGroup(
  rule: { only_admins_send: number },
  rows: { account_id: string; role: string; device_id: string | null }[],
): GroupTarget {
  const roles = new Map<string, string>();
  const devices: string[] = [];
  for (const row of rows) {
    roles.set(row.account_id, row.role);
    if (row.device_id) devices.push(row.device_id);
  }
  return { onlyAdminsSend: rule.only_admins_send === 1, roles, devices };
}

function indexRecipients(rows: RecipientRow[]) {
  const byPhone = new Map<string, RecipientAccount>();
  const byId = new Map<string, RecipientAccount>();
  for (const row of rows) {
    let account = byId.get(row.account_id);
    if (!account) {
      account = { accountId: row.account_id, devices: [] };
      byId.set(row.account_id, account);
      byPhone.set(row.phone, account);
    }
    if (row.device_id && !account.devices.includes(row.device_id)) account.devices.push(row.device_id);
  }
  return { byPhone, byId };
}
