/**
 * A bounded set that forgets its oldest entries: the SDK's memory of recently handled message ids.
 * Seq numbers already catch redelivery of one device's queue; this catches the same message id
 * arriving under a new seq (e.g. a server re-enqueue), at O(1) per operation via Map order.
 */
export interface LruSet {
  has(key: string): boolean;
  /** Adds or refreshes `key`, evicting the least recently added keys beyond capacity. */
  add(key: string): void;
  readonly size: number;
}

export function createLruSet(capacity: number): LruSet {
  const keys = new Map<string, true>();
  return {
    has: (key) => keys.has(key),
    add(key) {
      if (capacity <= 0) return;
      keys.delete(key);
      keys.set(key, true);
      while (keys.size > capacity) {
        const oldest = keys.keys().next();
        if (oldest.done) break;
        keys.delete(oldest.value);
      }
    },
    get size() {
      return keys.size;
    },
  };
}
