/**
 * Opening hours and away schedules of a business, evaluated in the business's IANA time zone.
 *
 * Pure: no clock, no I/O. The only time-zone source is `Intl.DateTimeFormat#formatToParts`,
 * so results follow the tz database bundled with Node's ICU.
 *
 * Model
 * - Opening hours are wall-clock intervals per weekday. An instant is open when the local
 *   wall-clock time of that instant (in `time_zone`) falls inside an interval, half-open
 *   `[open, close)`, at minute precision. Consequences on daylight-saving days, by design:
 *   a wall-clock time that does not exist (Berlin 2026-03-29 02:00–02:59) is never reached,
 *   so an interval inside the gap is closed that day and 01:00–03:00 lasts one real hour;
 *   a wall-clock time that happens twice (Berlin 2026-10-25 02:00–02:59) is open both times.
 * - `close` earlier than `open` runs past midnight: 22:00–02:00 on Monday covers Monday
 *   22:00–24:00 and Tuesday 00:00–02:00. `close` "24:00" is the end of the day. `open` equal
 *   to `close` is rejected as meaningless (write 00:00–24:00 for a whole day).
 * - Custom away windows are local wall-clock times converted to instants: an ambiguous
 *   time (in the repeated hour) takes the earlier instant, and a non-existent time (in the
 *   gap) is shifted forward by the length of the gap (02:30 → 03:30 in Berlin). This is
 *   Temporal's `disambiguation: 'compatible'` and what java.time does. A window is `[start, end)`.
 *
 * The functions take values parsed by the schemas below; an unknown zone makes them throw the
 * engine's RangeError.
 */
import { z } from 'zod';

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export const MAX_INTERVALS_PER_DAY = 8;
export const MAX_AWAY_WINDOWS = 50;

const DAY_MS = 86_400_000;
const MINUTES_PER_DAY = 1440;

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/;
const LOCAL_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T([01]\d|2[0-3]):([0-5]\d)$/;

/**
 * Accepts what `Intl` accepts as a zone name (so aliases like "Asia/Calcutta" and canonical
 * names like "Asia/Kolkata" both pass, even where ICU lists only one of them in
 * `Intl.supportedValuesOf`). Offset strings such as "+05:30" are refused although some
 * engines accept them: a fixed offset is not a place and would silently ignore DST.
 */
export function isValidTimeZone(timeZone: string): boolean {
  if (!/^[A-Za-z]/.test(timeZone)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    // A RangeError is the engine's only signal for an unknown zone; nothing to rethrow.
    return false;
  }
}

const timeZone = z
  .string()
  .max(64)
  .refine(isValidTimeZone, { message: 'unknown time zone; expected an IANA name such as "Europe/Berlin"' });

const openTime = z.string().regex(HHMM, { message: 'expected "HH:MM" in 24-hour time (00:00–23:59)' });
const closeTime = z.string().refine((value) => value === '24:00' || HHMM.test(value), {
  message: 'expected "HH:MM" in 24-hour time (00:00–24:00)',
});

export const Interval = z
  .strictObject({ open: openTime, close: closeTime })
  .refine((interval) => interval.open !== interval.close, {
    message: 'open and close are equal; use "00:00"–"24:00" for a whole day',
    path: ['close'],
  });
export type Interval = z.infer<typeof Interval>;

const dayIntervals = z.array(Interval).max(MAX_INTERVALS_PER_DAY);

export const OpeningHours = z
  .strictObject({
    time_zone: timeZone,
    days: z.strictObject({
      mon: dayIntervals.optional(),
      tue: dayIntervals.optional(),
      wed: dayIntervals.optional(),
      thu: dayIntervals.optional(),
      fri: dayIntervals.optional(),
      sat: dayIntervals.optional(),
      sun: dayIntervals.optional(),
    }),
  })
  .superRefine((hours, ctx) => {
    for (const issue of findOverlaps(hours.days)) {
      ctx.addIssue({ code: 'custom', message: issue.message, path: ['days', ...issue.path] });
    }
  });
export type OpeningHours = z.infer<typeof OpeningHours>;

const localDateTime = z.string().refine((value) => parseLocalDateTime(value) !== undefined, {
  message: 'expected a local date and time "YYYY-MM-DDTHH:MM" that exists on the calendar',
});

export const AwaySchedule = z.discriminatedUnion('mode', [
  z.strictObject({ mode: z.literal('always') }),
  z.strictObject({ mode: z.literal('outside_hours') }),
  z
    .strictObject({
      mode: z.literal('custom'),
      time_zone: timeZone,
      // Empty is allowed: a schedule whose windows were all removed is simply never away.
      windows: z.array(z.strictObject({ start: localDateTime, end: localDateTime })).max(MAX_AWAY_WINDOWS),
    })
    .superRefine((schedule, ctx) => {
      if (!isValidTimeZone(schedule.time_zone)) return;
      schedule.windows.forEach((window, index) => {
        const range = windowInstants(schedule.time_zone, window);
        // Compared as instants, not strings: 02:30–03:15 on a spring-forward day in Berlin
        // looks ordered but starts at 03:30 after the shift.
        if (range && range.end <= range.start) {
          ctx.addIssue({
            code: 'custom',
            message: 'end must be after start (compared as instants in the time zone)',
            path: ['windows', index, 'end'],
          });
        }
      });
    }),
]);
export type AwaySchedule = z.infer<typeof AwaySchedule>;

/** Local wall-clock fields of an instant; `weekday` is 0 for Monday … 6 for Sunday. */
export interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  weekday: number;
  /** Offset from UTC in milliseconds (local = instant + offset), e.g. +5.5 h for Asia/Kolkata. */
  offsetMs: number;
}

// Building a DateTimeFormat costs tens of microseconds, `formatToParts` with one about three;
// keep one per zone. This memo is the module's only state: it never changes an answer, the set
// of zones in use is small (one per business), and the cap guards against arbitrary names.
const formatters = new Map<string, Intl.DateTimeFormat>();
const MAX_CACHED_FORMATTERS = 512;

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    if (formatters.size >= MAX_CACHED_FORMATTERS) formatters.clear();
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** Wall-clock fields of `at` (epoch ms) in `timeZone`. Throws a RangeError for an unknown zone. */
export function localParts(timeZone: string, at: number): LocalParts {
  let year = 0;
  let month = 0;
  let day = 0;
  let hour = 0;
  let minute = 0;
  let second = 0;
  for (const part of formatterFor(timeZone).formatToParts(at)) {
    switch (part.type) {
      case 'year':
        year = Number(part.value);
        break;
      case 'month':
        month = Number(part.value);
        break;
      case 'day':
        day = Number(part.value);
        break;
      case 'hour':
        hour = Number(part.value);
        break;
      case 'minute':
        minute = Number(part.value);
        break;
      case 'second':
        second = Number(part.value);
        break;
    }
  }
  const wall = Date.UTC(year, month - 1, day, hour, minute, second);
  // 1970-01-01 was a Thursday (3 when Monday is 0).
  const weekday = (((Math.floor(wall / DAY_MS) + 3) % 7) + 7) % 7;
  return { year, month, day, hour, minute, second, weekday, offsetMs: wall - Math.floor(at / 1000) * 1000 };
}

/** Whether the business is open at `at` (epoch ms). Intervals are `[open, close)`, see the header. */
export function isOpenAt(hours: OpeningHours, at: number): boolean {
  const local = localParts(hours.time_zone, at);
  const minute = local.hour * 60 + local.minute;
  const today = hours.days[WEEKDAYS[local.weekday]!] ?? [];
  const yesterday = hours.days[WEEKDAYS[(local.weekday + 6) % 7]!] ?? [];
  for (const interval of today) {
    const { open, close } = minutesOf(interval);
    if (open < close ? open <= minute && minute < close : minute >= open) return true;
  }
  for (const interval of yesterday) {
    const { open, close } = minutesOf(interval);
    if (close < open && minute < close) return true;
  }
  return false;
}

/**
 * Whether automations should answer as "away" at `at`. `outside_hours` without configured
 * opening hours is never away: no hours means we know nothing, and an away reply to every
 * message would be worse than none.
 */
export function isAwayAt(schedule: AwaySchedule, hours: OpeningHours | undefined, at: number): boolean {
  switch (schedule.mode) {
    case 'always':
      return true;
    case 'outside_hours':
      return hours !== undefined && !isOpenAt(hours, at);
    case 'custom': {
      if (schedule.windows.length === 0) return false;
      const wallAt = at + localParts(schedule.time_zone, at).offsetMs;
      return schedule.windows.some((window) => {
        const start = parseLocalDateTime(window.start);
        const end = parseLocalDateTime(window.end);
        if (start === undefined || end === undefined) return false;
        return (
          reached(schedule.time_zone, at, wallAt, start) && !reached(schedule.time_zone, at, wallAt, end)
        );
      });
    }
  }
}

// Real UTC offsets lie within -12 h … +14 h, so two of them differ by at most 26 hours.
const FAR_MS = 2 * DAY_MS;

/**
 * Whether `at` (whose wall-clock time is `wallAt`) is at or after the instant the wall clock
 * shows `wall`. When the two wall-clock times are further apart than any offset difference, the
 * answer needs no zone lookup; only boundaries near `at` are converted exactly. A 50-window
 * schedule then costs one zone lookup plus a few per window near `at`, not a few per window.
 */
function reached(timeZone: string, at: number, wallAt: number, wall: number): boolean {
  if (wallAt - wall > FAR_MS) return true;
  if (wall - wallAt > FAR_MS) return false;
  return at >= localToInstant(timeZone, wall);
}

/**
 * The instant at which the wall clock in `timeZone` shows `wall` (naive epoch ms, i.e. the
 * local fields read as if they were UTC). Ambiguous → earlier instant; non-existent → shifted
 * forward by the gap. Assumes at most one offset change within a day of `wall`, which holds for
 * every zone in the tz database.
 */
export function localToInstant(timeZone: string, wall: number): number {
  const offsetBefore = localParts(timeZone, wall - DAY_MS).offsetMs;
  const offsetAfter = localParts(timeZone, wall + DAY_MS).offsetMs;
  // No change of offset nearby, as on all but a few days a year: the answer is unique.
  if (offsetBefore === offsetAfter) return wall - offsetBefore;
  const candidates = [offsetBefore, offsetAfter]
    .map((offset) => wall - offset)
    .filter((instant) => localParts(timeZone, instant).offsetMs === wall - instant)
    .sort((a, b) => a - b);
  // In a gap neither offset reproduces `wall`; reading it with the offset in force before the
  // change lands the same distance past the gap as `wall` is past its start.
  return candidates[0] ?? wall - offsetBefore;
}

function windowInstants(
  timeZone: string,
  window: { start: string; end: string },
): { start: number; end: number } | undefined {
  const start = parseLocalDateTime(window.start);
  const end = parseLocalDateTime(window.end);
  if (start === undefined || end === undefined) return undefined;
  return { start: localToInstant(timeZone, start), end: localToInstant(timeZone, end) };
}

/** "YYYY-MM-DDTHH:MM" → naive epoch ms, or undefined when malformed or not a calendar date. */
function parseLocalDateTime(value: string): number | undefined {
  const match = LOCAL_DATE_TIME.exec(value);
  if (!match) return undefined;
  const [year, month, day, hour, minute] = match.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const wall = Date.UTC(year, month - 1, day, hour, minute);
  const date = new Date(wall);
  // Date.UTC rolls 2026-02-30 over to March 2; a round trip catches dates that do not exist.
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) {
    return undefined;
  }
  return wall;
}

function toMinutes(hhmm: string): number {
  return Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
}

function minutesOf(interval: Interval): { open: number; close: number } {
  return { open: toMinutes(interval.open), close: toMinutes(interval.close) };
}

/**
 * Overlap check over the week as one circle of minutes, so that an overnight interval also
 * collides with the next day's early intervals (Monday 22:00–02:00 vs Tuesday 01:00–05:00) and
 * Sunday night wraps into Monday. Touching intervals (09:00–12:00, 12:00–13:00) are fine.
 * The issue is reported on the second interval of the pair in listing order (Monday first).
 */
function findOverlaps(days: OpeningHours['days']): { path: (string | number)[]; message: string }[] {
  type Span = { day: Weekday; index: number; start: number; end: number; label: string };
  const spans: Span[] = [];
  const week = 7 * MINUTES_PER_DAY;
  WEEKDAYS.forEach((day, dayIndex) => {
    (days[day] ?? []).forEach((interval, index) => {
      // Skip malformed intervals; their own issues are already reported.
      if (!HHMM.test(interval.open) || (interval.close !== '24:00' && !HHMM.test(interval.close))) return;
      const { open, close } = minutesOf(interval);
      const start = dayIndex * MINUTES_PER_DAY + open;
      const end = dayIndex * MINUTES_PER_DAY + (close < open ? close + MINUTES_PER_DAY : close);
      spans.push({ day, index, start, end, label: `${day} ${interval.open}–${interval.close}` });
    });
  });
  const issues: { path: (string | number)[]; message: string }[] = [];
  for (let i = 0; i < spans.length; i++) {
    for (let j = i + 1; j < spans.length; j++) {
      const a = spans[i]!;
      const b = spans[j]!;
      // Spans are listed Monday first, so only a (earlier) shifted one week on can meet a
      // Sunday-night b that runs into Monday.
      const overlaps = [0, week].some((shift) => a.start + shift < b.end && b.start < a.end + shift);
      if (overlaps) issues.push({ path: [b.day, b.index], message: `overlaps ${a.label}` });
    }
  }
  return issues;
}
