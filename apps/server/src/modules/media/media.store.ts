/**
 * The media store: files on the data folder's disk, named by the SHA-256 of their content
 * (`media/ab/cd/abcd…`), so identical uploads share one file.
 *
 * Writing: bytes stream into a temp file under `media/tmp` (same disk, so the final rename is
 * atomic) while they are hashed; the file is fsynced, then `place` renames it to its hash's
 * name, or drops it when that name already exists (dedup). Nothing is ever half-written under a
 * hash name, and nothing is buffered whole in memory.
 *
 * Deleting races with writing: an upload may dedup onto a file at the moment expiry finds it
 * unused. The protocol that makes this safe (with the service):
 *   1. an upload inserts its media row BEFORE it places its file (`place`);
 *   2. eviction first renames the file away to a trash name (atomic), THEN asks the database
 *      whether any row uses the hash; if one does, it renames the file back, else unlinks it.
 * If the upload's `place` ran before step 2's rename, its row was committed before the re-check,
 * so the re-check sees it and the file is restored. If it ran after, it found no file and put its
 * own in place. The cost is a moment in which the file is missing (a download in that moment
 * answers not found); no row is ever left without its file.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';

export interface ReceivedFile {
  tempPath: string;
  sha256: string;
  size: number;
}

/** Thrown by `receive` when the stream passes its limit; the temp file is already gone. */
export class StoreLimitExceeded extends Error {
  constructor(readonly limit: number) {
    super(`upload exceeds ${limit} bytes`);
    this.name = 'StoreLimitExceeded';
  }
}

const HASH = /^[0-9a-f]{64}$/;

export function createMediaStore(root: string) {
  const tmpDir = path.join(root, 'tmp');

  function pathOf(sha256: string): string {
    // The hash names a file: never let anything else through.
    if (!HASH.test(sha256)) throw new Error(`not a SHA-256 hex digest: ${sha256}`);
    return path.join(root, sha256.slice(0, 2), sha256.slice(2, 4), sha256);
  }

  function tempName(): string {
    return path.join(tmpDir, `${Date.now()}-${randomBytes(8).toString('hex')}.part`);
  }

  async function syncDir(dir: string): Promise<void> {
    const handle = await fsp.open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  async function removeQuietly(file: string): Promise<void> {
    await fsp.rm(file, { force: true });
  }

  return {
    pathOf,

    /**
     * Streams `source` into a temp file, hashing as it goes. Past `limit` bytes it stops, deletes
     * the temp file and throws StoreLimitExceeded. `observe` sees every chunk (content checks).
     */
    async receive(
      source: Readable | AsyncIterable<Buffer>,
      limit: number,
      observe?: (chunk: Buffer) => void,
    ): Promise<ReceivedFile> {
      await fsp.mkdir(tmpDir, { recursive: true });
      const tempPath = tempName();
      const handle = await fsp.open(tempPath, 'wx');
      const hash = createHash('sha256');
      let size = 0;
      let closed = false;
      try {
        for await (const chunk of source as AsyncIterable<Buffer>) {
          size += chunk.length;
          // Checked before writing: the bytes past the limit never reach the disk.
          if (size > limit) throw new StoreLimitExceeded(limit);
          hash.update(chunk);
          observe?.(chunk);
          await handle.write(chunk);
        }
        await handle.sync();
        await handle.close();
        closed = true;
        return { tempPath, sha256: hash.digest('hex'), size };
      } catch (e: unknown) {
        if (!closed) await handle.close();
        await removeQuietly(tempPath);
        throw e;
      }
    },

    /** Writes a small buffer (a thumbnail) to a temp file, ready to `place`. */
    async stage(bytes: Buffer): Promise<ReceivedFile> {
      await fsp.mkdir(tmpDir, { recursive: true });
      const tempPath = tempName();
      const handle = await fsp.open(tempPath, 'wx');
      try {
        await handle.writeFile(bytes);
        await handle.sync();
      } catch (e: unknown) {
        await handle.close();
        await removeQuietly(tempPath);
        throw e;
      }
      await handle.close();
      return { tempPath, sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length };
    },

    /** Moves a received file to its hash's name, or drops it when that file already exists. */
    async place(file: ReceivedFile): Promise<void> {
      const target = pathOf(file.sha256);
      if (fs.existsSync(target)) {
        await removeQuietly(file.tempPath);
        return;
      }
      await fsp.mkdir(path.dirname(target), { recursive: true });
      await fsp.rename(file.tempPath, target);
      // The rename is durable once its directory is synced.
      await syncDir(path.dirname(target));
    },

    /** Deletes a temp file that will not be placed. */
    async discard(file: ReceivedFile | undefined): Promise<void> {
      if (file) await removeQuietly(file.tempPath);
    },

    /** Size of the stored file, or undefined when there is none. */
    async sizeOf(sha256: string): Promise<number | undefined> {
      try {
        return (await fsp.stat(pathOf(sha256))).size;
      } catch (e: unknown) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw e;
      }
    },

    /** Reads the stored file, or the inclusive byte range [start, end] of it. */
    read(sha256: string, range?: { start: number; end: number }): fs.ReadStream {
      return fs.createReadStream(pathOf(sha256), range);
    },

    /**
     * Deletes the file of `sha256` unless `inUse` (asked after the file was moved away) says a
     * row still uses it; see the protocol at the top. Returns whether a file was deleted.
     */
    async evict(sha256: string, inUse: () => Promise<boolean>): Promise<boolean> {
      const target = pathOf(sha256);
      await fsp.mkdir(tmpDir, { recursive: true });
      const trash = path.join(tmpDir, `${sha256}.${randomBytes(6).toString('hex')}.evicting`);
      try {
        await fsp.rename(target, trash);
      } catch (e: unknown) {
        // Already gone (another worker evicted it, or it was never placed).
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
        throw e;
      }
      let used: boolean;
      try {
        used = await inUse();
      } catch (e: unknown) {
        // Unsure: keep the file rather than lose content a row may need.
        await fsp.rename(trash, target);
        throw e;
      }
      if (used) {
        await fsp.rename(trash, target);
        return false;
      }
      await removeQuietly(trash);
      return true;
    },

    /**
     * Deletes temp files last changed before `before` (epoch ms): uploads cut off by a crash,
     * evictions cut off by one. An upload in progress writes its temp file all the time, and a
     * rename (eviction) changes a file's ctime, so only abandoned files are this old.
     */
    async sweepTemp(before: number): Promise<number> {
      let names: string[];
      try {
        names = await fsp.readdir(tmpDir);
      } catch (e: unknown) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0;
        throw e;
      }
      let removed = 0;
      for (const name of names) {
        const file = path.join(tmpDir, name);
        const stat = await fsp.stat(file).catch((e: unknown) => {
          if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
          throw e;
        });
        if (stat?.isFile() && stat.ctimeMs < before) {
          await removeQuietly(file);
          removed++;
        }
      }
      return removed;
    },
  };
}

export type MediaStore = ReturnType<typeof createMediaStore>;
