/** Media rows as the wire shows them: an explicit allowlist (never the owner or the file path). */
import type { MediaView } from '@parley/protocol';
import type { MediaRow } from './media.repo.js';

export function presentMedia(row: MediaRow): MediaView {
  return {
    id: row.id,
    kind: row.kind,
    content_type: row.content_type,
    size: row.size,
    sha256: row.sha256,
    width: row.width,
    height: row.height,
    has_thumbnail: row.thumbnail_sha256 !== null,
    expires_at: row.expires_at === null ? null : new Date(row.expires_at).toISOString(),
  };
}
