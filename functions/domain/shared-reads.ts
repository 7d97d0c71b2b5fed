/**
 * Concurrent requests for the same thing share one read: a request joins a read of its key that is
 * in flight and started at most `maxAgeMs` ago, else starts its own. Nothing is kept once a read
 * settles, so no answer is older than the read it came from, and a request never sees data read
 * more than `maxAgeMs` before it arrived: a drain acknowledged at t reaches every request made after
 * t + `maxAgeMs`. Under load this turns many identical reads (a hot model, many clients) into one
 * per `maxAgeMs` at most; a lone request costs what it did.
 */
export function sharedReads<A extends unknown[], T>(
  read: (...args: A) => Promise<T>,
  keyOf: (...args: A) => string,
  now: () => number,
  maxAgeMs: number,
): (...args: A) => Promise<T> {
  const inFlight = new Map<string, { startedAt: number; result: Promise<T> }>();
  return (...args: A) => {
    const key = keyOf(...args);
    const startedAt = now();
    const flight = inFlight.get(key);
    if (flight !== undefined && startedAt - flight.startedAt <= maxAgeMs) return flight.result;
    const result = read(...args);
    const own = { startedAt, result };
    inFlight.set(key, own);
    const settle = () => {
      if (inFlight.get(key) === own) inFlight.delete(key);
    };
    result.then(settle, settle);
    return result;
  };
}

/** How long a discovery read may be shared: well inside the design's 50 ms from drain to exclusion. */
export const SHARED_READ_MAX_AGE_MS = 20;
