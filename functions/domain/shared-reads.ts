/**
 * Requests for the same thing share one read: a request is answered by a read of its key that
 * started at most `maxAgeMs` ago (still in flight, or settled with an answer), else starts its
 * own. A request thus never sees data read more than `maxAgeMs` before it arrived: a drain
 * acknowledged at t reaches every request made after t + `maxAgeMs`, however hot the model. A
 * failed read is shared only with the requests that joined it. `forget` drops everything (this
 * process wrote a snapshot: its own readers see the write at once), and a read started before it
 * is never shared after it. The clock is the process's monotonic one: the bound is on real elapsed
 * time, whatever clock the domain is given.
 *
 * With `refreshAfterMs`, a request that finds the settled read older than that (but within the
 * bound) is answered by it and starts the next read, so a server answering many requests at once
 * has the next read in hand when the bound passes, instead of every request waiting on it. Only
 * for a process that answers requests concurrently (local mode): a Lambda container answers one
 * at a time, and a read started for the next request would often be a read no request needs.
 */
export interface SharedReads<A extends unknown[], T> {
  readonly read: (...args: A) => Promise<T>;
  readonly forget: () => void;
}

export interface SharedReadOptions {
  readonly maxAgeMs: number;
  /** Start the next read once the settled one is this old (below `maxAgeMs`); default: never. */
  readonly refreshAfterMs?: number;
  readonly now?: () => number;
}

interface Read<T> {
  readonly startedAt: number;
  readonly result: Promise<T>;
}

/** A key's newest settled read (what is shared) and its newest read started (maybe in flight). */
interface Entry<T> {
  ready?: Read<T>;
  latest: Read<T>;
}

const SWEEP_ABOVE = 512;

export function sharedReads<A extends unknown[], T>(
  read: (...args: A) => Promise<T>,
  keyOf: (...args: A) => string,
  { maxAgeMs, refreshAfterMs = Number.POSITIVE_INFINITY, now = () => performance.now() }: SharedReadOptions,
): SharedReads<A, T> {
  const reads = new Map<string, Entry<T>>();
  // Bumped by forget: a read of an earlier generation never lands in the map again.
  let generation = 0;

  const start = (key: string, args: A, at: number): Read<T> => {
    const own: Read<T> = { startedAt: at, result: read(...args) };
    const born = generation;
    const entry = reads.get(key);
    if (entry === undefined) reads.set(key, { latest: own });
    else entry.latest = own;
    // Keys come from clients: past a few hundred, reads too old to share are swept.
    if (reads.size > SWEEP_ABOVE) {
      for (const [k, e] of reads) if (at - e.latest.startedAt > maxAgeMs) reads.delete(k);
    }
    own.result.then(
      () => {
        const current = reads.get(key);
        if (born !== generation || current === undefined) return;
        if (maxAgeMs <= 0) {
          if (current.latest === own) reads.delete(key);
        } else if (current.ready === undefined || current.ready.startedAt < own.startedAt) {
          current.ready = own;
        }
      },
      () => {
        const current = reads.get(key);
        if (born !== generation || current?.latest !== own) return;
        if (current.ready === undefined) reads.delete(key);
        else current.latest = current.ready;
      },
    );
    return own;
  };

  return {
    read: (...args: A) => {
      const key = keyOf(...args);
      const at = now();
      const entry = reads.get(key);
      const ready = entry?.ready;
      // Settled: reused strictly within the bound.
      if (ready !== undefined && at - ready.startedAt < maxAgeMs) {
        if (at - ready.startedAt >= refreshAfterMs && entry?.latest === ready) {
          // The next read, for the requests after the bound; its failure reaches only those who join it.
          start(key, args, at).result.catch(() => undefined);
        }
        return ready.result;
      }
      // In flight: joined up to the bound.
      const latest = entry?.latest;
      if (latest !== undefined && latest !== ready && at - latest.startedAt <= maxAgeMs) return latest.result;
      return start(key, args, at).result;
    },
    forget: () => {
      generation += 1;
      reads.clear();
    },
  };
}

/** How long a discovery read may be shared: well inside the design's 50 ms from drain to exclusion. */
export const SHARED_READ_MAX_AGE_MS = 20;
/** A concurrent server starts the next shared read once the one it shares is this old. */
export const SHARED_READ_REFRESH_AFTER_MS = 10;
