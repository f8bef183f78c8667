import { expect, it } from 'vitest';
import { createTestContext, newPhone } from '../../../test/harness/builders.js';
import { describeStorage } from '../../../test/harness/storage.js';
import { CODE_ATTEMPTS, CODE_TTL_MS, MAX_DEVICES } from './accounts.service.js';

const ip = { ip: '192.0.2.1' };

describeStorage('accounts service', (storage) => {
  it('signs up by one-time code and returns a working device token', async () => {
    const t = createTestContext(storage());
    const phone = newPhone();
    const requested = await t.accounts.requestCode(ip, { phone });
    expect(requested).toEqual({ phone, expires_in: 600, resend_in: 30 });
    const code = t.codes.at(-1);
    expect(code?.phone).toBe(phone);
    expect(code?.code).toMatch(/^\d{6}$/);

    const verified = await t.accounts.verifyCode(ip, { phone, code: code?.code ?? '', device_name: 'Phone' });
    expect(verified.new_account).toBe(true);
    expect(verified.token).toMatch(/^pdt_/);
    const actor = await t.accounts.authenticate(verified.token);
    expect(actor).toEqual({ accountId: verified.account_id, deviceId: verified.device_id, phone });
    // The code is single-use.
    await expect(t.accounts.verifyCode(ip, { phone, code: code?.code ?? '' })).rejects.toMatchObject({
      code: 'CODE_EXPIRED',
    });
  });

  it('normalises phone numbers and rejects impossible ones', async () => {
    const t = createTestContext(storage());
    const phone = newPhone();
    const spaced = `${phone.slice(0, 2)} (${phone.slice(2, 5)}) ${phone.slice(5, 8)}-${phone.slice(8)}`;
    expect((await t.accounts.requestCode(ip, { phone: spaced })).phone).toBe(phone);
    for (const bad of ['15550001111', '+1', '+1555', 'hello', '+999999999999999999', '']) {
      await expect(t.accounts.requestCode(ip, { phone: bad })).rejects.toMatchObject({
        code: 'PHONE_INVALID',
      });
    }
  });

  it('allows 5 attempts, then voids the code', async () => {
    const t = createTestContext(storage());
    const phone = newPhone();
    await t.accounts.requestCode(ip, { phone });
    const right = t.codes.at(-1)?.code ?? '';
    const wrong = right === '000000' ? '111111' : '000000';
    for (let left = CODE_ATTEMPTS - 1; left > 0; left--) {
      await expect(t.accounts.verifyCode(ip, { phone, code: wrong })).rejects.toMatchObject({
        code: 'CODE_INVALID',
        details: { attempts_left: left },
      });
    }
    await expect(t.accounts.verifyCode(ip, { phone, code: wrong })).rejects.toMatchObject({
      code: 'CODE_ATTEMPTS_EXCEEDED',
    });
    // Even the right code is dead now.
    await expect(t.accounts.verifyCode(ip, { phone, code: right })).rejects.toMatchObject({
      code: 'CODE_EXPIRED',
    });
  });

  it('expires codes after 10 minutes', async () => {
    const t = createTestContext(storage());
    const phone = newPhone();
    await t.accounts.requestCode(ip, { phone });
    t.clock.advance(CODE_TTL_MS + 1);
    await expect(
      t.accounts.verifyCode(ip, { phone, code: t.codes.at(-1)?.code ?? '' }),
    ).rejects.toMatchObject({ code: 'CODE_EXPIRED' });
  });

  it('rate limits code requests per number and per address', async () => {
    const t = createTestContext(storage());
    const phone = newPhone();
    await t.accounts.requestCode({ ip: '192.0.2.50' }, { phone });
    await expect(t.accounts.requestCode({ ip: '192.0.2.51' }, { phone })).rejects.toMatchObject({
      code: 'RATE_LIMITED',
      details: { retry_after_ms: expect.any(Number) },
    });
    const address = { ip: '192.0.2.99' };
    for (let i = 0; i < 20; i++) await t.accounts.requestCode(address, { phone: newPhone() });
    await expect(t.accounts.requestCode(address, { phone: newPhone() })).rejects.toMatchObject({
      code: 'RATE_LIMITED',
    });
  });

  it('a failed SMS leaves no live code behind', async () => {
    const t = createTestContext(storage());
    const phone = newPhone();
    t.sms.down = true;
    await expect(t.accounts.requestCode(ip, { phone })).rejects.toMatchObject({
      code: 'SMS_DELIVERY_FAILED',
    });
    await expect(t.accounts.verifyCode(ip, { phone, code: '123456' })).rejects.toMatchObject({
      code: 'CODE_EXPIRED',
    });
  });

  it('signs an existing account in on a new device', async () => {
    const t = createTestContext(storage());
    const person = await t.newPerson('Dana');
    await t.accounts.requestCode(ip, { phone: person.phone });
    const verified = await t.accounts.verifyCode(ip, {
      phone: person.phone,
      code: t.codes.at(-1)?.code ?? '',
    });
    expect(verified).toMatchObject({ account_id: person.account_id, new_account: false });
    expect((await t.accounts.listDevices(person.actor)).map((d) => d.current)).toEqual([true, false]);
  });

  it('refuses a sixth device', async () => {
    const t = createTestContext(storage());
    const phone = newPhone();
    const first = await t.accounts.createAccount({ phone, name: 'Eve' });
    const actor = { accountId: first.account_id, deviceId: first.device_id, phone };
    // Devices beyond the first are added straight through the repository path the service uses.
    for (let i = 1; i < MAX_DEVICES; i++) {
      await storage()
        .db.kysely.insertInto('devices')
        .values({
          id: `dev_extra_${first.device_id}_${i}`,
          account_id: first.account_id,
          name: `extra ${i}`,
          token_hash: `hash_${first.device_id}_${i}`,
          created_at: Date.now(),
          last_seen_at: null,
        })
        .execute();
    }
    await t.accounts.requestCode(ip, { phone });
    await expect(
      t.accounts.verifyCode(ip, { phone, code: t.codes.at(-1)?.code ?? '' }),
    ).rejects.toMatchObject({ code: 'DEVICE_LIMIT_REACHED' });
    expect(await t.accounts.listDevices(actor)).toHaveLength(MAX_DEVICES);
  });

  it('creates accounts for operators and refuses a taken number', async () => {
    const t = createTestContext(storage());
    const phone = newPhone();
    const created = await t.accounts.createAccount({ phone, name: 'Alice' });
    expect(created.account_id).toMatch(/^acc_/);
    expect(created.device_id).toMatch(/^dev_/);
    await expect(t.accounts.createAccount({ phone, name: 'Again' })).rejects.toMatchObject({
      code: 'PHONE_TAKEN',
    });
    const actor = await t.accounts.authenticate(created.token);
    expect(await t.accounts.getOwnProfile(actor)).toEqual({
      account_id: created.account_id,
      phone,
      display_name: 'Alice',
      about: '',
    });
  });

  it('updates the profile and shows it to others by phone or id', async () => {
    const t = createTestContext(storage());
    const alice = await t.newPerson('Alice');
    const bob = await t.newPerson('Bob');
    await t.accounts.updateProfile(alice.actor, { display_name: '  Alice A. ', about: 'Busy' });
    const seen = await t.accounts.getProfile(bob.actor, alice.phone);
    expect(seen).toMatchObject({ display_name: 'Alice A.', about: 'Busy' });
    expect(await t.accounts.getProfile(bob.actor, alice.account_id)).toEqual(seen);
    await expect(t.accounts.getProfile(bob.actor, '+15559999998')).rejects.toMatchObject({
      code: 'ACCOUNT_NOT_FOUND',
    });
  });

  it('logs out one device or all; tokens stop working and a revocation event goes out', async () => {
    const t = createTestContext(storage());
    const person = await t.newPerson();
    await t.accounts.requestCode(ip, { phone: person.phone });
    const second = await t.accounts.verifyCode(ip, { phone: person.phone, code: t.codes.at(-1)?.code ?? '' });
    const revoked: unknown[] = [];
    t.bus.subscribe('device.revoked', (e) => revoked.push(e));

    await expect(t.accounts.logout(person.actor, { deviceId: 'dev_nope' })).rejects.toMatchObject({
      code: 'DEVICE_NOT_FOUND',
    });
    expect(await t.accounts.logout(person.actor, { deviceId: second.device_id })).toEqual({
      logged_out: [second.device_id],
    });
    await expect(t.accounts.authenticate(second.token)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await t.accounts.authenticate(person.token);

    expect(await t.accounts.logout(person.actor, 'all')).toEqual({ logged_out: [person.device_id] });
    await expect(t.accounts.authenticate(person.token)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(revoked).toEqual([{ deviceId: second.device_id }, { deviceId: person.device_id }]);
  });

  it('rejects missing, malformed and unknown tokens', async () => {
    const t = createTestContext(storage());
    for (const token of [undefined, '', 'x'.repeat(500), 'pdt_unknown']) {
      await expect(t.accounts.authenticate(token)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    }
  });
});
