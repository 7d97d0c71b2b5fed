/**
 * Requests for the same thing share one read: a request is answered by a read of its key that
 * started at most `maxAgeMs` ago (still in flight, or settled with an answer), else starts its
 * own. A request thus never sees data read more than `maxAgeMs` before it arrived: a drain
 * acknowledged at t reaches every request made after t + `maxAgeMs`, however hot the model. A
 * failed read is shared only with the requests that joined it. `forget` drops everything (this
 * process wrote a snapshot: its own readers see the write at once). The clock is the process's
 * monotonic one: the bound is on real elapsed time, whatever clock the domain is given.
 */
export interface SharedReads<A extends unknown[], T> {
  readonly read: (...args: A) => Promise<T>;
  readonly forget: () => void;
}

const SWEEP_ABOVE = 512;

export function sharedReads<A extends unknown[], T>(
  read: (...args: A) => Promise<T>,
  keyOf: (...args: A) => string,
  maxAgeMs: number,
  now: () => number = () => performance.now(),
): SharedReads<A, T> {
  const reads = new Map<string, { startedAt: number; result: Promise<T>; settled: boolean }>();
  return {
    read: (...args: A) => {
      const key = keyOf(...args);
      const at = now();
      const known = reads.get(key);
      if (known !== undefined) {
        const age = at - known.startedAt;
        // In flight: joined up to the bound; settled: reused strictly within it.
        if (known.settled ? age < maxAgeMs : age <= maxAgeMs) return known.result;
      }
      const own = { startedAt: at, result: read(...args), settled: false };
      reads.set(key, own);
      // Keys come from clients: past a few hundred, reads too old to share are swept.
      if (reads.size > SWEEP_ABOVE) {
        for (const [k, r] of reads) if (r.settled && at - r.startedAt >= maxAgeMs) reads.delete(k);
      }
      own.result.then(
        () => {
          own.settled = true;
          if (maxAgeMs <= 0 && reads.get(key) === own) reads.delete(key);
        },
        () => {
          if (reads.get(key) === own) reads.delete(key);
        },
      );
      return own.result;
    },
    forget: () => reads.clear(),
  };
}

/** How long a discovery read may be shared: well inside the design's 50 ms from drain to exclusion. */
export const SHARED_READ_MAX_AGE_MS = 20;
