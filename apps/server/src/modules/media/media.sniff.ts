/**
 * Content sniffing: the type of an upload comes from its bytes (magic numbers, container
 * structure) via `file-type`, never from what the client declared. Plain text has no magic
 * number, so it is recognised as valid UTF-8 without NUL bytes, checked as the bytes stream in.
 */
import { isUtf8 } from 'node:buffer';
import { fileTypeFromFile } from 'file-type';

/** The MIME type file-type detects in a file, or undefined when it recognises nothing. */
export async function sniffFile(path: string): Promise<string | undefined> {
  return (await fileTypeFromFile(path))?.mime;
}

/**
 * Follows a stream chunk by chunk and says at the end whether it all was UTF-8 text without NUL.
 * A multi-byte character split across two chunks is carried over to the next one.
 */
export function createTextCheck() {
  let ok = true;
  let carry: Buffer = Buffer.alloc(0);
  let seen = 0;
  return {
    update(chunk: Buffer): void {
      if (!ok) return;
      seen += chunk.length;
      const data = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
      const cut = completeLength(data);
      const whole = data.subarray(0, cut);
      if (whole.includes(0) || !isUtf8(whole)) {
        ok = false;
        carry = Buffer.alloc(0);
        return;
      }
      carry = Buffer.from(data.subarray(cut));
    },
    isText(): boolean {
      return ok && seen > 0 && carry.length === 0;
    },
  };
}

/** Length of the prefix of `data` that does not end inside a multi-byte UTF-8 character. */
function completeLength(data: Buffer): number {
  // A character is at most 4 bytes: look back at most 3 for the lead byte of the last one.
  for (let back = 1; back <= Math.min(3, data.length); back++) {
    const byte = data[data.length - back] as number;
    if ((byte & 0xc0) === 0x80) continue; // continuation byte: keep looking for the lead
    const need = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return need > back ? data.length - back : data.length;
  }
  return data.length;
}
