import { describe, expect, it } from 'vitest';
import { createManualClock } from './clock.js';
import { createIds, hashToken } from './ids.js';

describe('ids', () => {
  it('makes prefixed ids that sort by creation time', () => {
    const clock = createManualClock(Date.UTC(2026, 10, 24));
    const ids = createIds(clock);
    const made: string[] = [];
    for (let i = 0; i < 50; i++) {
      made.push(ids.newId('msg'));
      clock.advance(1);
    }
    expect(made.every((id) => /^msg_[0-9A-HJKMNP-TV-Z]{26}$/.test(id))).toBe(true);
    expect([...made].sort()).toEqual(made);
    expect(new Set(made).size).toBe(50);
  });

  it('makes uniform numeric codes and distinct tokens; stores tokens only as hashes', () => {
    const ids = createIds(createManualClock());
    expect(ids.newCode(6)).toMatch(/^\d{6}$/);
    const a = ids.newToken('pdt');
    expect(a).toMatch(/^pdt_[A-Za-z0-9_-]{43}$/);
    expect(ids.newToken('pdt')).not.toBe(a);
    expect(hashToken(a)).not.toContain(a.slice(4));
    expect(hashToken(a)).toBe(hashToken(a));
  });
});
