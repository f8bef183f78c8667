/**
 * The WebSocket gateway: accepts upgrades on /ws, keeps one connection per device (a newer
 * one displaces the older), sweeps heartbeats with one timer for all connections, and closes
 * connections of devices that were logged out.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { CLOSE_CODES, MAX_FRAME_BYTES } from '@parley/protocol';
import { WebSocketServer } from 'ws';
import type { AccountsService, DeviceRevokedEvent } from '../modules/accounts/index.js';
import { DEVICE_REVOKED_EVENT } from '../modules/accounts/index.js';
import type { ContactsService } from '../modules/contacts/index.js';
import type { DeliveryService, EnvelopeRow } from '../modules/delivery/index.js';
import type { ReceiptsService } from '../modules/receipts/index.js';
import type { Bus } from '../platform/bus.js';
import type { Clock } from '../platform/clock.js';
import type { Logger } from '../platform/logger.js';
import type { Metrics } from '../platform/metrics.js';
import type { PresenceRegistry } from '../platform/presence.js';
import { DeviceConnection } from './connection.js';
import { createMsgFrameEncoder } from './msg-frame.js';

export const WS_PATH = '/ws';
const HELLO_TIMEOUT_MS = 10_000;
/** Connected devices count as seen; last_seen_at is refreshed this often while connected. */
const TOUCH_INTERVAL_MS = 3600_000;

export interface GatewayConfig {
  heartbeatMs: number;
  framesPerSecond: number;
  window: number;
}

export interface GatewayDeps {
  accounts: Pick<AccountsService, 'authenticate' | 'touchDevices'>;
  delivery: Pick<DeliveryService, 'send' | 'ack' | 'readQueue' | 'lastSeq' | 'typing'>;
  contacts: Pick<ContactsService, 'presence'>;
  receipts: Pick<ReceiptsService, 'record'>;
  presence: Pick<PresenceRegistry, 'connected' | 'disconnected'>;
  bus: Bus;
  clock: Clock;
  logger: Logger;
  metrics: Pick<Metrics, 'connections' | 'queueReads' | 'sendAckLatency'>;
  config: GatewayConfig;
}

export interface GatewayContext extends GatewayDeps {
  encodeMsg(row: EnvelopeRow): string;
  registry: {
    attach(connection: DeviceConnection): void;
    detach(connection: DeviceConnection, wasOpen: boolean): void;
  };
}

export function createGateway(deps: GatewayDeps) {
  const { logger, metrics, clock } = deps;
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_FRAME_BYTES,
    // Compression costs ~300 KB of zlib state per connection; payloads are small or encrypted.
    perMessageDeflate: false,
    clientTracking: false,
    // JSON.parse rejects what matters; a second UTF-8 pass over every frame buys nothing.
    skipUTF8Validation: true,
  });
  const all = new Set<DeviceConnection>();
  const byDevice = new Map<string, DeviceConnection>();
  let accepting = true;
  let nextId = 0;

  const ctx: GatewayContext = {
    ...deps,
    encodeMsg: createMsgFrameEncoder(),
    registry: {
      attach(connection) {
        const deviceId = connection.actor?.deviceId;
        if (!deviceId) return;
        const previous = byDevice.get(deviceId);
        byDevice.set(deviceId, connection);
        metrics.connections.inc();
        if (connection.actor) deps.presence.connected(connection.actor.accountId, clock.now());
        // A local older connection is displaced right away (remote ones hear the bus event).
        if (previous && previous !== connection) previous.displace();
      },
      detach(connection, wasOpen) {
        all.delete(connection);
        const deviceId = connection.actor?.deviceId;
        if (deviceId && byDevice.get(deviceId) === connection) byDevice.delete(deviceId);
        if (wasOpen) {
          metrics.connections.dec();
          const actor = connection.actor;
          if (actor) {
            // Last seen is the moment of leaving: stored before watchers hear of it.
            const at = clock.now();
            deps.accounts
              .touchDevices([actor.deviceId])
              .catch((e: unknown) => logger.warn({ err: e }, 'touching a device failed'))
              .finally(() => deps.presence.disconnected(actor.accountId, at));
          }
        }
      },
    },
  };

  const unsubscribeRevoked = deps.bus.subscribe(DEVICE_REVOKED_EVENT, (event) => {
    byDevice.get((event as DeviceRevokedEvent).deviceId)?.revoke();
  });

  // One timer for every connection: a per-connection timer would cost memory at 20k sockets.
  const heartbeat = setInterval(() => {
    const now = clock.now();
    const stale: string[] = [];
    for (const connection of all) {
      if (connection.phase !== 'open') continue;
      if (connection.actor && now - connection.touchedAt >= TOUCH_INTERVAL_MS) {
        connection.touchedAt = now;
        stale.push(connection.actor.deviceId);
      }
      if (!connection.alive) {
        connection.ws.terminate();
        continue;
      }
      connection.alive = false;
      connection.ws.ping();
    }
    if (stale.length > 0) {
      deps.accounts
        .touchDevices(stale)
        .catch((e: unknown) => logger.warn({ err: e }, 'touching devices failed'));
    }
  }, deps.config.heartbeatMs);
  heartbeat.unref();

  const helloSweep = setInterval(() => {
    const now = clock.now();
    for (const connection of all) {
      if (connection.phase === 'hello' && now - connection.openedAt > HELLO_TIMEOUT_MS) {
        connection.write({ op: 'error', code: 'HELLO_REQUIRED', message: 'No hello within 10 seconds.' });
        connection.close(CLOSE_CODES.unauthenticated, 'hello timeout');
      }
    }
  }, 1000);
  helloSweep.unref();

  return {
    handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
      if (!accepting) {
        socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n');
        return;
      }
      wss.handleUpgrade(request, socket, head, (ws) => {
        const connection = new DeviceConnection(ctx, ws, socket, `c${(nextId++).toString(36)}`);
        all.add(connection);
      });
    },

    get connectionCount(): number {
      return byDevice.size;
    },

    /** Stops taking new connections (existing ones keep working until closeAll). */
    stopAccepting(): void {
      accepting = false;
    },

    /** Closes every connection with 1001 (going away); clients reconnect elsewhere. */
    async closeAll(): Promise<void> {
      accepting = false;
      clearInterval(heartbeat);
      clearInterval(helloSweep);
      unsubscribeRevoked();
      for (const connection of [...all]) connection.close(CLOSE_CODES.goingAway, 'server shutting down');
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      logger.debug('gateway closed');
    },
  };
}

export type Gateway = ReturnType<typeof createGateway>;
