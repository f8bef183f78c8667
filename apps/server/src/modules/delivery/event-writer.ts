/**
 * System events (group membership, settings) as envelopes of kind `event`, queued inside the
 * caller's transaction so they are ordered with the change that made them, and announced on
 * the bus after commit like any envelope. The event JSON is stored once (message_bodies).
 */
import type { Bus } from '../../platform/bus.js';
import type { Clock } from '../../platform/clock.js';
import type { Executor } from '../../platform/db.js';
import type { Ids } from '../../platform/ids.js';
import type { DeviceActor } from '../accounts/index.js';
import { createDeliveryRepo, type EnvelopeRow } from './delivery.repo.js';
import { type DeviceEvent, deviceChannel, ENVELOPE_TTL_MS } from './delivery.service.js';

export interface EventWriterDeps {
  bus: Pick<Bus, 'publish'>;
  clock: Clock;
  ids: Ids;
}

export function createEventWriter(deps: EventWriterDeps) {
  const repo = createDeliveryRepo();
  return {
    /** Queues `event` for every device in `devices` under `chatId`; returns the rows to announce. */
    async queue(
      tx: Executor,
      input: { actor: DeviceActor; chatId: string; devices: string[]; event: Record<string, unknown> },
    ): Promise<EnvelopeRow[]> {
      const now = deps.clock.now();
      const messageId = deps.ids.newId('msg');
      const payload = Buffer.from(JSON.stringify(input.event)).toString('base64');
      const devices = [...new Set(input.devices)];
      if (devices.length === 0) return [];
      await repo.insertBody(tx, { message_id: messageId, payload, expires_at: now + ENVELOPE_TTL_MS });
      const last = await repo.reserveSeqs(tx, new Map(devices.map((d) => [d, 1])));
      const rows: EnvelopeRow[] = [];
      for (const [device, seq] of last) {
        rows.push({
          device_id: device,
          seq,
          message_id: messageId,
          sender_account: input.actor.accountId,
          sender_device: input.actor.deviceId,
          sender_phone: input.actor.phone,
          sent_at: now,
          expires_at: now + ENVELOPE_TTL_MS,
          payload: '',
          chat_id: input.chatId,
          kind: 'event',
          extra: null,
        });
      }
      await repo.insertEnvelopes(tx, rows);
      // Announced with the payload; the stored rows point at the body.
      return rows.map((row) => ({ ...row, payload }));
    },

    announce(rows: EnvelopeRow[]): void {
      for (const envelope of rows) {
        deps.bus.publish(deviceChannel(envelope.device_id), {
          type: 'envelope',
          envelope,
        } satisfies DeviceEvent);
      }
    },
  };
}

export type EventWriter = ReturnType<typeof createEventWriter>;
