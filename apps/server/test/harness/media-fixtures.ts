/**
 * Small real media made in the test run (no binaries in the repository): images drawn by sharp,
 * a PDF written by hand, a Windows executable header, and streams of any length.
 */
import { Readable } from 'node:stream';
import sharp from 'sharp';

type Rgb = { r: number; g: number; b: number };

/** A random colour, so each test's image has its own content hash. */
export function randomColour(): Rgb {
  const c = () => Math.floor(Math.random() * 256);
  return { r: c(), g: c(), b: c() };
}

function canvas(width: number, height: number, background: Rgb) {
  return sharp({ create: { width, height, channels: 3, background } });
}

export const makePng = (width = 64, height = 48, colour = randomColour()) =>
  canvas(width, height, colour).png().toBuffer();
export const makeJpeg = (width = 64, height = 48, colour = randomColour()) =>
  canvas(width, height, colour).jpeg().toBuffer();
export const makeWebp = (width = 64, height = 64, colour = randomColour()) =>
  canvas(width, height, colour).webp().toBuffer();

/** A minimal PDF: the header and trailer readers look for. */
export function makePdf(text = 'hello'): Buffer {
  return Buffer.from(
    `%PDF-1.4\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n2 0 obj <</Type /Pages /Kids [] /Count 0>> endobj\n% ${text}\ntrailer <</Root 1 0 R>>\n%%EOF\n`,
  );
}

/** The start of a Windows executable (DOS header magic and PE offset). */
export function makeExe(): Buffer {
  const bytes = Buffer.alloc(512);
  bytes.write('MZ', 0, 'latin1');
  bytes.writeUInt32LE(0x80, 0x3c);
  bytes.write('PE\0\0', 0x80, 'latin1');
  return bytes;
}

/** A stream of `total` bytes in 1 MiB chunks that counts how many bytes were pulled from it. */
export function countingStream(total: number) {
  const chunk = Buffer.alloc(1024 * 1024, 0x41);
  const state = { pulled: 0 };
  async function* generate() {
    for (let sent = 0; sent < total; sent += chunk.length) {
      const piece = chunk.subarray(0, Math.min(chunk.length, total - sent));
      state.pulled += piece.length;
      yield piece;
    }
  }
  return { stream: Readable.from(generate()), state };
}

/** The start of an MP3: an ID3v2 tag and one MPEG-1 Layer III frame header, then silence. */
export function makeMp3(): Buffer {
  const tag = Buffer.from([0x49, 0x44, 0x33, 4, 0, 0, 0, 0, 0, 0]);
  return Buffer.concat([tag, Buffer.from([0xff, 0xfb, 0x90, 0x64]), Buffer.alloc(413)]);
}

/** An MP4 container as sniffers know it: an `ftyp` box (brand isom) and an empty `free` box. */
export function makeMp4(): Buffer {
  const bytes = Buffer.alloc(32);
  bytes.writeUInt32BE(24, 0);
  bytes.write('ftypisom', 4, 'latin1');
  bytes.writeUInt32BE(0x200, 12);
  bytes.write('isommp41', 16, 'latin1');
  bytes.writeUInt32BE(8, 24);
  bytes.write('free', 28, 'latin1');
  return bytes;
}
