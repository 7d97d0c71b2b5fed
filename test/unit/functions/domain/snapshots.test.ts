import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import {
  type HealthPolicy,
  judgeEndpoint,
  judgementsStableUntil,
  markerFor,
} from '../../../../functions/domain/health.ts';
import type {
  ModelPartition,
  ModelSnapshot,
  ProbeRecord,
  RoundMarker,
} from '../../../../functions/domain/records.ts';
import {
  advancePartition,
  coalescedRebuilds,
  compactPartition,
  isUsable,
  MAX_SNAPSHOT_ENDPOINTS,
  RebuildTurns,
  refreshSnapshot,
} from '../../../../functions/domain/snapshots.ts';
import { InMemoryRegistryStore } from '../../../support/kit/in-memory-store.ts';
import { endpointIdOf, probeRecord, registration } from '../../../support/kit/records.ts';

const NOW = 1_000_000;
const LIFECYCLES = ['PENDING', 'RUNNING', 'STOPPING', 'STOPPED'] as const;

/** One endpoint of a generated partition: lifecycle, probe row (or none), marker time (or none). */
const endpoints = fc.record({
  lifecycle: fc.constantFrom(...LIFECYCLES),
  addressed: fc.boolean(),
  probe: fc.option(
    fc.record({
      lastSuccessAgo: fc.option(fc.integer({ min: 0, max: 60_000 }), { nil: undefined }),
      probedAgo: fc.integer({ min: 0, max: 60_000 }),
      failures: fc.integer({ min: 0, max: 4 }),
      versions: fc.subarray(['3', '2', '1']),
      expiresIn: fc.option(fc.integer({ min: -30, max: 3_600 }), { nil: undefined }),
    }),
    { nil: undefined },
  ),
  seenAgo: fc.option(fc.integer({ min: 0, max: 60_000 }), { nil: undefined }),
});
type GeneratedEndpoint = typeof endpoints extends fc.Arbitrary<infer T> ? T : never;

/** Markers of the whole fleet or of probe shards (layouts of 2 and 3). */
const markers = fc.array(
  fc.record({
    recordedAgo: fc.integer({ min: 0, max: 60_000 }),
    shard: fc.option(
      fc.oneof(
        fc.record({ index: fc.integer({ min: 0, max: 1 }), count: fc.constant(2) }),
        fc.record({ index: fc.integer({ min: 0, max: 2 }), count: fc.constant(3) }),
      ),
      { nil: undefined },
    ),
  }),
  { maxLength: 3 },
);
type GeneratedMarker = typeof markers extends fc.Arbitrary<infer T> ? T : [];

/** The partition of `endpoints` (task `t{i}` for entry i; undefined: no such endpoint), each marker seeing what they saw. */
function partitionOf(
  list: readonly (GeneratedEndpoint | undefined)[],
  markerList: GeneratedMarker,
): ModelPartition {
  const present = list.flatMap((e, i) => (e === undefined ? [] : [{ e, id: `t${i}` }]));
  const registrations = present.map(({ e, id }) =>
    registration(id, 'resnet', {
      lifecycle: e.lifecycle,
      ...(e.addressed ? {} : { host: undefined, restPort: undefined }),
    }),
  );
  const probes: ProbeRecord[] = present.flatMap(({ e, id }) =>
    e.probe === undefined
      ? []
      : [
          probeRecord(id, 'resnet', NOW, {
            lastSuccessAt: e.probe.lastSuccessAgo === undefined ? undefined : NOW - e.probe.lastSuccessAgo,
            probedAt: NOW - e.probe.probedAgo,
            consecutiveFailures: e.probe.failures,
            versions: e.probe.versions,
            lastError: e.probe.failures > 0 ? 'connect ECONNREFUSED' : undefined,
            expiresAt: e.probe.expiresIn === undefined ? undefined : NOW / 1000 + e.probe.expiresIn,
          }),
        ],
  );
  const seen = new Map(
    present.flatMap(({ e, id }) =>
      e.seenAgo === undefined ? [] : [[endpointIdOf(id), NOW - e.seenAgo] as const],
    ),
  );
  const rounds: RoundMarker[] = markerList.map((marker) => ({
    startedAt: NOW - marker.recordedAgo - 100,
    recordedAt: NOW - marker.recordedAgo,
    seen,
    ...(marker.shard === undefined ? {} : { shard: marker.shard }),
  }));
  return { registrations, probes, rounds };
}

/** A partition of up to 6 endpoints with any lifecycle, probe row (or none), and marker (or none). */
const partitions: fc.Arbitrary<ModelPartition> = fc
  .record({ endpoints: fc.array(endpoints, { maxLength: 6 }), markers })
  .map(({ endpoints: list, markers: markerList }) => partitionOf(list, markerList));

const policies: fc.Arbitrary<HealthPolicy> = fc.record({
  unhealthyAfterSeconds: fc.integer({ min: 1, max: 40 }),
  failureThreshold: fc.integer({ min: 1, max: 3 }),
  removeAfterSeconds: fc.integer({ min: 1, max: 60 }),
});

describe('compactPartition', () => {
  it('judges every running endpoint as the partition does, at any later time', () => {
    fc.assert(
      fc.property(partitions, policies, fc.integer({ min: 0, max: 90_000 }), (partition, policy, later) => {
        // Act
        const compact = compactPartition(partition);

        // Assess
        const probeOf = (p: ModelPartition, id: string) => p.probes.find((row) => row.endpointId === id);
        for (const r of partition.registrations.filter((r) => r.lifecycle === 'RUNNING')) {
          const full = judgeEndpoint(
            r,
            probeOf(partition, r.endpointId),
            markerFor(partition.rounds, r.endpointId),
            NOW + later,
            policy,
          );
          const small = judgeEndpoint(
            r,
            probeOf(compact, r.endpointId),
            markerFor(compact.rounds, r.endpointId),
            NOW + later,
            policy,
          );
          expect(small).toEqual(full);
        }
      }),
    );
  });

  it('keeps running registrations only, and their rows without errors or the marker map', () => {
    // Prepare
    const partition: ModelPartition = {
      registrations: [registration('a', 'resnet'), registration('b', 'resnet', { lifecycle: 'STOPPING' })],
      probes: [
        probeRecord('a', 'resnet', NOW, { lastSuccessAt: NOW - 9_000 }),
        probeRecord('b', 'resnet', NOW, { consecutiveFailures: 1, lastError: 'HTTP 503' }),
      ],
      rounds: [
        { startedAt: NOW - 500, recordedAt: NOW - 100, seen: new Map([[endpointIdOf('a'), NOW - 200]]) },
      ],
    };

    // Act
    const compact = compactPartition(partition);

    // Assess
    expect(compact.registrations.map((r) => r.endpointId)).toEqual([endpointIdOf('a')]);
    expect(compact.probes).toEqual([
      probeRecord('a', 'resnet', NOW, { lastSuccessAt: NOW - 200, lastError: undefined }),
    ]);
    expect(compact.rounds).toEqual([{ startedAt: NOW - 500, recordedAt: NOW - 100, seen: new Map() }]);
  });
});

describe('advancePartition', () => {
  /** Rows in a fixed order, so two compacted partitions compare whatever order they were built in. */
  const sorted = (p: ModelPartition): ModelPartition => {
    const byId = <T extends { endpointId: string }>(rows: readonly T[]) =>
      [...rows].sort((a, b) => a.endpointId.localeCompare(b.endpointId));
    return { registrations: byId(p.registrations), probes: byId(p.probes), rounds: p.rounds };
  };

  it('equals compacting the partition, when only the named endpoints changed and markers moved forward', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            before: fc.option(endpoints, { nil: undefined }),
            after: fc.option(endpoints, { nil: undefined }),
            changed: fc.boolean(),
            forward: fc.integer({ min: 0, max: 30_000 }),
            seenLater: fc.option(fc.integer({ min: 0, max: 60_000 }), { nil: undefined }),
          }),
          { maxLength: 8 },
        ),
        markers,
        fc.array(fc.integer({ min: 0, max: 30_000 }), { minLength: 3, maxLength: 3 }),
        (entries, markerList, markerForward) => {
          // Prepare: before and after the writes; an unnamed endpoint keeps its rows and is at
          // most seen later by the markers, which are recorded again later.
          const before = partitionOf(
            entries.map((e) => e.before),
            markerList,
          );
          const after = partitionOf(
            entries.map(({ before: was, after: now, changed, forward, seenLater }) => {
              if (changed || was === undefined) return changed ? now : undefined;
              return {
                ...was,
                seenAgo: was.seenAgo === undefined ? seenLater : was.seenAgo - forward,
              };
            }),
            markerList.map((m, i) => ({ ...m, recordedAgo: m.recordedAgo - (markerForward[i] ?? 0) })),
          );
          const named = new Set(entries.flatMap((e, i) => (e.changed ? [endpointIdOf(`t${i}`)] : [])));
          const rows = {
            registrations: after.registrations.filter((r) => named.has(r.endpointId)),
            probes: after.probes.filter((p) => named.has(p.endpointId)),
          };

          // Act
          const advanced = advancePartition(compactPartition(before), named, rows, after.rounds);

          // Assess
          expect(sorted(advanced)).toEqual(sorted(compactPartition(after)));
        },
      ),
    );
  });
});

/** A store of 36 served endpoints t0…t35 with a snapshot built from reading them all. */
async function servedFleet() {
  const tasks = Array.from({ length: 36 }, (_, i) => `t${i}`);
  const store = InMemoryRegistryStore.holding({
    registrations: tasks.map((task) => registration(task, 'resnet')),
    probes: tasks.map((task) => probeRecord(task, 'resnet', NOW - 1_000)),
    rounds: { resnet: { startedAt: NOW - 600, recordedAt: NOW - 500, seen: new Map() } },
  });
  await refreshSnapshot({ store, now: () => NOW }, 'resnet');
  return {
    store,
    reads: vi.spyOn(store, 'readModel'),
    rowReads: vi.spyOn(store, 'readEndpointRows'),
  };
}

describe('refreshSnapshot moving the stored snapshot forward', () => {
  it("reads only the named endpoints' rows and the markers, and stores what a whole read would", async () => {
    // Prepare: t3 fails, t4 is drained, t36 registers, and the marker vouches for t5 later.
    const { store, reads, rowReads } = await servedFleet();
    await store.recordProbeFailure({
      endpointId: endpointIdOf('t3'),
      model: 'resnet',
      probedAt: NOW + 10,
      error: 'HTTP 503',
    });
    await store.putRegistration(
      registration('t4', 'resnet', { lifecycle: 'STOPPING', host: undefined, taskVersion: 99 }),
    );
    await store.putRegistration(registration('t36', 'resnet'));
    await store.recordRound('resnet', {
      startedAt: NOW,
      recordedAt: NOW + 20,
      seen: new Map([[endpointIdOf('t5'), NOW + 15]]),
    });
    const named = new Set(['t3', 't4', 't36'].map(endpointIdOf));
    const unnamedSince = reads.mock.calls.length;

    // Act
    const written = await refreshSnapshot({ store, now: () => NOW + 30 }, 'resnet', { changed: named });

    // Assess
    expect(written).toBe(true);
    expect(reads.mock.calls.length).toBe(unnamedSince);
    expect(rowReads).toHaveBeenCalledWith('resnet', [...named]);
    const snapshot = (await store.readSnapshot('resnet')) as ModelSnapshot;
    expect(snapshot).toMatchObject({ sequence: 2, builtAt: NOW + 30, partitionReadAt: NOW });
    const truth = compactPartition(await store.readModel('resnet'));
    const ids = (p: ModelPartition | undefined) => p?.registrations.map((r) => r.endpointId).sort();
    expect(ids(snapshot.partition)).toEqual(ids(truth));
    expect(new Set(snapshot.partition?.probes)).toEqual(new Set(truth.probes));
    expect(snapshot.partition?.rounds).toEqual(truth.rounds);
  });

  it.each([
    [
      'another rebuild claimed in between without storing',
      async (store: InMemoryRegistryStore) => {
        await store.claimSnapshot('resnet');
        return {};
      },
    ],
    [
      'more endpoints changed than one in twelve',
      async () => ({ extra: ['t1', 't2', 't3'].map(endpointIdOf) }),
    ],
    ['the last whole read is older than the caller allows', async () => ({ rereadAfterMs: 29 })],
  ] as const)('reads the whole partition when %s', async (_, arrange) => {
    // Prepare
    const { store, reads, rowReads } = await servedFleet();
    await store.recordProbeFailure({
      endpointId: endpointIdOf('t0'),
      model: 'resnet',
      probedAt: NOW + 10,
      error: 'HTTP 503',
    });
    const { extra = [], rereadAfterMs } = (await arrange(store)) as {
      extra?: string[];
      rereadAfterMs?: number;
    };
    reads.mockClear();

    // Act
    await refreshSnapshot({ store, now: () => NOW + 30 }, 'resnet', {
      changed: new Set([endpointIdOf('t0'), ...extra]),
      ...(rereadAfterMs === undefined ? {} : { rereadAfterMs }),
    });

    // Assess
    expect(reads).toHaveBeenCalledTimes(1);
    expect(rowReads).not.toHaveBeenCalled();
    expect(await store.readSnapshot('resnet')).toMatchObject({
      builtAt: NOW + 30,
      partitionReadAt: NOW + 30,
      partition: compactPartition(await store.readModel('resnet')),
    });
  });

  it('reads again an endpoint the caller lists running and the snapshot does not register, or the reverse', async () => {
    // Prepare: t5 was drained and t36 registered by writers whose rebuilds failed.
    const { store, reads, rowReads } = await servedFleet();
    await store.putRegistration(
      registration('t5', 'resnet', { lifecycle: 'STOPPING', host: undefined, taskVersion: 99 }),
    );
    await store.putRegistration(registration('t36', 'resnet'));
    const listed = new Set(
      Array.from({ length: 37 }, (_, i) => `t${i}`)
        .filter((task) => task !== 't5')
        .map(endpointIdOf),
    );
    reads.mockClear();

    // Act: a probe round's rebuild that wrote no row.
    await refreshSnapshot({ store, now: () => NOW + 30 }, 'resnet', { changed: new Set(), listed });

    // Assess
    expect(reads).not.toHaveBeenCalled();
    expect(rowReads.mock.calls.map(([, ids]) => [...ids].sort())).toEqual([
      [endpointIdOf('t36'), endpointIdOf('t5')].sort(),
    ]);
    const registered = (await store.readSnapshot('resnet'))?.partition?.registrations.map(
      (r) => r.endpointId,
    );
    expect(new Set(registered)).toEqual(listed);
  });

  it("moves forward from each other's snapshots when a process's writers take turns, and reads the partition when they do not", async () => {
    // Prepare: two writers of one process, each having changed one endpoint's row.
    const concurrent = async (rebuildTurns?: RebuildTurns) => {
      const { store, reads } = await servedFleet();
      reads.mockClear();
      const deps = { store, now: () => NOW + 30, ...(rebuildTurns ? { rebuildTurns } : {}) };
      await Promise.all(
        ['t1', 't2'].map((task) =>
          refreshSnapshot(deps, 'resnet', { changed: new Set([endpointIdOf(task)]) }),
        ),
      );
      return {
        partitionReads: reads.mock.calls.length,
        stored: (await store.readSnapshot('resnet'))?.sequence,
      };
    };

    // Act
    const taking = await concurrent(new RebuildTurns());
    const racing = await concurrent();

    // Assess
    expect(taking).toEqual({ partitionReads: 0, stored: 3 });
    expect(racing.partitionReads).toBeGreaterThan(0);
  });

  it('reads the whole partition when the stored snapshot has none (the model was past the limit)', async () => {
    // Prepare
    const { store, reads } = await servedFleet();
    await store.putSnapshot('resnet', {
      sequence: await store.claimSnapshot('resnet'),
      builtAt: NOW,
      partitionReadAt: NOW,
      partition: undefined,
    });
    reads.mockClear();

    // Act
    await refreshSnapshot({ store, now: () => NOW + 30 }, 'resnet', {
      changed: new Set([endpointIdOf('t0')]),
    });

    // Assess
    expect(reads).toHaveBeenCalledTimes(1);
    expect((await store.readSnapshot('resnet'))?.partition?.registrations).toHaveLength(36);
  });
});

describe('refreshSnapshot', () => {
  it('stores what the partition says as of the rebuild, with the sequence it claimed', async () => {
    // Prepare
    const store = InMemoryRegistryStore.holding({
      registrations: [registration('a', 'resnet')],
      probes: [probeRecord('a', 'resnet', NOW)],
    });

    // Act
    const written = await refreshSnapshot({ store, now: () => NOW }, 'resnet');

    // Assess
    expect(written).toBe(true);
    expect(await store.readSnapshot('resnet')).toEqual({
      sequence: 1,
      builtAt: NOW,
      partitionReadAt: NOW,
      partition: compactPartition(await store.readModel('resnet')),
    });
  });

  it('stores no partition for a model past the limit, and reads none when the caller says it is past it', async () => {
    // Prepare
    const many = Array.from({ length: MAX_SNAPSHOT_ENDPOINTS + 1 }, (_, i) =>
      registration(`t${i}`, 'resnet'),
    );
    const store = InMemoryRegistryStore.holding({ registrations: many });
    const reads = vi.spyOn(store, 'readModel');

    // Act
    await refreshSnapshot({ store, now: () => NOW }, 'resnet');
    const afterRead = await store.readSnapshot('resnet');
    reads.mockClear();
    await refreshSnapshot({ store, now: () => NOW + 1 }, 'resnet', { size: MAX_SNAPSHOT_ENDPOINTS + 1 });

    // Assess
    expect(afterRead).toMatchObject({ sequence: 1, partition: undefined });
    expect(reads).not.toHaveBeenCalled();
    expect(await store.readSnapshot('resnet')).toEqual({
      sequence: 2,
      builtAt: NOW + 1,
      partitionReadAt: NOW + 1,
      partition: undefined,
    });
  });

  it('ends on the latest truth whatever order concurrent rebuilds finish in', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat(), { minLength: 3, maxLength: 3 }), async (delays) => {
        // Prepare: three writers each change the truth, then rebuild; their reads and writes finish
        // in an arbitrary order (the claim precedes the read, which precedes the write).
        const store = new InMemoryRegistryStore();
        const gate = gatedStore(store, delays);
        const writers = ['a', 'b', 'c'].map(async (task, i) => {
          await turns(i * 4);
          await store.putRegistration(registration(task, 'resnet', { taskVersion: i + 1 }));
          await refreshSnapshot({ store: gate, now: () => NOW + i }, 'resnet');
        });

        // Act
        await Promise.all(writers);

        // Assess
        const truth = compactPartition(await store.readModel('resnet'));
        const snapshot = (await store.readSnapshot('resnet')) as ModelSnapshot;
        const ids = (p: ModelPartition) => p.registrations.map((r) => r.endpointId).sort();
        expect(ids(snapshot.partition as ModelPartition)).toEqual(ids(truth));
      }),
      { numRuns: 50 },
    );
  });
});

describe('coalescedRebuilds', () => {
  /** A store whose next partition read is answered, as read then, only when `release` is called. */
  function heldReadStore() {
    const store = new InMemoryRegistryStore();
    let release = () => {};
    let holding = true;
    const held = Object.assign(Object.create(store), {
      async readModel(model: string) {
        const partition = await store.readModel(model);
        if (holding) {
          holding = false;
          await new Promise<void>((resolve) => {
            release = resolve;
          });
        }
        return partition;
      },
    }) as InMemoryRegistryStore;
    return { store, held, release: () => release() };
  }

  it('answers calls made while a rebuild runs with the next one, which sees their writes', async () => {
    // Prepare: a first rebuild has read the partition (without `b`) and not yet written.
    const { store, held, release } = heldReadStore();
    await store.putRegistration(registration('a', 'resnet'));
    const rebuild = coalescedRebuilds({ store: held, now: () => NOW });
    const claims = vi.spyOn(held, 'claimSnapshot');
    const first = rebuild('resnet');
    await vi.waitFor(() => expect(claims).toHaveBeenCalledTimes(1));
    await turns(8);
    await store.putRegistration(registration('b', 'resnet'));

    // Act: two writers' calls after `b`, while the first rebuild still runs.
    const calls = [rebuild('resnet'), rebuild('resnet')];
    release();
    await Promise.all([first, ...calls]);

    // Assess: one more rebuild for both, and it saw `b`.
    expect(claims).toHaveBeenCalledTimes(2);
    const snapshot = (await store.readSnapshot('resnet')) as ModelSnapshot;
    expect(snapshot.partition?.registrations.map((r) => r.endpointId).sort()).toEqual([
      endpointIdOf('a'),
      endpointIdOf('b'),
    ]);
  });

  it('reads the union of the endpoints named by calls sharing a rebuild, or the whole partition when one names none', async () => {
    // Prepare
    const { store, reads, rowReads } = await servedFleet();
    const rebuild = coalescedRebuilds({ store, now: () => NOW + 30 });
    reads.mockClear();

    // Act: two calls sharing a rebuild, each naming one endpoint; then two, one naming none.
    await Promise.all([rebuild('resnet', [endpointIdOf('t1')]), rebuild('resnet', [endpointIdOf('t2')])]);
    const named = {
      rows: rowReads.mock.calls.map(([, ids]) => [...ids].sort()),
      reads: reads.mock.calls.length,
    };
    await Promise.all([rebuild('resnet', [endpointIdOf('t1')]), rebuild('resnet')]);

    // Assess
    expect(named).toEqual({ rows: [[endpointIdOf('t1'), endpointIdOf('t2')].sort()], reads: 0 });
    expect(rowReads).toHaveBeenCalledTimes(1);
    expect(reads).toHaveBeenCalledTimes(1);
  });

  it('rejects every call a failed rebuild answers, and the next call rebuilds anew', async () => {
    // Prepare
    const store = new InMemoryRegistryStore();
    await store.putRegistration(registration('a', 'resnet'));
    let fail = true;
    const flaky = Object.assign(Object.create(store), {
      async claimSnapshot(model: string) {
        if (fail) throw new Error('store down');
        return store.claimSnapshot(model);
      },
    }) as InMemoryRegistryStore;
    const rebuild = coalescedRebuilds({ store: flaky, now: () => NOW });

    // Act
    const failed = await Promise.allSettled([rebuild('resnet'), rebuild('resnet')]);
    fail = false;
    await rebuild('resnet');

    // Assess
    expect(failed.map((f) => f.status)).toEqual(['rejected', 'rejected']);
    expect((await store.readSnapshot('resnet'))?.partition?.registrations).toHaveLength(1);
  });

  it('counts first, reading no partition, a model its last rebuild found past the limit, until it fits again', async () => {
    // Prepare
    const many = Array.from({ length: MAX_SNAPSHOT_ENDPOINTS + 1 }, (_, i) =>
      registration(`t${i}`, 'resnet'),
    );
    const store = InMemoryRegistryStore.holding({ registrations: many });
    const reads = vi.spyOn(store, 'readModel');
    const counts = vi.spyOn(store, 'countRunningRegistrations');
    const rebuild = coalescedRebuilds({ store, now: () => NOW });
    await rebuild('resnet'); // reads the partition: too large
    reads.mockClear();

    // Act
    await rebuild('resnet');
    const whileLarge = { reads: reads.mock.calls.length, counts: counts.mock.calls.length };
    await store.putRegistration(registration('t0', 'resnet', { lifecycle: 'STOPPED', host: undefined }));
    await rebuild('resnet');

    // Assess
    expect(whileLarge).toEqual({ reads: 0, counts: 1 });
    expect(reads).toHaveBeenCalledTimes(1);
    expect((await store.readSnapshot('resnet'))?.partition?.registrations).toHaveLength(
      MAX_SNAPSHOT_ENDPOINTS,
    );
  });
});

const turns = async (count: number) => {
  for (let i = 0; i < count; i++) await Promise.resolve();
};

/** The store with each partition read answering late: what it read is held for some event-loop turns. */
function gatedStore(store: InMemoryRegistryStore, delays: readonly number[]): InMemoryRegistryStore {
  let reads = 0;
  return Object.assign(Object.create(store), {
    async readModel(model: string) {
      const partition = await store.readModel(model);
      await turns((delays[reads++ % delays.length] ?? 0) % 16);
      return partition;
    },
  }) as InMemoryRegistryStore;
}

describe('isUsable', () => {
  it('takes a snapshot rebuilt within UNHEALTHY_AFTER_SECONDS, and no older one', () => {
    // Prepare
    const snapshot: ModelSnapshot = {
      sequence: 1,
      builtAt: NOW,
      partitionReadAt: NOW,
      partition: { registrations: [], probes: [], rounds: [] },
    };

    // Act / Assess
    expect(isUsable(snapshot, NOW + 10_000, 10)).toBe(true);
    expect(isUsable(snapshot, NOW + 10_001, 10)).toBe(false);
  });
});

describe('judgementsStableUntil', () => {
  it('bounds a time range in which no endpoint is judged otherwise, and the judgement changes at no earlier point', () => {
    fc.assert(
      fc.property(
        partitions,
        policies,
        fc.integer({ min: -60_000, max: 60_000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (partition, policy, offset, fraction) => {
          // Prepare: a time in [t0, until), the last millisecond before `until` included.
          const t0 = NOW + offset;
          const until = judgementsStableUntil(partition, t0, policy);
          const span = Math.min(until, t0 + 120_000) - t0;
          const later = t0 + Math.floor(fraction * Math.max(0, span - 1));

          // Assess
          const verdicts = (at: number) =>
            partition.registrations.map((r) =>
              judgeEndpoint(
                r,
                partition.probes.find((p) => p.endpointId === r.endpointId),
                markerFor(partition.rounds, r.endpointId),
                at,
                policy,
              ),
            );
          if (span > 0) {
            expect(verdicts(later)).toEqual(verdicts(t0));
            expect(verdicts(t0 + span - 1)).toEqual(verdicts(t0));
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
