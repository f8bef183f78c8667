/**
 * Identifiers and secrets. Ids are `<prefix>_` + 26 Crockford base32 characters: 48 bits of
 * milliseconds then 80 random bits (the ULID layout), so they sort by creation time.
 * Randomness comes from the platform so tests may replace it.
 */
import { createHash, randomBytes, randomInt, scryptSync, timingSafeEqual } from 'node:crypto';
import type { Clock } from './clock.js';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

export type IdPrefix =
  | 'acc'
  | 'dev'
  | 'msg'
  | 'grp'
  | 'rep'
  | 'med'
  | 'biz'
  | 'cnv'
  | 'not'
  | 'lbl'
  | 'kwr'
  | 'lnk'
  | 'bcl'
  | 'bcm'
  | 'tok'
  // Billing and the ledger (issue 6).
  | 'lac'
  | 'txn'
  | 'bac'
  | 'chg'
  | 'rcv'
  | 'inv'
  | 'crn'
  | 'sub'
  | 'ptn'
  | 'rcp'
  // Billing notices (issue 6, subscriptions).
  | 'ntc';

export interface Ids {
  newId(prefix: IdPrefix): string;
  /** A bearer secret: 32 random bytes, base64url, with a recognisable prefix. */
  newToken(prefix: string): string;
  /** A one-time code of `length` characters drawn uniformly from `alphabet` (digits by default). */
  newCode(length: number, alphabet?: string): string;
}

/**
 * Random bytes drawn from the CSPRNG in 4 KiB blocks: one system call per ~400 ids instead of
 * one per id (it showed up in delivery profiles).
 */
export function createPooledRandom(blockSize = 4096): (n: number) => Buffer {
  let block = randomBytes(blockSize);
  let offset = 0;
  return (n) => {
    if (n > blockSize) return randomBytes(n);
    if (offset + n > blockSize) {
      block = randomBytes(blockSize);
      offset = 0;
    }
    // A copy, so a caller keeping the buffer never sees it reused.
    const out = Buffer.from(block.subarray(offset, offset + n));
    offset += n;
    return out;
  };
}

export function createIds(clock: Clock, random: (n: number) => Buffer = createPooledRandom()): Ids {
  return {
    newId(prefix) {
      let time = clock.now();
      let out = '';
      for (let i = 0; i < 10; i++) {
        out = CROCKFORD[time % 32] + out;
        time = Math.floor(time / 32);
      }
      const bytes = random(10);
      // 80 bits → 16 base32 characters, 5 bits at a time.
      let acc = 0n;
      for (const b of bytes) acc = (acc << 8n) | BigInt(b);
      let tail = '';
      for (let i = 0; i < 16; i++) {
        tail = CROCKFORD[Number(acc & 31n)] + tail;
        acc >>= 5n;
      }
      return `${prefix}_${out}${tail}`;
    },
    newToken(prefix) {
      return `${prefix}_${random(32).toString('base64url')}`;
    },
    newCode(length, alphabet = '0123456789') {
      let code = '';
      for (let i = 0; i < length; i++) code += alphabet[randomInt(alphabet.length)];
      return code;
    },
  };
}

/** Tokens are stored only as SHA-256 hashes; they carry 256 random bits, so no salt is needed. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/**
 * A short secret a person chose (a 6-digit PIN): too few bits for a plain hash, so scrypt
 * with a random salt. Stored as `<salt hex>:<hash hex>`.
 */
export function hashSecret(secret: string): string {
  const salt = randomBytes(16);
  return `${salt.toString('hex')}:${scryptSync(secret, salt, 32).toString('hex')}`;
}

export function secretMatches(secret: string, stored: string): boolean {
  const [salt, hash] = stored.split(':');
  if (!salt || !hash) return false;
  const expected = Buffer.from(hash, 'hex');
  const actual = scryptSync(secret, Buffer.from(salt, 'hex'), expected.length);
  return timingSafeEqual(actual, expected);
}
