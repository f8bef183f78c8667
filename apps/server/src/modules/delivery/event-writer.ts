/**
 * System events (group membership, settings) as envelopes of kind `event`, queued inside the
 * caller's transaction so they are ordered with the change that made them, and announced on
 * the bus after commit like any envelope. The event JSON is stored once (message_bodies).
 */
import type { Bus } from '../../platform/bus.js';
import type { Clock } from '../../platform/clock.js';
import type { DbCaps, Executor } from '../../platform/db.js';
import type { Ids } from '../../platform/ids.js';
import type { DeviceActor } from '../accounts/index.js';
import { createDeliveryRepo, type EnvelopeRow } from './delivery.repo.js';
import { type DeviceEvent, deviceChannel, ENVELOPE_TTL_MS } from './delivery.service.js';

export interface EventWriterDeps {
  caps: Pick<DbCaps, 'rowLocks'>;
  bus: Pick<Bus, 'publish'>;
  clock: Clock;
  ids: Ids;
}

/** One event and who gets it, under which chat. */
export interface QueuedEvent {
  chatId: string;
  devices: string[];
  event: Record<string, unknown>;
}

export function createEventWriter(deps: EventWriterDeps) {
  const repo = createDeliveryRepo(deps.caps);

  /**
   * Queues every event for its devices in one sequence reservation. A transaction must take
   * device rows once, in one sorted statement (reserveSeqs): a transaction that locked some
   * devices and then others could deadlock with another doing the same in another order.
   */
  async function queueAll(tx: Executor, actor: DeviceActor, events: QueuedEvent[]): Promise<EnvelopeRow[]> {
    const now = deps.clock.now();
    const planned = events
      .map((e) => ({
        ...e,
        devices: [...new Set(e.devices)],
        messageId: deps.ids.newId('msg'),
        payload: Buffer.from(JSON.stringify(e.event)).toString('base64'),
      }))
      .filter((e) => e.devices.length > 0);
    if (planned.length === 0) return [];
    const counts = new Map<string, number>();
    for (const e of planned) for (const d of e.devices) counts.set(d, (counts.get(d) ?? 0) + 1);
    const last = await repo.reserveSeqs(tx, counts);
    const next = new Map<string, number>();
    for (const [device, seq] of last) next.set(device, seq - (counts.get(device) ?? 0) + 1);
    const rows: EnvelopeRow[] = [];
    const announced: EnvelopeRow[] = [];
    for (const e of planned) {
      await repo.insertBody(tx, {
        message_id: e.messageId,
        payload: e.payload,
        expires_at: now + ENVELOPE_TTL_MS,
      });
      for (const device of e.devices) {
        const seq = next.get(device);
        if (seq === undefined) continue; // logged out meanwhile
        next.set(device, seq + 1);
        const row: EnvelopeRow = {
          device_id: device,
          seq,
          message_id: e.messageId,
          sender_account: actor.accountId,
          sender_device: actor.deviceId,
          sender_phone: actor.phone,
          sent_at: now,
          expires_at: now + ENVELOPE_TTL_MS,
          payload: '',
          chat_id: e.chatId,
          kind: 'event',
          extra: null,
        };
        rows.push(row);
        // Announced with the payload; the stored rows point at the body.
        announced.push({ ...row, payload: e.payload });
      }
    }
    await repo.insertEnvelopes(tx, rows);
    return announced;
  }

  return {
    /** Queues `event` for every device in `devices` under `chatId`; returns the rows to announce. */
    async queue(
      tx: Executor,
      input: { actor: DeviceActor; chatId: string; devices: string[]; event: Record<string, unknown> },
    ): Promise<EnvelopeRow[]> {
      return queueAll(tx, input.actor, [input]);
    },

    /** Queues several events at once (use this rather than several `queue` calls in one transaction). */
    queueAll,

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
