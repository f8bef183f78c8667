/** Row to wire shape for the shared inbox. */
import type { BusinessMessageView, ConversationView, NoteView } from '@parley/protocol';
import type { ConversationRow, MessageRow, NoteRow } from './inbox.repo.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function presentConversation(row: ConversationRow, labels: string[] = []): ConversationView {
  return {
    conversation_id: row.id,
    business_id: row.business_id,
    phone_number_id: row.phone_number_id,
    person: { account_id: row.person_account_id, phone: row.person_phone, display_name: row.person_name },
    status: row.status,
    assignee: row.assignee,
    unread: row.unread,
    started_via: row.started_via,
    labels,
    created_at: new Date(row.created_at).toISOString(),
    last_message_at: new Date(row.last_message_at).toISOString(),
  };
}

export function presentMessage(row: MessageRow): BusinessMessageView {
  return {
    message_id: row.message_id,
    conversation_id: row.conversation_id,
    direction: row.direction,
    author: row.author,
    kind: row.kind,
    text: row.text,
    payload: row.payload,
    created_at: new Date(row.created_at).toISOString(),
    delivered_at: iso(row.delivered_at),
    read_at: iso(row.read_at),
  };
}

export function presentNote(row: NoteRow): NoteView {
  return {
    note_id: row.id,
    conversation_id: row.conversation_id,
    author: row.author,
    text: row.text,
    created_at: new Date(row.created_at).toISOString(),
  };
}
