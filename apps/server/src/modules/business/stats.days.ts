/**
 * Local days of a time zone as UTC instants, for statistics bucketed "per day".
 *
 * Model: the local day `D` in zone `Z` is the half-open interval of instants
 * `[start(D), start(D + 1))`, where `start(D)` is the first instant at which the wall clock in
 * `Z` reads a time on `D`. Usually that is local midnight, so most days are 24 hours; on a
 * daylight-saving day they are 23 or 25 (Berlin 2026-03-29 runs from 2026-03-28T23:00Z to
 * 2026-03-29T22:00Z). Where midnight itself falls in a gap (Santiago 2026-09-06 jumps from
 * 00:00 to 01:00) the day starts when the clock jumps. Consecutive days share their boundary,
 * so every instant of a range belongs to exactly one day.
 *
 * Pure; zone data comes from `Intl` (Node's ICU), as for opening hours.
 */
import { localParts, localToInstant } from './business.hours.js';

const DAY_MS = 86_400_000;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

export interface LocalDay {
  /** `YYYY-MM-DD`. */
  date: string;
  /** Epoch ms of the day's first instant. */
  start: number;
  /** Epoch ms of the next day's first instant (exclusive). */
  end: number;
}

/** `YYYY-MM-DD` → naive epoch ms of its midnight (read as UTC), or undefined if no such date. */
export function parseDate(value: string): number | undefined {
  const match = DATE.exec(value);
  if (!match) return undefined;
  const [year, month, day] = match.slice(1).map(Number) as [number, number, number];
  const wall = Date.UTC(year, month - 1, day);
  const date = new Date(wall);
  // Date.UTC rolls 2026-02-30 over to March 2; the round trip catches dates that do not exist.
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) {
    return undefined;
  }
  return wall;
}

function formatDate(wall: number): string {
  return new Date(wall).toISOString().slice(0, 10);
}

/** The wall clock of `at` in `timeZone`, as naive epoch ms (ms precision). */
function wallOf(timeZone: string, at: number): number {
  const p = localParts(timeZone, at);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) + (((at % 1000) + 1000) % 1000);
}

/** The first instant of the local date whose midnight is `wall` (naive epoch ms). */
export function startOfLocalDay(timeZone: string, wall: number): number {
  const at = localToInstant(timeZone, wall);
  if (wallOf(timeZone, at) === wall) return at;
  // Midnight does not exist (a gap): `at` lies past the jump. The day starts at the jump, the
  // first instant reading this date; a day earlier the clock surely read the previous date.
  let before = at - DAY_MS;
  let after = at;
  while (after - before > 1) {
    const mid = Math.floor((before + after) / 2);
    if (wallOf(timeZone, mid) >= wall) after = mid;
    else before = mid;
  }
  return after;
}

/** The local days `from`..`to` (naive midnights, inclusive) in `timeZone`, in order. */
export function localDays(timeZone: string, from: number, to: number): LocalDay[] {
  const days: LocalDay[] = [];
  let start = startOfLocalDay(timeZone, from);
  for (let wall = from; wall <= to; wall += DAY_MS) {
    const end = startOfLocalDay(timeZone, wall + DAY_MS);
    days.push({ date: formatDate(wall), start, end });
    start = end;
  }
  return days;
}

/** Index of the day containing `at`, or -1 outside the days (binary search; days are sorted). */
export function dayIndexOf(days: readonly LocalDay[], at: number): number {
  let lo = 0;
  let hi = days.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const day = days[mid];
    if (!day) return -1;
    if (at < day.start) hi = mid - 1;
    else if (at >= day.end) lo = mid + 1;
    else return mid;
  }
  return -1;
}
