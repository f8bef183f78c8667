import { describe, expect, it } from 'vitest';
import { createLruSet } from './dedupe.js';

describe('createLruSet', () => {
  it('forgets the oldest keys beyond its capacity', () => {
    const set = createLruSet(3);
    for (const key of ['a', 'b', 'c', 'd']) set.add(key);
    expect(set.has('a')).toBe(false);
    expect(['b', 'c', 'd'].every((k) => set.has(k))).toBe(true);
    expect(set.size).toBe(3);
  });

  it('re-adding a key makes it the newest', () => {
    const set = createLruSet(2);
    set.add('a');
    set.add('b');
    set.add('a');
    set.add('c');
    expect(set.has('a')).toBe(true);
    expect(set.has('b')).toBe(false);
  });

  it('remembers nothing with capacity 0', () => {
    const set = createLruSet(0);
    set.add('a');
    expect(set.has('a')).toBe(false);
  });
});
