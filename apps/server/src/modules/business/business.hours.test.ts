import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AwaySchedule,
  isAwayAt,
  isOpenAt,
  localParts,
  localToInstant,
  OpeningHours,
  WEEKDAYS,
} from './business.hours.js';

const at = (iso: string) => {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new Error(`bad test instant ${iso}`);
  return ms;
};
const hours = (input: unknown) => OpeningHours.parse(input);
const away = (input: unknown) => AwaySchedule.parse(input);
const MINUTE = 60_000;

/** Instants from `from` (inclusive) to `to` (exclusive) at which the predicate holds, in minutes. */
function openMinutes(predicate: (ms: number) => boolean, from: string, to: string): number {
  let count = 0;
  for (let ms = at(from); ms < at(to); ms += MINUTE) if (predicate(ms)) count++;
  return count;
}

function issuePaths(result: { success: boolean; error?: { issues: { path: PropertyKey[] }[] } }) {
  expect(result.success).toBe(false);
  return (result.error?.issues ?? []).map((issue) => issue.path);
}

describe('isOpenAt', () => {
  it('opens and closes on the minute in UTC, on the configured days only', () => {
    const h = hours({ time_zone: 'UTC', days: { mon: [{ open: '09:00', close: '17:00' }], tue: [] } });
    // 2026-03-30 is a Monday.
    expect(isOpenAt(h, at('2026-03-30T08:59:59Z'))).toBe(false);
    expect(isOpenAt(h, at('2026-03-30T09:00:00Z'))).toBe(true);
    expect(isOpenAt(h, at('2026-03-30T16:59:59Z'))).toBe(true);
    expect(isOpenAt(h, at('2026-03-30T17:00:00Z'))).toBe(false);
    expect(isOpenAt(h, at('2026-03-31T10:00:00Z'))).toBe(false);
    expect(isOpenAt(h, at('2026-03-29T10:00:00Z'))).toBe(false);
  });

  it('treats 24:00 as the end of the day', () => {
    const h = hours({ time_zone: 'UTC', days: { fri: [{ open: '18:00', close: '24:00' }] } });
    expect(isOpenAt(h, at('2026-04-03T23:59:59Z'))).toBe(true);
    expect(isOpenAt(h, at('2026-04-04T00:00:00Z'))).toBe(false);
    const allDay = hours({ time_zone: 'UTC', days: { sat: [{ open: '00:00', close: '24:00' }] } });
    expect(openMinutes((ms) => isOpenAt(allDay, ms), '2026-04-03T00:00Z', '2026-04-06T00:00Z')).toBe(1440);
  });

  it('runs an interval whose close is before its open past midnight', () => {
    const h = hours({ time_zone: 'UTC', days: { mon: [{ open: '22:00', close: '02:00' }] } });
    expect(isOpenAt(h, at('2026-03-30T21:59Z'))).toBe(false);
    expect(isOpenAt(h, at('2026-03-30T23:00Z'))).toBe(true);
    expect(isOpenAt(h, at('2026-03-31T01:59Z'))).toBe(true);
    expect(isOpenAt(h, at('2026-03-31T02:00Z'))).toBe(false);
    // The spill belongs to Monday only: Tuesday night is closed.
    expect(isOpenAt(h, at('2026-03-31T23:00Z'))).toBe(false);
  });

  it('wraps Sunday night into Monday morning', () => {
    const h = hours({ time_zone: 'UTC', days: { sun: [{ open: '23:00', close: '01:00' }] } });
    expect(isOpenAt(h, at('2026-03-30T00:30Z'))).toBe(true);
    expect(isOpenAt(h, at('2026-03-30T01:00Z'))).toBe(false);
  });

  it('evaluates in the zone, including half- and three-quarter-hour offsets', () => {
    const kolkata = hours({ time_zone: 'Asia/Kolkata', days: { mon: [{ open: '09:00', close: '17:30' }] } });
    expect(isOpenAt(kolkata, at('2026-03-30T03:29Z'))).toBe(false);
    expect(isOpenAt(kolkata, at('2026-03-30T03:30Z'))).toBe(true);
    expect(isOpenAt(kolkata, at('2026-03-30T11:59Z'))).toBe(true);
    expect(isOpenAt(kolkata, at('2026-03-30T12:00Z'))).toBe(false);
    expect(localParts('Asia/Kolkata', at('2026-03-30T03:30:59.999Z')).offsetMs).toBe(5.5 * 3_600_000);

    // Chatham is +13:45 in its summer (January) and +12:45 in winter (July).
    const chatham = hours({
      time_zone: 'Pacific/Chatham',
      days: { mon: [{ open: '09:00', close: '10:00' }] },
    });
    expect(isOpenAt(chatham, at('2026-01-04T19:14Z'))).toBe(false);
    expect(isOpenAt(chatham, at('2026-01-04T19:15Z'))).toBe(true);
    expect(isOpenAt(chatham, at('2026-07-05T20:14Z'))).toBe(false);
    expect(isOpenAt(chatham, at('2026-07-05T20:15Z'))).toBe(true);
    expect(isOpenAt(chatham, at('2026-07-05T21:15Z'))).toBe(false);
  });

  it('follows wall-clock time across the Berlin spring-forward gap (2026-03-29)', () => {
    const h = hours({
      time_zone: 'Europe/Berlin',
      days: {
        sun: [
          { open: '01:00', close: '02:00' },
          { open: '02:15', close: '02:45' },
          { open: '02:45', close: '04:00' },
        ],
      },
    });
    // 01:00 CET is 00:00Z; at 01:00Z clocks jump from 02:00 CET to 03:00 CEST.
    expect(isOpenAt(h, at('2026-03-29T00:59Z'))).toBe(true);
    // 02:15–02:45 never happens that day; 02:45–04:00 opens at the jump, for one real hour.
    expect(isOpenAt(h, at('2026-03-29T01:00Z'))).toBe(true);
    expect(localParts('Europe/Berlin', at('2026-03-29T01:00Z'))).toMatchObject({ hour: 3, minute: 0 });
    expect(isOpenAt(h, at('2026-03-29T02:00Z'))).toBe(false);
    expect(openMinutes((ms) => isOpenAt(h, ms), '2026-03-28T23:00Z', '2026-03-29T03:00Z')).toBe(60 + 60);
  });

  it('is open both times through the repeated hour of the Berlin fall-back (2026-10-25)', () => {
    const h = hours({ time_zone: 'Europe/Berlin', days: { sun: [{ open: '02:00', close: '03:00' }] } });
    // 02:30 CEST is 00:30Z, 02:30 CET is 01:30Z.
    expect(isOpenAt(h, at('2026-10-25T00:30Z'))).toBe(true);
    expect(isOpenAt(h, at('2026-10-25T01:30Z'))).toBe(true);
    expect(isOpenAt(h, at('2026-10-25T02:00Z'))).toBe(false);
    expect(openMinutes((ms) => isOpenAt(h, ms), '2026-10-24T22:00Z', '2026-10-25T04:00Z')).toBe(120);
  });

  it('follows both New York transitions (2026-03-08 and 2026-11-01)', () => {
    const h = hours({
      time_zone: 'America/New_York',
      days: { sun: [{ open: '01:00', close: '03:00' }], mon: [{ open: '09:00', close: '17:00' }] },
    });
    // Spring: 01:00 EST = 06:00Z, and at 07:00Z 02:00 EST becomes 03:00 EDT: one real hour.
    expect(openMinutes((ms) => isOpenAt(h, ms), '2026-03-08T04:00Z', '2026-03-08T10:00Z')).toBe(60);
    // Monday after: 09:00 EDT is 13:00Z.
    expect(isOpenAt(h, at('2026-03-09T12:59Z'))).toBe(false);
    expect(isOpenAt(h, at('2026-03-09T13:00Z'))).toBe(true);
    // Autumn: 01:00 EDT = 05:00Z; 01:00–02:00 happens twice; 03:00 EST = 08:00Z: three real hours.
    expect(openMinutes((ms) => isOpenAt(h, ms), '2026-11-01T03:00Z', '2026-11-01T10:00Z')).toBe(180);
    expect(isOpenAt(h, at('2026-11-02T13:59Z'))).toBe(false);
    expect(isOpenAt(h, at('2026-11-02T14:00Z'))).toBe(true);
  });

  it('equals the same hours in UTC read at the local wall-clock time (property)', () => {
    const zones = [
      'Europe/Berlin',
      'America/New_York',
      'Asia/Kolkata',
      'Pacific/Chatham',
      'Australia/Lord_Howe',
      'America/St_Johns',
    ];
    const clock = (minutes: number) =>
      `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
    const day = fc
      .uniqueArray(fc.integer({ min: 0, max: 1440 }), { maxLength: 6 })
      .chain((cuts) => fc.tuple(fc.constant([...cuts].sort((a, b) => a - b)), fc.boolean()))
      .map(([cuts, overnightLast]) => {
        const intervals: { open: string; close: string }[] = [];
        for (let i = 0; i + 1 < cuts.length; i += 2) {
          intervals.push({ open: clock(cuts[i]!), close: clock(cuts[i + 1]!) });
        }
        const last = intervals.at(-1);
        if (overnightLast && last && last.close !== '24:00')
          intervals.push({ open: last.close, close: '00:30' });
        return intervals;
      });
    const week = fc.record(Object.fromEntries(WEEKDAYS.map((d) => [d, day])));
    fc.assert(
      fc.property(
        fc.constantFrom(...zones),
        week,
        fc.integer({ min: at('2000-01-01T00:00Z'), max: at('2040-01-01T00:00Z') }),
        (zone, days, instant) => {
          const inZone = OpeningHours.safeParse({ time_zone: zone, days });
          fc.pre(inZone.success);
          if (!inZone.success) return;
          const offset = localParts(zone, instant).offsetMs;
          const inUtc = { ...inZone.data, time_zone: 'UTC' };
          expect(isOpenAt(inZone.data, instant)).toBe(isOpenAt(inUtc, instant + offset));
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('localToInstant', () => {
  const wall = (local: string) => at(`${local}Z`);

  it('takes the earlier instant for an ambiguous time and shifts a missing time forward', () => {
    expect(localToInstant('Europe/Berlin', wall('2026-10-25T02:30'))).toBe(at('2026-10-25T00:30Z'));
    expect(localToInstant('Europe/Berlin', wall('2026-03-29T02:30'))).toBe(at('2026-03-29T01:30Z'));
    expect(localToInstant('America/New_York', wall('2026-11-01T01:30'))).toBe(at('2026-11-01T05:30Z'));
    expect(localToInstant('America/New_York', wall('2026-03-08T02:30'))).toBe(at('2026-03-08T07:30Z'));
    expect(localToInstant('Pacific/Chatham', wall('2026-01-05T09:00'))).toBe(at('2026-01-04T19:15Z'));
  });

  it('round-trips every existing wall-clock time (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('Europe/Berlin', 'America/New_York', 'Pacific/Chatham', 'Australia/Lord_Howe'),
        fc.integer({ min: at('2000-01-01T00:00Z') / MINUTE, max: at('2040-01-01T00:00Z') / MINUTE }),
        (zone, minutes) => {
          const instant = minutes * MINUTE;
          const local = instant + localParts(zone, instant).offsetMs;
          const back = localToInstant(zone, local);
          // Equal, or the earlier of two instants showing the same wall-clock time.
          expect(back).toBeLessThanOrEqual(instant);
          expect(back + localParts(zone, back).offsetMs).toBe(local);
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('isAwayAt', () => {
  const open9to5 = hours({
    time_zone: 'Europe/Berlin',
    days: Object.fromEntries(WEEKDAYS.map((d) => [d, [{ open: '09:00', close: '17:00' }]])),
  });

  it('is always away in mode always, and outside opening hours in mode outside_hours', () => {
    expect(isAwayAt(away({ mode: 'always' }), undefined, at('2026-03-30T10:00Z'))).toBe(true);
    const outside = away({ mode: 'outside_hours' });
    expect(isAwayAt(outside, open9to5, at('2026-03-30T10:00Z'))).toBe(false);
    expect(isAwayAt(outside, open9to5, at('2026-03-30T20:00Z'))).toBe(true);
  });

  it('is never away outside hours when no hours are configured', () => {
    expect(isAwayAt(away({ mode: 'outside_hours' }), undefined, at('2026-03-30T03:00Z'))).toBe(false);
  });

  it('is away inside custom windows, [start, end), in the schedule zone', () => {
    const s = away({
      mode: 'custom',
      time_zone: 'America/New_York',
      windows: [
        // Across the spring-forward night: starts in EST (-5), ends in EDT (-4).
        { start: '2026-03-07T18:00', end: '2026-03-09T09:00' },
        { start: '2026-12-24T12:00', end: '2026-12-27T00:00' },
      ],
    });
    expect(isAwayAt(s, undefined, at('2026-03-07T22:59Z'))).toBe(false);
    expect(isAwayAt(s, undefined, at('2026-03-07T23:00Z'))).toBe(true);
    expect(isAwayAt(s, undefined, at('2026-03-09T12:59Z'))).toBe(true);
    expect(isAwayAt(s, undefined, at('2026-03-09T13:00Z'))).toBe(false);
    expect(isAwayAt(s, undefined, at('2026-12-25T12:00Z'))).toBe(true);
    expect(isAwayAt(s, undefined, at('2026-12-27T04:59Z'))).toBe(true);
    expect(isAwayAt(s, undefined, at('2026-12-27T05:00Z'))).toBe(false);
    expect(isAwayAt(away({ mode: 'custom', time_zone: 'UTC', windows: [] }), undefined, 0)).toBe(false);
  });

  it('converts custom windows across Berlin transitions as documented', () => {
    // Starts in the gap: 02:30 does not exist on 2026-03-29 and means 03:30 CEST (01:30Z).
    const spring = away({
      mode: 'custom',
      time_zone: 'Europe/Berlin',
      windows: [{ start: '2026-03-29T02:30', end: '2026-03-29T05:00' }],
    });
    expect(isAwayAt(spring, undefined, at('2026-03-29T01:29Z'))).toBe(false);
    expect(isAwayAt(spring, undefined, at('2026-03-29T01:30Z'))).toBe(true);
    expect(isAwayAt(spring, undefined, at('2026-03-29T02:59Z'))).toBe(true);
    expect(isAwayAt(spring, undefined, at('2026-03-29T03:00Z'))).toBe(false);

    // Ends in the repeated hour: 02:30 is read as its first occurrence (CEST, 00:30Z), so the
    // second pass through 02:00–02:30 (CET) is not away.
    const autumn = away({
      mode: 'custom',
      time_zone: 'Europe/Berlin',
      windows: [{ start: '2026-10-25T01:00', end: '2026-10-25T02:30' }],
    });
    expect(isAwayAt(autumn, undefined, at('2026-10-24T22:59Z'))).toBe(false);
    expect(isAwayAt(autumn, undefined, at('2026-10-24T23:00Z'))).toBe(true);
    expect(isAwayAt(autumn, undefined, at('2026-10-25T00:29Z'))).toBe(true);
    expect(isAwayAt(autumn, undefined, at('2026-10-25T00:30Z'))).toBe(false);
    expect(isAwayAt(autumn, undefined, at('2026-10-25T01:15Z'))).toBe(false);
  });
});

describe('isAwayAt property', () => {
  it('agrees with converting every window boundary exactly', () => {
    const wallOf = (ms: number) => new Date(ms).toISOString().slice(0, 16);
    // March and April 2026 hold spring transitions in the north and autumn ones in the south.
    const base = at('2026-03-01T00:00Z');
    fc.assert(
      fc.property(
        fc.constantFrom('Europe/Berlin', 'America/New_York', 'Pacific/Chatham', 'Australia/Lord_Howe'),
        fc.array(
          fc.tuple(fc.integer({ min: 0, max: 61 * 24 * 4 }), fc.integer({ min: 1, max: 4 * 24 * 4 })),
          { maxLength: 10 },
        ),
        fc.integer({ min: 0, max: 61 * 24 * 60 }),
        (zone, quarters, minute) => {
          const windows = quarters.map(([start, length]) => ({
            start: wallOf(base + start * 15 * MINUTE),
            end: wallOf(base + (start + length) * 15 * MINUTE),
          }));
          const parsed = AwaySchedule.safeParse({ mode: 'custom', time_zone: zone, windows });
          fc.pre(parsed.success);
          if (!parsed.success) return;
          const instant = base + minute * MINUTE;
          const expected = windows.some(
            (w) =>
              localToInstant(zone, at(`${w.start}Z`)) <= instant &&
              instant < localToInstant(zone, at(`${w.end}Z`)),
          );
          expect(isAwayAt(parsed.data, undefined, instant)).toBe(expected);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('validation', () => {
  it('rejects an unknown or offset-only time zone at time_zone, and accepts aliases', () => {
    expect(issuePaths(OpeningHours.safeParse({ time_zone: 'Mars/Base', days: {} }))).toEqual([['time_zone']]);
    expect(issuePaths(OpeningHours.safeParse({ time_zone: '+05:30', days: {} }))).toEqual([['time_zone']]);
    expect(
      issuePaths(AwaySchedule.safeParse({ mode: 'custom', time_zone: 'Mars/Base', windows: [] })),
    ).toEqual([['time_zone']]);
    for (const zone of ['UTC', 'Asia/Kolkata', 'Asia/Calcutta', 'Pacific/Chatham']) {
      expect(OpeningHours.safeParse({ time_zone: zone, days: {} }).success).toBe(true);
    }
  });

  it('rejects malformed times at the exact field', () => {
    const result = OpeningHours.safeParse({
      time_zone: 'UTC',
      days: {
        mon: [{ open: '25:00', close: '26:00' }],
        tue: [{ open: '24:00', close: '9:00' }],
        wed: [{ open: '10:00', close: '10:00' }],
      },
    });
    expect(issuePaths(result)).toEqual([
      ['days', 'mon', 0, 'open'],
      ['days', 'mon', 0, 'close'],
      ['days', 'tue', 0, 'open'],
      ['days', 'tue', 0, 'close'],
      ['days', 'wed', 0, 'close'],
    ]);
  });

  it('rejects overlapping intervals on the later one, including overnight spills', () => {
    const sameDay = OpeningHours.safeParse({
      time_zone: 'UTC',
      days: {
        mon: [
          { open: '09:00', close: '12:00' },
          { open: '12:00', close: '13:00' },
          { open: '11:00', close: '12:30' },
        ],
      },
    });
    expect(issuePaths(sameDay)).toEqual([
      ['days', 'mon', 2],
      ['days', 'mon', 2],
    ]);
    expect(sameDay.error?.issues[0]?.message).toBe('overlaps mon 09:00–12:00');

    const spill = OpeningHours.safeParse({
      time_zone: 'UTC',
      days: { mon: [{ open: '22:00', close: '02:00' }], tue: [{ open: '01:00', close: '05:00' }] },
    });
    expect(issuePaths(spill)).toEqual([['days', 'tue', 0]]);

    const wrap = OpeningHours.safeParse({
      time_zone: 'UTC',
      days: { mon: [{ open: '02:00', close: '04:00' }], sun: [{ open: '23:00', close: '03:00' }] },
    });
    expect(issuePaths(wrap)).toEqual([['days', 'sun', 0]]);
  });

  it('limits intervals per day and rejects unknown keys', () => {
    const nine = Array.from({ length: 9 }, (_, i) => ({ open: `0${i}:00`, close: `0${i}:30` }));
    expect(issuePaths(OpeningHours.safeParse({ time_zone: 'UTC', days: { fri: nine } }))).toEqual([
      ['days', 'fri'],
    ]);
    expect(issuePaths(OpeningHours.safeParse({ time_zone: 'UTC', days: { monday: [] } }))).toEqual([
      ['days'],
    ]);
  });

  it('rejects custom windows that end before they start, as instants', () => {
    const result = AwaySchedule.safeParse({
      mode: 'custom',
      time_zone: 'Europe/Berlin',
      windows: [
        { start: '2026-05-01T10:00', end: '2026-05-01T12:00' },
        { start: '2026-05-02T10:00', end: '2026-05-01T12:00' },
        { start: '2026-05-03T10:00', end: '2026-05-03T10:00' },
        // Ordered as text, but 02:30 falls in the gap and becomes 03:30, after 03:15.
        { start: '2026-03-29T02:30', end: '2026-03-29T03:15' },
      ],
    });
    expect(issuePaths(result)).toEqual([
      ['windows', 1, 'end'],
      ['windows', 2, 'end'],
      ['windows', 3, 'end'],
    ]);
  });

  it('rejects malformed or non-existent dates, too many windows, and unknown modes', () => {
    const bad = AwaySchedule.safeParse({
      mode: 'custom',
      time_zone: 'UTC',
      windows: [{ start: '2026-02-30T10:00', end: '2026-03-01 10:00' }],
    });
    expect(issuePaths(bad)).toEqual([
      ['windows', 0, 'start'],
      ['windows', 0, 'end'],
    ]);
    const windows = Array.from({ length: 51 }, () => ({
      start: '2026-01-01T00:00',
      end: '2026-01-02T00:00',
    }));
    expect(issuePaths(AwaySchedule.safeParse({ mode: 'custom', time_zone: 'UTC', windows }))).toEqual([
      ['windows'],
    ]);
    expect(issuePaths(AwaySchedule.safeParse({ mode: 'sometimes' }))).toEqual([['mode']]);
  });
});
