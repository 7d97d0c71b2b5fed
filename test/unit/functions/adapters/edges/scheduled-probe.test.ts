import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  END_MARGIN_MS,
  loopDeadline,
  probeCoordinator,
  probeRounds,
  runScheduledProbe,
} from '../../../../../functions/adapters/edges/scheduled-probe.ts';
import { loggers } from '../../../../../functions/adapters/observability.ts';
import type { ShardInvoker } from '../../../../../functions/domain/probe-fanout.ts';
import type { ShardRef } from '../../../../../functions/domain/shards.ts';
import { testFleetDeps, testProbeDeps } from '../../../../support/kit/deps.ts';
import { loadEvent } from '../../../../support/kit/events.ts';
import { failingStore, InMemoryRegistryStore } from '../../../../support/kit/in-memory-store.ts';
import { endpointOf, taskRecord } from '../../../../support/kit/records.ts';
import { FakeTfServing } from '../../../../support/kit/tfserving.ts';

const SCHEDULED_TIME = '2026-05-04T10:05:00Z';
const SCHEDULED_AT = Date.parse(SCHEDULED_TIME);
const MINUTE = 60_000;
const LAMBDA_TIMEOUT_MS = 15 * MINUTE;

describe('loopDeadline', () => {
  it('returns one minute after the scheduled time, less the end margin', () => {
    // Act
    const deadline = loopDeadline(SCHEDULED_TIME, SCHEDULED_AT + 1500, LAMBDA_TIMEOUT_MS);

    // Assess
    expect(deadline).toBe(SCHEDULED_AT + MINUTE - END_MARGIN_MS);
  });

  it('keeps the deadline on the schedule when the invocation starts late', () => {
    // Act
    const deadline = loopDeadline(SCHEDULED_TIME, SCHEDULED_AT + 20_000, LAMBDA_TIMEOUT_MS);

    // Assess
    expect(deadline).toBe(SCHEDULED_AT + MINUTE - END_MARGIN_MS);
  });

  it('is capped by the time the Lambda has left, less the end margin', () => {
    // Prepare
    const startedAt = SCHEDULED_AT + 1000;

    // Act
    const deadline = loopDeadline(SCHEDULED_TIME, startedAt, 30_000);

    // Assess
    expect(deadline).toBe(startedAt + 30_000 - END_MARGIN_MS);
  });

  it.each([
    ['no time', undefined],
    ['an unparsable time', 'not a time'],
    ['an empty time', ''],
  ])('falls back to the start for %s', (_, time) => {
    // Prepare
    const startedAt = SCHEDULED_AT + 3000;

    // Act
    const deadline = loopDeadline(time, startedAt, LAMBDA_TIMEOUT_MS);

    // Assess
    expect(deadline).toBe(startedAt + MINUTE - END_MARGIN_MS);
  });

  it('falls back to the start for a time in the future', () => {
    // Prepare
    const startedAt = SCHEDULED_AT - 5000;

    // Act
    const deadline = loopDeadline(SCHEDULED_TIME, startedAt, LAMBDA_TIMEOUT_MS);

    // Assess
    expect(deadline).toBe(startedAt + MINUTE - END_MARGIN_MS);
  });

  it('uses a scheduled time equal to the start', () => {
    // Act
    const deadline = loopDeadline(SCHEDULED_TIME, SCHEDULED_AT, LAMBDA_TIMEOUT_MS);

    // Assess
    expect(deadline).toBe(SCHEDULED_AT + MINUTE - END_MARGIN_MS);
  });

  it('returns a deadline already passed for a trigger delivered more than a minute late', () => {
    // Prepare
    const startedAt = SCHEDULED_AT + 90_000;

    // Act
    const deadline = loopDeadline(SCHEDULED_TIME, startedAt, LAMBDA_TIMEOUT_MS);

    // Assess
    expect(deadline).toBeLessThan(startedAt);
  });
});

describe('runScheduledProbe', () => {
  it('probes every interval from the scheduled event until just before the next trigger', async () => {
    // Prepare
    const event = loadEvent<{ time: string }>('scheduled', 'base');
    let now = Date.parse(event.time) + 800;
    const store = new InMemoryRegistryStore();
    await store.putTask(taskRecord('a', ['resnet']));
    const tfserving = new FakeTfServing().status({ host: '10.0.0.1', restPort: 8501 }, 'resnet', {
      ok: true,
      versions: ['1'],
    });
    const deps = testProbeDeps({ store, tfserving, now: () => now });
    const schedule = {
      intervalMs: 5000,
      now: () => now,
      sleep: async (ms: number) => {
        now += ms;
      },
    };

    // Act
    const rounds = await runScheduledProbe(probeRounds(deps, 5000), schedule, event, LAMBDA_TIMEOUT_MS);

    // Assess: starts at +0.8 s, +5.8 s, … +55.8 s; the deadline is +58 s
    expect(rounds).toHaveLength(12);
    expect(tfserving.statusCalls).toHaveLength(12);
    expect(now).toBeLessThanOrEqual(Date.parse(event.time) + MINUTE - END_MARGIN_MS);
  });
});

describe('probeRounds', () => {
  it('returns instead of throwing when a round fails as a whole, so the loop goes on', async () => {
    // Prepare
    const store = failingStore(new InMemoryRegistryStore(), {
      listRunningTasks: new Error('ResourceNotFoundException'),
    });
    const deps = testProbeDeps({ store, now: () => 1_000 });

    // Act
    const round = probeRounds(deps, 5_000)();

    // Assess
    await expect(round).resolves.toEqual({ durationMs: 0 });
  });
});

describe('probeRounds logging', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  /** The level each round's `probe round` line was logged at, in order. */
  function roundLevels() {
    const levels: string[] = [];
    for (const level of ['info', 'debug'] as const) {
      vi.spyOn(loggers.probe, level).mockImplementation(
        (...[message]: Parameters<typeof loggers.probe.info>) => {
          if (message === 'probe round') levels.push(level);
        },
      );
    }
    return levels;
  }

  it('logs a round at INFO only when something changed or went wrong, at DEBUG otherwise', async () => {
    // Prepare: one endpoint serving resnet 1
    const levels = roundLevels();
    let now = 1_000_000;
    const store = new InMemoryRegistryStore();
    await store.putTask(taskRecord('a', ['resnet']));
    const endpoint = { host: '10.0.0.1', restPort: 8501 };
    const tfserving = new FakeTfServing().status(endpoint, 'resnet', { ok: true, versions: ['1'] });
    const round = probeRounds(testProbeDeps({ store, tfserving, now: () => now }), 5_000);
    const next = async (change?: () => void) => {
      change?.();
      await round();
      now += 5_000;
    };

    // Act
    await next(); // first round: INFO
    await next(); // the same: DEBUG
    await next(() => tfserving.status(endpoint, 'resnet', { ok: true, versions: ['2', '1'] })); // version 2: INFO
    await next(); // DEBUG
    await next(() => tfserving.statuses.clear()); // refused: INFO
    await next(); // still refused, nothing new: DEBUG
    await next(() => tfserving.status(endpoint, 'resnet', { ok: true, versions: ['2', '1'] })); // back: INFO

    // Assess
    expect(levels).toEqual(['info', 'debug', 'info', 'debug', 'info', 'debug', 'info']);
  });

  it('logs a round that overran its interval at INFO, even when it saw the same as the one before', async () => {
    // Prepare: every status call takes 3 s of a 2 s interval
    const levels = roundLevels();
    let now = 1_000_000;
    const store = new InMemoryRegistryStore();
    await store.putTask(taskRecord('a', ['resnet']));
    const tfserving = new FakeTfServing().status({ host: '10.0.0.1', restPort: 8501 }, 'resnet', {
      ok: true,
      versions: ['1'],
    });
    const modelStatus = tfserving.modelStatus.bind(tfserving);
    tfserving.modelStatus = async (endpoint, model) => {
      now += 3_000;
      return modelStatus(endpoint, model);
    };
    const round = probeRounds(testProbeDeps({ store, tfserving, now: () => now }), 2_000);

    // Act
    await round();
    await round();

    // Assess
    expect(levels).toEqual(['info', 'info']);
  });
});

describe('probeCoordinator', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  /** A store of `tasks` tasks (one model each), a fake clock and schedule, and an invoker that records. */
  async function coordinator(tasks: number, failing: ReadonlySet<number> = new Set()) {
    const event = loadEvent<{ time: string }>('scheduled', 'base');
    let now = Date.parse(event.time) + 800;
    const store = new InMemoryRegistryStore();
    for (let i = 0; i < tasks; i++) {
      await store.putTask(
        taskRecord(`t${i}`, ['resnet'], { endpoints: [endpointOf(`t${i}`, { host: `10.0.1.${i}` })] }),
      );
    }
    const tfserving = new FakeTfServing();
    const started: { shard: ShardRef; scheduledTime: string }[] = [];
    const invoker: ShardInvoker = {
      invoke: async (shard, scheduledTime) => {
        if (failing.has(shard.index)) throw new Error('TooManyRequestsException: Rate exceeded');
        started.push({ shard, scheduledTime });
      },
    };
    const probe = testProbeDeps({ store, tfserving, now: () => now });
    const schedule = {
      intervalMs: 5000,
      now: () => now,
      sleep: async (ms: number) => {
        now += ms;
      },
    };
    const coordinate = probeCoordinator(
      { probe, fleet: testFleetDeps({ store, now: () => now }), invoker, share: 4 },
      schedule,
    );
    return { event, tfserving, started, run: () => coordinate(event, LAMBDA_TIMEOUT_MS) };
  }

  it('probes a fleet within one share itself, every interval of the minute, starting no shard', async () => {
    // Prepare
    const { run, started, tfserving } = await coordinator(4);

    // Act
    const result = await run();

    // Assess
    expect(result).toEqual({ rounds: 12 });
    expect(started).toEqual([]);
    expect(tfserving.statusCalls).toHaveLength(4 * 12);
  });

  it('starts one shard per share of a larger fleet, each shard once, with the trigger time, and probes nothing itself', async () => {
    // Prepare: 10 targets at 4 a share: 3 shards.
    const { run, started, tfserving, event } = await coordinator(10);

    // Act
    const result = await run();

    // Assess
    expect(result).toEqual({ shards: 3, started: 3 });
    expect(started.map((s) => s.shard).sort((a, b) => a.index - b.index)).toEqual([
      { index: 0, count: 3 },
      { index: 1, count: 3 },
      { index: 2, count: 3 },
    ]);
    expect(started.every((s) => s.scheduledTime === event.time)).toBe(true);
    expect(tfserving.statusCalls).toEqual([]);
  });

  it('logs and counts a shard that could not be started, starts the others, and then fails the invocation', async () => {
    // Prepare
    const { run, started } = await coordinator(10, new Set([1]));
    const errors: unknown[][] = [];
    vi.spyOn(loggers.probe, 'error').mockImplementation((...args: unknown[]) => {
      errors.push(args);
    });

    // Act
    const running = run();

    // Assess
    await expect(running).rejects.toThrow('1 of 3 probe shards could not be started');
    expect(started.map((s) => s.shard.index).sort()).toEqual([0, 2]);
    expect(errors).toEqual([
      ['probe shard start failed', { shard: '1/3', error: 'TooManyRequestsException: Rate exceeded' }],
    ]);
  });
});
