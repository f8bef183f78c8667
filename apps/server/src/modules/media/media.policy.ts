/**
 * Who may download a media item. Links cannot be guessed or shared across accounts: every
 * download is checked against the account asking, and an account without the right gets the
 * same answer as for an id that does not exist.
 *
 * - The uploader's account may always download it.
 * - Otherwise an account may if it can see a live message carrying it (see
 *   MediaRepo.visibleReferences): without limit through any message that is not view-once, or
 *   that it sent itself; once per message through view-once messages it received.
 */
import type { MediaRow, VisibleReference } from './media.repo.js';

export type MediaAccess =
  | { kind: 'full' }
  /** Only through view-once messages it received: one download per message. */
  | { kind: 'view-once'; references: VisibleReference[] }
  | { kind: 'none' };

export function mediaAccess(
  viewer: string,
  media: Pick<MediaRow, 'owner_account'>,
  references: readonly VisibleReference[],
): MediaAccess {
  if (media.owner_account === viewer) return { kind: 'full' };
  if (references.some((r) => r.view_once === 0 || r.sender_account === viewer)) return { kind: 'full' };
  if (references.length > 0) return { kind: 'view-once', references: [...references] };
  return { kind: 'none' };
}
