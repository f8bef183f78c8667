/**
 * Which accounts have a connected device, in this process. The gateway reports connects and
 * disconnects; a transition to online or offline is published on the bus channel
 * `presence:<account id>`. (The cluster mode will keep these counts in Redis.)
 */
import type { Bus } from './bus.js';

export interface PresenceChange {
  account_id: string;
  online: boolean;
  /** Epoch ms of the moment it went offline. */
  at: number;
}

export const presenceChannel = (accountId: string) => `presence:${accountId}`;

export function createPresenceRegistry(bus: Pick<Bus, 'publish'>) {
  const connections = new Map<string, number>();
  return {
    connected(accountId: string, at: number): void {
      const n = (connections.get(accountId) ?? 0) + 1;
      connections.set(accountId, n);
      if (n === 1)
        bus.publish(presenceChannel(accountId), {
          account_id: accountId,
          online: true,
          at,
        } satisfies PresenceChange);
    },
    disconnected(accountId: string, at: number): void {
      const n = (connections.get(accountId) ?? 0) - 1;
      if (n > 0) {
        connections.set(accountId, n);
        return;
      }
      connections.delete(accountId);
      bus.publish(presenceChannel(accountId), {
        account_id: accountId,
        online: false,
        at,
      } satisfies PresenceChange);
    },
    isOnline(accountId: string): boolean {
      return (connections.get(accountId) ?? 0) > 0;
    },
  };
}

export type PresenceRegistry = ReturnType<typeof createPresenceRegistry>;
