/** Row to wire shape for labels. */
import type { LabelView } from '@parley/protocol';
import { labelHex } from './labels.policy.js';
import type { LabelWithCounts } from './labels.repo.js';

export function presentLabel(row: LabelWithCounts): LabelView {
  return {
    label_id: row.id,
    name: row.name,
    color: row.color,
    hex: labelHex(row.color),
    conversation_count: row.conversation_count,
    message_count: row.message_count,
    created_at: new Date(row.created_at).toISOString(),
    updated_at: new Date(row.updated_at).toISOString(),
  };
}
