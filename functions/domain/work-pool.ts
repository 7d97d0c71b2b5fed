/**
 * A concurrency pool that does not count waiting as work. At most `concurrency` items run at
 * once, but an item still unfinished after `slowAfterMs` gives its slot up (it goes on waiting,
 * on its own deadline), so a part of the fleet that hangs (a partitioned Availability Zone: every
 * connection accepted, no answer) cannot starve the rest of a probe round. At most `maxWaiting`
 * items wait at once, which bounds open sockets (Lambda allows 1,024 file descriptors); past that,
 * a slow item keeps its slot and the pool degrades to a plain concurrency limit.
 *
 * Hand-written: p-map and p-limit count an item until it settles, which is the behaviour to avoid.
 */

export interface WorkPoolOptions {
  readonly concurrency: number;
  readonly slowAfterMs: number;
  readonly maxWaiting: number;
  /** Told once for each item that gave its slot up (it is still running). */
  readonly onSlow?: (index: number) => void;
}

/** Runs `work` for every item; resolves with the results in item order. `work` must not reject. */
export function runPooled<T, R>(
  items: readonly T[],
  work: (item: T, index: number) => Promise<R>,
  options: WorkPoolOptions,
): Promise<R[]> {
  if (items.length === 0) return Promise.resolve([]);
  const concurrency = Math.max(1, options.concurrency);
  return new Promise((resolve, reject) => {
    const results = new Array<R>(items.length);
    let next = 0;
    let running = 0;
    let waiting = 0;
    let settled = 0;

    const start = (index: number) => {
      running += 1;
      let gaveUpSlot = false;
      let timer: NodeJS.Timeout | undefined;
      const armSlowTimer = () => {
        timer = setTimeout(() => {
          timer = undefined;
          if (waiting >= options.maxWaiting) {
            armSlowTimer();
            return;
          }
          gaveUpSlot = true;
          running -= 1;
          waiting += 1;
          options.onSlow?.(index);
          fill();
        }, options.slowAfterMs);
      };
      armSlowTimer();
      work(items[index] as T, index).then(
        (result) => {
          if (timer !== undefined) clearTimeout(timer);
          results[index] = result;
          if (gaveUpSlot) waiting -= 1;
          else running -= 1;
          settled += 1;
          if (settled === items.length) resolve(results);
          else fill();
        },
        (error: unknown) => {
          if (timer !== undefined) clearTimeout(timer);
          reject(error);
        },
      );
    };

    const fill = () => {
      while (running < concurrency && next < items.length) start(next++);
    };
    fill();
  });
}
