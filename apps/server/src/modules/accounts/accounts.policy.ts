/** Pure rules about devices. A companion manages only itself; the primary manages the account. */
import type { DeviceActor } from './accounts.service.js';

export const canLinkDevices = (actor: DeviceActor): boolean => actor.role === 'primary';

export const canLogOut = (actor: DeviceActor, target: { deviceId: string } | 'all'): boolean =>
  actor.role === 'primary' || (target !== 'all' && target.deviceId === actor.deviceId);
