import { describe, expect, it, vi } from 'vitest';
import {
  type LoopOptions,
  type ProbeDeps,
  type ProbeTarget,
  probeEndpointModel,
  probeTargets,
  runProbeLoop,
  runProbeRound,
  vouchedRebuildMs,
} from '../../../../functions/domain/probe.ts';
import type { TaskRecord } from '../../../../functions/domain/records.ts';
import type { EndpointRegistration } from '../../../../functions/domain/task-endpoints.ts';
import { TestClock } from '../../../support/kit/clock.ts';
import { testProbeDeps } from '../../../support/kit/deps.ts';
import { failingStore, InMemoryRegistryStore } from '../../../support/kit/in-memory-store.ts';
import { within } from '../../../support/kit/poll.ts';
import { endpointIdOf, endpointOf, registration, taskRecord } from '../../../support/kit/records.ts';
import { DEFAULT_SETTINGS } from '../../../support/kit/settings.ts';
import { available, FakeTfServing } from '../../../support/kit/tfserving.ts';

const START = Date.parse('2026-05-04T10:05:00.000Z');
const REMOVE_AFTER_SECONDS = DEFAULT_SETTINGS.removeAfterSeconds;

function target(endpoint: EndpointRegistration, model: string): ProbeTarget {
  const { host, restPort } = endpoint;
  if (host === undefined || restPort === undefined) throw new Error('not addressable');
  return { endpoint: { ...endpoint, host, restPort }, model };
}

/** The probe's dependencies at the default settings, at START unless told otherwise. */
function probeDeps(
  parts: { tfserving: FakeTfServing; store: InMemoryRegistryStore; now?: () => number },
  overrides: Partial<ProbeDeps> = {},
) {
  return testProbeDeps({ now: () => START, ...parts }, overrides);
}

describe('probeEndpointModel', () => {
  it('records a success with the AVAILABLE versions, the probe time and a renewed expiry', async () => {
    // Prepare
    const endpoint = endpointOf('a');
    const tfserving = new FakeTfServing().status(
      target(endpoint, 'resnet').endpoint,
      'resnet',
      available('8', '7'),
    );
    const store = new InMemoryRegistryStore();

    // Act
    const result = await probeEndpointModel(probeDeps({ tfserving, store }), target(endpoint, 'resnet'));

    // Assess
    expect(result).toEqual({ ok: true, versions: ['8', '7'], labels: {}, written: true, unchanged: false });
    expect(store.probe('ml/a/tfserving', 'resnet')).toEqual({
      endpointId: 'ml/a/tfserving',
      model: 'resnet',
      versions: ['8', '7'],
      labels: {},
      lastSuccessAt: START,
      probedAt: START,
      consecutiveFailures: 0,
      lastError: undefined,
      expiresAt: START / 1000 + REMOVE_AFTER_SECONDS + 3600,
    });
  });

  it('renews the expiry to at least now + removeAfterSeconds when now is not a whole second', async () => {
    // Prepare
    const endpoint = endpointOf('a');
    const tfserving = new FakeTfServing().status(
      target(endpoint, 'resnet').endpoint,
      'resnet',
      available('1'),
    );
    const store = new InMemoryRegistryStore();
    const now = START + 400;

    // Act
    await probeEndpointModel(probeDeps({ tfserving, store, now: () => now }), target(endpoint, 'resnet'));

    // Assess
    expect((store.probe('ml/a/tfserving', 'resnet')?.expiresAt ?? 0) * 1000).toBeGreaterThanOrEqual(
      now + REMOVE_AFTER_SECONDS * 1000,
    );
  });

  it('probes the model on the endpoint address', async () => {
    // Prepare
    const endpoint = endpointOf('a', { host: '10.0.215.105', restPort: 9000 });
    const tfserving = new FakeTfServing();

    // Act
    await probeEndpointModel(
      probeDeps({ tfserving, store: new InMemoryRegistryStore() }),
      target(endpoint, 'bert'),
    );

    // Assess
    expect(tfserving.statusCalls).toEqual([{ host: '10.0.215.105', restPort: 9000, model: 'bert' }]);
  });

  it('resolves each declared label and records those that resolve', async () => {
    // Prepare
    const endpoint = endpointOf('a', { labels: ['stable', 'canary', 'unknown'] });
    const address = target(endpoint, 'resnet').endpoint;
    const tfserving = new FakeTfServing()
      .status(address, 'resnet', available('8', '7'))
      .label(address, 'resnet', 'stable', '7')
      .label(address, 'resnet', 'canary', '8');
    const store = new InMemoryRegistryStore();

    // Act
    const result = await probeEndpointModel(probeDeps({ tfserving, store }), target(endpoint, 'resnet'));

    // Assess
    expect(result.ok).toBe(true);
    expect(store.probe('ml/a/tfserving', 'resnet')?.labels).toEqual({ stable: '7', canary: '8' });
    expect(tfserving.labelCalls.map((c) => c.label)).toEqual(['stable', 'canary', 'unknown']);
  });

  it('records a failure on an existing row, counting it', async () => {
    // Prepare
    const endpoint = endpointOf('a');
    const address = target(endpoint, 'resnet').endpoint;
    const clock = new TestClock(START);
    const store = new InMemoryRegistryStore();
    const ok = new FakeTfServing().status(address, 'resnet', available('1'));
    await probeEndpointModel(probeDeps({ tfserving: ok, store, now: clock.now }), target(endpoint, 'resnet'));
    clock.advance(5000);
    const refusing = new FakeTfServing();

    // Act
    const result = await probeEndpointModel(
      probeDeps({ tfserving: refusing, store, now: clock.now }),
      target(endpoint, 'resnet'),
    );

    // Assess
    expect(result).toEqual({ ok: false, reason: 'connect ECONNREFUSED 10.0.0.1:8501', written: true });
    expect(store.probe('ml/a/tfserving', 'resnet')).toMatchObject({
      versions: ['1'],
      lastSuccessAt: START,
      probedAt: START + 5000,
      consecutiveFailures: 1,
      lastError: 'connect ECONNREFUSED 10.0.0.1:8501',
    });
  });

  it('does not resolve labels after a failed status probe', async () => {
    // Prepare
    const endpoint = endpointOf('a', { labels: ['stable'] });
    const tfserving = new FakeTfServing();

    // Act
    await probeEndpointModel(
      probeDeps({ tfserving, store: new InMemoryRegistryStore() }),
      target(endpoint, 'resnet'),
    );

    // Assess
    expect(tfserving.labelCalls).toEqual([]);
  });

  it('reports written: false when a newer probe already wrote the row', async () => {
    // Prepare
    const endpoint = endpointOf('a');
    const address = target(endpoint, 'resnet').endpoint;
    const tfserving = new FakeTfServing().status(address, 'resnet', available('1'));
    const store = new InMemoryRegistryStore();
    await probeEndpointModel(
      probeDeps({ tfserving, store, now: () => START + 1000 }),
      target(endpoint, 'resnet'),
    );

    // Act
    const result = await probeEndpointModel(probeDeps({ tfserving, store }), target(endpoint, 'resnet'));

    // Assess
    expect(result).toMatchObject({ ok: true, written: false });
    expect(store.probe('ml/a/tfserving', 'resnet')?.probedAt).toBe(START + 1000);
  });
});

describe('probeTargets', () => {
  it('returns every model of every addressable endpoint', () => {
    // Prepare
    const tasks: TaskRecord[] = [
      taskRecord('a', ['resnet', 'bert']),
      taskRecord('b', ['resnet'], { endpoints: [endpointOf('b', { host: '10.0.0.2' })] }),
    ];

    // Act
    const targets = probeTargets(tasks);

    // Assess
    expect(targets.map((t) => [t.endpoint.id, t.endpoint.host, t.model])).toEqual([
      ['ml/a/tfserving', '10.0.0.1', 'resnet'],
      ['ml/a/tfserving', '10.0.0.1', 'bert'],
      ['ml/b/tfserving', '10.0.0.2', 'resnet'],
    ]);
  });

  it('leaves out endpoints without a host or a REST port', () => {
    // Prepare
    const tasks: TaskRecord[] = [
      taskRecord('a', ['resnet'], {
        endpoints: [
          endpointOf('a', { host: undefined }),
          endpointOf('b', { restPort: undefined }),
          endpointOf('c'),
        ],
      }),
    ];

    // Act
    const targets = probeTargets(tasks);

    // Assess
    expect(targets.map((t) => t.endpoint.id)).toEqual(['ml/c/tfserving']);
  });

  it('returns nothing for no tasks', () => {
    // Act / Assess
    expect(probeTargets([])).toEqual([]);
  });
});

describe('vouchedRebuildMs', () => {
  it('is a fifth of UNHEALTHY_AFTER_SECONDS, from 1 s to 2 s', () => {
    // Act / Assess
    expect([1, 3, 5, 7.5, 10, 3600].map(vouchedRebuildMs)).toEqual([
      1_000, 1_000, 1_000, 1_500, 2_000, 2_000,
    ]);
  });
});

describe('runProbeRound', () => {
  async function storeWith(...tasks: TaskRecord[]) {
    const store = new InMemoryRegistryStore();
    for (const task of tasks) await store.putTask(task);
    return store;
  }

  /** `count` running tasks t0… of resnet on 10.0.0.1, registered, each serving version 2. */
  async function servedResnet(count: number) {
    const tasks = Array.from({ length: count }, (_, i) => `t${i}`);
    const store = await storeWith(...tasks.map((task) => taskRecord(task, ['resnet'])));
    for (const task of tasks) await store.putRegistration(registration(task, 'resnet'));
    const tfserving = new FakeTfServing().status(
      { host: '10.0.0.1', restPort: 8501 },
      'resnet',
      available('2'),
    );
    return { tasks, store, tfserving };
  }

  /** Task a (resnet and bert on 10.0.0.1) and task b (resnet on 10.0.0.2). */
  const twoTasks = () =>
    storeWith(
      taskRecord('a', ['resnet', 'bert']),
      taskRecord('b', ['resnet'], { endpoints: [endpointOf('b', { host: '10.0.0.2' })] }),
    );

  it('probes every model of every running task and records the outcomes', async () => {
    // Prepare
    const store = await twoTasks();
    const tfserving = new FakeTfServing()
      .status({ host: '10.0.0.1', restPort: 8501 }, 'resnet', available('2'))
      .status({ host: '10.0.0.1', restPort: 8501 }, 'bert', available('5'));

    // Act
    await runProbeRound(probeDeps({ tfserving, store }));

    // Assess
    expect(tfserving.statusCalls).toHaveLength(3);
    expect(store.probe('ml/a/tfserving', 'resnet')?.versions).toEqual(['2']);
    expect(store.probe('ml/a/tfserving', 'bert')?.versions).toEqual(['5']);
    expect(store.probe('ml/b/tfserving', 'resnet')).toBeUndefined();
  });

  it("moves the model's snapshot forward from the rows it wrote, catching up a drain whose own rebuild failed", async () => {
    // Prepare: 13 served tasks of resnet on 10.0.0.1 and a first round (a whole read).
    const { tasks, store, tfserving } = await servedResnet(13);
    const clock = new TestClock(START);
    const deps = probeDeps({ tfserving, store, now: clock.now });
    await runProbeRound(deps);
    const reads = vi.spyOn(store, 'readModel');
    // t3 drained: its task and registration written, its rebuild never ran.
    await store.putTask(taskRecord('t3', ['resnet'], { lifecycle: 'STOPPING', taskVersion: 4 }));
    await store.putRegistration(
      registration('t3', 'resnet', { lifecycle: 'STOPPING', host: undefined, taskVersion: 4 }),
    );

    // Act
    clock.advance(5_000);
    await runProbeRound(deps);

    // Assess
    expect(reads).not.toHaveBeenCalled();
    const served = (await store.readSnapshot('resnet'))?.partition?.registrations.map((r) => r.endpointId);
    expect(served?.sort()).toEqual(
      tasks
        .filter((task) => task !== 't3')
        .map(endpointIdOf)
        .sort(),
    );
  });

  it.each([
    ['only vouched for (nothing changed)', 2_000, true],
    ['failing (a row written each probe)', 1_000, false],
  ] as const)(
    'rebuilds in a long round the snapshot of a model whose endpoints are %s once every %i ms',
    async (_, minGapMs, serving) => {
      // Prepare: 100 tasks, a first round, and a clock that moves 20 ms each time it is read (a round
      // one probe at a time then lasts seconds).
      const { store, tfserving } = await servedResnet(100);
      let t = START;
      const deps = probeDeps(
        { tfserving, store, now: () => (t += 20) },
        { concurrency: 1, vouchedRebuildMs: 2_000 },
      );
      await runProbeRound(deps);
      if (!serving) tfserving.statuses.clear();
      const claims: number[] = [];
      const claim = store.claimSnapshot.bind(store);
      vi.spyOn(store, 'claimSnapshot').mockImplementation(async (model) => {
        claims.push(t);
        return claim(model);
      });

      // Act
      const round = await runProbeRound(deps);

      // Assess: the rebuilds started while the round ran (the last one follows its end) are at
      // least the bound apart, and come as often as it allows.
      expect(round.durationMs).toBeGreaterThan(4 * minGapMs);
      const during = claims.slice(0, -1);
      const gaps = during.slice(1).map((at, i) => at - (during[i] as number));
      expect(Math.min(...gaps)).toBeGreaterThanOrEqual(minGapMs);
      expect(Math.min(...gaps)).toBeLessThan(minGapMs + 500);
      expect(during.length).toBeGreaterThanOrEqual(Math.floor(round.durationMs / (minGapMs + 500)) - 1);
    },
  );

  it('counts as changed the successes that found other versions or labels than their rows, and only those', async () => {
    // Prepare
    const store = await twoTasks();
    const resnet = { host: '10.0.0.1', restPort: 8501 };
    const tfserving = new FakeTfServing()
      .status(resnet, 'resnet', available('2'))
      .status(resnet, 'bert', available('5'));
    const clock = new TestClock(START);
    const deps = probeDeps({ tfserving, store, now: clock.now });
    const round = () => {
      clock.advance(5_000);
      return runProbeRound(deps);
    };

    // Act
    const first = await round();
    const same = await round();
    tfserving.status(resnet, 'resnet', available('3', '2'));
    const newVersion = await round();
    tfserving.label(resnet, 'bert', 'stable', '5');
    const sameAgain = await round();

    // Assess: bert declares no label, so a label TF Serving could resolve changes nothing
    expect([first, same, newVersion, sameAgain].map((round) => round.changed)).toEqual([2, 0, 1, 0]);
  });

  it('returns the counts of targets, healthy and failed probes and writes', async () => {
    // Prepare
    const store = await twoTasks();
    const tfserving = new FakeTfServing()
      .status({ host: '10.0.0.1', restPort: 8501 }, 'resnet', available('2'))
      .status({ host: '10.0.0.1', restPort: 8501 }, 'bert', { ok: false, reason: 'no AVAILABLE version' });

    // Act
    const summary = await runProbeRound(probeDeps({ tfserving, store }));

    // Assess: a failure on a row that never existed is not written; each model gets its marker
    expect(summary).toEqual({
      targets: 3,
      healthy: 1,
      failed: 2,
      slow: 0,
      changed: 1,
      writes: 1 + 2,
      errors: 0,
      durationMs: 0,
      healthyByModel: new Map([
        ['resnet', 1],
        ['bert', 0],
      ]),
      failuresByKind: { 'no-available-version': 1, connection: 1 },
    });
  });

  it('skips stopped tasks and unaddressable endpoints', async () => {
    // Prepare
    const store = await storeWith(
      taskRecord('stopped', ['resnet'], { lifecycle: 'STOPPED' }),
      taskRecord('pending', ['resnet'], { endpoints: [endpointOf('pending', { host: undefined })] }),
    );
    const tfserving = new FakeTfServing();

    // Act
    const summary = await runProbeRound(probeDeps({ tfserving, store }));

    // Assess
    expect(summary.targets).toBe(0);
    expect(tfserving.statusCalls).toEqual([]);
  });

  it('measures the round on the injected clock', async () => {
    // Prepare
    const clock = new TestClock(START);
    const store = await storeWith(taskRecord('a', ['resnet']));
    const tfserving = new FakeTfServing();
    const modelStatus = tfserving.modelStatus.bind(tfserving);
    tfserving.modelStatus = async (endpoint, model) => {
      clock.advance(1234);
      return modelStatus(endpoint, model);
    };

    // Act
    const summary = await runProbeRound(probeDeps({ tfserving, store, now: clock.now }));

    // Assess
    expect(summary.durationMs).toBe(1234);
  });

  it('runs at most `concurrency` probes at once', async () => {
    // Prepare
    const store = await storeWith(
      ...['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((id) => taskRecord(id, ['resnet'])),
    );
    const tfserving = new FakeTfServing();
    let inFlight = 0;
    let maxInFlight = 0;
    tfserving.modelStatus = async () => {
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      for (let i = 0; i < 5; i++) await Promise.resolve();
      inFlight -= 1;
      return available('1');
    };

    // Act
    const summary = await runProbeRound(probeDeps({ tfserving, store }, { concurrency: 2 }));

    // Assess
    expect(summary.targets).toBe(7);
    expect(maxInFlight).toBe(2);
  });
});

describe('runProbeLoop', () => {
  const INTERVAL_MS = 5000;

  /** A loop over a fake clock: `sleep` advances it, and each round takes `durations[i]` (or the last one). */
  function loop(durations: number[], options: Partial<LoopOptions> = {}) {
    const clock = new TestClock(0);
    const starts: number[] = [];
    const ends: number[] = [];
    const sleep = vi.fn(async (ms: number) => {
      clock.advance(ms);
    });
    const round = vi.fn(async () => {
      const duration = durations[Math.min(starts.length, durations.length - 1)] ?? 0;
      starts.push(clock.now());
      clock.advance(duration);
      ends.push(clock.now());
      return { durationMs: duration };
    });
    const run = () =>
      runProbeLoop(round, {
        intervalMs: INTERVAL_MS,
        deadlineMs: 58_000,
        now: clock.now,
        sleep,
        ...options,
      });
    return { clock, starts, ends, sleep, round, run };
  }

  it('runs a round every interval', async () => {
    // Prepare
    const { starts, run } = loop([1000]);

    // Act
    await run();

    // Assess
    expect(starts.slice(0, 4)).toEqual([0, 5000, 10_000, 15_000]);
  });

  it('returns the summary of every round', async () => {
    // Prepare
    const { run, round } = loop([1000]);

    // Act
    const summaries = await run();

    // Assess
    expect(summaries).toHaveLength(round.mock.calls.length);
    expect(summaries.every((s) => s.durationMs === 1000)).toBe(true);
  });

  it('stops before the deadline, so the last round ends before it', async () => {
    // Prepare
    const { starts, ends, run } = loop([1000]);

    // Act
    await run();

    // Assess
    expect(starts).toHaveLength(12);
    expect(starts.at(-1)).toBe(55_000);
    expect(Math.max(...ends)).toBeLessThanOrEqual(58_000);
  });

  it('does not start a round that would end after the deadline', async () => {
    // Prepare
    const { starts, ends, run } = loop([1000], { deadlineMs: 55_500 });

    // Act
    await run();

    // Assess
    expect(starts.at(-1)).toBe(50_000);
    expect(Math.max(...ends)).toBeLessThanOrEqual(55_500);
  });

  it('plans with the longest round so far', async () => {
    // Prepare: a slow second round (4 s) makes 55 s too late a start for a 58 s deadline
    const { starts, run } = loop([1000, 4000, 1000]);

    // Act
    await run();

    // Assess
    expect(starts.at(-1)).toBe(50_000);
  });

  it('delays the next round after a round longer than the interval, without overlap', async () => {
    // Prepare
    const { starts, ends, run } = loop([7000]);

    // Act
    await run();

    // Assess
    expect(starts.slice(0, 3)).toEqual([0, 7000, 14_000]);
    for (let i = 1; i < starts.length; i++) {
      expect(starts[i]).toBeGreaterThanOrEqual(ends[i - 1] ?? Number.POSITIVE_INFINITY);
    }
  });

  it('keeps the interval after one slow round', async () => {
    // Prepare
    const { starts, run } = loop([7000, 1000]);

    // Act
    await run();

    // Assess
    expect(starts.slice(0, 4)).toEqual([0, 7000, 12_000, 17_000]);
  });

  it('sleeps only for what is left of the interval', async () => {
    // Prepare
    const { sleep, run } = loop([1500]);

    // Act
    await run();

    // Assess
    expect(sleep).toHaveBeenNthCalledWith(1, 3500);
  });

  it('runs no round when the deadline has already passed', async () => {
    // Prepare
    const { round, run } = loop([1000], { deadlineMs: -1 });

    // Act
    const summaries = await run();

    // Assess
    expect(summaries).toEqual([]);
    expect(round).not.toHaveBeenCalled();
  });

  it('runs no round when the signal is already aborted', async () => {
    // Prepare
    const controller = new AbortController();
    controller.abort();
    const { round, run } = loop([1000], { signal: controller.signal });

    // Act
    await run();

    // Assess
    expect(round).not.toHaveBeenCalled();
  });

  it('stops after the current round when the signal is aborted', async () => {
    // Prepare
    const controller = new AbortController();
    const { round, sleep, run } = loop([1000], {
      signal: controller.signal,
      deadlineMs: Number.POSITIVE_INFINITY,
    });
    sleep.mockImplementation(async () => {
      if (round.mock.calls.length === 3) controller.abort();
    });

    // Act
    const summaries = await run();

    // Assess
    expect(summaries).toHaveLength(3);
  });
});

describe('runProbeRound write pattern', () => {
  async function fleet(clock: TestClock) {
    const store = new InMemoryRegistryStore();
    await store.putTask(taskRecord('a', ['resnet']));
    await store.putTask(taskRecord('b', ['resnet'], { endpoints: [endpointOf('b', { host: '10.0.0.2' })] }));
    const tfserving = new FakeTfServing()
      .status({ host: '10.0.0.1', restPort: 8501 }, 'resnet', available('2'))
      .status({ host: '10.0.0.2', restPort: 8501 }, 'resnet', available('2'));
    const deps = probeDeps({ tfserving, store, now: clock.now });
    await runProbeRound(deps);
    return { store, tfserving, deps };
  }

  it('writes no row for an unchanged success, and one marker per model saying when it saw each', async () => {
    // Prepare
    const clock = new TestClock(START);
    const { store, deps } = await fleet(clock);
    const rowBefore = store.probe('ml/a/tfserving', 'resnet');

    // Act
    clock.advance(5_000);
    const summary = await runProbeRound(deps);

    // Assess
    expect(summary).toMatchObject({ targets: 2, healthy: 2, writes: 1 });
    expect(store.probe('ml/a/tfserving', 'resnet')).toEqual(rowBefore);
    expect(store.rounds.get('resnet')).toEqual({
      startedAt: START + 5_000,
      recordedAt: START + 5_000,
      seen: new Map([
        ['ml/a/tfserving', START + 5_000],
        ['ml/b/tfserving', START + 5_000],
      ]),
    });
  });

  it('keeps the marker under its byte budget, and writes the row of every unchanged success it cannot vouch for', async () => {
    // Prepare: 50 endpoints whose ids take ~10 KB each in the marker, probed all at once.
    const clock = new TestClock(START);
    const store = new InMemoryRegistryStore();
    const tfserving = new FakeTfServing();
    const ids: string[] = [];
    for (let i = 0; i < 50; i += 1) {
      const taskId = `${i}-${'x'.repeat(10_000)}`;
      const host = `10.0.1.${i + 1}`;
      await store.putTask(taskRecord(taskId, ['resnet'], { endpoints: [endpointOf(taskId, { host })] }));
      tfserving.status({ host, restPort: 8501 }, 'resnet', available('2'));
      ids.push(`ml/${taskId}/tfserving`);
    }
    const deps = probeDeps({ tfserving, store, now: clock.now }, { concurrency: 64 });
    await runProbeRound(deps);

    // Act
    clock.advance(5_000);
    const summary = await runProbeRound(deps);

    // Assess: about 340 KB vouched for; every other endpoint's row says it was seen now.
    const seen = store.rounds.get('resnet')?.seen ?? new Map<string, number>();
    const markerBytes = [...seen.keys()].reduce((n, id) => n + id.length + 9, 0);
    expect(seen.size).toBeGreaterThan(30);
    expect(seen.size).toBeLessThan(50);
    expect(markerBytes).toBeLessThanOrEqual(340_000);
    for (const id of ids) {
      const at = seen.get(id) ?? store.probe(id, 'resnet')?.lastSuccessAt;
      expect(at, id.slice(0, 8)).toBe(START + 5_000);
    }
    expect(summary).toMatchObject({ healthy: 50, writes: 50 - seen.size + 1 });
  });

  it('writes the row of an endpoint whose versions changed, and leaves it out of the marker', async () => {
    // Prepare
    const clock = new TestClock(START);
    const { store, tfserving, deps } = await fleet(clock);
    tfserving.status({ host: '10.0.0.1', restPort: 8501 }, 'resnet', available('3', '2'));

    // Act
    clock.advance(5_000);
    const summary = await runProbeRound(deps);

    // Assess
    expect(summary.writes).toBe(2);
    expect(store.probe('ml/a/tfserving', 'resnet')).toMatchObject({
      versions: ['3', '2'],
      lastSuccessAt: START + 5_000,
    });
    expect([...(store.rounds.get('resnet')?.seen.keys() ?? [])]).toEqual(['ml/b/tfserving']);
  });

  it('renews the TTL lease of an unchanged row about once an hour, not every probe', async () => {
    // Prepare: the first round wrote a lease of REMOVE_AFTER + 1 h, renewed with under REMOVE_AFTER + 10 min left.
    const clock = new TestClock(START);
    const { store, deps } = await fleet(clock);

    // Act
    clock.advance(2_999_000);
    await runProbeRound(deps);
    const kept = store.probe('ml/a/tfserving', 'resnet')?.expiresAt;
    clock.advance(2_000);
    await runProbeRound(deps);
    const renewed = store.probe('ml/a/tfserving', 'resnet')?.expiresAt;

    // Assess
    expect(kept).toBe(START / 1000 + REMOVE_AFTER_SECONDS + 3600);
    expect(renewed).toBe(START / 1000 + 3001 + REMOVE_AFTER_SECONDS + 3600);
  });

  it('carries the vouched success time into a failure, so staleness counts from the real last success', async () => {
    // Prepare
    const clock = new TestClock(START);
    const { store, tfserving, deps } = await fleet(clock);
    clock.advance(5_000);
    await runProbeRound(deps);
    tfserving.status({ host: '10.0.0.1', restPort: 8501 }, 'resnet', { ok: false, reason: 'HTTP 500: boom' });

    // Act
    clock.advance(5_000);
    await runProbeRound(deps);

    // Assess
    expect(store.probe('ml/a/tfserving', 'resnet')).toMatchObject({
      consecutiveFailures: 1,
      lastSuccessAt: START + 5_000,
    });
  });

  it('leaves an endpoint whose write failed out of the marker, and still vouches for the others', async () => {
    // Prepare
    const clock = new TestClock(START);
    const { store, tfserving, deps } = await fleet(clock);
    tfserving.status({ host: '10.0.0.1', restPort: 8501 }, 'resnet', available('4'));
    const failing = {
      ...deps,
      store: failingStore(store, { recordProbeSuccess: new Error('ProvisionedThroughputExceededException') }),
    };

    // Act
    clock.advance(5_000);
    const summary = await runProbeRound(failing);

    // Assess
    expect(summary).toMatchObject({ targets: 2, errors: 1 });
    expect(summary.failuresByKind).toEqual({ 'store-error': 1 });
    expect(summary.healthyByModel).toEqual(new Map([['resnet', 1]]));
    expect(store.rounds.get('resnet')?.seen).toEqual(new Map([['ml/b/tfserving', START + 5_000]]));
  });
});

describe('runProbeRound with a hung target', () => {
  /** Waits until the model's marker says the endpoint was seen at `at`. */
  const markedSeen = (store: InMemoryRegistryStore, endpointId: string, at: number) =>
    within(2_000, () => store.rounds.get('resnet')?.seen.get(endpointId) === at, `${endpointId} seen`, 2);

  async function fleetWithHungB() {
    const clock = new TestClock(START);
    const store = new InMemoryRegistryStore();
    for (const [id, host] of [
      ['a', '10.0.0.1'],
      ['b', '10.0.0.2'],
      ['c', '10.0.0.3'],
    ] as const) {
      await store.putTask(taskRecord(id, ['resnet'], { endpoints: [endpointOf(id, { host })] }));
    }
    const tfserving = new FakeTfServing();
    for (const host of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) {
      tfserving.status({ host, restPort: 8501 }, 'resnet', available('2'));
    }
    const deps = probeDeps({ tfserving, store, now: clock.now }, { concurrency: 1, slowAfterMs: 20 });
    // The first round writes the new rows; the second finds them unchanged and marks them seen.
    await runProbeRound(deps);
    clock.advance(5_000);
    await runProbeRound(deps);
    clock.advance(5_000);
    const release = tfserving.hold({ host: '10.0.0.2', restPort: 8501 }, 'resnet');
    return { clock, store, tfserving, deps, release };
  }

  it("writes the healthy endpoints' marker while the hung one is still waiting, one slot or not", async () => {
    // Prepare
    const { store, tfserving, deps, release } = await fleetWithHungB();

    // Act
    const round = runProbeRound(deps);
    await markedSeen(store, 'ml/c/tfserving', START + 10_000);
    const whileHung = store.rounds.get('resnet');
    tfserving.status({ host: '10.0.0.2', restPort: 8501 }, 'resnet', {
      ok: false,
      reason: 'timeout after 2000 ms',
    });
    release();
    const summary = await round;

    // Assess: a and c are seen at this round's time; b keeps the time it was last seen.
    expect(whileHung?.seen).toEqual(
      new Map([
        ['ml/a/tfserving', START + 10_000],
        ['ml/b/tfserving', START + 5_000],
        ['ml/c/tfserving', START + 10_000],
      ]),
    );
    expect(summary).toMatchObject({ targets: 3, healthy: 2, failed: 1, slow: 1 });
    expect(summary.failuresByKind).toEqual({ timeout: 1 });
    expect([...(store.rounds.get('resnet')?.seen.keys() ?? [])].sort()).toEqual([
      'ml/a/tfserving',
      'ml/c/tfserving',
    ]);
    expect(store.probe('ml/b/tfserving', 'resnet')).toMatchObject({ consecutiveFailures: 1 });
  });

  it('records a slow success that comes back late in the last marker', async () => {
    // Prepare
    const { clock, store, deps, release } = await fleetWithHungB();

    // Act
    const round = runProbeRound(deps);
    await markedSeen(store, 'ml/c/tfserving', START + 10_000);
    clock.advance(1_500);
    release();
    await round;

    // Assess: b was seen when its probe started (this round), and the last write is the heartbeat.
    expect(store.rounds.get('resnet')?.seen.get('ml/b/tfserving')).toBe(START + 10_000);
    expect(store.rounds.get('resnet')?.recordedAt).toBe(START + 11_500);
  });
});

describe('runProbeRound marker failure', () => {
  it('counts a failed marker write as an error instead of failing the round', async () => {
    // Prepare
    const store = new InMemoryRegistryStore();
    await store.putTask(taskRecord('a', ['resnet']));
    const tfserving = new FakeTfServing().status(
      { host: '10.0.0.1', restPort: 8501 },
      'resnet',
      available('2'),
    );
    const clock = new TestClock(START);
    await runProbeRound(probeDeps({ tfserving, store, now: clock.now }));
    const failing = failingStore(store, { recordRound: new Error('ThrottlingException') });

    // Act
    clock.advance(5_000);
    const summary = await runProbeRound(probeDeps({ tfserving, store: failing, now: clock.now }));

    // Assess
    expect(summary).toMatchObject({ targets: 1, healthy: 1, writes: 0, errors: 1 });
  });
});
