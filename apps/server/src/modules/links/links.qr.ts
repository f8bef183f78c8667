/** QR codes of short links, as PNG and SVG (the `qrcode` package, no external assets). */
import QRCode from 'qrcode';

export const QR_PNG_SIZE = { min: 128, max: 1024, default: 512 } as const;

// Medium error correction: survives a smudge or a small logo on print, and stays small.
const common = { errorCorrectionLevel: 'M', margin: 4 } as const;

export function qrPng(text: string, width: number = QR_PNG_SIZE.default): Promise<Buffer> {
  return QRCode.toBuffer(text, { ...common, type: 'png', width });
}

export function qrSvg(text: string): Promise<string> {
  return QRCode.toString(text, { ...common, type: 'svg' });
}
