import { Readable } from 'node:stream';
import { buffer as readAll } from 'node:stream/consumers';
import { afterEach, expect, it } from 'vitest';
import { closeTestContexts, createTestContext, type TestContext } from '../../../test/harness/builders.js';
import { makePdf, makePng } from '../../../test/harness/media-fixtures.js';
import { describeStorage, type StorageContext } from '../../../test/harness/storage.js';
import { MEDIA_EXPIRY_GRACE_MS } from './index.js';

type Person = Awaited<ReturnType<TestContext['newPerson']>>;
const DAY = 24 * 3600 * 1000;

const upload = (t: TestContext, who: Person, bytes: Buffer, type: string) =>
  t.media.upload(who.actor, { content: Readable.from([bytes]), declaredType: type, kind: undefined });
const download = async (t: TestContext, who: Person, id: string) =>
  readAll((await t.media.open(who.actor, id, 'content')).read());

describeStorage('profile and group photos', (storage: () => StorageContext) => {
  afterEach(closeTestContexts);

  it('a profile photo is an own image, shown and downloadable as the photo privacy setting says', async () => {
    const t = createTestContext(storage());
    const [alice, bob, carol] = [await t.newPerson('A'), await t.newPerson('B'), await t.newPerson('C')];
    const png = await makePng();
    const photo = await upload(t, alice, png, 'image/png');
    const pdf = await upload(t, alice, makePdf(), 'application/pdf');
    const bobsImage = await upload(t, bob, await makePng(), 'image/png');

    // Someone else's image, a document, an unknown id: refused, and the profile is unchanged.
    await expect(t.accounts.updateProfile(alice.actor, { photo: bobsImage.id })).rejects.toMatchObject({
      code: 'MEDIA_NOT_FOUND',
    });
    await expect(t.accounts.updateProfile(alice.actor, { photo: pdf.id })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    await expect(t.accounts.updateProfile(alice.actor, { photo: 'med_NOPE' })).rejects.toMatchObject({
      code: 'MEDIA_NOT_FOUND',
    });
    expect((await t.accounts.getOwnProfile(alice.actor)).photo).toBeNull();

    await t.accounts.updateProfile(alice.actor, { photo: photo.id });
    expect((await t.accounts.getProfile(bob.actor, alice.account_id)).photo).toBe(photo.id);
    expect(await download(t, bob, photo.id)).toEqual(png);

    // Photo visible to nobody: others see no photo and cannot download it.
    await t.contacts.setPrivacy(alice.actor, { photo: 'nobody' });
    expect((await t.accounts.getProfile(bob.actor, alice.account_id)).photo).toBeNull();
    await expect(download(t, bob, photo.id)).rejects.toMatchObject({ code: 'MEDIA_NOT_FOUND' });
    expect((await t.accounts.getOwnProfile(alice.actor)).photo).toBe(photo.id);

    // Everyone again, but Carol is blocked: she sees nothing.
    await t.contacts.setPrivacy(alice.actor, { photo: 'everyone' });
    await t.contacts.block(alice.actor, carol.account_id);
    expect((await t.accounts.getProfile(carol.actor, alice.account_id)).photo).toBeNull();
    await expect(download(t, carol, photo.id)).rejects.toMatchObject({ code: 'MEDIA_NOT_FOUND' });
  });

  it('a group photo is set by who may edit the info and seen by members only', async () => {
    const t = createTestContext(storage());
    const [alice, bob, carol] = [await t.newPerson('A'), await t.newPerson('B'), await t.newPerson('C')];
    const group = await t.groups.create(alice.actor, { subject: 'G', members: [bob.phone] });
    await t.groups.update(alice.actor, group.group_id, { only_admins_edit: true });
    const bobsPhoto = await upload(t, bob, await makePng(), 'image/png');
    await expect(t.groups.update(bob.actor, group.group_id, { photo: bobsPhoto.id })).rejects.toMatchObject({
      code: 'GROUP_ADMINS_ONLY',
    });
    const png = await makePng();
    const photo = await upload(t, alice, png, 'image/png');
    const updated = await t.groups.update(alice.actor, group.group_id, { photo: photo.id });
    expect(updated.photo).toBe(photo.id);
    expect(await download(t, bob, photo.id)).toEqual(png);
    await expect(download(t, carol, photo.id)).rejects.toMatchObject({ code: 'MEDIA_NOT_FOUND' });
  });

  it('a photo in use does not expire; a replaced one does', async () => {
    const t = createTestContext(storage());
    const alice = await t.newPerson('A');
    const first = await upload(t, alice, await makePng(), 'image/png');
    await t.accounts.updateProfile(alice.actor, { photo: first.id });
    t.clock.advance(2 * DAY + MEDIA_EXPIRY_GRACE_MS);
    await t.media.expire();
    expect(await download(t, alice, first.id)).toBeInstanceOf(Buffer);

    const second = await upload(t, alice, await makePng(), 'image/png');
    await t.accounts.updateProfile(alice.actor, { photo: second.id });
    t.clock.advance(2 * DAY + MEDIA_EXPIRY_GRACE_MS);
    await t.media.expire();
    await expect(download(t, alice, first.id)).rejects.toMatchObject({ code: 'MEDIA_NOT_FOUND' });
    expect(await download(t, alice, second.id)).toBeInstanceOf(Buffer);
  });
});
