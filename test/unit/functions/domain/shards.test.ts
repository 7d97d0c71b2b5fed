import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  hash64,
  isShardRef,
  MAX_PROBE_SHARDS,
  ownsEndpoint,
  shardCount,
  shardOf,
  shardsOf,
  targetsPerShard,
} from '../../../../functions/domain/shards.ts';

/** An endpoint id as the registry makes them: cluster / task id / container name. */
const endpointId = fc
  .tuple(
    fc.constantFrom('ml', 'ml-gpu', 'search'),
    fc.stringMatching(/^[0-9a-f]{32}$/),
    fc.constantFrom('tfserving', 'tf-serving', 'model-server'),
  )
  .map(([cluster, task, container]) => `${cluster}/${task}/${container}`);

const ids = (n: number) =>
  Array.from({ length: n }, (_, i) => `ml/${i.toString(16).padStart(32, '0')}/tfserving`);

/** FNV-1a 64 and MurmurHash3's finalizer on BigInts, byte by byte: what `hash64` must equal. */
function referenceHash64(text: string): bigint {
  const mask = (1n << 64n) - 1n;
  let h = 0xcbf29ce484222325n;
  for (const byte of new TextEncoder().encode(text)) h = ((h ^ BigInt(byte)) * 0x100000001b3n) & mask;
  h ^= h >> 33n;
  h = (h * 0xff51afd7ed558ccdn) & mask;
  h ^= h >> 33n;
  h = (h * 0xc4ceb9fe1a85ec53n) & mask;
  return h ^ (h >> 33n);
}

describe('hash64', () => {
  it('equals FNV-1a 64 with the MurmurHash3 finalizer computed on BigInts, for any string', () => {
    fc.assert(
      fc.property(fc.oneof(endpointId, fc.string({ unit: 'binary', maxLength: 300 })), (text) => {
        // Act, Assess
        expect(hash64(text)).toBe(referenceHash64(text));
      }),
      { numRuns: 500 },
    );
  });
});

describe('shardOf', () => {
  it('is stable: the same id and count give the same shard, in range', () => {
    fc.assert(
      fc.property(endpointId, fc.integer({ min: 1, max: MAX_PROBE_SHARDS }), (id, count) => {
        // Act
        const shard = shardOf(id, count);

        // Assess
        expect(shardOf(id, count)).toBe(shard);
        expect(Number.isInteger(shard) && shard >= 0 && shard < count).toBe(true);
      }),
    );
  });

  it('is complete and disjoint: each endpoint is owned by exactly one shard of a layout', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(endpointId, { minLength: 1, maxLength: 200 }),
        fc.integer({ min: 1, max: 64 }),
        (fleet, count) => {
          // Act
          const owners = fleet.map((id) => shardsOf(count).filter((shard) => ownsEndpoint(shard, id)));

          // Assess
          expect(owners.every((owning) => owning.length === 1)).toBe(true);
        },
      ),
    );
  });

  it('is even: 10,000 endpoints over 8 shards, the largest shard at most 1.2 × the mean', () => {
    // Prepare: ids as one cluster's task ARNs make them (consecutive, differing in few characters).
    const sizes = new Array<number>(8).fill(0);

    // Act
    for (const id of ids(10_000)) sizes[shardOf(id, 8)] = (sizes[shardOf(id, 8)] ?? 0) + 1;

    // Assess
    expect(Math.max(...sizes)).toBeLessThanOrEqual(1.2 * (10_000 / 8));
    expect(Math.min(...sizes)).toBeGreaterThanOrEqual(0.8 * (10_000 / 8));
  });

  it('is even for random ids and counts too (largest shard ≤ 1.2 × mean with 1,000 per shard)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 16 }), fc.integer(), (count, salt) => {
        // Prepare
        const sizes = new Array<number>(count).fill(0);

        // Act
        for (let i = 0; i < count * 1000; i++) {
          const shard = shardOf(`ml/${salt}-${i}/tfserving`, count);
          sizes[shard] = (sizes[shard] ?? 0) + 1;
        }

        // Assess
        expect(Math.max(...sizes)).toBeLessThanOrEqual(1.2 * 1000);
      }),
      { numRuns: 20 },
    );
  });

  it('places an added endpoint in exactly one shard and moves nobody else at the same count', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(endpointId, { minLength: 1, maxLength: 100 }),
        endpointId,
        fc.integer({ min: 1, max: 64 }),
        (fleet, added, count) => {
          fc.pre(!fleet.includes(added));
          // Prepare
          const before = new Map(fleet.map((id) => [id, shardOf(id, count)]));

          // Act
          const grown = [...fleet, added];
          const after = new Map(grown.map((id) => [id, shardOf(id, count)]));

          // Assess
          expect(shardsOf(count).filter((shard) => ownsEndpoint(shard, added))).toHaveLength(1);
          for (const [id, shard] of before) expect(after.get(id)).toBe(shard);
        },
      ),
    );
  });

  it('moves only endpoints into the new shard when the count grows by one, about 1/(count + 1) of them', () => {
    // Prepare
    const fleet = ids(10_000);

    for (const count of [1, 2, 3, 7, 8, 31]) {
      // Act
      const moved = fleet.filter((id) => shardOf(id, count + 1) !== shardOf(id, count));

      // Assess: whoever moved went to the new shard, and few moved.
      expect(moved.every((id) => shardOf(id, count + 1) === count)).toBe(true);
      expect(moved.length / fleet.length).toBeLessThanOrEqual((1 / (count + 1)) * 1.2);
    }
  });

  it('refuses a count below 1 with a message naming it', () => {
    expect(() => shardOf('ml/x/tfserving', 0)).toThrow('shard count=0 is invalid');
  });
});

describe('shardCount and targetsPerShard', () => {
  it('is 1 for a fleet within one share, and grows with the fleet, every shard at most one share', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 200_000 }),
        fc.integer({ min: 1, max: 5_000 }),
        (targets, share) => {
          // Act
          const count = shardCount(targets, share);

          // Assess
          expect(count).toBeGreaterThanOrEqual(1);
          expect(count).toBeLessThanOrEqual(MAX_PROBE_SHARDS);
          if (targets <= share) expect(count).toBe(1);
          if (count < MAX_PROBE_SHARDS) expect(targets / count).toBeLessThanOrEqual(share);
          expect(shardCount(targets + share, share)).toBeGreaterThanOrEqual(count);
        },
      ),
    );
  });

  it('bounds the share by what the pool gets through in one interval', () => {
    // Act / Assess: defaults (64 slots, 5 s, 200 ms): the configured 1,000 stands.
    expect(
      targetsPerShard({ targetsPerShard: 1000, concurrency: 64, intervalMs: 5000, slowAfterMs: 200 }),
    ).toBe(1000);
    // A 1 s interval: 64 × 1000 / 200 = 320 targets per invocation.
    expect(
      targetsPerShard({ targetsPerShard: 1000, concurrency: 64, intervalMs: 1000, slowAfterMs: 200 }),
    ).toBe(320);
    expect(
      targetsPerShard({ targetsPerShard: 1000, concurrency: 1, intervalMs: 100, slowAfterMs: 200 }),
    ).toBe(1);
  });
});

describe('isShardRef', () => {
  it('accepts the shards of a layout and nothing else', () => {
    expect(isShardRef({ index: 2, count: 3 })).toBe(true);
    expect(isShardRef({ index: 3, count: 3 })).toBe(false);
    expect(isShardRef({ index: -1, count: 3 })).toBe(false);
    expect(isShardRef({ index: 0, count: MAX_PROBE_SHARDS + 1 })).toBe(false);
    expect(isShardRef({ index: 0.5, count: 3 })).toBe(false);
    expect(isShardRef('0/3')).toBe(false);
  });
});
