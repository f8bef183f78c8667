/**
 * A WebhookPort double that records each queued change together with what the transaction
 * it was queued in could see, so a test can tell that a change and its webhook were written
 * in the same transaction (the port's contract).
 */
import type { WebhookChange, WebhookPort } from '../../src/modules/cloud-api/index.js';
import type { Executor } from '../../src/platform/db.js';

export interface RecordedWebhook {
  change: WebhookChange;
  /** Whether enqueue was given a transaction (not the bare database handle). */
  inTransaction: boolean;
  /** For template changes: the template's status as the enqueuing transaction saw it (undefined: no row). */
  templateStatusInTx?: string | undefined;
}

export function createRecordingWebhooks() {
  const recorded: RecordedWebhook[] = [];
  const port: WebhookPort = {
    async enqueue(tx: Executor, changes: WebhookChange[]) {
      for (const change of changes) {
        const id = change.value.message_template_id;
        const entry: RecordedWebhook = { change, inTransaction: tx.isTransaction };
        if (typeof id === 'number') {
          const row = await tx
            .selectFrom('templates')
            .select('status')
            .where('id', '=', String(id))
            .executeTakeFirst();
          entry.templateStatusInTx = row?.status;
        }
        recorded.push(entry);
      }
    },
  };
  return {
    port,
    recorded,
    /** The `value`s of recorded changes of one field, in order. */
    values(field = 'message_template_status_update') {
      return recorded.filter((r) => r.change.field === field).map((r) => r.change.value);
    },
    clear() {
      recorded.length = 0;
    },
  };
}
