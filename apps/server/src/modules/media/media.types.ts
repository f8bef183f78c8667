/**
 * Which content types Parley accepts, per kind, and how an upload's detected type, declared type
 * and requested kind are reconciled. Pure: the bytes are sniffed elsewhere (media.sniff.ts).
 *
 * The detected type decides. The declared type (the file part's Content-Type) must name the same
 * thing, or a documented refinement of it where sniffing cannot tell formats apart: Word, Excel
 * and PowerPoint 97–2003 files are all "compound files" to a sniffer (as are Windows installers,
 * so those are accepted only when declared as one of the three); an MP4 holding only sound may be
 * declared audio/mp4; UTF-8 text may be declared as CSV or Markdown.
 */
import { MEDIA_MAX_BYTES, MEDIA_MAX_UPLOAD_BYTES, type MediaKind } from '@parley/protocol';
import { AppError } from '../../errors.js';

interface AcceptedType {
  /** Stored and served as this type. */
  mime: string;
  kinds: readonly MediaKind[];
  /** What the sniffer reports for such content (`text/plain`: valid UTF-8 without NUL bytes). */
  detected: readonly string[];
  /** Declared types that name it. */
  declared: readonly string[];
  /** Accepted only when declared (the content alone does not say it is this type). */
  needsDeclared?: true;
}

const t = (
  mime: string,
  kinds: MediaKind[],
  detected: string[] = [mime],
  declared: string[] = [mime],
  needsDeclared?: true,
): AcceptedType =>
  needsDeclared ? { mime, kinds, detected, declared, needsDeclared } : { mime, kinds, detected, declared };

const CFB = 'application/x-cfb';

/** In order of preference: the first that fits wins. */
export const ACCEPTED_TYPES: readonly AcceptedType[] = [
  t('image/jpeg', ['image'], ['image/jpeg'], ['image/jpeg', 'image/jpg', 'image/pjpeg']),
  t('image/png', ['image']),
  t('image/webp', ['image', 'sticker']),
  t('image/gif', ['image']),
  t('video/mp4', ['video']),
  t('video/3gpp', ['video']),
  t('video/webm', ['video']),
  t('audio/aac', ['audio'], ['audio/aac'], ['audio/aac', 'audio/x-aac', 'audio/aacp']),
  t(
    'audio/mp4',
    ['audio'],
    ['audio/mp4', 'audio/x-m4a', 'video/mp4'],
    ['audio/mp4', 'audio/x-m4a', 'audio/m4a'],
  ),
  t('audio/mpeg', ['audio'], ['audio/mpeg'], ['audio/mpeg', 'audio/mp3']),
  t('audio/ogg', ['audio'], ['audio/ogg', 'audio/opus'], ['audio/ogg', 'audio/opus', 'application/ogg']),
  t('audio/amr', ['audio']),
  t('application/pdf', ['document']),
  t('application/vnd.openxmlformats-officedocument.wordprocessingml.document', ['document']),
  t('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', ['document']),
  t('application/vnd.openxmlformats-officedocument.presentationml.presentation', ['document']),
  t('application/vnd.oasis.opendocument.text', ['document']),
  t('application/vnd.oasis.opendocument.spreadsheet', ['document']),
  t('application/vnd.oasis.opendocument.presentation', ['document']),
  t('application/msword', ['document'], [CFB], ['application/msword'], true),
  t('application/vnd.ms-excel', ['document'], [CFB], ['application/vnd.ms-excel'], true),
  t('application/vnd.ms-powerpoint', ['document'], [CFB], ['application/vnd.ms-powerpoint'], true),
  t('application/rtf', ['document'], ['application/rtf'], ['application/rtf', 'text/rtf']),
  t(
    'application/zip',
    ['document'],
    ['application/zip'],
    ['application/zip', 'application/x-zip-compressed'],
  ),
  t('text/plain', ['document']),
  t('text/csv', ['document'], ['text/plain'], ['text/csv'], true),
  t('text/markdown', ['document'], ['text/plain'], ['text/markdown'], true),
];

/** Lower case, without parameters (`audio/ogg; codecs=opus` → `audio/ogg`). */
export function normalizeMime(value: string | undefined): string | undefined {
  const mime = value?.split(';')[0]?.trim().toLowerCase();
  return mime ? mime : undefined;
}

/**
 * The declared type, or undefined when the client declared nothing in particular: browsers send
 * `application/octet-stream` for files whose type they do not know.
 */
export function declaredMime(value: string | undefined): string | undefined {
  const mime = normalizeMime(value);
  return mime === 'application/octet-stream' ? undefined : mime;
}

/**
 * Largest size an upload may reach while it streams, before its content is known: the limit of
 * the requested kind, else of the largest kind the declared type may be, else the largest of all.
 * Refuses at once a declared type that no accepted type answers to, before a byte is stored.
 */
export function streamingLimit(declared: string | undefined, kind: MediaKind | undefined): number {
  if (declared !== undefined && !ACCEPTED_TYPES.some((a) => a.declared.includes(declared))) {
    throw new AppError('MEDIA_TYPE_UNSUPPORTED', `Parley does not accept ${declared} uploads.`, {
      declared,
    });
  }
  if (kind) return MEDIA_MAX_BYTES[kind];
  if (declared === undefined) return MEDIA_MAX_UPLOAD_BYTES;
  const kinds = ACCEPTED_TYPES.filter((a) => a.declared.includes(declared)).flatMap((a) => a.kinds);
  return Math.max(...kinds.map((k) => MEDIA_MAX_BYTES[k]));
}

export interface ClassifyInput {
  /** What the sniffer detected, undefined when it recognised nothing. */
  detected: string | undefined;
  /** The content is valid UTF-8 without NUL bytes. */
  isText: boolean;
  declared: string | undefined;
  kind: MediaKind | undefined;
}

/** The stored type and kind of an upload, or the documented refusal. */
export function classify(input: ClassifyInput): { contentType: string; kind: MediaKind } {
  const detected = normalizeMime(input.detected) ?? (input.isText ? 'text/plain' : undefined);
  const sniffed = ACCEPTED_TYPES.filter((a) => detected !== undefined && a.detected.includes(detected));
  if (sniffed.length === 0) {
    throw new AppError(
      'MEDIA_TYPE_UNSUPPORTED',
      detected
        ? `The content is ${detected}, which Parley does not accept.`
        : 'The content is not of a type Parley recognises.',
      detected ? { detected } : undefined,
    );
  }
  const { declared, kind } = input;
  const named = sniffed.filter((a) =>
    declared === undefined ? a.needsDeclared !== true : a.declared.includes(declared),
  );
  if (named.length === 0) {
    if (declared === undefined) {
      throw new AppError(
        'MEDIA_TYPE_UNSUPPORTED',
        `The content is ${detected}; declare which document type it is.`,
        { detected },
      );
    }
    throw new AppError(
      'MEDIA_TYPE_MISMATCH',
      `The file is declared as ${declared} but its content is ${sniffed[0]?.mime ?? detected}.`,
      { declared, detected: sniffed[0]?.mime ?? detected },
    );
  }
  const fit = named.find((a) => kind === undefined || a.kinds.includes(kind));
  if (!fit) {
    throw new AppError('MEDIA_TYPE_UNSUPPORTED', `A ${kind} cannot be ${named[0]?.mime}.`, {
      kind,
      detected: named[0]?.mime,
    });
  }
  return { contentType: fit.mime, kind: kind ?? (fit.kinds[0] as MediaKind) };
}
