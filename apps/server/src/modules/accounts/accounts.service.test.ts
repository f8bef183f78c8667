import { expect, it } from 'vitest';
import { createTestContext, newPhone } from '../../../test/harness/builders.js';
import { describeStorage } from '../../../test/harness/storage.js';
import {
  CODE_ATTEMPTS,
  CODE_TTL_MS,
  COMPANION_IDLE_MS,
  LINK_CODE_TTL_MS,
  MAX_COMPANIONS,
} from './accounts.service.js';

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
    expect(actor).toEqual({
      accountId: verified.account_id,
      deviceId: verified.device_id,
      phone,
      role: 'primary',
    });
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

  it('signing in by code on a new phone makes it the primary and logs the old primary out', async () => {
    const t = createTestContext(storage());
    const person = await t.newPerson('Dana');
    const laptop = await t.linkCompanion(person.actor);
    const revoked: unknown[] = [];
    t.bus.subscribe('device.revoked', (e) => revoked.push(e));
    await t.accounts.requestCode(ip, { phone: person.phone });
    const verified = await t.accounts.verifyCode(ip, {
      phone: person.phone,
      code: t.codes.at(-1)?.code ?? '',
    });
    expect(verified).toMatchObject({ account_id: person.account_id, new_account: false });
    await expect(t.accounts.authenticate(person.token)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(revoked).toEqual([{ deviceId: person.device_id }]);
    const newPrimary = await t.accounts.authenticate(verified.token);
    expect((await t.accounts.listDevices(newPrimary)).map((d) => [d.device_id, d.role, d.current])).toEqual([
      [laptop.device_id, 'companion', false],
      [verified.device_id, 'primary', true],
    ]);
  });

  it('links up to 4 companions by single-use code and refuses a fifth', async () => {
    const t = createTestContext(storage());
    const person = await t.newPerson();
    for (let i = 1; i <= MAX_COMPANIONS; i++) await t.linkCompanion(person.actor, `companion ${i}`);
    await expect(t.accounts.createLinkCode(person.actor)).rejects.toMatchObject({
      code: 'DEVICE_LIMIT_REACHED',
    });
    expect(await t.accounts.listDevices(person.actor)).toHaveLength(1 + MAX_COMPANIONS);
  });

  it('refuses replayed, expired, malformed and foreign link codes; only the primary links', async () => {
    const t = createTestContext(storage());
    const person = await t.newPerson();
    const { code, qr_payload, expires_in } = await t.accounts.createLinkCode(person.actor);
    expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
    expect(qr_payload).toBe(`parley:link:${code}`);
    expect(expires_in).toBe(120);
    // The QR payload and a lowercase, unhyphenated spelling both work, once.
    const linked = await t.accounts.linkDevice(ip, { code: qr_payload });
    expect(linked.account_id).toBe(person.account_id);
    await expect(
      t.accounts.linkDevice(ip, { code: code.toLowerCase().replace('-', '') }),
    ).rejects.toMatchObject({
      code: 'LINK_CODE_INVALID',
    });
    for (const bad of ['', 'ABC', 'ABCD-EFGU', '12345678901']) {
      await expect(t.accounts.linkDevice(ip, { code: bad })).rejects.toMatchObject({
        code: 'LINK_CODE_INVALID',
      });
    }
    const late = await t.accounts.createLinkCode(person.actor);
    t.clock.advance(LINK_CODE_TTL_MS + 1);
    await expect(t.accounts.linkDevice(ip, { code: late.code })).rejects.toMatchObject({
      code: 'LINK_CODE_EXPIRED',
    });
    // Spent by the failed attempt, too.
    await expect(t.accounts.linkDevice(ip, { code: late.code })).rejects.toMatchObject({
      code: 'LINK_CODE_INVALID',
    });

    const companion = await t.accounts.authenticate(linked.token);
    expect(companion.role).toBe('companion');
    await expect(t.accounts.createLinkCode(companion)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(await t.accounts.listDevices(person.actor)).toHaveLength(2);
  });

  it('unlinks companions not seen for 30 days, never the primary', async () => {
    const t = createTestContext(storage());
    const person = await t.newPerson();
    const idle = await t.linkCompanion(person.actor, 'idle');
    const active = await t.linkCompanion(person.actor, 'active');
    t.clock.advance(COMPANION_IDLE_MS - 1000);
    await t.accounts.touchDevices([active.device_id]);
    t.clock.advance(2000);
    const unlinked = await t.accounts.unlinkIdleCompanions();
    expect(unlinked).toContain(idle.device_id);
    expect(unlinked).not.toContain(active.device_id);
    expect(unlinked).not.toContain(person.device_id);
    await expect(t.accounts.authenticate(idle.token)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await t.accounts.authenticate(person.token);
    await t.accounts.authenticate(active.token);
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
      photo: null,
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
    const second = await t.linkCompanion(person.actor);
    const third = await t.linkCompanion(person.actor);
    const revoked: unknown[] = [];
    t.bus.subscribe('device.revoked', (e) => revoked.push(e));

    await expect(t.accounts.logout(person.actor, { deviceId: 'dev_nope' })).rejects.toMatchObject({
      code: 'DEVICE_NOT_FOUND',
    });
    // A companion may log out itself only.
    await expect(t.accounts.logout(third.actor, { deviceId: second.device_id })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    await expect(t.accounts.logout(third.actor, 'all')).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(await t.accounts.logout(third.actor, { deviceId: third.device_id })).toEqual({
      logged_out: [third.device_id],
    });
    expect(await t.accounts.logout(person.actor, { deviceId: second.device_id })).toEqual({
      logged_out: [second.device_id],
    });
    await expect(t.accounts.authenticate(second.token)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await t.accounts.authenticate(person.token);

    expect(await t.accounts.logout(person.actor, 'all')).toEqual({ logged_out: [person.device_id] });
    await expect(t.accounts.authenticate(person.token)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(revoked).toEqual([
      { deviceId: third.device_id },
      { deviceId: second.device_id },
      { deviceId: person.device_id },
    ]);
  });

  it('rejects missing, malformed and unknown tokens', async () => {
    const t = createTestContext(storage());
    for (const token of [undefined, '', 'x'.repeat(500), 'pdt_unknown']) {
      await expect(t.accounts.authenticate(token)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    }
  });
});
