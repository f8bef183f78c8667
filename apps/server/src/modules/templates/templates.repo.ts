/** SQL of message templates, the operator's review rules and template feedback. */
import type { Selectable } from 'kysely';
import type { Executor } from '../../platform/db.js';
import type { TemplateStatus, TemplatesTable } from '../../platform/schema.js';

export type TemplateRow = Selectable<TemplatesTable>;

export interface TemplateFilter {
  name?: string;
  status?: string;
  category?: string;
  language?: string;
}

const RULES_ROW = 'default';

export function createTemplatesRepo(db: Executor) {
  return {
    async insert(tx: Executor, row: TemplateRow): Promise<void> {
      await tx.insertInto('templates').values(row).execute();
    },
    async find(id: string, tx: Executor = db): Promise<TemplateRow | undefined> {
      return tx.selectFrom('templates').selectAll().where('id', '=', id).executeTakeFirst();
    },
    /** Locks the row for the rest of the transaction (PostgreSQL), so two changes apply in turn. */
    async findForUpdate(id: string, tx: Executor, rowLocks: boolean): Promise<TemplateRow | undefined> {
      const q = tx.selectFrom('templates').selectAll().where('id', '=', id);
      return (rowLocks ? q.forUpdate() : q).executeTakeFirst();
    },
    async byNameLanguage(
      businessId: string,
      name: string,
      language: string,
      tx: Executor = db,
    ): Promise<TemplateRow | undefined> {
      return tx
        .selectFrom('templates')
        .selectAll()
        .where('business_id', '=', businessId)
        .where('name', '=', name)
        .where('language', '=', language)
        .executeTakeFirst();
    },
    async byName(businessId: string, name: string, tx: Executor = db): Promise<TemplateRow[]> {
      return tx
        .selectFrom('templates')
        .selectAll()
        .where('business_id', '=', businessId)
        .where('name', '=', name)
        .orderBy('id')
        .execute();
    },
    /**
     * A page of a business's templates (or, without a business, every business's: the
     * operator's queue) in id order. `after`/`before` are ids; `limit + 1` rows are read so
     * the caller knows whether there is more.
     */
    async page(
      businessId: string | undefined,
      filter: TemplateFilter,
      cursor: { after?: string; before?: string },
      limit: number,
      tx: Executor = db,
    ): Promise<TemplateRow[]> {
      let q = tx.selectFrom('templates').selectAll();
      if (businessId !== undefined) q = q.where('business_id', '=', businessId);
      if (filter.name !== undefined) q = q.where('name', '=', filter.name);
      if (filter.status !== undefined) q = q.where('status', '=', filter.status as TemplateStatus);
      if (filter.category !== undefined)
        q = q.where('category', '=', filter.category as TemplateRow['category']);
      if (filter.language !== undefined) q = q.where('language', '=', filter.language);
      if (cursor.before !== undefined) {
        const rows = await q
          .where('id', '<', cursor.before)
          .orderBy('id', 'desc')
          .limit(limit + 1)
          .execute();
        return rows.reverse();
      }
      if (cursor.after !== undefined) q = q.where('id', '>', cursor.after);
      return q
        .orderBy('id')
        .limit(limit + 1)
        .execute();
    },
    async update(
      tx: Executor,
      id: string,
      patch: Partial<Omit<TemplateRow, 'id' | 'business_id' | 'name' | 'language' | 'created_at'>>,
    ): Promise<void> {
      await tx.updateTable('templates').set(patch).where('id', '=', id).execute();
    },
    async delete(tx: Executor, ids: string[]): Promise<void> {
      if (ids.length === 0) return;
      await tx.deleteFrom('templates').where('id', 'in', ids).execute();
    },
    /** Paused templates whose pause has run out by `now`. */
    async pausedUntil(now: number, tx: Executor = db): Promise<TemplateRow[]> {
      return tx
        .selectFrom('templates')
        .selectAll()
        .where('status', '=', 'PAUSED')
        .where('paused_until', '<=', now)
        .execute();
    },

    async rules(tx: Executor = db): Promise<string | undefined> {
      const row = await tx
        .selectFrom('template_review_rules')
        .select('rules')
        .where('id', '=', RULES_ROW)
        .executeTakeFirst();
      return row?.rules;
    },
    async saveRules(tx: Executor, rules: string, now: number): Promise<void> {
      await tx
        .insertInto('template_review_rules')
        .values({ id: RULES_ROW, rules, updated_at: now })
        .onConflict((oc) => oc.column('id').doUpdateSet({ rules, updated_at: now }))
        .execute();
    },

    /**
     * Template messages this number delivered to this person from `since` on: the ones a
     * block or report now reflects on.
     */
    async deliveredTemplatesTo(
      tx: Executor,
      q: { businessId: string; phoneNumberId: string; personPhone: string; since: number; until: number },
    ): Promise<{ message_id: string; template_id: string }[]> {
      const rows = await tx
        .selectFrom('api_messages')
        .select(['message_id', 'template_id'])
        .where('business_id', '=', q.businessId)
        .where('phone_number_id', '=', q.phoneNumberId)
        .where('to_phone', '=', q.personPhone)
        .where('template_id', 'is not', null)
        .where('status', 'in', ['delivered', 'read'])
        .where('delivered_at', '>=', q.since)
        .where('delivered_at', '<=', q.until)
        .execute();
      return rows.flatMap((r) =>
        r.template_id ? [{ message_id: r.message_id, template_id: r.template_id }] : [],
      );
    },
    /** Records feedback once per message; answers whether it was new. */
    async insertFeedback(
      tx: Executor,
      row: { message_id: string; template_id: string; business_id: string; at: number },
    ): Promise<boolean> {
      const result = await tx
        .insertInto('template_feedback')
        .values(row)
        .onConflict((oc) => oc.column('message_id').doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
    },
    /** Negative feedback and delivered sends of a template since `since`. */
    async qualityCounts(
      tx: Executor,
      templateId: string,
      since: number,
    ): Promise<{ negatives: number; delivered: number }> {
      const negatives = await tx
        .selectFrom('template_feedback')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('template_id', '=', templateId)
        .where('at', '>=', since)
        .executeTakeFirst();
      const delivered = await tx
        .selectFrom('api_messages')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('template_id', '=', templateId)
        .where('status', 'in', ['delivered', 'read'])
        .where('delivered_at', '>=', since)
        .executeTakeFirst();
      return { negatives: Number(negatives?.n ?? 0), delivered: Number(delivered?.n ?? 0) };
    },
  };
}

export type TemplatesRepo = ReturnType<typeof createTemplatesRepo>;
