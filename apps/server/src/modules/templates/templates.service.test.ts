/**
 * Templates on real SQLite and PostgreSQL: review transitions and their webhooks, edit
 * limits, deletes, paging, isolation between businesses, and quality pausing driven by a
 * simulated clock.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closeTestContexts, createTestContext, newPhone } from '../../../test/harness/builders.js';
import { describeStorage } from '../../../test/harness/storage.js';
import { createRecordingWebhooks } from '../../../test/harness/webhooks.js';
import { isAppError } from '../../errors.js';
import { createBusinessRepo } from '../business/business.repo.js';
import { type GraphCaller, GraphError } from '../cloud-api/index.js';
import { createTemplatesModule, type TemplatesService } from './index.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const utility = (
  name: string,
  text = 'Your order {{1}} has shipped.',
  extra: Record<string, unknown> = {},
) => ({
  name,
  language: 'en_US',
  category: 'UTILITY',
  components: [
    { type: 'BODY', text, ...(text.includes('{{1}}') ? { example: { body_text: [['42']] } } : {}) },
  ],
  ...extra,
});
const marketing = (name: string, language = 'en_US') => ({
  name,
  language,
  category: 'MARKETING',
  components: [{ type: 'BODY', text: 'New spring colours are in.' }],
});

async function graphCode(
  p: Promise<unknown>,
): Promise<{ code: number; subcode?: number; status: number; details?: string }> {
  try {
    await p;
  } catch (e: unknown) {
    if (e instanceof GraphError)
      return { code: e.code, status: e.status, subcode: e.extra.subcode, details: e.extra.details };
    throw e;
  }
  throw new Error('expected a GraphError');
}

describeStorage('templates', (storage) => {
  let ctx: ReturnType<typeof createTestContext>;
  let templates: TemplatesService;
  let hooks: ReturnType<typeof createRecordingWebhooks>;
  let a: { caller: GraphCaller; waba: string; pnid: string };
  let b: { caller: GraphCaller; waba: string; pnid: string };

  beforeAll(async () => {
    ctx = createTestContext(storage());
    hooks = createRecordingWebhooks();
    templates = createTemplatesModule({
      db: storage().db,
      businessRepo: createBusinessRepo(storage().db.kysely),
      webhooks: hooks.port,
      clock: ctx.clock,
      ids: { newCode: (n) => Array.from({ length: n }, () => Math.floor(Math.random() * 10)).join('') },
    }).service;
    const make = async (name: string) => {
      const created = await ctx.business.create({ name, phone: newPhone() });
      return {
        caller: { businessId: created.business_id },
        waba: created.waba_id,
        pnid: created.phone_number_id,
      };
    };
    a = await make('Acme');
    b = await make('Bolt');
  });
  afterEach(() => hooks.clear());
  afterAll(() => closeTestContexts());

  it('approves a plain utility template at once, with its webhook in the same transaction', async () => {
    const created = await templates.create(a.caller, a.waba, utility('order_shipped'));
    expect(created).toEqual({
      id: expect.stringMatching(/^\d{15}$/),
      status: 'APPROVED',
      category: 'UTILITY',
    });
    expect(hooks.recorded).toEqual([
      {
        change: {
          businessId: a.caller.businessId,
          field: 'message_template_status_update',
          value: {
            event: 'APPROVED',
            message_template_id: Number(created.id),
            message_template_name: 'order_shipped',
            message_template_language: 'en_US',
            reason: 'NONE',
            message_template_category: 'UTILITY',
          },
        },
        inTransaction: true,
        templateStatusInTx: 'APPROVED',
      },
    ]);
    expect(await templates.get(a.caller, created.id)).toMatchObject({
      id: created.id,
      status: 'APPROVED',
      quality_score: { score: 'UNKNOWN' },
    });
  });

  it('queues marketing for the operator, who approves it; approving twice is refused', async () => {
    const created = await templates.create(a.caller, a.waba, marketing('spring_colours'));
    expect(created.status).toBe('PENDING');
    expect(hooks.recorded).toEqual([]);
    expect((await templates.queue('PENDING')).map((t) => t.id)).toContain(created.id);
    const approved = await templates.approve(created.id);
    expect(approved).toMatchObject({ id: created.id, status: 'APPROVED', business_id: a.caller.businessId });
    expect(hooks.recorded.map((r) => [r.change.value.event, r.inTransaction, r.templateStatusInTx])).toEqual([
      ['APPROVED', true, 'APPROVED'],
    ]);
    const again = await templates.approve(created.id).catch((e: unknown) => e);
    expect(isAppError(again) && again.code).toBe('TEMPLATE_NOT_REVIEWABLE');
    const missing = await templates.approve('123').catch((e: unknown) => e);
    expect(isAppError(missing) && missing.code).toBe('TEMPLATE_NOT_FOUND');
  });

  it('rejects promotional utility, or re-categorises it as marketing when allowed', async () => {
    const promo = 'Your order {{1}} shipped. Get 20% off your next one today.';
    const rejected = await templates.create(a.caller, a.waba, utility('promo_utility', promo));
    expect(rejected.status).toBe('REJECTED');
    expect(hooks.values()).toEqual([
      expect.objectContaining({
        event: 'REJECTED',
        reason: 'PROMOTIONAL',
        rejection_info: expect.objectContaining({ recommendation: expect.stringMatching(/% off/) }),
      }),
    ]);
    expect(await templates.get(a.caller, rejected.id)).toMatchObject({
      status: 'REJECTED',
      rejected_reason: 'PROMOTIONAL',
    });
    hooks.clear();

    const moved = await templates.create(
      a.caller,
      a.waba,
      utility('promo_allowed', promo, { allow_category_change: true }),
    );
    expect(moved).toMatchObject({ status: 'APPROVED', category: 'MARKETING' });
    expect(hooks.values()).toEqual([
      expect.objectContaining({ event: 'APPROVED', message_template_category: 'MARKETING' }),
    ]);
    expect(hooks.values('template_category_update')).toEqual([
      expect.objectContaining({
        message_template_id: Number(moved.id),
        previous_category: 'UTILITY',
        new_category: 'MARKETING',
      }),
    ]);
    expect(await templates.get(a.caller, moved.id)).toMatchObject({
      category: 'MARKETING',
      previous_category: 'UTILITY',
    });
  });

  it('applies the rules the operator edits', async () => {
    await templates.setRules({ reject_promotional_utility: false, promotional_words: ['anvil'] });
    try {
      expect(
        (await templates.create(a.caller, a.waba, utility('anvil_news', 'Your anvil {{1}} is ready.')))
          .status,
      ).toBe('PENDING');
      expect(
        (await templates.create(a.caller, a.waba, utility('sale_news', 'Order {{1}}: sale ends soon.')))
          .status,
      ).toBe('APPROVED');
      const bad = await templates
        .setRules({ auto_approve_categories: ['EVERYTHING'] })
        .catch((e: unknown) => e);
      expect(isAppError(bad) && bad.code).toBe('VALIDATION_FAILED');
      expect((await templates.rules()).promotional_words).toEqual(['anvil']);
    } finally {
      await templates.setRules({
        reject_promotional_utility: true,
        promotional_words: [
          'sale',
          'discount',
          '% off',
          'offer',
          'buy now',
          'free',
          'deal',
          'promo',
          'coupon',
        ],
      });
    }
  });

  it('lets the operator reject with a reason code or free text', async () => {
    const one = await templates.create(a.caller, a.waba, marketing('reject_code'));
    expect(await templates.reject(one.id, 'scam')).toMatchObject({
      status: 'REJECTED',
      rejected_reason: 'SCAM',
    });
    const two = await templates.create(a.caller, a.waba, marketing('reject_text'));
    const view = await templates.reject(two.id, 'Looks like a phishing attempt');
    expect(view).toMatchObject({
      rejected_reason: 'NONE',
      rejection_info: { reason: 'Looks like a phishing attempt' },
    });
    expect(hooks.values().map((v) => [v.event, v.reason])).toEqual([
      ['REJECTED', 'SCAM'],
      ['REJECTED', 'NONE'],
    ]);
    expect(hooks.recorded.every((r) => r.templateStatusInTx === 'REJECTED')).toBe(true);
  });

  it('refuses a duplicate name and language with Meta’s "already exists" error', async () => {
    await templates.create(a.caller, a.waba, marketing('twice'));
    expect(await graphCode(templates.create(a.caller, a.waba, marketing('twice')))).toMatchObject({
      code: 100,
      subcode: 2388024,
    });
    expect((await templates.create(a.caller, a.waba, marketing('twice', 'es'))).status).toBe('PENDING');
    // Another business may use the same name.
    expect((await templates.create(b.caller, b.waba, marketing('twice'))).status).toBe('PENDING');
  });

  it('limits edits of approved templates and sends the edit back to review', async () => {
    const t = await templates.create(a.caller, a.waba, utility('edit_me'));
    hooks.clear();
    const components = [
      { type: 'BODY', text: 'Your parcel {{1}} has shipped.', example: { body_text: [['42']] } },
    ];
    expect(await templates.edit(a.caller, t.id, { components })).toEqual({ success: true });
    expect(hooks.values().map((v) => v.event)).toEqual(['PENDING', 'APPROVED']);
    expect(await templates.get(a.caller, t.id, 'components')).toEqual({ id: t.id, components });

    const again = await graphCode(templates.edit(a.caller, t.id, { components }));
    expect(again).toMatchObject({ code: 100, details: expect.stringMatching(/once in 24 hours/) });
    ctx.clock.advance(DAY + 1);
    expect(await templates.edit(a.caller, t.id, { components })).toEqual({ success: true });
    expect((await graphCode(templates.edit(a.caller, t.id, { category: 'MARKETING' }))).details).toMatch(
      /category/,
    );

    const pending = await templates.create(a.caller, a.waba, marketing('still_pending'));
    expect((await graphCode(templates.edit(a.caller, pending.id, { components }))).details).toMatch(
      /APPROVED, REJECTED or PAUSED/,
    );
    expect(await templates.edit(b.caller, t.id, { components })).toBeUndefined();
    expect(
      (await graphCode(templates.edit(a.caller, t.id, { components: [{ type: 'BODY', text: '{{1}} x' }] })))
        .code,
    ).toBe(100);
  });

  it('deletes all languages of a name, or one by hsm_id', async () => {
    const en = await templates.create(a.caller, a.waba, marketing('goodbye'));
    const es = await templates.create(a.caller, a.waba, marketing('goodbye', 'es'));
    const fr = await templates.create(a.caller, a.waba, marketing('goodbye', 'fr'));
    expect(await templates.delete(a.caller, a.waba, { name: 'goodbye', hsm_id: es.id })).toEqual({
      success: true,
    });
    expect(await templates.get(a.caller, es.id)).toBeUndefined();
    expect(await templates.get(a.caller, en.id)).toBeDefined();
    expect((await graphCode(templates.delete(b.caller, b.waba, { name: 'goodbye' }))).code).toBe(100);
    expect(
      (await graphCode(templates.delete(b.caller, a.waba, { name: 'goodbye' }))).details,
    ).toBeUndefined();
    await templates.delete(a.caller, a.waba, { name: 'goodbye' });
    expect(await templates.get(a.caller, en.id)).toBeUndefined();
    expect(await templates.get(a.caller, fr.id)).toBeUndefined();
    expect(hooks.values().map((v) => v.event)).toEqual(['DELETED', 'DELETED', 'DELETED']);
    expect(hooks.recorded.every((r) => r.inTransaction && r.templateStatusInTx === undefined)).toBe(true);
  });

  it('pages with cursors and filters, and shows a business only its own templates', async () => {
    const own: string[] = [];
    for (const n of ['page_a', 'page_b', 'page_c'])
      own.push((await templates.create(b.caller, b.waba, marketing(n))).id);
    const first = await templates.list(b.caller, b.waba, { limit: '2', status: 'PENDING', name: undefined });
    const all = (await templates.list(b.caller, b.waba, { limit: '100' })).data.map((t) => t.id);
    expect(all).toEqual(expect.arrayContaining(own));
    expect(first.data).toHaveLength(2);
    expect(first.hasNext).toBe(true);
    const after = first.paging?.cursors.after ?? '';
    const rest = await templates.list(b.caller, b.waba, { limit: '100', status: 'PENDING', after });
    expect(rest.data.map((t) => t.id).every((id) => !first.data.some((f) => f.id === id))).toBe(true);
    const back = await templates.list(b.caller, b.waba, {
      limit: '2',
      status: 'PENDING',
      before: rest.paging?.cursors.before ?? '',
    });
    expect(back.data.map((t) => t.id)).toEqual(first.data.map((t) => t.id));
    expect((await templates.list(b.caller, b.waba, { name: 'page_b', fields: 'name,status' })).data).toEqual([
      { id: own[1], name: 'page_b', status: 'PENDING' },
    ]);
    expect((await graphCode(templates.list(a.caller, b.waba, {}))).code).toBe(100);
    expect(await templates.get(a.caller, own[0] ?? '')).toBeUndefined();
    expect((await graphCode(templates.list(b.caller, b.waba, { fields: 'secret' }))).code).toBe(100);
  });

  it('prepares sends of approved templates only, as Meta answers', async () => {
    await templates.create(a.caller, a.waba, utility('ready_to_send'));
    const pending = await templates.create(a.caller, a.waba, marketing('not_yet'));
    const tpl = (name: string, params = [{ type: 'text', text: 'A-1' }]) => ({
      name,
      language: { code: 'en_US' },
      components: [{ type: 'body', parameters: params }],
    });
    const now = ctx.clock.now();
    expect(await templates.prepareSend(a.caller.businessId, tpl('ready_to_send'), now)).toMatchObject({
      name: 'ready_to_send',
      language: 'en_US',
      category: 'utility',
      rendered: { body: 'Your order A-1 has shipped.' },
    });
    expect(await graphCode(templates.prepareSend(a.caller.businessId, tpl('nope'), now))).toMatchObject({
      code: 132001,
      status: 404,
    });
    expect((await graphCode(templates.prepareSend(a.caller.businessId, tpl('not_yet', []), now))).code).toBe(
      132001,
    );
    expect(
      (await graphCode(templates.prepareSend(b.caller.businessId, tpl('ready_to_send'), now))).code,
    ).toBe(132001);
    expect(
      (await graphCode(templates.prepareSend(a.caller.businessId, tpl('ready_to_send', []), now))).code,
    ).toBe(132000);
    expect(pending.status).toBe('PENDING');
  });

  describe('quality pausing', () => {
    let templateId: string;
    let n = 0;
    /** A template message delivered to a new person at the clock's time; answers their phone. */
    async function delivered(id: string, at = ctx.clock.now()): Promise<string> {
      const phone = newPhone();
      n++;
      await storage()
        .db.kysely.insertInto('api_messages')
        .values({
          message_id: `msg_q${n}_${id}`,
          business_id: a.caller.businessId,
          phone_number_id: a.pnid,
          to_phone: phone,
          to_account: null,
          type: 'template',
          category: 'utility',
          template_id: id,
          callback_data: null,
          window_open: 0,
          entry_point: null,
          status: 'delivered',
          error_code: null,
          error_details: null,
          created_at: at,
          sent_at: at,
          delivered_at: at,
          read_at: null,
        })
        .execute();
      return phone;
    }
    const block = (personPhone: string) =>
      storage()
        .db.kysely.transaction()
        .execute((tx) =>
          templates.recordNegativeFeedback(tx, {
            businessId: a.caller.businessId,
            phoneNumberId: a.pnid,
            personPhone,
            at: ctx.clock.now(),
          }),
        );
    const send = () =>
      templates.prepareSend(
        a.caller.businessId,
        {
          name: 'pausable',
          language: { code: 'en_US' },
          components: [{ type: 'body', parameters: [{ type: 'text', text: '1' }] }],
        },
        ctx.clock.now(),
      );
    const status = async () => (await templates.get(a.caller, templateId))?.status;

    beforeAll(async () => {
      templateId = (await templates.create(a.caller, a.waba, utility('pausable'))).id;
    });

    it('pauses at RED for 3 h, unpauses, pauses 6 h, then disables; old or repeated feedback counts once or not at all', async () => {
      const people = [];
      for (let i = 0; i < 6; i++) people.push(await delivered(templateId));
      // Delivered 8 days before the block: outside the 7-day window, it does not count.
      const old = await delivered(templateId, ctx.clock.now() - 8 * DAY);
      await block(old);
      expect(await templates.get(a.caller, templateId)).toMatchObject({
        status: 'APPROVED',
        quality_score: { score: 'UNKNOWN' },
      });

      await block(people[0] ?? '');
      await block(people[0] ?? '');
      expect(await templates.get(a.caller, templateId)).toMatchObject({
        status: 'APPROVED',
        quality_score: { score: 'YELLOW' },
      });
      expect(hooks.values('message_template_quality_update')).toEqual([
        expect.objectContaining({ previous_quality_score: 'UNKNOWN', new_quality_score: 'YELLOW' }),
      ]);

      await block(people[1] ?? '');
      expect(await status()).toBe('PAUSED');
      expect(await graphCode(send())).toMatchObject({ code: 132015 });
      const paused = hooks.recorded.filter((r) => r.change.value.event === 'PAUSED');
      expect(paused).toEqual([
        expect.objectContaining({ inTransaction: true, templateStatusInTx: 'PAUSED' }),
      ]);
      expect(paused[0]?.change.value.other_info).toMatchObject({ title: 'FIRST_PAUSE' });

      ctx.clock.advance(3 * HOUR - 1);
      expect(await templates.unpauseDue()).toEqual({ unpaused: 0 });
      ctx.clock.advance(1);
      expect(await templates.unpauseDue()).toEqual({ unpaused: 1 });
      expect(await status()).toBe('APPROVED');
      expect(hooks.values().at(-1)).toMatchObject({ event: 'APPROVED', other_info: { title: 'UNPAUSE' } });
      expect((await send()).rendered.body).toBe('Your order 1 has shipped.');

      await block(people[2] ?? '');
      expect(await status()).toBe('PAUSED');
      expect(hooks.values().at(-1)).toMatchObject({ event: 'PAUSED', other_info: { title: 'SECOND_PAUSE' } });
      ctx.clock.advance(3 * HOUR);
      expect(await templates.unpauseDue()).toEqual({ unpaused: 0 });
      // A pause that has run out no longer stops sends, even before the worker runs.
      ctx.clock.advance(3 * HOUR);
      expect((await send()).templateId).toBe(templateId);
      expect(await templates.unpauseDue()).toEqual({ unpaused: 1 });

      await block(people[3] ?? '');
      expect(await status()).toBe('DISABLED');
      expect(hooks.values().at(-1)).toMatchObject({ event: 'DISABLED', other_info: { title: 'DISABLED' } });
      expect(await graphCode(send())).toMatchObject({ code: 132016 });
      expect(hooks.recorded.every((r) => r.inTransaction)).toBe(true);
    });

    it('a block rolled back leaves no feedback, no pause and no webhook', async () => {
      const fresh = (await templates.create(a.caller, a.waba, utility('rollback_case'))).id;
      const person = await delivered(fresh);
      hooks.clear();
      await storage()
        .db.kysely.transaction()
        .execute(async (tx) => {
          await templates.recordNegativeFeedback(tx, {
            businessId: a.caller.businessId,
            phoneNumberId: a.pnid,
            personPhone: person,
            at: ctx.clock.now(),
          });
          throw new Error('the block failed');
        })
        .catch(() => {});
      expect(await templates.get(a.caller, fresh)).toMatchObject({ quality_score: { score: 'UNKNOWN' } });
      const rows = await storage()
        .db.kysely.selectFrom('template_feedback')
        .selectAll()
        .where('template_id', '=', fresh)
        .execute();
      expect(rows).toEqual([]);
    });
  });
});
