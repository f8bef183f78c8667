/**
 * Message templates of the Business Messaging API: the Graph management API a business
 * calls with its token, the operator's review (automatic rules, then a manual queue), quality
 * pausing, and the send side (`prepareSend`) the message pipeline calls.
 *
 * Every status change is written together with its `message_template_status_update` webhook
 * in one transaction (the WebhookPort), so a committed change always has its webhook queued
 * and a rolled-back one never does.
 */
import { AppError } from '../../errors.js';
import type { Clock } from '../../platform/clock.js';
import type { Db, Executor } from '../../platform/db.js';
import type { Ids } from '../../platform/ids.js';
import type { TemplateStatus } from '../../platform/schema.js';
import type { BusinessRepo } from '../business/index.js';
import {
  type GraphCaller,
  GraphError,
  graphErrors,
  type WebhookChange,
  type WebhookPort,
} from '../cloud-api/index.js';
import {
  type OperatorTemplateView,
  presentForOperator,
  presentTemplate,
  TEMPLATE_FIELDS,
  type TemplateField,
} from './templates.present.js';
import { parseSendTemplate, type Rendered, renderTemplate } from './templates.render.js';
import type { TemplateFilter, TemplateRow, TemplatesRepo } from './templates.repo.js';
import {
  DEFAULT_RULES,
  decideReview,
  editRefusal,
  mergeRules,
  pauseStep,
  qualityScore,
  REJECTION_REASONS,
  type RejectionReason,
  type ReviewRules,
} from './templates.review.js';
import {
  type Category,
  type ParameterFormat,
  templateErrors,
  validateCategory,
  validateComponents,
  validateTemplate,
} from './templates.validate.js';

export interface TemplatesServiceDeps {
  db: Pick<Db, 'kysely' | 'caps'>;
  repo: TemplatesRepo;
  businessRepo: Pick<BusinessRepo, 'find'>;
  webhooks: WebhookPort;
  clock: Clock;
  ids: Pick<Ids, 'newCode'>;
}

export interface ListQuery {
  name?: string;
  status?: string;
  category?: string;
  language?: string;
  fields?: string;
  limit?: string;
  after?: string;
  before?: string;
}

export interface TemplatePage {
  data: Record<string, unknown>[];
  paging: { cursors: { before: string; after: string } } | undefined;
  hasNext: boolean;
  hasPrevious: boolean;
}

export interface PreparedTemplate {
  templateId: string;
  name: string;
  language: string;
  category: 'marketing' | 'utility' | 'authentication';
  rendered: Rendered;
}

const DAY = 24 * 3_600_000;
const FEEDBACK_WINDOW = 7 * DAY;
const STATUSES: readonly TemplateStatus[] = ['PENDING', 'APPROVED', 'REJECTED', 'PAUSED', 'DISABLED'];

const cursorOf = (id: string) => Buffer.from(id).toString('base64url');
const idOfCursor = (cursor: string) => {
  const id = Buffer.from(cursor, 'base64url').toString();
  if (!/^\d{1,20}$/.test(id)) throw graphErrors.invalidParameter('The paging cursor is not valid.');
  return id;
};

export function createTemplatesService(deps: TemplatesServiceDeps) {
  const { db, repo, clock, webhooks } = deps;

  /** The business behind a WABA path: another business's WABA answers as an unknown object. */
  async function requireWaba(caller: GraphCaller, wabaId: string, method: 'get' | 'post'): Promise<void> {
    const business = await deps.businessRepo.find(caller.businessId);
    if (!business || business.waba_id !== wabaId) throw graphErrors.unknownObject(wabaId, method);
  }

  async function rules(tx: Executor = db.kysely): Promise<ReviewRules> {
    const stored = await repo.rules(tx);
    return stored ? mergeRules(DEFAULT_RULES, JSON.parse(stored)) : DEFAULT_RULES;
  }

  const lock = (id: string, tx: Executor) => repo.findForUpdate(id, tx, db.caps.rowLocks);

  function statusChange(
    row: TemplateRow,
    event: string,
    extra: {
      reason?: string;
      category?: Category;
      other_info?: object;
      rejection_info?: object;
      disable_info?: object;
    } = {},
  ): WebhookChange {
    return {
      businessId: row.business_id,
      field: 'message_template_status_update',
      value: {
        event,
        message_template_id: Number(row.id),
        message_template_name: row.name,
        message_template_language: row.language,
        reason: extra.reason ?? 'NONE',
        message_template_category: extra.category ?? row.category,
        ...(extra.other_info ? { other_info: extra.other_info } : {}),
        ...(extra.rejection_info ? { rejection_info: extra.rejection_info } : {}),
        ...(extra.disable_info ? { disable_info: extra.disable_info } : {}),
      },
    };
  }

  async function approve(
    tx: Executor,
    row: TemplateRow,
    category: Category,
    previous?: Category,
  ): Promise<void> {
    await repo.update(tx, row.id, {
      status: 'APPROVED',
      category,
      ...(previous ? { previous_category: previous } : {}),
      rejected_reason: null,
      rejection_info: null,
      updated_at: clock.now(),
    });
    const changes = [statusChange(row, 'APPROVED', { category })];
    if (previous) {
      changes.push({
        businessId: row.business_id,
        field: 'template_category_update',
        value: {
          message_template_id: Number(row.id),
          message_template_name: row.name,
          message_template_language: row.language,
          previous_category: previous,
          new_category: category,
        },
      });
    }
    await webhooks.enqueue(tx, changes);
  }

  async function reject(
    tx: Executor,
    row: TemplateRow,
    reason: RejectionReason,
    info: { reason: string; recommendation: string },
  ) {
    await repo.update(tx, row.id, {
      status: 'REJECTED',
      rejected_reason: reason,
      rejection_info: JSON.stringify(info),
      updated_at: clock.now(),
    });
    await webhooks.enqueue(tx, [statusChange(row, 'REJECTED', { reason, rejection_info: info })]);
  }

  /** Runs the automatic rules on a PENDING template; undecided ones stay in the queue. */
  async function review(tx: Executor, row: TemplateRow): Promise<void> {
    const decision = decideReview(
      {
        category: row.category,
        components: JSON.parse(row.components),
        allow_category_change: row.allow_category_change === 1,
      },
      await rules(tx),
    );
    if (decision.decision === 'approve')
      await approve(tx, row, decision.category, decision.previous_category);
    else if (decision.decision === 'reject') {
      await reject(tx, row, decision.reason, {
        reason: 'The template breaks a review rule.',
        recommendation: decision.recommendation,
      });
    }
  }

  async function ownTemplate(caller: GraphCaller, id: string, tx: Executor = db.kysely) {
    if (!/^\d{1,20}$/.test(id)) return undefined;
    const row = await repo.find(id, tx);
    return row && row.business_id === caller.businessId ? row : undefined;
  }

  function parseFields(raw: string | undefined): TemplateField[] | undefined {
    if (raw === undefined || raw.trim() === '') return undefined;
    const fields = raw
      .split(',')
      .map((f) => f.trim())
      .filter(Boolean);
    const unknown = fields.filter((f) => !(TEMPLATE_FIELDS as readonly string[]).includes(f));
    if (unknown.length > 0) {
      throw graphErrors.invalidParameter(
        `Unknown fields: ${unknown.join(', ')}; known: ${TEMPLATE_FIELDS.join(', ')}.`,
      );
    }
    return fields as TemplateField[];
  }

  /** Meta's quality step for one template, after its feedback or sends changed. */
  async function recomputeQuality(tx: Executor, templateId: string, now: number): Promise<void> {
    const row = await lock(templateId, tx);
    if (!row) return;
    const { quality } = await rules(tx);
    const counts = await repo.qualityCounts(tx, templateId, now - quality.window_days * DAY);
    const score = qualityScore(counts.negatives, counts.delivered, quality);
    const changes: WebhookChange[] = [];
    if (score !== row.quality_score) {
      await repo.update(tx, row.id, { quality_score: score, updated_at: now });
      changes.push({
        businessId: row.business_id,
        field: 'message_template_quality_update',
        value: {
          previous_quality_score: row.quality_score,
          new_quality_score: score,
          message_template_id: Number(row.id),
          message_template_name: row.name,
          message_template_language: row.language,
        },
      });
    }
    if (score === 'RED' && row.status === 'APPROVED') {
      const step = pauseStep(row.pause_count);
      if (step.status === 'PAUSED') {
        await repo.update(tx, row.id, {
          status: 'PAUSED',
          paused_until: now + step.forMs,
          pause_count: row.pause_count + 1,
          updated_at: now,
        });
        changes.push(
          statusChange(row, 'PAUSED', {
            other_info: {
              title: step.title,
              description: `Your template has been paused for ${step.forMs / 3_600_000} hours due to low quality.`,
            },
          }),
        );
      } else {
        await repo.update(tx, row.id, {
          status: 'DISABLED',
          paused_until: null,
          pause_count: row.pause_count + 1,
          updated_at: now,
        });
        changes.push(
          statusChange(row, 'DISABLED', {
            other_info: {
              title: 'DISABLED',
              description: 'Your template has been disabled after repeated low quality.',
            },
            disable_info: { disable_date: String(Math.floor(now / 1000)) },
          }),
        );
      }
    }
    if (changes.length > 0) await webhooks.enqueue(tx, changes);
  }

  return {
    /** GET /{v}/{waba-id}/message_templates */
    async list(caller: GraphCaller, wabaId: string, query: ListQuery): Promise<TemplatePage> {
      await requireWaba(caller, wabaId, 'get');
      const fields = parseFields(query.fields);
      const limit = query.limit === undefined ? 25 : Number(query.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
        throw graphErrors.invalidParameter('limit must be a whole number from 1 to 1000.');
      }
      const filter: TemplateFilter = {};
      if (query.name !== undefined) filter.name = query.name;
      if (query.language !== undefined) filter.language = query.language;
      if (query.status !== undefined) {
        const status = query.status.toUpperCase();
        if (!(STATUSES as readonly string[]).includes(status)) {
          throw graphErrors.invalidParameter(`status must be one of ${STATUSES.join(', ')}.`);
        }
        filter.status = status;
      }
      if (query.category !== undefined) filter.category = validateCategory(query.category);
      const cursor: { after?: string; before?: string } = {};
      if (query.after !== undefined) cursor.after = idOfCursor(query.after);
      else if (query.before !== undefined) cursor.before = idOfCursor(query.before);
      const rows = await repo.page(caller.businessId, filter, cursor, limit);
      const more = rows.length > limit;
      const page =
        cursor.before !== undefined
          ? rows.slice(rows.length - Math.min(rows.length, limit))
          : rows.slice(0, limit);
      const first = page[0];
      const last = page[page.length - 1];
      return {
        data: page.map((r) => presentTemplate(r, fields)),
        paging:
          first && last ? { cursors: { before: cursorOf(first.id), after: cursorOf(last.id) } } : undefined,
        hasNext: cursor.before !== undefined ? page.length > 0 : more,
        hasPrevious: cursor.before !== undefined ? more : cursor.after !== undefined && page.length > 0,
      };
    },

    /** POST /{v}/{waba-id}/message_templates */
    async create(
      caller: GraphCaller,
      wabaId: string,
      body: unknown,
    ): Promise<{ id: string; status: TemplateStatus; category: Category }> {
      await requireWaba(caller, wabaId, 'post');
      const def = validateTemplate(body);
      const id = `1${deps.ids.newCode(14)}`;
      const now = clock.now();
      try {
        return await db.kysely.transaction().execute(async (tx) => {
          if (await repo.byNameLanguage(caller.businessId, def.name, def.language, tx)) {
            throw templateErrors.exists(def.name, def.language);
          }
          const row: TemplateRow = {
            id,
            business_id: caller.businessId,
            name: def.name,
            language: def.language,
            category: def.category,
            previous_category: null,
            parameter_format: def.parameter_format,
            components: JSON.stringify(def.components),
            allow_category_change: def.allow_category_change ? 1 : 0,
            status: 'PENDING',
            rejected_reason: null,
            rejection_info: null,
            quality_score: 'UNKNOWN',
            pause_count: 0,
            paused_until: null,
            edit_times: '[]',
            created_at: now,
            updated_at: now,
          };
          await repo.insert(tx, row);
          await review(tx, row);
          const after = (await repo.find(id, tx)) ?? row;
          return { id, status: after.status, category: after.category };
        });
      } catch (e: unknown) {
        // Two creates of one name and language at once: the unique index lets one through;
        // the other gets Meta's "already exists" instead of an internal error.
        if (
          !(e instanceof GraphError) &&
          (await repo.byNameLanguage(caller.businessId, def.name, def.language))
        ) {
          throw templateErrors.exists(def.name, def.language);
        }
        throw e;
      }
    },

    /** DELETE /{v}/{waba-id}/message_templates?name=[&hsm_id=] */
    async delete(
      caller: GraphCaller,
      wabaId: string,
      query: { name?: string; hsm_id?: string },
    ): Promise<{ success: true }> {
      await requireWaba(caller, wabaId, 'post');
      if (!query.name)
        throw graphErrors.invalidParameter(
          'name is required: the template name to delete (with hsm_id, one language of it).',
        );
      const name = query.name;
      await db.kysely.transaction().execute(async (tx) => {
        let rows = await repo.byName(caller.businessId, name, tx);
        if (query.hsm_id !== undefined) rows = rows.filter((r) => r.id === query.hsm_id);
        if (rows.length === 0) {
          throw graphErrors.invalidParameter(
            query.hsm_id === undefined
              ? `There is no template named "${name}".`
              : `There is no template ${query.hsm_id} named "${name}".`,
          );
        }
        await repo.delete(
          tx,
          rows.map((r) => r.id),
        );
        await webhooks.enqueue(
          tx,
          rows.map((r) => statusChange(r, 'DELETED')),
        );
      });
      return { success: true };
    },

    /** GET /{v}/{template-id}; undefined when the id is not one of this business's templates. */
    async get(
      caller: GraphCaller,
      id: string,
      fieldsQuery?: string,
    ): Promise<Record<string, unknown> | undefined> {
      const row = await ownTemplate(caller, id);
      return row ? presentTemplate(row, parseFields(fieldsQuery)) : undefined;
    },

    /**
     * POST /{v}/{template-id}: new components and/or category. Only APPROVED, REJECTED and
     * PAUSED templates can be edited; an approved one once a day and ten times in 30 days;
     * an approved template's category cannot change. The edit goes back to review.
     */
    async edit(caller: GraphCaller, id: string, body: unknown): Promise<{ success: true } | undefined> {
      if (!(await ownTemplate(caller, id))) return undefined;
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        throw graphErrors.invalidParameter('The request body must be a JSON object.');
      }
      const patch = body as Record<string, unknown>;
      if (patch.components === undefined && patch.category === undefined) {
        throw graphErrors.invalidParameter('Give components and/or category to edit.');
      }
      const now = clock.now();
      await db.kysely.transaction().execute(async (tx) => {
        const row = await lock(id, tx);
        if (!row) throw graphErrors.unknownObject(id);
        if (patch.name !== undefined && patch.name !== row.name)
          throw graphErrors.invalidParameter('A template’s name cannot be edited.');
        if (patch.language !== undefined && patch.language !== row.language) {
          throw graphErrors.invalidParameter('A template’s language cannot be edited.');
        }
        if (row.status !== 'APPROVED' && row.status !== 'REJECTED' && row.status !== 'PAUSED') {
          throw graphErrors.invalidParameter(
            `Only APPROVED, REJECTED or PAUSED templates can be edited; this one is ${row.status}.`,
          );
        }
        const category = patch.category === undefined ? row.category : validateCategory(patch.category);
        if (category !== row.category && row.status !== 'REJECTED') {
          throw graphErrors.invalidParameter(
            'The category of an approved or paused template cannot be edited.',
          );
        }
        const edits = (JSON.parse(row.edit_times) as number[]).filter((t) => t > now - 30 * DAY);
        if (row.status === 'APPROVED') {
          const refusal = editRefusal(edits, now);
          if (refusal) throw graphErrors.invalidParameter(refusal);
          edits.push(now);
        }
        const components = validateComponents(
          patch.components ?? JSON.parse(row.components),
          category,
          row.parameter_format as ParameterFormat,
        );
        const updated: TemplateRow = {
          ...row,
          category,
          components: JSON.stringify(components),
          status: 'PENDING',
          rejected_reason: null,
          rejection_info: null,
          edit_times: JSON.stringify(edits),
          updated_at: now,
        };
        await repo.update(tx, id, {
          category: updated.category,
          components: updated.components,
          status: 'PENDING',
          rejected_reason: null,
          rejection_info: null,
          edit_times: updated.edit_times,
          updated_at: now,
        });
        await webhooks.enqueue(tx, [statusChange(updated, 'PENDING')]);
        await review(tx, updated);
      });
      return { success: true };
    },

    // ---- operator ----

    /** Operator: approve a template in review (or one rejected earlier). */
    async approve(id: string): Promise<OperatorTemplateView> {
      return db.kysely.transaction().execute(async (tx) => {
        const row = await lock(id, tx);
        if (!row) throw new AppError('TEMPLATE_NOT_FOUND', `No template ${id}.`);
        if (row.status !== 'PENDING' && row.status !== 'REJECTED') {
          throw new AppError(
            'TEMPLATE_NOT_REVIEWABLE',
            `Template ${id} is ${row.status}; only PENDING or REJECTED ones can be approved.`,
            {
              status: row.status,
            },
          );
        }
        await approve(tx, row, row.category);
        return presentForOperator((await repo.find(id, tx)) ?? row);
      });
    },

    /**
     * Operator: reject a template. `reason` is one of Meta's rejection reasons, or free text
     * (then the reason is NONE and the text goes in rejection_info).
     */
    async reject(id: string, reason: string, note?: string): Promise<OperatorTemplateView> {
      const code = reason.trim().toUpperCase();
      const known = (REJECTION_REASONS as readonly string[]).includes(code);
      if (!reason.trim()) {
        throw new AppError(
          'VALIDATION_FAILED',
          `A rejection needs a reason: one of ${REJECTION_REASONS.join(', ')}, or a text.`,
        );
      }
      const info = {
        reason: known ? (note ?? `Rejected for ${code}.`) : reason.trim(),
        recommendation:
          note && !known ? note : 'Review the template guidelines, edit the template and submit it again.',
      };
      return db.kysely.transaction().execute(async (tx) => {
        const row = await lock(id, tx);
        if (!row) throw new AppError('TEMPLATE_NOT_FOUND', `No template ${id}.`);
        if (row.status !== 'PENDING' && row.status !== 'APPROVED' && row.status !== 'PAUSED') {
          throw new AppError(
            'TEMPLATE_NOT_REVIEWABLE',
            `Template ${id} is ${row.status}; only PENDING, APPROVED or PAUSED ones can be rejected.`,
            {
              status: row.status,
            },
          );
        }
        await reject(tx, row, known ? (code as RejectionReason) : 'NONE', info);
        return presentForOperator((await repo.find(id, tx)) ?? row);
      });
    },

    /** Operator: templates of every business, by status (the manual queue is PENDING). */
    async queue(status?: string): Promise<OperatorTemplateView[]> {
      const filter: TemplateFilter = {};
      if (status !== undefined) {
        const s = status.toUpperCase();
        if (!(STATUSES as readonly string[]).includes(s)) {
          throw new AppError('VALIDATION_FAILED', `--status is one of ${STATUSES.join(', ')}.`);
        }
        filter.status = s;
      }
      return (await repo.page(undefined, filter, {}, 1000)).map(presentForOperator);
    },

    /** Operator: the review and quality rules in force. */
    rules: () => rules(),

    /** Operator: changes the rules (a partial patch; unknown keys and bad values are refused). */
    async setRules(patch: unknown): Promise<ReviewRules> {
      return db.kysely.transaction().execute(async (tx) => {
        let next: ReviewRules;
        try {
          next = mergeRules(await rules(tx), patch);
        } catch (e: unknown) {
          if (e instanceof RangeError)
            throw new AppError('VALIDATION_FAILED', e.message, undefined, { cause: e });
          throw e;
        }
        await repo.saveRules(tx, JSON.stringify(next), clock.now());
        return next;
      });
    },

    // ---- quality ----

    /**
     * For the block and report paths (contacts), in their transaction: the person blocked or
     * reported this business number at `at`. Each template message the number delivered to
     * them in the 7 days before counts once as negative feedback on its template; quality is
     * recomputed and a template reaching RED is paused (3 h, then 6 h) or, the third time,
     * disabled, with its webhooks in the same transaction.
     */
    async recordNegativeFeedback(
      tx: Executor,
      input: { businessId: string; phoneNumberId: string; personPhone: string; at: number },
    ): Promise<void> {
      const messages = await repo.deliveredTemplatesTo(tx, {
        businessId: input.businessId,
        phoneNumberId: input.phoneNumberId,
        personPhone: input.personPhone,
        since: input.at - FEEDBACK_WINDOW,
        until: input.at,
      });
      const touched = new Set<string>();
      for (const m of messages) {
        const fresh = await repo.insertFeedback(tx, {
          message_id: m.message_id,
          template_id: m.template_id,
          business_id: input.businessId,
          at: input.at,
        });
        if (fresh) touched.add(m.template_id);
      }
      for (const templateId of [...touched].sort()) await recomputeQuality(tx, templateId, input.at);
    },

    /** Worker task: paused templates whose pause ran out are approved again (UNPAUSE). */
    async unpauseDue(): Promise<{ unpaused: number }> {
      const now = clock.now();
      let unpaused = 0;
      for (const due of await repo.pausedUntil(now)) {
        await db.kysely.transaction().execute(async (tx) => {
          const row = await lock(due.id, tx);
          if (row?.status !== 'PAUSED' || row.paused_until === null || row.paused_until > now) return;
          await repo.update(tx, row.id, { status: 'APPROVED', paused_until: null, updated_at: now });
          await webhooks.enqueue(tx, [
            statusChange(row, 'APPROVED', {
              other_info: {
                title: 'UNPAUSE',
                description: 'Your template’s pause has ended; it can be sent again.',
              },
            }),
          ]);
          unpaused++;
        });
      }
      return { unpaused };
    },

    // ---- send side ----

    /**
     * For the send pipeline: the approved template a `type: template` message names,
     * rendered with its parameters. Throws Meta's GraphErrors: 132001 (no such name and
     * language, or not approved), 132015 paused, 132016 disabled, and those of
     * `renderTemplate` (131008, 131009, 132000, 132005, 132012). A pause that has run out
     * counts as over even before the worker marks it.
     */
    async prepareSend(businessId: string, template: unknown, now: number): Promise<PreparedTemplate> {
      const request = parseSendTemplate(template);
      const row = await repo.byNameLanguage(businessId, request.name, request.languageCode);
      if (!row) {
        throw graphErrors.templateNotFound(
          `template name (${request.name}) does not exist in ${request.languageCode}`,
        );
      }
      const pausedOver = row.status === 'PAUSED' && row.paused_until !== null && row.paused_until <= now;
      if (row.status === 'PAUSED' && !pausedOver) {
        throw graphErrors.templatePaused(
          `Template ${row.name} (${row.language}) is paused for low quality until ${new Date(row.paused_until ?? now).toISOString()}.`,
        );
      }
      if (row.status === 'DISABLED') {
        throw graphErrors.templateDisabled(
          `Template ${row.name} (${row.language}) was disabled for repeated low quality.`,
        );
      }
      if (row.status !== 'APPROVED' && !pausedOver) {
        throw graphErrors.templateNotFound(
          `template ${row.name} (${row.language}) is not approved (status ${row.status}).`,
        );
      }
      const rendered = renderTemplate(
        {
          name: row.name,
          language: row.language,
          category: row.category,
          parameter_format: row.parameter_format,
          components: JSON.parse(row.components),
        },
        request,
      );
      return {
        templateId: row.id,
        name: row.name,
        language: row.language,
        category: row.category.toLowerCase() as PreparedTemplate['category'],
        rendered,
      };
    },
  };
}

export type TemplatesService = ReturnType<typeof createTemplatesService>;
