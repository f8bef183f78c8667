/**
 * The event bus that carries events between modules and, in a cluster, between nodes.
 * Handlers run synchronously in publish order, so a subscriber sees one channel's events in
 * the order they were published (delivery relies on this for per-device ordering).
 * The embedded default is in-process; a Redis implementation serves the cluster mode.
 */
export type BusHandler = (message: unknown) => void;

export interface Bus {
  publish(channel: string, message: unknown): void;
  subscribe(channel: string, handler: BusHandler): () => void;
  close(): Promise<void>;
}

export function createMemoryBus(onHandlerError: (e: unknown) => void): Bus {
  const channels = new Map<string, Set<BusHandler>>();
  return {
    publish(channel, message) {
      const handlers = channels.get(channel);
      if (!handlers) return;
      for (const handler of handlers) {
        try {
          handler(message);
        } catch (e: unknown) {
          // One broken subscriber must not stop the others from hearing the event.
          onHandlerError(e);
        }
      }
    },
    subscribe(channel, handler) {
      let handlers = channels.get(channel);
      if (!handlers) {
        handlers = new Set();
        channels.set(channel, handlers);
      }
      handlers.add(handler);
      return () => {
        const set = channels.get(channel);
        if (!set) return;
        set.delete(handler);
        if (set.size === 0) channels.delete(channel);
      };
    },
    async close() {
      channels.clear();
    },
  };
}
