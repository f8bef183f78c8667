/** Pure rules of chat state. */
import { MUTE_FOREVER } from '@parley/protocol';
import type { MetaRow } from './chats.repo.js';

/**
 * The chat a message belongs to from `accountId`'s point of view, or undefined when it is not
 * one of the account's: a group message belongs to its group (membership is checked apart);
 * a one-to-one message to the other party's account id.
 */
export function chatOfMessage(accountId: string, meta: Pick<MetaRow, 'sender_account' | 'to_id'>) {
  if (meta.to_id.startsWith('grp_')) return meta.to_id;
  if (meta.sender_account === accountId) return meta.to_id;
  if (meta.to_id === accountId) return meta.sender_account;
  return undefined;
}

/** Only a person's message (not a reaction, edit or delete act) that has not expired counts. */
export const isLiveMessage = (meta: Pick<MetaRow, 'kind' | 'expires_at'>, now: number): boolean =>
  meta.kind === 'message' && meta.expires_at > now;

/** Whether `a` comes after `b` in the chat: by commit time, then by (time-sortable) id. */
export const isLater = (
  a: Pick<MetaRow, 'sent_at' | 'message_id'>,
  b: Pick<MetaRow, 'sent_at' | 'message_id'>,
): boolean => a.sent_at > b.sent_at || (a.sent_at === b.sent_at && a.message_id > b.message_id);

/** A mute ends in the future, or never (`MUTE_FOREVER`); null unmutes. */
export const isValidMute = (mutedUntil: number | null, now: number): boolean =>
  mutedUntil === null || mutedUntil === MUTE_FOREVER || mutedUntil > now;
