/**
 * Image work with sharp (libvips): dimensions, and a JPEG thumbnail of at most 320 px a side.
 * Decoding an image proves it is one: content that sniffs as an image but does not decode is
 * refused rather than stored for clients to choke on.
 */
import { THUMBNAIL_MAX_DIMENSION } from '@parley/protocol';
import sharp from 'sharp';
import { AppError } from '../../errors.js';

/**
 * A decompression bomb (a small file declaring a gigantic canvas) is refused before decoding:
 * 100 megapixels is past any phone camera, and far below what would exhaust memory.
 */
const MAX_INPUT_PIXELS = 100_000_000;

export interface ImageInfo {
  /** Pixels as displayed (EXIF orientation applied). */
  width: number;
  height: number;
  /** More than one frame (an animated WebP or GIF). */
  animated: boolean;
  thumbnail: Buffer;
}

export async function inspectImage(path: string): Promise<ImageInfo> {
  try {
    const image = sharp(path, { limitInputPixels: MAX_INPUT_PIXELS, failOn: 'error' });
    const meta = await image.metadata();
    const thumbnail = await image
      .autoOrient()
      .resize({
        width: THUMBNAIL_MAX_DIMENSION,
        height: THUMBNAIL_MAX_DIMENSION,
        fit: 'inside',
        withoutEnlargement: true,
      })
      // JPEG has no transparency: transparent pixels (stickers, PNGs) become white.
      .flatten({ background: '#ffffff' })
      .jpeg({ quality: 70 })
      .toBuffer();
    return {
      width: meta.autoOrient.width,
      height: meta.autoOrient.height,
      animated: (meta.pages ?? 1) > 1,
      thumbnail,
    };
  } catch (e: unknown) {
    throw new AppError('MEDIA_TYPE_UNSUPPORTED', 'The image cannot be decoded.', undefined, { cause: e });
  }
}
