/**
 * Graph media ids on real storage (SQLite and PostgreSQL) with a hand-moved clock: how long ids
 * and download URLs live, one id per medium per business, and what delete leaves behind.
 */
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { closeTestContexts, createTestContext } from '../../../test/harness/builders.js';
import { makeJpeg, makePng } from '../../../test/harness/media-fixtures.js';
import { describeStorage, type StorageContext } from '../../../test/harness/storage.js';
import { createIds } from '../../platform/ids.js';
import { createGraphMediaRepo } from './graph-media.repo.js';
import { createGraphMediaService, MEDIA_URL_TTL_MS } from './graph-media.service.js';

const DAY = 24 * 60 * 60 * 1000;

async function setup(storage: StorageContext) {
  const t = createTestContext(storage);
  const businessRepo = {
    numberById: (id: string) =>
      storage.db.kysely
        .selectFrom('business_numbers')
        .selectAll()
        .where('phone_number_id', '=', id)
        .executeTakeFirst(),
  };
  const service = createGraphMediaService({
    repo: createGraphMediaRepo(storage.db.kysely),
    media: t.media,
    businessRepo,
    fetcher: {
      async get() {
        throw new Error('no links here');
      },
    },
    clock: t.clock,
    ids: createIds(t.clock),
    secret: 'test-secret-that-is-long-enough-0123456789',
    publicUrl: () => 'https://chat.example.org',
  });
  const phone = `+1555${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;
  const biz = await t.business.create({ name: 'Acme', phone });
  const number = await businessRepo.numberById(biz.phone_number_id);
  if (!number) throw new Error('no number');
  async function upload(bytes: Buffer) {
    const received = await service.receiveUpload(Readable.from([bytes]), undefined);
    return (
      await service.finishUpload(
        number as NonNullable<typeof number>,
        received,
        { messaging_product: 'whatsapp' },
        undefined,
      )
    ).id;
  }
  return { t, service, biz, number, upload };
}

describeStorage('graph media ids', (get) => {
  afterEach(closeTestContexts);

  it('an uploaded id lives 30 days, then GET, sends and the worker forget it', async () => {
    const { t, service, biz, upload } = await setup(get());
    const id = await upload(await makePng());
    const row = await get().db.kysely.selectFrom('media').selectAll().executeTakeFirstOrThrow();
    // The Parley media is kept as long as its id: 30 days, not an upload's 24 hours.
    expect(Number(row.expires_at) - Number(row.created_at)).toBe(30 * DAY);
    t.clock.advance(30 * DAY - 1);
    expect(await service.info(biz.business_id, id)).toMatchObject({ id, mime_type: 'image/png' });
    expect(await service.expire()).toEqual({ ids: 0 });
    t.clock.advance(2);
    expect(await service.info(biz.business_id, id)).toBeUndefined();
    await expect(
      service.resolveMedia(biz.business_id, biz.phone_number_id, [
        { slot: 'message', kind: 'image', source: { id } },
      ]),
    ).rejects.toMatchObject({ code: 100 });
    expect(await service.expire()).toEqual({ ids: 1 });
  });

  it('a download URL is good for 5 minutes', async () => {
    const { t, service, biz, upload } = await setup(get());
    const id = await upload(await makeJpeg());
    const info = await service.info(biz.business_id, id);
    const query = Object.fromEntries(new URL(info?.url ?? '').searchParams);
    expect((await service.download(biz.business_id, query)).contentType).toBe('image/jpeg');
    t.clock.advance(MEDIA_URL_TTL_MS + 1000);
    await expect(service.download(biz.business_id, query)).rejects.toMatchObject({ code: 100, status: 404 });
  });

  it('a received medium has one id per business, kept 7 days from its latest use', async () => {
    const { t, service, biz } = await setup(get());
    const person = await t.newPerson();
    const view = await t.media.upload(person.actor, {
      content: Readable.from([await makePng()]),
      declaredType: 'image/png',
      kind: undefined,
    });
    const id = await service.graphMediaIdFor(biz.business_id, biz.phone_number_id, view.id);
    const [again, other] = await Promise.all([
      service.graphMediaIdFor(biz.business_id, biz.phone_number_id, view.id),
      service.graphMediaIdFor('biz_other', biz.phone_number_id, view.id),
    ]);
    expect(again).toBe(id);
    expect(other).not.toBe(id);
    t.clock.advance(6 * DAY);
    expect(await service.graphMediaIdFor(biz.business_id, biz.phone_number_id, view.id)).toBe(id);
    t.clock.advance(6 * DAY);
    expect(await service.info(biz.business_id, id)).toMatchObject({ id });
    t.clock.advance(1 * DAY + 1);
    expect(await service.info(biz.business_id, id)).toBeUndefined();
    // Deleting a received medium's id leaves the person's media as it was.
    const fresh = await service.graphMediaIdFor(biz.business_id, biz.phone_number_id, view.id);
    expect(await service.delete(biz.business_id, fresh)).toEqual({ success: true });
    const media = await t.media.find(view.id);
    expect(media?.expires_at).toBe(view.expires_at ? Date.parse(view.expires_at) : null);
  });

  it('deleting an upload lets its content go at the next media expiry', async () => {
    const { t, service, biz, upload } = await setup(get());
    const id = await upload(await makePng());
    expect(await service.delete(biz.business_id, 'not-a-number')).toBeUndefined();
    expect(await service.delete('biz_other', id)).toBeUndefined();
    expect(await service.delete(biz.business_id, id)).toEqual({ success: true });
    t.clock.advance(2 * 60 * 60 * 1000);
    expect(await t.media.expire()).toMatchObject({ uploads: 1 });
  });
});

describe('graph media ids', () => {
  it('are numeric strings of 16 digits', () => {
    expect(`1${createIds({ now: () => 0 }).newCode(15)}`).toMatch(/^\d{16}$/);
  });
});
