import { describe, expect, it } from 'vitest';
import {
  END_MARGIN_MS,
  loggedProbeRound,
  loopDeadline,
  runScheduledProbe,
} from '../../../../../functions/adapters/edges/scheduled-probe.ts';
import { testProbeDeps } from '../../../../support/kit/deps.ts';
import { loadEvent } from '../../../../support/kit/events.ts';
import { failingStore, InMemoryRegistryStore } from '../../../../support/kit/in-memory-store.ts';
import { taskRecord } from '../../../../support/kit/records.ts';
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
    const rounds = await runScheduledProbe(deps, schedule, event, LAMBDA_TIMEOUT_MS);

    // Assess: starts at +0.8 s, +5.8 s, … +55.8 s; the deadline is +58 s
    expect(rounds).toHaveLength(12);
    expect(tfserving.statusCalls).toHaveLength(12);
    expect(now).toBeLessThanOrEqual(Date.parse(event.time) + MINUTE - END_MARGIN_MS);
  });
});

describe('loggedProbeRound', () => {
  it('returns instead of throwing when a round fails as a whole, so the loop goes on', async () => {
    // Prepare
    const store = failingStore(new InMemoryRegistryStore(), {
      listRunningTasks: new Error('ResourceNotFoundException'),
    });
    const deps = testProbeDeps({ store, now: () => 1_000 });

    // Act
    const round = loggedProbeRound(deps, 5_000);

    // Assess
    await expect(round).resolves.toEqual({ durationMs: 0 });
  });
});
