import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createDiscoveryHandler } from '../../../../../functions/adapters/edges/discovery-api.ts';
import { createEcsEventsHandler, eventLagMs } from '../../../../../functions/adapters/edges/ecs-events.ts';
import {
  createProbeHandler,
  END_MARGIN_MS,
} from '../../../../../functions/adapters/edges/scheduled-probe.ts';
import { StoreUnavailableError } from '../../../../../functions/domain/errors.ts';
import { runProbeRound } from '../../../../../functions/domain/probe.ts';
import { applyTaskEvent } from '../../../../../functions/domain/task-events.ts';
import { localContext } from '../../../../../infra/local/local-context.ts';
import { TestClock } from '../../../../support/kit/clock.ts';
import {
  testDiscoveryDeps,
  testFleetDeps,
  testProbeDeps,
  testTaskEventDeps,
} from '../../../../support/kit/deps.ts';
import { type EmfMetric, emfPrintedBy, metricsNamed } from '../../../../support/kit/emf.ts';
import { loadEvent, taskDetail } from '../../../../support/kit/events.ts';
import { failingStore, InMemoryRegistryStore } from '../../../../support/kit/in-memory-store.ts';
import { DEFAULT_SETTINGS } from '../../../../support/kit/settings.ts';
import { available, FakeTfServing } from '../../../../support/kit/tfserving.ts';

/**
 * The EMF documents the dashboard and the alarms read (infra/aws/constructs/operations.ts): each
 * function's real handler (middy, Powertools Metrics as deployed) over the in-memory store, and
 * the metrics as CloudWatch would extract them: name, unit, value and dimensions.
 */

// Before the handlers' modules load: Metrics reads this once, when created.
const saved = vi.hoisted(() => {
  const value = process.env.POWERTOOLS_METRICS_DISABLED;
  process.env.POWERTOOLS_METRICS_DISABLED = 'false';
  return value;
});
afterAll(() => {
  if (saved === undefined) delete process.env.POWERTOOLS_METRICS_DISABLED;
  else process.env.POWERTOOLS_METRICS_DISABLED = saved;
});

const SERVICE = { service: 'tf-serving-registry' };
const RESNET = { host: '10.0.215.105', restPort: 8501 };
/** The sidecar task's endpoint (resnet and bert). */
const SIDECARS = { host: '10.0.131.42', restPort: 8501 };

/** The figures of a metric, with its unit and extra dimensions. */
const figures = (metrics: EmfMetric[]) =>
  metrics.map(({ value, unit, dimensions, namespace }) => ({ value, unit, dimensions, namespace }));

describe('probe metrics', () => {
  /** Two tasks: resnet served on one, resnet answering 404 and bert refusing on the other; each probe takes `probeMs`. */
  async function probeOnce(probeMs: number) {
    const clock = new TestClock();
    const store = new InMemoryRegistryStore();
    for (const fixture of ['running-awsvpc', 'running-sidecars'] as const) {
      await applyTaskEvent(taskDetail(fixture), testTaskEventDeps({ store, now: clock.now }));
    }
    const tfserving = new FakeTfServing()
      .status(RESNET, 'resnet', available('7'))
      .status(SIDECARS, 'resnet', { ok: false, reason: 'HTTP 404: Servable not found for request' });
    const modelStatus = tfserving.modelStatus.bind(tfserving);
    tfserving.modelStatus = async (endpoint, model) => {
      clock.advance(probeMs);
      return modelStatus(endpoint, model);
    };
    const event = {
      ...loadEvent<{ time: string }>('scheduled', 'base'),
      time: new Date(clock.ms).toISOString(),
    };
    const probe = testProbeDeps({ store, tfserving, now: clock.now });
    const handler = createProbeHandler(
      { probe, fleet: testFleetDeps({ store, now: clock.now }), invoker: undefined, share: 1000 },
      5,
    );
    // One round: the Lambda has a second past the end margin left (real time: the context's clock
    // runs while the handler starts), less than the 5 s interval a second round would wait.
    return emfPrintedBy(() => handler(event, localContext('probe', END_MARGIN_MS + 1_000)));
  }

  it('counts healthy endpoints per model, each model in a document of its own', async () => {
    // Act
    const printed = await probeOnce(10);

    // Assess
    expect(figures(metricsNamed(printed, 'HealthyEndpoints'))).toEqual(
      expect.arrayContaining([
        {
          value: 1,
          unit: 'Count',
          dimensions: { ...SERVICE, model: 'resnet' },
          namespace: 'TfServingRegistry',
        },
        {
          value: 0,
          unit: 'Count',
          dimensions: { ...SERVICE, model: 'bert' },
          namespace: 'TfServingRegistry',
        },
      ]),
    );
    expect(metricsNamed(printed, 'HealthyEndpoints')).toHaveLength(2);
  });

  it('counts the models without a healthy endpoint fleet-wide, under the service alone', async () => {
    // Act
    const printed = await probeOnce(10);

    // Assess
    expect(figures(metricsNamed(printed, 'ModelsWithoutHealthyEndpoints'))).toEqual([
      { value: 1, unit: 'Count', dimensions: SERVICE, namespace: 'TfServingRegistry' },
    ]);
  });

  it('with shards, has the coordinator count the models discovery serves no endpoint for, as no shard sees a whole model', async () => {
    // Prepare: resnet served on one task (a round recorded it), bert never probed OK.
    const clock = new TestClock();
    const store = new InMemoryRegistryStore();
    for (const fixture of ['running-awsvpc', 'running-sidecars'] as const) {
      await applyTaskEvent(taskDetail(fixture), testTaskEventDeps({ store, now: clock.now }));
    }
    const tfserving = new FakeTfServing().status(RESNET, 'resnet', available('7'));
    const probe = testProbeDeps({ store, tfserving, now: clock.now });
    await runProbeRound(probe);
    const started: string[] = [];
    const invoker = {
      invoke: async (shard: { index: number; count: number }) => {
        started.push(`${shard.index}/${shard.count}`);
      },
    };
    const handler = createProbeHandler(
      { probe, fleet: testFleetDeps({ store, now: clock.now }), invoker, share: 1 },
      5,
    );
    const event = {
      ...loadEvent<{ time: string }>('scheduled', 'base'),
      time: new Date(clock.ms).toISOString(),
    };
    const probesBefore = tfserving.statusCalls.length;

    // Act
    const printed = await emfPrintedBy(() => handler(event, localContext('probe', 60_000)));

    // Assess: three targets at one a share, three shards; one model of two without a served endpoint.
    expect(started.sort()).toEqual(['0/3', '1/3', '2/3']);
    expect(tfserving.statusCalls.length).toBe(probesBefore);
    expect(figures(metricsNamed(printed, 'ModelsWithoutHealthyEndpoints'))).toEqual([
      { value: 1, unit: 'Count', dimensions: SERVICE, namespace: 'TfServingRegistry' },
    ]);
  });

  it('counts probe failures in total and per reason kind, never per endpoint', async () => {
    // Act
    const failures = metricsNamed(await probeOnce(10), 'ProbeFailures');

    // Assess
    expect(figures(failures)).toEqual(
      expect.arrayContaining([
        { value: 2, unit: 'Count', dimensions: SERVICE, namespace: 'TfServingRegistry' },
        {
          value: 1,
          unit: 'Count',
          dimensions: { ...SERVICE, reason: 'http-error' },
          namespace: 'TfServingRegistry',
        },
        {
          value: 1,
          unit: 'Count',
          dimensions: { ...SERVICE, reason: 'connection' },
          namespace: 'TfServingRegistry',
        },
      ]),
    );
    expect(failures).toHaveLength(3);
  });

  it('records the round duration in ms, and an overrun only for a round longer than the interval', async () => {
    // Act: three probes of 3 s each against a 5 s interval, then of 10 ms each.
    const long = await probeOnce(3_000);
    const short = await probeOnce(10);

    // Assess
    expect(figures(metricsNamed(long, 'ProbeRoundDuration'))).toEqual([
      { value: 9_000, unit: 'Milliseconds', dimensions: SERVICE, namespace: 'TfServingRegistry' },
    ]);
    expect(figures(metricsNamed(long, 'ProbeRoundOverruns'))).toEqual([
      { value: 1, unit: 'Count', dimensions: SERVICE, namespace: 'TfServingRegistry' },
    ]);
    expect(metricsNamed(short, 'ProbeRoundDuration').map((metric) => metric.value)).toEqual([30]);
    expect(metricsNamed(short, 'ProbeRoundOverruns')).toEqual([]);
  });
});

describe('ecs-events metrics', () => {
  it('records the lag from the event time to its application, for applied events only', async () => {
    // Prepare: applied 1.5 s after the event's time; the older PENDING event is then stale.
    const running = loadEvent<{ time: string }>('ecs', 'running-awsvpc');
    const now = Date.parse(running.time) + 1_500;
    const store = new InMemoryRegistryStore();
    const handler = createEcsEventsHandler(testTaskEventDeps({ store, now: () => now }));

    // Act
    const printed = await emfPrintedBy(async () => {
      await handler(running, localContext('ecs-events'));
      await handler(loadEvent('ecs', 'pending'), localContext('ecs-events'));
    });

    // Assess
    expect(metricsNamed(printed, 'EventsStale')).toHaveLength(1);
    expect(figures(metricsNamed(printed, 'EventLag'))).toEqual([
      { value: 1_500, unit: 'Milliseconds', dimensions: SERVICE, namespace: 'TfServingRegistry' },
    ]);
  });

  it('has no lag without a readable event time, and none below zero for a clock ahead of ours', () => {
    // Assess
    expect(eventLagMs(undefined, 1_000)).toBeUndefined();
    expect(eventLagMs('yesterday-ish', 1_000)).toBeUndefined();
    expect(eventLagMs('2026-05-04T10:00:01Z', Date.parse('2026-05-04T10:00:00Z'))).toBe(0);
  });
});

describe('discovery metrics', () => {
  it('counts a stale answer (a stalled prober) and an unavailable one (503), under the service alone', async () => {
    // Prepare: resnet probed at registration; then nothing is recorded for longer than
    // UNHEALTHY_AFTER_SECONDS, and the store stops answering another request.
    const clock = new TestClock();
    const store = new InMemoryRegistryStore();
    const tfserving = new FakeTfServing().status(RESNET, 'resnet', available('7'));
    await applyTaskEvent(
      taskDetail('running-awsvpc'),
      testTaskEventDeps({ store, tfserving, now: clock.now }),
    );
    clock.advance(DEFAULT_SETTINGS.unhealthyAfterSeconds * 1000 + 1_000);
    const deps = testDiscoveryDeps({ store, now: clock.now });
    const timedOut = Object.assign(new Error('aborted'), { name: 'TimeoutError' });
    const down = failingStore(store, {
      readSnapshot: new StoreUnavailableError('GetItem', timedOut),
      readModel: new StoreUnavailableError('Query', timedOut),
    });

    // Act
    const answers: number[] = [];
    const printed = await emfPrintedBy(async () => {
      const model = loadEvent<APIGatewayProxyEvent>('apigw-rest', 'get-model');
      answers.push((await createDiscoveryHandler(deps)(model, localContext('discovery'))).statusCode);
      const version = loadEvent<APIGatewayProxyEvent>('apigw-rest', 'get-version');
      answers.push(
        (await createDiscoveryHandler({ ...deps, store: down })(version, localContext('discovery')))
          .statusCode,
      );
    });

    // Assess
    expect(answers).toEqual([200, 503]);
    for (const name of ['DiscoveryStaleAnswers', 'DiscoveryUnavailableAnswers']) {
      expect(figures(metricsNamed(printed, name)), name).toEqual([
        { value: 1, unit: 'Count', dimensions: SERVICE, namespace: 'TfServingRegistry' },
      ]);
    }
  });
});
