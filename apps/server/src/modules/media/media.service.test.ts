import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { buffer as readAll } from 'node:stream/consumers';
import { MEDIA_MAX_BYTES, MEDIA_UPLOAD_TTL_MS, type MediaKind } from '@parley/protocol';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closeTestContexts, createTestContext, type TestContext } from '../../../test/harness/builders.js';
import {
  countingStream,
  makeExe,
  makeJpeg,
  makePdf,
  makePng,
  makeWebp,
} from '../../../test/harness/media-fixtures.js';
import { describeStorage, type StorageContext } from '../../../test/harness/storage.js';
import { MEDIA_EXPIRY_GRACE_MS } from './index.js';

type Person = Awaited<ReturnType<TestContext['newPerson']>>;
const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;

function upload(t: TestContext, who: Person, bytes: Buffer, declaredType?: string, kind?: MediaKind) {
  return t.media.upload(who.actor, { content: Readable.from([bytes]), declaredType, kind });
}

async function download(
  t: TestContext,
  who: Person,
  id: string,
  variant: 'content' | 'thumbnail' = 'content',
) {
  const opened = await t.media.open(who.actor, id, variant);
  return readAll(opened.read());
}

/** Every file under the store (not its temp folder), and what is in the temp folder. */
function storeFiles(dataDir: string): { stored: string[]; temp: string[] } {
  const root = path.join(dataDir, 'media');
  if (!fs.existsSync(root)) return { stored: [], temp: [] };
  const all = fs.readdirSync(root, { recursive: true, withFileTypes: true }).filter((d) => d.isFile());
  const inTemp = (d: fs.Dirent) => path.relative(root, d.parentPath).split(path.sep)[0] === 'tmp';
  return {
    stored: all.filter((d) => !inTemp(d)).map((d) => d.name),
    temp: all.filter(inTemp).map((d) => d.name),
  };
}

async function mediaRows(storage: StorageContext): Promise<number> {
  const row = await storage.db.kysely
    .selectFrom('media')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** A message row as delivery stores it, carrying `mediaIds`. */
async function insertMessage(
  t: TestContext,
  storage: StorageContext,
  m: {
    from: Person;
    to: string;
    media: string[];
    viewOnce?: boolean;
    sentAt?: number;
    expiresAt?: number;
    deletedAt?: number;
  },
): Promise<string> {
  const now = t.clock.now();
  const messageId = `msg_test_${Math.random().toString(36).slice(2)}`;
  const expiresAt = m.expiresAt ?? now + 30 * DAY;
  await storage.db.kysely
    .insertInto('message_meta')
    .values({
      message_id: messageId,
      sender_account: m.from.account_id,
      to_id: m.to,
      sent_at: m.sentAt ?? now,
      expires_at: expiresAt,
      view_once: m.viewOnce ? 1 : 0,
      edited_at: null,
      deleted_at: m.deletedAt ?? null,
      ref_id: null,
      reply_to: null,
    })
    .execute();
  for (const mediaId of m.media) {
    await storage.db.kysely
      .insertInto('message_media')
      .values({ message_id: messageId, media_id: mediaId, expires_at: expiresAt })
      .execute();
  }
  return messageId;
}

describeStorage('media', (storage) => {
  afterEach(closeTestContexts);

  describe('upload and store', () => {
    it('stores an image by content hash with its size, dimensions and thumbnail', async () => {
      const t = createTestContext(storage());
      const alice = await t.newPerson();
      const png = await makePng(800, 600);
      const view = await upload(t, alice, png, 'image/png');
      expect(view).toMatchObject({
        kind: 'image',
        content_type: 'image/png',
        size: png.length,
        width: 800,
        height: 600,
        has_thumbnail: true,
        expires_at: new Date(t.clock.now() + MEDIA_UPLOAD_TTL_MS).toISOString(),
      });
      expect(view.id).toMatch(/^med_[0-9A-Z]{26}$/);
      expect(view.sha256).toMatch(/^[0-9a-f]{64}$/);
      const file = path.join(
        storage().dataDir,
        'media',
        view.sha256.slice(0, 2),
        view.sha256.slice(2, 4),
        view.sha256,
      );
      expect(fs.readFileSync(file).equals(png)).toBe(true);

      expect((await download(t, alice, view.id)).equals(png)).toBe(true);
      const thumb = await sharp(await download(t, alice, view.id, 'thumbnail')).metadata();
      expect([thumb.format, thumb.width, thumb.height]).toEqual(['jpeg', 320, 240]);
      expect(storeFiles(storage().dataDir).temp).toEqual([]);
    });

    it('keeps one file for the same bytes uploaded twice, with two media rows', async () => {
      const t = createTestContext(storage());
      const [alice, bob] = [await t.newPerson(), await t.newPerson()] as [Person, Person];
      const jpeg = await makeJpeg(40, 40);
      const before = storeFiles(storage().dataDir).stored.length;
      const first = await upload(t, alice, jpeg, 'image/jpeg');
      const second = await upload(t, bob, jpeg, 'image/jpg');
      expect(second.id).not.toBe(first.id);
      expect(second.sha256).toBe(first.sha256);
      // One content file and one thumbnail, however many uploads.
      const { stored, temp } = storeFiles(storage().dataDir);
      expect(stored.length - before).toBe(2);
      expect(stored.filter((f) => f === first.sha256)).toHaveLength(1);
      expect(temp).toEqual([]);
      expect((await download(t, bob, second.id)).equals(jpeg)).toBe(true);
    });

    it('accepts documents, text, stickers and audio by their content, inferring the kind', async () => {
      const t = createTestContext(storage());
      const alice = await t.newPerson();
      const pdf = await upload(t, alice, makePdf(), 'application/pdf');
      expect(pdf).toMatchObject({ kind: 'document', content_type: 'application/pdf', has_thumbnail: false });
      // Browsers declare unknown files as application/octet-stream: the content decides.
      const untyped = await upload(t, alice, makePdf('untyped'), 'application/octet-stream');
      expect(untyped.content_type).toBe('application/pdf');
      const text = await upload(t, alice, Buffer.from('Grüße, ça va? 👋\n'), 'text/plain; charset=utf-8');
      expect(text).toMatchObject({ kind: 'document', content_type: 'text/plain' });
      const csv = await upload(t, alice, Buffer.from('a,b\n1,2\n'), 'text/csv');
      expect(csv.content_type).toBe('text/csv');
      const sticker = await upload(t, alice, await makeWebp(512, 512), 'image/webp', 'sticker');
      expect(sticker).toMatchObject({ kind: 'sticker', width: 512, height: 512, has_thumbnail: true });
      const webp = await upload(t, alice, await makeWebp(100, 50), 'image/webp');
      expect(webp.kind).toBe('image');
    });

    it('refuses mis-typed, unsupported and undecodable content, leaving nothing behind', async () => {
      const t = createTestContext(storage());
      const alice = await t.newPerson();
      const rows = await mediaRows(storage());
      const files = storeFiles(storage().dataDir).stored.length;
      const png = await makePng();
      await expect(upload(t, alice, png, 'image/jpeg')).rejects.toMatchObject({
        code: 'MEDIA_TYPE_MISMATCH',
        details: { declared: 'image/jpeg', detected: 'image/png' },
      });
      await expect(upload(t, alice, makeExe(), 'image/png')).rejects.toMatchObject({
        code: 'MEDIA_TYPE_UNSUPPORTED',
        details: { detected: 'application/x-msdownload' },
      });
      await expect(upload(t, alice, makeExe(), 'application/x-msdownload')).rejects.toMatchObject({
        code: 'MEDIA_TYPE_UNSUPPORTED',
      });
      await expect(upload(t, alice, makeExe(), undefined)).rejects.toMatchObject({
        code: 'MEDIA_TYPE_UNSUPPORTED',
      });
      await expect(upload(t, alice, Buffer.from('text\0with a NUL'), 'text/plain')).rejects.toMatchObject({
        code: 'MEDIA_TYPE_UNSUPPORTED',
      });
      await expect(upload(t, alice, Buffer.from([0xc3, 0x28, 0x41]), 'text/plain')).rejects.toMatchObject({
        code: 'MEDIA_TYPE_UNSUPPORTED',
      });
      await expect(upload(t, alice, Buffer.from('plain words'), 'image/png')).rejects.toMatchObject({
        code: 'MEDIA_TYPE_MISMATCH',
      });
      await expect(upload(t, alice, Buffer.alloc(0), 'text/plain')).rejects.toMatchObject({
        code: 'MEDIA_TYPE_UNSUPPORTED',
      });
      // A sticker is a WebP of at most 512×512.
      await expect(upload(t, alice, png, 'image/png', 'sticker')).rejects.toMatchObject({
        code: 'MEDIA_TYPE_UNSUPPORTED',
      });
      await expect(upload(t, alice, await makeWebp(600, 100), 'image/webp', 'sticker')).rejects.toMatchObject(
        {
          code: 'MEDIA_TOO_LARGE',
          details: { max_width: 512 },
        },
      );
      await expect(upload(t, alice, makePdf(), 'application/pdf', 'image')).rejects.toMatchObject({
        code: 'MEDIA_TYPE_UNSUPPORTED',
      });
      // PNG magic followed by garbage: sniffs as PNG, does not decode.
      const broken = Buffer.concat([png.subarray(0, 40), Buffer.alloc(200, 7)]);
      await expect(upload(t, alice, broken, 'image/png')).rejects.toMatchObject({
        code: 'MEDIA_TYPE_UNSUPPORTED',
      });
      expect(await mediaRows(storage())).toBe(rows);
      const after = storeFiles(storage().dataDir);
      expect(after.stored.length).toBe(files);
      expect(after.temp).toEqual([]);
    });

    it('cuts an oversized upload off as soon as it passes its kind limit', async () => {
      const t = createTestContext(storage());
      const alice = await t.newPerson();
      const rows = await mediaRows(storage());
      const files = storeFiles(storage().dataDir).stored.length;
      const limit = MEDIA_MAX_BYTES.image;
      const big = countingStream(limit * 4);
      await expect(
        t.media.upload(alice.actor, { content: big.stream, declaredType: 'image/png', kind: undefined }),
      ).rejects.toMatchObject({ code: 'MEDIA_TOO_LARGE', details: { max_bytes: limit } });
      // Reading stopped just past the limit (a chunk or two of read-ahead), not at the end.
      expect(big.state.pulled).toBeLessThanOrEqual(limit + 4 * 1024 * 1024);

      const sticker = countingStream(MEDIA_MAX_BYTES.sticker + 1);
      await expect(
        t.media.upload(alice.actor, { content: sticker.stream, declaredType: undefined, kind: 'sticker' }),
      ).rejects.toMatchObject({ code: 'MEDIA_TOO_LARGE' });

      // Declared as nothing in particular: the type is known only at the end, and then it is
      // checked against its kind's limit (a 17 MiB text file is fine as a document).
      const text = countingStream(limit + 1);
      const doc = await t.media.upload(alice.actor, {
        content: text.stream,
        declaredType: undefined,
        kind: undefined,
      });
      expect(doc).toMatchObject({ kind: 'document', content_type: 'text/plain', size: limit + 1 });
      const asImage = countingStream(limit + 1);
      await expect(
        t.media.upload(alice.actor, { content: asImage.stream, declaredType: 'text/plain', kind: 'image' }),
      ).rejects.toMatchObject({ code: 'MEDIA_TOO_LARGE' });

      expect(await mediaRows(storage())).toBe(rows + 1);
      const after = storeFiles(storage().dataDir);
      expect(after.stored.length).toBe(files + 1);
      expect(after.temp).toEqual([]);
    });
  });

  describe('who may download', () => {
    it('the uploader, the sender and recipient of a live message carrying it, and group members of its time', async () => {
      const t = createTestContext(storage());
      const [alice, bob, carol, dave, erin, eve] = [
        await t.newPerson(),
        await t.newPerson(),
        await t.newPerson(),
        await t.newPerson(),
        await t.newPerson(),
        await t.newPerson(),
      ] as [Person, Person, Person, Person, Person, Person];
      const can = async (who: Person, id: string) => {
        try {
          await t.media.open(who.actor, id, 'content');
          return true;
        } catch (e: unknown) {
          expect(e).toMatchObject({ code: 'MEDIA_NOT_FOUND' });
          return false;
        }
      };
      const png = await makePng();
      const direct = await upload(t, alice, png, 'image/png');
      expect(await can(alice, direct.id)).toBe(true);
      expect(await can(bob, direct.id)).toBe(false);
      await insertMessage(t, storage(), { from: alice, to: bob.account_id, media: [direct.id] });
      expect(await can(bob, direct.id)).toBe(true);
      expect(await can(eve, direct.id)).toBe(false);
      // Bob forwards it to Carol: Carol and Bob (its sender) see it through that message.
      await insertMessage(t, storage(), { from: bob, to: carol.account_id, media: [direct.id] });
      expect(await can(carol, direct.id)).toBe(true);
      expect(await can(eve, direct.id)).toBe(false);

      const group = await t.groups.create(alice.actor, { subject: 'G', members: [bob.phone, carol.phone] });
      const inGroup = await upload(t, alice, await makePng(), 'image/png');
      const sentAt = t.clock.now();
      await insertMessage(t, storage(), { from: alice, to: group.group_id, media: [inGroup.id], sentAt });
      await storage()
        .db.kysely.insertInto('group_members')
        .values({
          group_id: group.group_id,
          account_id: dave.account_id,
          role: 'member',
          joined_at: sentAt + 1,
        })
        .execute();
      expect(await can(bob, inGroup.id)).toBe(true);
      expect(await can(carol, inGroup.id)).toBe(true);
      expect(await can(dave, inGroup.id)).toBe(false); // joined after the message
      expect(await can(eve, inGroup.id)).toBe(false);
      await t.groups.removeMember(carol.actor, group.group_id, carol.account_id);
      expect(await can(carol, inGroup.id)).toBe(false); // no longer a member

      const deleted = await upload(t, alice, await makePng(), 'image/png');
      await insertMessage(t, storage(), {
        from: alice,
        to: erin.account_id,
        media: [deleted.id],
        deletedAt: t.clock.now(),
      });
      expect(await can(erin, deleted.id)).toBe(false);

      const expiring = await upload(t, alice, await makePng(), 'image/png');
      await insertMessage(t, storage(), {
        from: alice,
        to: erin.account_id,
        media: [expiring.id],
        expiresAt: t.clock.now() + HOUR,
      });
      expect(await can(erin, expiring.id)).toBe(true);
      t.clock.advance(HOUR + 1);
      expect(await can(erin, expiring.id)).toBe(false);
      expect(await can(alice, expiring.id)).toBe(true);

      await expect(
        t.media.open(bob.actor, 'med_01NOSUCHMEDIA000000000000000', 'content'),
      ).rejects.toMatchObject({
        code: 'MEDIA_NOT_FOUND',
      });
    });

    it('view-once: each recipient downloads once, even racing; no preview; the sender is not limited', async () => {
      const t = createTestContext(storage());
      const [alice, bob, carol, dave] = [
        await t.newPerson(),
        await t.newPerson(),
        await t.newPerson(),
        await t.newPerson(),
      ] as [Person, Person, Person, Person];
      const jpeg = await makeJpeg(120, 80);
      const secret = await upload(t, alice, jpeg, 'image/jpeg');
      await insertMessage(t, storage(), {
        from: alice,
        to: bob.account_id,
        media: [secret.id],
        viewOnce: true,
      });
      await expect(t.media.open(bob.actor, secret.id, 'thumbnail')).rejects.toMatchObject({
        code: 'MEDIA_NOT_FOUND',
      });
      const first = await t.media.open(bob.actor, secret.id, 'content');
      expect(first.viewOnce).toBe(true);
      expect((await readAll(first.read())).equals(jpeg)).toBe(true);
      for (const variant of ['content', 'thumbnail'] as const) {
        await expect(t.media.open(bob.actor, secret.id, variant)).rejects.toMatchObject({
          code: 'MEDIA_VIEW_ONCE_CONSUMED',
        });
      }
      for (let i = 0; i < 3; i++)
        expect((await t.media.open(alice.actor, secret.id, 'content')).viewOnce).toBe(false);

      // Two downloads of one account at once: exactly one is served.
      const group = await t.groups.create(alice.actor, { subject: 'G', members: [carol.phone, dave.phone] });
      const shared = await upload(t, alice, await makeJpeg(), 'image/jpeg');
      await insertMessage(t, storage(), {
        from: alice,
        to: group.group_id,
        media: [shared.id],
        viewOnce: true,
      });
      const race = await Promise.allSettled([
        t.media.open(carol.actor, shared.id, 'content'),
        t.media.open(carol.actor, shared.id, 'content'),
        t.media.open(dave.actor, shared.id, 'content'),
      ]);
      const carols = race.slice(0, 2);
      expect(carols.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect(carols.find((r) => r.status === 'rejected')).toMatchObject({
        reason: { code: 'MEDIA_VIEW_ONCE_CONSUMED' },
      });
      expect(race[2]?.status).toBe('fulfilled');
    });
  });

  describe('expiry', () => {
    // Expiry sweeps the whole database: start each test from no media so counts are its own.
    beforeEach(async () => {
      const db = storage().db.kysely;
      for (const table of ['media', 'message_media', 'media_views'] as const)
        await db.deleteFrom(table).execute();
    });

    it('deletes unreferenced expired uploads and their files, keeping a file another row uses', async () => {
      const t = createTestContext(storage());
      const [alice, bob] = [await t.newPerson(), await t.newPerson()] as [Person, Person];
      const png = await makePng(400, 400);
      const unused = await upload(t, alice, png, 'image/png');
      const sent = await upload(t, bob, png, 'image/png');
      const lonely = await upload(t, alice, makePdf('lonely'), 'application/pdf');
      await insertMessage(t, storage(), {
        from: bob,
        to: alice.account_id,
        media: [sent.id],
        expiresAt: t.clock.now() + 3 * DAY,
      });
      t.clock.advance(HOUR);
      const fresh = await upload(t, alice, makePdf('fresh'), 'application/pdf');
      const exists = (sha: string) =>
        fs.existsSync(path.join(storage().dataDir, 'media', sha.slice(0, 2), sha.slice(2, 4), sha));
      const thumbOf = async (id: string) =>
        (
          await storage()
            .db.kysely.selectFrom('media')
            .select('thumbnail_sha256')
            .where('id', '=', id)
            .executeTakeFirst()
        )?.thumbnail_sha256;
      const thumb = (await thumbOf(sent.id)) as string;

      // Within the window (and its grace) nothing goes.
      t.clock.advance(MEDIA_UPLOAD_TTL_MS - HOUR + MEDIA_EXPIRY_GRACE_MS - 1);
      expect(await t.media.expire()).toMatchObject({ uploads: 0, files: 0 });

      t.clock.advance(2);
      expect(await t.media.expire()).toMatchObject({ uploads: 2, files: 1 });
      await expect(t.media.open(alice.actor, unused.id, 'content')).rejects.toMatchObject({
        code: 'MEDIA_NOT_FOUND',
      });
      await expect(t.media.open(alice.actor, lonely.id, 'content')).rejects.toMatchObject({
        code: 'MEDIA_NOT_FOUND',
      });
      expect(exists(lonely.sha256)).toBe(false);
      // The same bytes (and thumbnail) serve the upload a message still carries.
      expect(exists(sent.sha256)).toBe(true);
      expect(exists(thumb)).toBe(true);
      expect((await download(t, alice, sent.id)).equals(png)).toBe(true);
      expect(exists(fresh.sha256)).toBe(true);

      // Once the message has expired (and the grace passed), the reference, row and files go.
      t.clock.advance(2 * DAY + MEDIA_EXPIRY_GRACE_MS);
      expect(await t.media.expire()).toMatchObject({ references: 1, uploads: 2, files: 3 });
      expect(exists(sent.sha256)).toBe(false);
      expect(exists(thumb)).toBe(false);
      expect(exists(fresh.sha256)).toBe(false);
      expect(storeFiles(storage().dataDir).temp).toEqual([]);
    });

    it('keeps a file an upload claimed while expiry was deleting it', async () => {
      const t = createTestContext(storage());
      const [alice, bob] = [await t.newPerson(), await t.newPerson()] as [Person, Person];
      const pdf = makePdf('contested');
      const old = await upload(t, alice, pdf, 'application/pdf');
      t.clock.advance(MEDIA_UPLOAD_TTL_MS + MEDIA_EXPIRY_GRACE_MS + 1);
      await storage().db.kysely.deleteFrom('media').where('id', '=', old.id).execute();
      // Bob's upload of the same bytes commits its row and finds the file in place (dedup) just
      // as expiry moves it away: the re-check sees his row and the file is put back.
      let again: Awaited<ReturnType<typeof upload>> | undefined;
      const evicted = await t.mediaStore.evict(old.sha256, async () => {
        again = await upload(t, bob, pdf, 'application/pdf');
        return (
          (
            await storage()
              .db.kysely.selectFrom('media')
              .select('id')
              .where('sha256', '=', old.sha256)
              .execute()
          ).length > 0
        );
      });
      expect(evicted).toBe(false);
      expect((await download(t, bob, (again as { id: string }).id)).equals(pdf)).toBe(true);

      // Nobody claims it: the file goes.
      await storage().db.kysely.deleteFrom('media').where('sha256', '=', old.sha256).execute();
      expect(await t.mediaStore.evict(old.sha256, async () => false)).toBe(true);
      expect(await t.mediaStore.sizeOf(old.sha256)).toBeUndefined();
    });

    it('forgets view-once records with their message and sweeps abandoned temp files', async () => {
      const t = createTestContext(storage());
      const [alice, bob] = [await t.newPerson(), await t.newPerson()] as [Person, Person];
      const secret = await upload(t, alice, await makeJpeg(), 'image/jpeg');
      await insertMessage(t, storage(), {
        from: alice,
        to: bob.account_id,
        media: [secret.id],
        viewOnce: true,
        expiresAt: t.clock.now() + DAY,
      });
      await t.media.open(bob.actor, secret.id, 'content');
      const tmp = path.join(storage().dataDir, 'media', 'tmp');
      fs.writeFileSync(path.join(tmp, 'abandoned.part'), 'half an upload');
      t.clock.advance(DAY + MEDIA_EXPIRY_GRACE_MS + 1);
      const result = await t.media.expire();
      expect(result.views).toBeGreaterThanOrEqual(1);
      expect(result.temps).toBeGreaterThanOrEqual(1);
      expect(fs.existsSync(path.join(tmp, 'abandoned.part'))).toBe(false);
      const views = await storage()
        .db.kysely.selectFrom('media_views')
        .select('message_id')
        .where('media_id', '=', secret.id)
        .execute();
      expect(views).toEqual([]);
    });
  });
});
