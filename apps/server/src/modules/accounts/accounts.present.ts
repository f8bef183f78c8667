import type { DeviceView, ProfileView } from '@parley/protocol';
import type { AccountRow, DeviceRow } from './accounts.repo.js';

export function presentProfile(row: AccountRow): ProfileView {
  return {
    account_id: row.id,
    phone: row.phone,
    display_name: row.display_name,
    about: row.about,
    photo: row.photo_media_id,
  };
}

export function presentDevice(row: DeviceRow, currentDeviceId: string): DeviceView {
  return {
    device_id: row.id,
    name: row.name,
    role: row.role,
    created_at: new Date(row.created_at).toISOString(),
    last_seen_at: row.last_seen_at === null ? null : new Date(row.last_seen_at).toISOString(),
    current: row.id === currentDeviceId,
  };
}
