/** A promise with its settle functions, for results that arrive later as frames (Node 20 lacks Promise.withResolvers). */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
  readonly settled: boolean;
}

export function createDeferred<T>(): Deferred<T> {
  let settled = false;
  let settle: { resolve(value: T): void; reject(error: unknown): void } | undefined;
  const promise = new Promise<T>((resolve, reject) => {
    settle = { resolve, reject };
  });
  return {
    promise,
    resolve(value) {
      if (settled) return;
      settled = true;
      settle?.resolve(value);
    },
    reject(error) {
      if (settled) return;
      settled = true;
      settle?.reject(error);
    },
    get settled() {
      return settled;
    },
  };
}

/** Waits for `promise` or `ms`, whichever is first, and clears the timer so it never holds a process open. */
export async function withTimeout(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  try {
    await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Promises that all settle together, e.g. every whenSynced() caller at the next `synced`. */
export function createWaiters() {
  let waiting: Array<Deferred<void>> = [];
  const take = () => {
    const taken = waiting;
    waiting = [];
    return taken;
  };
  return {
    wait(): Promise<void> {
      const waiter = createDeferred<void>();
      waiting.push(waiter);
      return waiter.promise;
    },
    resolveAll(): void {
      for (const waiter of take()) waiter.resolve();
    },
    rejectAll(error: unknown): void {
      for (const waiter of take()) waiter.reject(error);
    },
  };
}
