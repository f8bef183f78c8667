import { afterEach, expect, it } from 'vitest';
import { closeTestContexts, createTestContext, newPhone } from '../../../test/harness/builders.js';
import { describeStorage, type StorageContext } from '../../../test/harness/storage.js';
import { hashToken } from '../../platform/ids.js';

describeStorage(
  'Business Messaging API: access tokens and per-number settings',
  (storage: () => StorageContext) => {
    afterEach(closeTestContexts);

    async function setup() {
      const t = createTestContext(storage());
      const owner = await t.newPerson('Owner');
      const created = await t.business.create({ name: 'Acme', phone: newPhone(), owner: owner.phone });
      return { t, owner, ...created };
    }

    it('keeps tokens hashed, lists the live ones by id and prefix, revokes one at once', async () => {
      const { t, owner, business_id, access_token } = await setup();
      const [first] = await t.tokens.list(owner.actor, business_id);
      expect(first).toMatchObject({ name: 'default', prefix: access_token.slice(0, 10), last_used_at: null });

      t.clock.advance(1);
      const made = await t.tokens.create(owner.actor, business_id, 'crm');
      expect(await t.businessRepo.tokenBusiness(hashToken(made.access_token))).toBe(business_id);
      t.clock.advance(1000);
      await t.tokens.used(hashToken(made.access_token));
      const listed = await t.tokens.list(owner.actor, business_id);
      expect(listed.map((x) => [x.name, x.last_used_at !== null])).toEqual([
        ['default', false],
        ['crm', true],
      ]);

      await t.tokens.revoke(owner.actor, business_id, made.token_id);
      expect(await t.businessRepo.tokenBusiness(hashToken(made.access_token))).toBeUndefined();
      expect(await t.businessRepo.tokenBusiness(hashToken(access_token))).toBe(business_id);
      await expect(t.tokens.revoke(owner.actor, business_id, made.token_id)).rejects.toMatchObject({
        code: 'TOKEN_NOT_FOUND',
      });
      // Another business cannot revoke this one's token by id.
      const other = await setup();
      const [theirs] = await other.t.tokens.list(other.owner.actor, other.business_id);
      await expect(t.tokens.operator.revoke(business_id, theirs?.token_id ?? '')).rejects.toMatchObject({
        code: 'TOKEN_NOT_FOUND',
      });
    });

    it('deregisters and registers a number, keeping its two-step PIN hashed', async () => {
      const { t, business_id, phone_number_id } = await setup();
      expect(await t.manage.isRegistered(phone_number_id)).toBe(true);
      await t.manage.deregister(business_id, phone_number_id);
      expect(await t.manage.isRegistered(phone_number_id)).toBe(false);
      await expect(t.manage.requireRegistered(business_id, phone_number_id)).rejects.toMatchObject({
        code: 133010,
      });
      // Another business's view of the number does not reveal its state.
      await expect(t.manage.requireRegistered('biz_other', phone_number_id)).resolves.toBeUndefined();
      expect((await t.manage.numberFields([phone_number_id])).get(phone_number_id)?.base).toEqual({
        status: 'DISCONNECTED',
      });

      await t.manage.register(business_id, phone_number_id, { messaging_product: 'whatsapp', pin: '246810' });
      expect(await t.manage.isRegistered(phone_number_id)).toBe(true);
      const row = await storage()
        .db.kysely.selectFrom('api_number_settings')
        .selectAll()
        .where('phone_number_id', '=', phone_number_id)
        .executeTakeFirstOrThrow();
      expect(row.pin_hash).not.toContain('246810');
      await expect(
        t.manage.register(business_id, phone_number_id, { messaging_product: 'whatsapp', pin: '111111' }),
      ).rejects.toMatchObject({ code: 133005 });
      await t.manage.register(business_id, phone_number_id, { messaging_product: 'whatsapp', pin: '246810' });
    });

    it('stores conversational automation and shows it with the public profile', async () => {
      const { t, business_id, phone_number_id } = await setup();
      await t.manage.setAutomation(business_id, phone_number_id, {
        prompts: ['Hours?'],
        commands: [{ command_name: 'menu', command_description: 'The menu' }],
      });
      await t.manage.setAutomation(business_id, phone_number_id, { enable_welcome_message: true });
      expect((await t.manage.numberFields([phone_number_id])).get(phone_number_id)?.extra).toEqual({
        conversational_automation: {
          enable_welcome_message: true,
          prompts: ['Hours?'],
          commands: [{ command_name: 'menu', command_description: 'The menu' }],
        },
      });
      const number = await t.businessRepo.numberById(phone_number_id);
      expect(await t.manage.publicExtras(number?.account_id ?? '')).toEqual({
        ice_breakers: ['Hours?'],
        commands: [{ name: 'menu', description: 'The menu' }],
      });
    });
  },
);
