/**
 * Probe shards: how a fleet too large for one invocation is spread over several. A shard is a set
 * of endpoints (every model of an endpoint stays in its shard), chosen by a stable hash of the
 * endpoint id, so every invocation that knows the shard count agrees on who probes what without
 * talking to the others (docs/decisions/0021-probe-shards.md).
 */

/** One shard of a layout: `index` in `0 … count - 1`. The whole fleet is `{ index: 0, count: 1 }`. */
export interface ShardRef {
  readonly index: number;
  readonly count: number;
}

/** The single shard of a fleet small enough for one invocation (and of every round local mode runs). */
export const WHOLE_FLEET: ShardRef = Object.freeze({ index: 0, count: 1 });

/**
 * At most this many shards: one Lambda invocation each, started once a minute. With the default
 * share (500 targets) that is 128,000 probe targets; a larger fleet is probed by 256 shards with
 * a larger share each (the rounds then run longer, which the round metrics show as overruns).
 */
export const MAX_PROBE_SHARDS = 256;

const MASK_64 = (1n << 64n) - 1n;
// FNV-1a 64: offset basis 0xcbf29ce484222325 in two halves; prime 2⁴⁰ + 0x1b3.
const FNV_OFFSET_HI = 0xcbf29ce4;
const FNV_OFFSET_LO = 0x84222325;
const FNV_PRIME_LOW = 0x1b3;
const utf8 = new TextEncoder();
// biome-ignore lint/suspicious/noControlCharactersInRegex: the ASCII range, control characters included.
const NON_ASCII = /[^\x00-\x7f]/;

/**
 * FNV-1a over the id's UTF-8 bytes, then MurmurHash3's 64-bit finalizer: FNV-1a alone leaves ids
 * that differ only in their last characters (task ARNs of one cluster) close in the high bits,
 * which the jump hash below reads first. The FNV loop runs on two 32-bit halves (a BigInt per byte
 * cost ~12 µs an id, which `markerFor` pays per marker for every endpoint of a round); the result
 * is the same 64-bit value (`test/unit/functions/domain/shards.test.ts` holds it to the BigInt form).
 */
export function hash64(text: string): bigint {
  let hi = FNV_OFFSET_HI;
  let lo = FNV_OFFSET_LO;
  // Ids are ASCII in practice: their UTF-16 code units are their UTF-8 bytes, with no encoding.
  const ascii = !NON_ASCII.test(text);
  const bytes = ascii ? undefined : utf8.encode(text);
  const length = bytes === undefined ? text.length : bytes.length;
  for (let i = 0; i < length; i += 1) {
    lo = (lo ^ (bytes === undefined ? text.charCodeAt(i) : (bytes[i] as number))) >>> 0;
    // (hi·2³² + lo) × (2⁴⁰ + 0x1b3) mod 2⁶⁴; every partial sum stays below 2⁵³, so it is exact.
    const low = lo * FNV_PRIME_LOW;
    hi = (hi * FNV_PRIME_LOW + ((low / 0x1_0000_0000) >>> 0) + ((lo << 8) >>> 0)) >>> 0;
    lo = low >>> 0;
  }
  let h = (BigInt(hi) << 32n) | BigInt(lo);
  h ^= h >> 33n;
  h = (h * 0xff51afd7ed558ccdn) & MASK_64;
  h ^= h >> 33n;
  h = (h * 0xc4ceb9fe1a85ec53n) & MASK_64;
  h ^= h >> 33n;
  return h;
}

/**
 * Lamping and Veach's jump consistent hash ("A Fast, Minimal Memory, Consistent Hash Algorithm",
 * 2014): a bucket in `0 … buckets - 1`; growing `buckets` by one moves only the keys that land in
 * the new bucket (about 1/buckets of them), and moves nobody between old buckets.
 */
export function jumpHash(key: bigint, buckets: number): number {
  let bucket = -1;
  let next = 0;
  let k = key;
  while (next < buckets) {
    bucket = next;
    k = (k * 2862933555777941757n + 1n) & MASK_64;
    next = Math.floor((bucket + 1) * (2 ** 31 / (Number(k >> 33n) + 1)));
  }
  return bucket;
}

/** The shard of an endpoint among `count` shards: the same answer for the same id and count, everywhere. */
export function shardOf(endpointId: string, count: number): number {
  if (!Number.isSafeInteger(count) || count < 1) {
    throw new RangeError(`shard count=${count} is invalid: expected a whole number of at least 1`);
  }
  return count === 1 ? 0 : jumpHash(hash64(endpointId), count);
}

/**
 * The shard of one endpoint under any count, its id hashed at most once: for judging it against
 * many markers (`markerFor`), most of them of the same count.
 */
export function shardsOfEndpoint(endpointId: string): (count: number) => number {
  let hash: bigint | undefined;
  let lastCount = 1;
  let lastShard = 0;
  return (count) => {
    if (count === 1) return 0;
    if (count !== lastCount) {
      hash ??= hash64(endpointId);
      lastShard = jumpHash(hash, count);
      lastCount = count;
    }
    return lastShard;
  };
}

/** Whether `shard` probes the endpoint `endpointId`. */
export function ownsEndpoint(shard: ShardRef, endpointId: string): boolean {
  return shardOf(endpointId, shard.count) === shard.index;
}

/** What one invocation's share of the fleet is derived from. */
export interface ShareInputs {
  /** PROBE_TARGETS_PER_SHARD: the configured ceiling of one invocation's share. */
  readonly targetsPerShard: number;
  /** PROBE_CONCURRENCY: probes doing work at once in one round. */
  readonly concurrency: number;
  /** PROBE_INTERVAL_SECONDS, in milliseconds: a round must fit in it. */
  readonly intervalMs: number;
  /** How long a probe holds its slot at most before giving it up to wait on its own deadline. */
  readonly slowAfterMs: number;
}

/**
 * How many targets one invocation takes: the configured share, and no more than its pool gets
 * through in one interval when every probe holds its slot as long as it may (`concurrency`
 * slots × `intervalMs / slowAfterMs` probes each). A short interval thus means smaller shares.
 */
export function targetsPerShard(inputs: ShareInputs): number {
  const poolBound = Math.floor((inputs.concurrency * inputs.intervalMs) / Math.max(1, inputs.slowAfterMs));
  return Math.max(1, Math.min(inputs.targetsPerShard, poolBound));
}

/** How many shards a fleet of `targets` probe targets needs at `share` targets each (1 … {@link MAX_PROBE_SHARDS}). */
export function shardCount(targets: number, share: number): number {
  return Math.min(MAX_PROBE_SHARDS, Math.max(1, Math.ceil(targets / Math.max(1, share))));
}

/** Every shard of a layout of `count`. */
export function shardsOf(count: number): ShardRef[] {
  return Array.from({ length: count }, (_, index) => ({ index, count }));
}

/** Whether `value` is a shard of some layout (what a shard invocation's event must carry). */
export function isShardRef(value: unknown): value is ShardRef {
  if (typeof value !== 'object' || value === null) return false;
  const { index, count } = value as Record<string, unknown>;
  return (
    Number.isSafeInteger(index) &&
    Number.isSafeInteger(count) &&
    (count as number) >= 1 &&
    (count as number) <= MAX_PROBE_SHARDS &&
    (index as number) >= 0 &&
    (index as number) < (count as number)
  );
}
