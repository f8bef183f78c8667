/** Pure rules of labels: what a name and a color may be, and how names compare. */
import { LABEL_NAME_MAX, LABEL_PALETTE, type LabelPaletteColor } from '@parley/protocol';

const HEX = /^#[0-9a-fA-F]{6}$/;
// Control and format characters would make names that look alike but differ.
const INVISIBLE = /[\p{Cc}\p{Cf}]/u;

/** The name as stored (trimmed, NFC), or undefined when it is no valid name. */
export function cleanLabelName(name: string): string | undefined {
  const clean = name.normalize('NFC').trim().replace(/\s+/gu, ' ');
  const length = [...clean].length;
  if (length < 1 || length > LABEL_NAME_MAX || INVISIBLE.test(clean)) return undefined;
  return clean;
}

/** What uniqueness compares: names differing only in case are the same label. */
export function labelNameKey(cleanName: string): string {
  return cleanName.toLocaleLowerCase('und');
}

const isPalette = (c: string): c is LabelPaletteColor => Object.hasOwn(LABEL_PALETTE, c);

/** The color as stored (palette name in lower case, or #RRGGBB in upper case), or undefined. */
export function cleanLabelColor(color: string): string | undefined {
  const c = color.trim();
  if (HEX.test(c)) return c.toUpperCase();
  const name = c.toLowerCase();
  return isPalette(name) ? name : undefined;
}

export function labelHex(color: string): string {
  return isPalette(color) ? LABEL_PALETTE[color] : color;
}

/** New labels without a color take the palette in turn, so neighbours differ. */
export function defaultLabelColor(existing: number): LabelPaletteColor {
  const names = Object.keys(LABEL_PALETTE) as LabelPaletteColor[];
  return names[existing % names.length] ?? 'gray';
}
