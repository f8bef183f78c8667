/**
 * The people a business reached with business-initiated messages in the rolling 24 hours,
 * in memory. Model: each person's last counted message; a person counts while that is less
 * than 24 h old, so a second message within the window does not count again. The Map is
 * kept in order of those times (a person counted again moves to the end), so expiry only
 * ever looks at the front: O(1) amortised per message.
 */
import { DAY } from './limits.policy.js';

export function createReachWindow(spanMs = DAY) {
  let last = new Map<string, number>();
  let newest = Number.NEGATIVE_INFINITY;

  function expire(now: number): void {
    for (const [person, at] of last) {
      if (now - at < spanMs) break;
      last.delete(person);
    }
  }

  /** Rebuilds the order from scratch: only for times older than the newest (clock skew, reloads). */
  function rebuild(entries: Iterable<[string, number]>): void {
    const sorted = [...entries].sort((a, b) => a[1] - b[1]);
    last = new Map(sorted);
    newest = sorted.length > 0 ? (sorted[sorted.length - 1]?.[1] ?? newest) : newest;
  }

  return {
    /** Whether the person counts at `now` (reached in the last 24 h). */
    has(person: string, now: number): boolean {
      expire(now);
      return last.has(person);
    },
    /** How many unique people count at `now`. */
    count(now: number): number {
      expire(now);
      return last.size;
    },
    /** Counts a message to the person at `at`. */
    add(person: string, at: number): void {
      const before = last.get(person);
      if (before !== undefined && before >= at) return;
      if (at >= newest) {
        last.delete(person);
        last.set(person, at);
        newest = at;
      } else {
        const entries: [string, number][] = [...last.entries()].filter(([p]) => p !== person);
        entries.push([person, at]);
        rebuild(entries);
      }
    },
    /** Merges many (person, time) pairs at once (a reload from storage). */
    merge(rows: Iterable<{ person: string; at: number }>): void {
      const all = new Map(last);
      for (const { person, at } of rows) {
        const before = all.get(person);
        if (before === undefined || before < at) all.set(person, at);
      }
      rebuild(all.entries());
    },
  };
}

export type ReachWindow = ReturnType<typeof createReachWindow>;
