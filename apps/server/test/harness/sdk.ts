/**
 * Real SDK clients for large tests: each records what it receives (messages, typing, presence)
 * and the pool closes them all at the end.
 */
import { ParleyClient, type PresenceEvent, type ReceivedMessage, type TypingEvent } from '@parley/sdk';

export function createSdkPool(baseUrl: () => string) {
  const clients: ParleyClient[] = [];
  return {
    /** Connects a client as the device with `token`; resolves at welcome (and at synced when asked). */
    async connect(token: string, options: { synced?: boolean } = {}) {
      const client = new ParleyClient({
        baseUrl: baseUrl(),
        token,
        reconnect: { minDelayMs: 50, maxDelayMs: 500 },
      });
      const inbox: ReceivedMessage[] = [];
      const typing: TypingEvent[] = [];
      const presence: PresenceEvent[] = [];
      client.onMessage((m) => {
        inbox.push(m);
      });
      client.on('typing', (t) => typing.push(t));
      client.on('presence', (p) => presence.push(p));
      // Connection-level errors are asserted through the calls that fail, not here.
      client.on('error', () => {});
      clients.push(client);
      await client.connect();
      if (options.synced) await client.whenSynced();
      return { client, inbox, typing, presence };
    },
    async closeAll(): Promise<void> {
      await Promise.all(clients.splice(0).map((c) => c.close()));
    },
  };
}

export type SdkConnection = Awaited<ReturnType<ReturnType<typeof createSdkPool>['connect']>>;
