/**
 * One group commit, as plain data in and out so that it can run in this thread (PostgreSQL)
 * or in the SQLite writer thread. In one transaction:
 *   1. resolve recipients (phone or account id → account → devices);
 *   2. record idempotency keys; a key already stored, or repeated inside the batch, answers
 *      with the original message instead of creating one;
 *   3. reserve consecutive seqs per recipient device (one statement) and insert one envelope
 *      per device, in batch order, so each device's queue keeps the senders' order;
 *   4. delete acked envelopes (cumulative per device).
 * Nothing is visible to anyone before the transaction commits.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../platform/schema.js';
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
  /** Who sent a message to which account or group, kept 30 days for receipts. */
  insertMeta(row: {
    message_id: string;
    sender_account: string;
    to_id: string;
    sent_at: number;
    expires_at: number;
  }): Promise<void>;
  /** Of these [blocker, blocked] pairs, the ones where the first blocked the second. */
  findBlocks(pairs: [blocker: string, blocked: string][]): Promise<Set<string>>;
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
  for (const item of items) {
    const r = item.recipient;
    if ('phone' in r) phones.add(r.phone);
    else if ('accountId' in r) accountIds.add(r.accountId);
    else groupIds.add(r.groupId);
    // The sender's other devices get a copy of what it sends.
    accountIds.add(item.senderAccount);
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
  for (const groupId of groupIds) {
    const rule = await repo.lockGroup(groupId);
    groups.set(groupId, rule ? indexGroup(rule, await repo.findGroupMembers(groupId)) : undefined);
  }

  // Who gets each send, and under which chat; a group message stores its payload once.
  const resolve = (
    item: CommitItem,
  ): { targets: [string, string][]; body: boolean; toId: string } | CommitOutcome => {
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
      return { targets, body: true, toId: r.groupId };
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
    };
  };

  // One candidate per idempotency key; later items with the same key answer like a retry.
  type Candidate = { index: number; targets: [string, string][]; body: boolean; toId: string };
  const candidates = new Map<string, Candidate>();
  const repeats: { index: number; key: string }[] = [];
  for (const [index, item] of items.entries()) {
    const resolved = resolve(item);
    if ('ok' in resolved) {
      outcomes[index] = resolved;
      continue;
    }
    const key = sendKey(item.senderDevice, item.clientId);
    if (candidates.has(key)) repeats.push({ index, key });
    else candidates.set(key, { index, ...resolved });
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
  const originals = await repo.findSends(
    retried.map(({ index }) => {
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
  const byKey = new Map<string, { message_id: string; sent_at: number }>();
  for (const { index, targets, body, toId } of created) {
    const item = items[index] as CommitItem;
    await repo.insertMeta({
      message_id: item.messageId,
      sender_account: item.senderAccount,
      to_id: toId,
      sent_at: now,
      expires_at: now + ttlMs,
    });
    if (body)
      await repo.insertBody({ message_id: item.messageId, payload: item.payload, expires_at: now + ttlMs });
    for (const [device, chatId] of targets) {
      const seq = nextSeq.get(device);
      if (seq === undefined) continue; // logged out meanwhile
      nextSeq.set(device, seq + 1);
      createdRefs.push([index, device, seq, chatId]);
      const envelope = envelopeOf(item, chatId, device, seq, now, ttlMs);
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
  for (const { index, key } of repeats) {
    const first = byKey.get(key);
    outcomes[index] = first
      ? { ok: true, ...first, duplicate: true }
      : { ok: false, code: 'INTERNAL_ERROR', message: 'The original of a repeated send failed.' };
  }

  await repo.insertEnvelopes(envelopes);
  const delivered = acks.length > 0 ? await repo.deleteAcked(new Map(acks)) : 0;
  return { outcomes, created: createdRefs, delivered };
}

/** The queue row of one send for one device. */
export function envelopeOf(
  item: CommitItem,
  chatId: string,
  deviceId: string,
  seq: number,
  now: number,
  ttlMs: number,
): EnvelopeRow {
  return {
    device_id: deviceId,
    seq,
    message_id: item.messageId,
    sender_account: item.senderAccount,
    sender_device: item.senderDevice,
    sender_phone: item.senderPhone,
    sent_at: now,
    expires_at: now + ttlMs,
    payload: item.payload,
    chat_id: chatId,
    kind: 'message',
    extra: null,
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
