import { describe, expect, it } from 'vitest';
import { dayIndexOf, localDays, parseDate } from './stats.days.js';

const iso = (ms: number) => new Date(ms).toISOString();
const date = (s: string) => {
  const wall = parseDate(s);
  if (wall === undefined) throw new Error(`bad date ${s}`);
  return wall;
};
const hours = (d: { start: number; end: number }) => (d.end - d.start) / 3_600_000;

describe('local days of a time zone', () => {
  it('parses calendar dates only', () => {
    expect(parseDate('2026-03-29')).toBe(Date.UTC(2026, 2, 29));
    expect(parseDate('2026-02-29')).toBeUndefined();
    expect(parseDate('2026-13-01')).toBeUndefined();
    expect(parseDate('2026-3-1')).toBeUndefined();
  });

  it('makes Berlin’s spring-forward day 23 hours and its fall-back day 25', () => {
    const spring = localDays('Europe/Berlin', date('2026-03-28'), date('2026-03-30'));
    expect(spring.map((d) => [d.date, iso(d.start), hours(d)])).toEqual([
      ['2026-03-28', '2026-03-27T23:00:00.000Z', 24],
      ['2026-03-29', '2026-03-28T23:00:00.000Z', 23],
      ['2026-03-30', '2026-03-29T22:00:00.000Z', 24],
    ]);
    const autumn = localDays('Europe/Berlin', date('2026-10-25'), date('2026-10-25'));
    expect(autumn.map((d) => [iso(d.start), iso(d.end), hours(d)])).toEqual([
      ['2026-10-24T22:00:00.000Z', '2026-10-25T23:00:00.000Z', 25],
    ]);
  });

  it('starts a day at the jump when its midnight does not exist (Santiago)', () => {
    // Chile moves its clocks at midnight: 2026-09-06 00:00 → 01:00, and 2026-04-05 00:00 → 04-04 23:00.
    const [gap] = localDays('America/Santiago', date('2026-09-06'), date('2026-09-06'));
    expect(gap && [iso(gap.start), hours(gap)]).toEqual(['2026-09-06T04:00:00.000Z', 23]);
    const [overlap] = localDays('America/Santiago', date('2026-04-04'), date('2026-04-04'));
    expect(overlap && [iso(overlap.start), iso(overlap.end), hours(overlap)]).toEqual([
      '2026-04-04T03:00:00.000Z',
      '2026-04-05T04:00:00.000Z',
      25,
    ]);
  });

  it('handles zones off the hour and finds the day of an instant', () => {
    const days = localDays('Asia/Kathmandu', date('2026-01-01'), date('2026-01-03'));
    expect(iso(days[0]?.start ?? 0)).toBe('2025-12-31T18:15:00.000Z');
    expect(dayIndexOf(days, Date.parse('2025-12-31T18:14:59.999Z'))).toBe(-1);
    expect(dayIndexOf(days, Date.parse('2025-12-31T18:15:00.000Z'))).toBe(0);
    expect(dayIndexOf(days, Date.parse('2026-01-02T18:14:59.999Z'))).toBe(1);
    expect(dayIndexOf(days, Date.parse('2026-01-02T18:15:00.000Z'))).toBe(2);
    expect(dayIndexOf(days, Date.parse('2026-01-03T18:15:00.000Z'))).toBe(-1);
  });
});
