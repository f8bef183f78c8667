import type { AccountSettingsView, ChatStateView } from '@parley/protocol';
import { describe, expect, it } from 'vitest';
import { createChatMirror } from './chats.js';

const chat = (chat_id: string, version: number, patch: Partial<ChatStateView> = {}): ChatStateView => ({
  chat_id,
  archived: false,
  pinned: false,
  pinned_at: null,
  muted_until: null,
  read_up_to: null,
  read_at: null,
  version,
  ...patch,
});
const settings = (version: number, name: string): AccountSettingsView => ({
  profile: { display_name: name, about: '', photo: null },
  privacy: {
    last_seen: 'everyone',
    online: 'everyone',
    photo: 'everyone',
    about: 'everyone',
    read_receipts: true,
  },
  version,
});

describe('chat mirror', () => {
  it('never lets an older event roll back a fresher fetch or own change', () => {
    const m = createChatMirror();
    m.load(
      { chats: [chat('acc_b', 5, { archived: true })], settings: settings(6, 'New'), version: 7 },
      { starred: [{ message_id: 'msg_1', chat_id: 'acc_b', starred_at: 10 }], version: 7 },
    );
    // Events still queued from before the fetch.
    expect(m.apply({ type: 'chat.state', ...chat('acc_b', 4) })).toBe(false);
    expect(m.apply({ type: 'account.settings', ...settings(3, 'Old') })).toBe(false);
    expect(m.apply({ type: 'message.unstarred', message_id: 'msg_1', chat_id: 'acc_b', version: 2 })).toBe(
      false,
    );
    // Newer ones apply.
    expect(m.apply({ type: 'chat.state', ...chat('acc_b', 8, { pinned: true, pinned_at: 1 }) })).toBe(true);
    expect(m.applyChat(chat('acc_b', 9, { pinned: true, pinned_at: 1, archived: true }))).toBe(true);
    expect(m.apply({ type: 'chat.state', ...chat('acc_b', 8) })).toBe(false);
    expect(
      m.apply({
        type: 'message.starred',
        message_id: 'msg_2',
        chat_id: 'grp_g',
        starred_at: 20,
        version: 10,
      }),
    ).toBe(true);
    expect(m.apply({ type: 'message.unstarred', message_id: 'msg_1', chat_id: 'acc_b', version: 11 })).toBe(
      true,
    );
    expect(m.apply({ type: 'group.created' })).toBe(false);
    expect(m.snapshot()).toEqual({
      chats: [chat('acc_b', 9, { pinned: true, pinned_at: 1, archived: true })],
      starred: [{ message_id: 'msg_2', chat_id: 'grp_g', starred_at: 20 }],
      settings: settings(6, 'New'),
    });
  });

  it('keeps this device’s own privacy change, yet takes an older event’s profile', () => {
    const m = createChatMirror();
    m.load({ chats: [], settings: settings(0, ''), version: 0 });
    // Another device renamed the account (version 1); this device then hid last seen (version 2)
    // before the rename's event reached it.
    const own = { ...settings(2, '').privacy, last_seen: 'nobody' as const, version: 2 };
    expect(m.applyPrivacy(own)).toBe(true);
    expect(m.apply({ type: 'account.settings', ...settings(1, 'Alice') })).toBe(true);
    expect(m.snapshot().settings).toEqual({
      profile: { display_name: 'Alice', about: '', photo: null },
      privacy: { ...settings(0, '').privacy, last_seen: 'nobody' },
      version: 2,
    });
    expect(m.applyPrivacy({ ...own, version: undefined })).toBe(false);
  });
});
