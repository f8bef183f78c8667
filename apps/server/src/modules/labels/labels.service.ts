/**
 * Labels of a business: named, colored tags its agents put on conversations and on single
 * messages of the shared inbox, to sort and filter it. Any agent of the business may create,
 * edit, apply and remove them (they are a working tool of the inbox, as in the Business app);
 * how many a business has is a plan limit. A label, conversation or message of another
 * business answers as unknown, and changes nothing.
 *
 * Every change reaches all the business's agent devices in the same transaction: applying or
 * removing a label as the inbox's own `business.conversation` event (so a device keeps one
 * conversation view up to date), and a change of the label itself as `business.label`.
 */
import type { BusinessMessageView, ConversationView, LabelView, MessageLabelsView } from '@parley/protocol';
import { AppError } from '../../errors.js';
import type { Clock } from '../../platform/clock.js';
import type { Db, Executor } from '../../platform/db.js';
import type { Ids } from '../../platform/ids.js';
import type { DeviceActor } from '../accounts/index.js';
import {
  type BusinessService,
  type InboxService,
  type LabelsPort,
  presentMessage,
} from '../business/index.js';
import type { EnvelopeRow, EventWriter, QueuedEvent } from '../delivery/index.js';
import type { PlansService } from '../plans/index.js';
import { cleanLabelColor, cleanLabelName, defaultLabelColor, labelNameKey } from './labels.policy.js';
import { presentLabel } from './labels.present.js';
import type { LabelsRepo } from './labels.repo.js';

export interface LabelsServiceDeps {
  db: Pick<Db, 'kysely' | 'caps'>;
  repo: LabelsRepo;
  business: Pick<BusinessService, 'requireAgent'>;
  inbox: Pick<InboxService, 'agentEvent' | 'get'>;
  /** Every device of every agent of the business (the audience of label events). */
  agentDevices(businessId: string, tx: Executor): Promise<string[]>;
  events: EventWriter;
  plans?: Pick<PlansService, 'check'>;
  clock: Clock;
  ids: Ids;
}

export interface LabelInput {
  name: string;
  color?: string | undefined;
}

function invalid(path: string, message: string): AppError {
  return new AppError('VALIDATION_FAILED', `Invalid ${path}: ${message}.`, { issues: [{ path, message }] });
}

function nameOf(name: string): string {
  const clean = cleanLabelName(name);
  if (clean === undefined) throw invalid('name', '1 to 50 visible characters');
  return clean;
}

function colorOf(color: string): string {
  const clean = cleanLabelColor(color);
  if (clean === undefined) throw invalid('color', '#RRGGBB or a palette color (see LABEL_PALETTE)');
  return clean;
}

export function createLabelsService(deps: LabelsServiceDeps) {
  const { db, repo, events, clock, ids } = deps;

  async function labelIn(tx: Executor, businessId: string, labelId: string) {
    const label = await repo.find(labelId, tx);
    if (!label || label.business_id !== businessId) {
      throw new AppError('LABEL_NOT_FOUND', `No label ${labelId} in this business.`);
    }
    return label;
  }

  async function requireFreeName(tx: Executor, businessId: string, name: string, except?: string) {
    const taken = await repo.byNameKey(businessId, labelNameKey(name), tx);
    if (taken && taken.id !== except) {
      throw new AppError('LABEL_NAME_TAKEN', `The business already has a label "${taken.name}".`, {
        label_id: taken.id,
      });
    }
  }

  async function labelEvent(
    tx: Executor,
    businessId: string,
    actor: DeviceActor,
    labelId: string,
    label: LabelView | null,
  ): Promise<QueuedEvent> {
    return {
      chatId: businessId,
      devices: await deps.agentDevices(businessId, tx),
      event: {
        type: 'business.label',
        business_id: businessId,
        label_id: labelId,
        label,
        by: actor.accountId,
      },
    };
  }

  /** Runs `change` in a transaction that holds the business's label lock; announces after commit. */
  async function changing<T>(
    actor: DeviceActor,
    businessId: string,
    change: (tx: Executor) => Promise<{ result: T; queued: QueuedEvent[] }>,
  ): Promise<T> {
    let announce: EnvelopeRow[] = [];
    const result = await db.kysely.transaction().execute(async (tx) => {
      await deps.business.requireAgent(actor, businessId, tx);
      await repo.lockBusiness(tx, businessId, db.caps.rowLocks);
      const out = await change(tx);
      announce = await events.queueAll(tx, actor, out.queued);
      return out.result;
    });
    events.announce(announce);
    return result;
  }

  async function conversationLabel(
    actor: DeviceActor,
    businessId: string,
    conversationId: string,
    labelId: string,
    apply: boolean,
  ): Promise<ConversationView> {
    // The inbox's own check (agent of the business; a conversation of another business answers
    // CONVERSATION_NOT_FOUND). Before the transaction: it reads outside it, and a conversation
    // never moves to another business.
    await deps.inbox.get(actor, businessId, conversationId);
    await changing(actor, businessId, async (tx) => {
      await labelIn(tx, businessId, labelId);
      const changed = apply
        ? await repo.applyToConversation(tx, businessId, conversationId, [labelId], clock.now())
        : await repo.removeFromConversation(tx, conversationId, labelId);
      const queued = changed
        ? [
            await deps.inbox.agentEvent(tx, businessId, conversationId, {
              by: actor.accountId,
              label_id: labelId,
              label_change: apply ? 'added' : 'removed',
            }),
          ]
        : [];
      return { result: undefined, queued };
    });
    return deps.inbox.get(actor, businessId, conversationId);
  }

  async function messageLabel(
    actor: DeviceActor,
    businessId: string,
    messageId: string,
    labelId: string,
    apply: boolean,
  ): Promise<MessageLabelsView> {
    return changing(actor, businessId, async (tx) => {
      const message = await repo.message(businessId, messageId, tx);
      if (!message) throw new AppError('MESSAGE_NOT_FOUND', `No message ${messageId} in this business.`);
      await labelIn(tx, businessId, labelId);
      const changed = apply
        ? await repo.applyToMessage(tx, {
            message_id: messageId,
            label_id: labelId,
            conversation_id: message.conversation_id,
            business_id: businessId,
            created_at: clock.now(),
          })
        : await repo.removeFromMessage(tx, messageId, labelId);
      const view: MessageLabelsView = {
        message_id: messageId,
        conversation_id: message.conversation_id,
        labels: await repo.labelsOfMessage(messageId, tx),
      };
      const queued = changed
        ? [
            await deps.inbox.agentEvent(tx, businessId, message.conversation_id, {
              by: actor.accountId,
              label_id: labelId,
              label_change: apply ? 'added' : 'removed',
              message_labels: view,
            }),
          ]
        : [];
      return { result: view, queued };
    });
  }

  /** What the inbox asks of labels (LabelsPort, see inbox.service.ts). */
  const port: LabelsPort = {
    labelsOf: (tx, conversationIds) => repo.labelsOfConversations(conversationIds, tx),
    async applyLabels(tx, businessId, conversationId, labelIds) {
      // Automations name labels by id; one deleted since the rule was written is skipped.
      const known = await repo.idsOf(businessId, [...new Set(labelIds)], tx);
      await repo.applyToConversation(tx, businessId, conversationId, known, clock.now());
    },
    conversationsWithLabel: (tx, businessId, labelId) => repo.conversationsWithLabel(businessId, labelId, tx),
  };

  return {
    port,

    async list(actor: DeviceActor, businessId: string): Promise<LabelView[]> {
      await deps.business.requireAgent(actor, businessId);
      return (await repo.list(businessId)).map(presentLabel);
    },

    async create(actor: DeviceActor, businessId: string, input: LabelInput): Promise<LabelView> {
      const name = nameOf(input.name);
      const explicitColor = input.color === undefined ? undefined : colorOf(input.color);
      const id = ids.newId('lbl');
      return changing(actor, businessId, async (tx) => {
        await requireFreeName(tx, businessId, name);
        const count = await repo.count(businessId, tx);
        await deps.plans?.check(tx, businessId, 'labels', count + 1);
        const now = clock.now();
        await repo.insert(tx, {
          id,
          business_id: businessId,
          name,
          name_key: labelNameKey(name),
          color: explicitColor ?? defaultLabelColor(count),
          created_at: now,
          updated_at: now,
        });
        const row = await repo.find(id, tx);
        if (!row) throw new AppError('INTERNAL_ERROR', 'The label was not stored.');
        const view = presentLabel(row);
        return { result: view, queued: [await labelEvent(tx, businessId, actor, id, view)] };
      });
    },

    /** Renames and/or recolors a label. */
    async update(
      actor: DeviceActor,
      businessId: string,
      labelId: string,
      patch: Partial<LabelInput>,
    ): Promise<LabelView> {
      const name = patch.name === undefined ? undefined : nameOf(patch.name);
      const color = patch.color === undefined ? undefined : colorOf(patch.color);
      return changing(actor, businessId, async (tx) => {
        const before = await labelIn(tx, businessId, labelId);
        const set: { name?: string; name_key?: string; color?: string } = {};
        if (name !== undefined && name !== before.name) {
          await requireFreeName(tx, businessId, name, labelId);
          set.name = name;
          set.name_key = labelNameKey(name);
        }
        if (color !== undefined && color !== before.color) set.color = color;
        if (Object.keys(set).length === 0) return { result: presentLabel(before), queued: [] };
        await repo.update(tx, labelId, { ...set, updated_at: clock.now() });
        const row = await repo.find(labelId, tx);
        if (!row) throw new AppError('INTERNAL_ERROR', 'The label vanished.');
        const view = presentLabel(row);
        return { result: view, queued: [await labelEvent(tx, businessId, actor, labelId, view)] };
      });
    },

    /**
     * Deletes a label and takes it off every conversation and message. Devices hear one
     * `business.label` event with `label: null` and drop the id wherever they show it.
     */
    async remove(actor: DeviceActor, businessId: string, labelId: string): Promise<void> {
      await changing(actor, businessId, async (tx) => {
        await labelIn(tx, businessId, labelId);
        await repo.delete(tx, labelId);
        return { result: undefined, queued: [await labelEvent(tx, businessId, actor, labelId, null)] };
      });
    },

    applyToConversation: (actor: DeviceActor, businessId: string, conversationId: string, labelId: string) =>
      conversationLabel(actor, businessId, conversationId, labelId, true),
    removeFromConversation: (
      actor: DeviceActor,
      businessId: string,
      conversationId: string,
      labelId: string,
    ) => conversationLabel(actor, businessId, conversationId, labelId, false),
    applyToMessage: (actor: DeviceActor, businessId: string, messageId: string, labelId: string) =>
      messageLabel(actor, businessId, messageId, labelId, true),
    removeFromMessage: (actor: DeviceActor, businessId: string, messageId: string, labelId: string) =>
      messageLabel(actor, businessId, messageId, labelId, false),

    /** The messages carrying the label, newest first (page with `before`, epoch ms). */
    async messages(
      actor: DeviceActor,
      businessId: string,
      labelId: string,
      page: { before?: number | undefined; limit?: number | undefined },
    ): Promise<BusinessMessageView[]> {
      await deps.business.requireAgent(actor, businessId);
      await labelIn(db.kysely, businessId, labelId);
      const rows = await repo.messagesWithLabel(labelId, {
        before: page.before,
        limit: Math.min(page.limit ?? 50, 200),
      });
      return rows.map(presentMessage);
    },
  };
}

export type LabelsService = ReturnType<typeof createLabelsService>;
