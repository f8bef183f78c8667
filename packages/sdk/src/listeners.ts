/**
 * A tiny typed listener set, used instead of Node's EventEmitter so the SDK runs in browsers.
 * A listener that throws must not break the SDK's own bookkeeping (it is called from socket
 * callbacks), so its error is rethrown on a fresh microtask, which is how EventTarget reports
 * listener errors too.
 */
export interface Listeners<Args extends unknown[]> {
  add(listener: (...args: Args) => void): () => void;
  emit(...args: Args): void;
  readonly size: number;
}

export function createListeners<Args extends unknown[]>(): Listeners<Args> {
  const set = new Set<(...args: Args) => void>();
  return {
    add(listener) {
      // Wrap so adding the same function twice yields two independent subscriptions.
      const entry = (...args: Args) => listener(...args);
      set.add(entry);
      return () => {
        set.delete(entry);
      };
    },
    emit(...args) {
      for (const listener of [...set]) {
        try {
          listener(...args);
        } catch (error: unknown) {
          queueMicrotask(() => {
            throw error;
          });
        }
      }
    },
    get size() {
      return set.size;
    },
  };
}
