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
}

export interface CommitItem {
  senderAccount: string;
  senderDevice: string;
  senderPhone: string;
  clientId: string;
  /** The recipient as the client wrote it, for error messages. */
  to: string;
  recipient: { phone: string } | { accountId: string };
  payload: string;
  /** The id this message gets if it is new (drawn by the caller, which owns randomness). */
  messageId: string;
}

export type CommitOutcome =
  | { ok: true; message_id: string; sent_at: number; duplicate: boolean }
  | { ok: false; code: 'RECIPIENT_NOT_FOUND' | 'INTERNAL_ERROR'; message: string };

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
  for (const item of items) {
    if ('phone' in item.recipient) phones.add(item.recipient.phone);
    else accountIds.add(item.recipient.accountId);
    // The sender's other devices get a copy of what it sends.
    accountIds.add(item.senderAccount);
  }
  const recipients = indexRecipients(await repo.findRecipients([...phones], [...accountIds]));

  // One candidate per idempotency key; later items with the same key answer like a retry.
  const candidates = new Map<string, { index: number; account: RecipientAccount }>();
  const repeats: { index: number; key: string }[] = [];
  for (const [index, item] of items.entries()) {
    const r = item.recipient;
    const account = 'phone' in r ? recipients.byPhone.get(r.phone) : recipients.byId.get(r.accountId);
    if (!account) {
      outcomes[index] = {
        ok: false,
        code: 'RECIPIENT_NOT_FOUND',
        message: `No Parley account for "${item.to}".`,
      };
      continue;
    }
    const key = sendKey(item.senderDevice, item.clientId);
    if (candidates.has(key)) repeats.push({ index, key });
    else candidates.set(key, { index, account });
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
  const created: { index: number; account: RecipientAccount }[] = [];
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
  // Every device of the recipient and every other device of the sender, each once, with the
  // chat the message belongs to from that device's point of view: the sender for the
  // recipient's devices, the recipient for the sender's own devices.
  const targets = (item: CommitItem, account: RecipientAccount): [device: string, chatId: string][] => {
    const own = (recipients.byId.get(item.senderAccount)?.devices ?? []).map((d): [string, string] => [
      d,
      account.accountId,
    ]);
    const theirs = account.devices.map((d): [string, string] => [d, item.senderAccount]);
    const all = account.accountId === item.senderAccount ? own : [...theirs, ...own];
    return all.filter(([device]) => device !== item.senderDevice);
  };

  const counts = new Map<string, number>();
  for (const { index, account } of created) {
    for (const [device] of targets(items[index] as CommitItem, account)) {
      counts.set(device, (counts.get(device) ?? 0) + 1);
    }
  }
  const lastSeqs = await repo.reserveSeqs(counts);
  const nextSeq = new Map<string, number>();
  for (const [device, last] of lastSeqs) nextSeq.set(device, last - (counts.get(device) ?? 0) + 1);

  const envelopes: EnvelopeRow[] = [];
  const createdRefs: [number, string, number, string][] = [];
  const byKey = new Map<string, { message_id: string; sent_at: number }>();
  for (const { index, account } of created) {
    const item = items[index] as CommitItem;
    for (const [device, chatId] of targets(item, account)) {
      const seq = nextSeq.get(device);
      if (seq === undefined) continue; // logged out meanwhile
      nextSeq.set(device, seq + 1);
      createdRefs.push([index, device, seq, chatId]);
      envelopes.push(envelopeOf(item, chatId, device, seq, now, ttlMs));
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
  };
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
