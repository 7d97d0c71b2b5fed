import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { modelHealth } from '../../../../functions/domain/discovery.ts';
import { judgeEndpoint, markerFor } from '../../../../functions/domain/health.ts';
import type { TfServingEndpoint, TfServingProber } from '../../../../functions/domain/ports.ts';
import { runProbeRound } from '../../../../functions/domain/probe.ts';
import { fanOut, probeLayout, type ShardInvoker } from '../../../../functions/domain/probe-fanout.ts';
import type { RoundMarker, TaskRecord } from '../../../../functions/domain/records.ts';
import { type ShardRef, shardOf, shardsOf } from '../../../../functions/domain/shards.ts';
import { TestClock } from '../../../support/kit/clock.ts';
import { testDiscoveryDeps, testProbeDeps } from '../../../support/kit/deps.ts';
import { InMemoryRegistryStore } from '../../../support/kit/in-memory-store.ts';
import {
  endpointIdOf,
  endpointOf,
  registration,
  roundMarker,
  taskRecord,
} from '../../../support/kit/records.ts';
import { DEFAULT_POLICY, DEFAULT_SETTINGS } from '../../../support/kit/settings.ts';

const INTERVAL_MS = DEFAULT_SETTINGS.probeIntervalSeconds * 1000;

/** Task `t<i>` with its own address, serving `models`. */
function task(i: number, models: readonly string[] = ['resnet']): TaskRecord {
  const host = `10.0.${i >> 8}.${i & 255}`;
  return taskRecord(`t${i}`, models, { endpoints: [endpointOf(`t${i}`, { host, models })] });
}

/** A TF Serving stand-in that records which endpoint each status call was for; `dead` ones refuse. */
class RecordingTfServing implements TfServingProber {
  readonly calls: { endpointId: string; model: string }[] = [];
  readonly dead = new Set<string>();

  async modelStatus(endpoint: TfServingEndpoint, model: string) {
    const endpointId = (endpoint as TfServingEndpoint & { id: string }).id;
    this.calls.push({ endpointId, model });
    return this.dead.has(endpointId)
      ? { ok: false as const, reason: `connect ECONNREFUSED ${endpoint.host}:${endpoint.restPort}` }
      : { ok: true as const, versions: ['1'] };
  }

  async labelVersion() {
    return undefined;
  }
}

function fleet(tasks: readonly TaskRecord[]) {
  return InMemoryRegistryStore.holding({
    tasks,
    registrations: tasks.flatMap((t) =>
      (t.endpoints[0]?.models ?? []).map((model) =>
        registration(t.taskArn.split('/').at(-1) as string, model, { host: t.endpoints[0]?.host }),
      ),
    ),
  });
}

describe('runProbeRound of one shard', () => {
  it("probes only the shard's endpoints, every model of each, and writes the shard's own marker", async () => {
    // Prepare: 30 tasks with two models each, over 3 shards.
    const tasks = Array.from({ length: 30 }, (_, i) => task(i, ['resnet', 'bert']));
    const store = fleet(tasks);
    const clock = new TestClock();
    const tfserving = new RecordingTfServing();
    const shard = { index: 1, count: 3 };
    const mine = tasks.map((t) => t.endpoints[0]?.id as string).filter((id) => shardOf(id, 3) === 1);

    // Act
    const summary = await runProbeRound(testProbeDeps({ store, now: clock.now, tfserving }), shard);

    // Assess
    expect(mine.length).toBeGreaterThan(0);
    expect(summary.targets).toBe(mine.length * 2);
    expect(new Set(tfserving.calls.map((c) => c.endpointId))).toEqual(new Set(mine));
    expect(tfserving.calls.filter((c) => c.model === 'bert')).toHaveLength(mine.length);
    const markers = (await store.readProbeState('resnet')).rounds;
    expect(markers.map((m) => m.shard)).toEqual([shard]);
  });

  it('keeps the vouches of the old layout when the shard count grows, until the new owner records', async () => {
    // Prepare: 20 tasks probed as one shard, then the layout grows to 2.
    const tasks = Array.from({ length: 20 }, (_, i) => task(i));
    const store = fleet(tasks);
    const clock = new TestClock();
    const tfserving = new RecordingTfServing();
    const deps = testProbeDeps({ store, now: clock.now, tfserving });
    await runProbeRound(deps); // rows written
    clock.advance(INTERVAL_MS);
    await runProbeRound(deps); // unchanged: the whole fleet's marker vouches
    const vouchedAt = clock.ms;
    clock.advance(INTERVAL_MS);

    // Act: only shard 0 of 2 has run so far.
    await runProbeRound(deps, { index: 0, count: 2 });

    // Assess: shard 1's endpoints are still spoken for by the old marker, shard 0's by the new one.
    const { rounds } = await store.readProbeState('resnet');
    for (const t of tasks) {
      const id = t.endpoints[0]?.id as string;
      const marker = markerFor(rounds, id);
      expect(marker?.seen.get(id)).toBe(shardOf(id, 2) === 0 ? clock.ms : vouchedAt);
    }
  });
});

describe('runProbeRound of a fleet past one share, in one invocation (local mode)', () => {
  it('writes one marker per shard of the layout, each within its item, vouching every unchanged endpoint without a row write', async () => {
    // Prepare: 12,000 endpoints with 32-hex task ids (~54 B each in a marker: ~650 KB in one), at
    // a share of 1,000 targets: a layout of 12.
    const tasks = Array.from({ length: 12_000 }, (_, i) => {
      const taskId = i.toString(16).padStart(32, '0');
      const host = `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`;
      return taskRecord(taskId, ['resnet'], { endpoints: [endpointOf(taskId, { host })] });
    });
    const store = InMemoryRegistryStore.holding({ tasks });
    const clock = new TestClock();
    const deps = testProbeDeps(
      { store, now: clock.now, tfserving: new RecordingTfServing() },
      { markerShare: 1_000 },
    );
    await runProbeRound(deps); // every row written once
    clock.advance(INTERVAL_MS);
    const claims = vi.spyOn(store, 'claimSnapshot');

    // Act
    const summary = await runProbeRound(deps);

    // Assess: no row written, twelve markers, every endpoint vouched for at this round's time.
    expect(summary).toMatchObject({ targets: 12_000, healthy: 12_000, writes: 12, errors: 0 });
    const { rounds } = await store.readProbeState('resnet');
    const byIndex = (a: RoundMarker, b: RoundMarker) => (a.shard?.index ?? 0) - (b.shard?.index ?? 0);
    expect(rounds.toSorted(byIndex).map((m) => m.shard)).toEqual(shardsOf(12));
    for (const marker of rounds) {
      const bytes = [...marker.seen.keys()].reduce((n, id) => n + Buffer.byteLength(id) + 9, 0);
      expect(bytes).toBeLessThan(340_000 / 4);
    }
    for (const t of tasks) {
      const id = t.endpoints[0]?.id as string;
      expect(markerFor(rounds, id)?.seen.get(id), id).toBe(clock.ms);
    }
    // The model's snapshot: rebuilt after its markers at most once a second (the clock stands still
    // here) and once when the round ends, not once per marker.
    expect(claims.mock.calls.length).toBeLessThanOrEqual(2);
  });
});

describe('a fleet that grows past shares, probed by one invocation', () => {
  /** Rounds over 10, then 20, then 30 tasks at a share of 10 targets (layouts of 1, 2 and 3), then `last` once more. */
  async function grow(store: InMemoryRegistryStore, last: InMemoryRegistryStore = store) {
    const clock = new TestClock();
    const tfserving = new RecordingTfServing();
    const tasks = Array.from({ length: 30 }, (_, i) => task(i));
    const deps = testProbeDeps({ store, now: clock.now, tfserving }, { markerShare: 10 });
    for (const size of [10, 20, 30]) {
      for (const t of tasks.slice(size - 10, size)) await store.putTask(t);
      await runProbeRound(deps);
      clock.advance(INTERVAL_MS);
    }
    await runProbeRound({ ...deps, store: last });
    return { tasks, clock };
  }

  it('deletes the markers of the layouts it outgrew once its own are written, and still vouches every endpoint', async () => {
    // Prepare, Act
    const store = new InMemoryRegistryStore();
    const { tasks, clock } = await grow(store);

    // Assess
    const { rounds } = await store.readProbeState('resnet');
    expect(rounds.map((m) => m.shard?.count).sort()).toEqual([3, 3, 3]);
    for (const t of tasks) {
      const id = t.endpoints[0]?.id as string;
      expect(markerFor(rounds, id)?.seen.get(id), id).toBe(clock.ms);
    }
  });

  it('keeps the markers of other layouts when one of its own cannot be written', async () => {
    // Prepare: the first layout's markers are there; then one shard's marker write fails.
    const store = new InMemoryRegistryStore();
    const clock = new TestClock();
    const tasks = Array.from({ length: 20 }, (_, i) => task(i));
    const deps = testProbeDeps(
      { store, now: clock.now, tfserving: new RecordingTfServing() },
      { markerShare: 20 },
    );
    for (const t of tasks) await store.putTask(t);
    await runProbeRound(deps); // a layout of 1
    clock.advance(INTERVAL_MS);
    const halfDown = Object.assign(Object.create(store), {
      async recordRound(model: string, marker: RoundMarker) {
        if (marker.shard?.index === 1) throw new Error('store down');
        return store.recordRound(model, marker);
      },
    }) as InMemoryRegistryStore;

    // Act: a layout of 2 (share 10), shard 1's marker lost.
    await runProbeRound({ ...deps, store: halfDown, markerShare: 10 });

    // Assess: the whole fleet's marker still speaks for shard 1's endpoints.
    const { rounds } = await store.readProbeState('resnet');
    expect(rounds.map((m) => m.shard?.count ?? 1).sort()).toEqual([1, 2]);
  });
});

describe('markerFor', () => {
  const shardMarker = (
    shard: ShardRef,
    recordedAt: number,
    seen: Record<string, number> = {},
  ): RoundMarker => ({
    ...roundMarker(recordedAt, seen, recordedAt),
    shard,
  });
  const id = endpointIdOf('t1');

  it("chooses the marker of the endpoint's own shard, never another shard's later one", () => {
    // Prepare
    const own = shardOf(id, 4);
    const other = (own + 1) % 4;
    const rounds = [
      shardMarker({ index: own, count: 4 }, 1_000),
      shardMarker({ index: other, count: 4 }, 9_000),
    ];

    // Act / Assess
    expect(markerFor(rounds, id)?.shard).toEqual({ index: own, count: 4 });
  });

  it('chooses the latest recorded of the owning markers of several layouts', () => {
    // Prepare
    const rounds = [
      roundMarker(1_000, {}, 1_000),
      shardMarker({ index: shardOf(id, 3), count: 3 }, 5_000),
      shardMarker({ index: shardOf(id, 2), count: 2 }, 3_000),
    ];

    // Act / Assess
    expect(markerFor(rounds, id)?.recordedAt).toBe(5_000);
    expect(markerFor(rounds.slice(0, 1), id)?.recordedAt).toBe(1_000);
  });

  it('is undefined when no marker owns the endpoint (its row alone is judged)', () => {
    const other = (shardOf(id, 2) + 1) % 2;
    expect(markerFor([shardMarker({ index: other, count: 2 }, 1_000)], id)).toBeUndefined();
    expect(markerFor([], id)).toBeUndefined();
  });
});

describe('a shard that stalls affects only its share', () => {
  it("serves the stalled shard's healthy endpoints marked stale, the others fresh, and still excludes its dead one", async () => {
    // Prepare: 12 tasks over 2 shards; one endpoint of shard 0 dies, then shard 0 stops running.
    const tasks = Array.from({ length: 12 }, (_, i) => task(i));
    const ids = tasks.map((t) => t.endpoints[0]?.id as string);
    const inShard = (index: number) => ids.filter((endpoint) => shardOf(endpoint, 2) === index);
    const [dead, ...stalledHealthy] = inShard(0) as [string, ...string[]];
    expect(stalledHealthy.length).toBeGreaterThan(0);
    expect(inShard(1).length).toBeGreaterThan(0);
    const store = fleet(tasks);
    const clock = new TestClock();
    const tfserving = new RecordingTfServing();
    const deps = testProbeDeps({ store, now: clock.now, tfserving });
    const both = async () => {
      await runProbeRound(deps, { index: 0, count: 2 });
      await runProbeRound(deps, { index: 1, count: 2 });
    };
    await both();
    clock.advance(INTERVAL_MS);
    tfserving.dead.add(dead);
    await both(); // shard 0 records the failure; its last record
    const stalledSince = clock.ms;

    // Act: for 20 s (past UNHEALTHY_AFTER_SECONDS) only shard 1 runs.
    for (let round = 0; round < 4; round++) {
      clock.advance(INTERVAL_MS);
      await runProbeRound(deps, { index: 1, count: 2 });
    }

    // Assess: per endpoint, as the health API and discovery judge it.
    const partition = await store.readModel('resnet');
    const judge = (endpointId: string) =>
      judgeEndpoint(
        partition.registrations.find(
          (r) => r.endpointId === endpointId,
        ) as (typeof partition.registrations)[number],
        partition.probes.find((p) => p.endpointId === endpointId),
        markerFor(partition.rounds, endpointId),
        clock.ms,
        DEFAULT_POLICY,
      );
    for (const endpoint of stalledHealthy) {
      expect(judge(endpoint)).toMatchObject({ reason: undefined, stalledAt: stalledSince });
    }
    for (const endpoint of inShard(1)) {
      expect(judge(endpoint)).toMatchObject({ reason: undefined, stalledAt: undefined });
    }
    expect(judge(dead).reason).toBe('failing');
    const health = await modelHealth(testDiscoveryDeps({ store, now: clock.now }), 'resnet');
    const served = health.endpoints.filter((e) => e.served).map((e) => e.id);
    expect(served.sort()).toEqual([...stalledHealthy, ...inShard(1)].sort());
    expect(health).toMatchObject({ stale: true, asOf: new Date(stalledSince).toISOString() });
  });
});

describe('fanOut', () => {
  it('starts every shard of the layout once, each with the minute it belongs to', async () => {
    // Prepare
    const started: { shard: ShardRef; scheduledTime: string }[] = [];
    const invoker: ShardInvoker = {
      invoke: async (shard, scheduledTime) => {
        started.push({ shard, scheduledTime });
      },
    };

    // Act
    const result = await fanOut(invoker, 3, '2026-05-04T10:05:00Z');

    // Assess
    expect(result).toEqual({ count: 3, started: 3, failed: [] });
    expect(started.map((s) => s.shard).sort((a, b) => a.index - b.index)).toEqual([
      { index: 0, count: 3 },
      { index: 1, count: 3 },
      { index: 2, count: 3 },
    ]);
    expect(new Set(started.map((s) => s.scheduledTime))).toEqual(new Set(['2026-05-04T10:05:00Z']));
  });

  it('reports a failed start and starts the other shards all the same', async () => {
    // Prepare
    const started: number[] = [];
    const invoker: ShardInvoker = {
      invoke: async (shard) => {
        if (shard.index === 1) throw new Error('TooManyRequestsException: Rate exceeded');
        started.push(shard.index);
      },
    };

    // Act
    const result = await fanOut(invoker, 4, '2026-05-04T10:05:00Z');

    // Assess
    expect(result).toEqual({
      count: 4,
      started: 3,
      failed: [{ shard: { index: 1, count: 4 }, error: 'TooManyRequestsException: Rate exceeded' }],
    });
    expect(started.sort()).toEqual([0, 2, 3]);
  });
});

describe('no two invocations probe the same target in one interval', () => {
  it('over a simulated minute of sharded rounds, tasks added meanwhile, each target is probed exactly once per interval', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 3, max: 12 }),
        fc.array(fc.integer({ min: 1, max: 11 }), { maxLength: 6 }),
        fc.array(fc.subarray(['resnet', 'bert', 'embedder'], { minLength: 1 }), {
          minLength: 52,
          maxLength: 52,
        }),
        async (initial, share, additions, modelsOf) => {
          // Prepare: the coordinator sizes the layout once for the minute, as it does at each trigger.
          const tasks = Array.from({ length: initial }, (_, i) => task(i, modelsOf[i]));
          const store = fleet(tasks);
          const clock = new TestClock();
          const { count } = await probeLayout({ store, share });
          const probers = new Map<number, RecordingTfServing>();
          const invoker: ShardInvoker = {
            invoke: async (shard) => {
              probers.set(shard.index, new RecordingTfServing());
            },
          };
          await fanOut(invoker, count, new Date(clock.ms).toISOString());
          let next = initial;

          // Act: 12 intervals; at some, tasks start (ECS events write them between rounds).
          for (let interval = 0; interval < 12; interval++) {
            const starting = additions.filter((a) => a === interval).length;
            for (let k = 0; k < starting; k++) {
              await store.putTask(task(next, modelsOf[next]));
              next += 1;
            }
            const before = new Map([...probers].map(([index, p]) => [index, p.calls.length]));
            for (const [index, tfserving] of probers) {
              await runProbeRound(testProbeDeps({ store, now: clock.now, tfserving }), { index, count });
            }

            // Assess: this interval's probes, across every invocation.
            const probed = [...probers].flatMap(([index, p]) =>
              p.calls.slice(before.get(index)).map((c) => `${c.endpointId} ${c.model}`),
            );
            const expected = (await store.listRunningTasks()).flatMap((t) =>
              t.endpoints.flatMap((e) => e.models.map((model) => `${e.id} ${model}`)),
            );
            expect(probed.sort()).toEqual(expected.sort());
            clock.advance(INTERVAL_MS);
          }
          expect(probers.size).toBe(count);
        },
      ),
      { numRuns: 20 },
    );
  }, 30_000);
});
