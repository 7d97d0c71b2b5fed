import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { publishRecordedMetrics } from '../../../../functions/adapters/observability.ts';
import { localContext } from '../../../../infra/local/local-context.ts';

/** A real Metrics instance, enabled, whose EMF output and warnings are captured. */
function capturedMetrics() {
  vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
  vi.stubEnv('POWERTOOLS_DEV', 'true');
  const warnings: string[] = [];
  const emitted: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((line: unknown) => {
    emitted.push(String(line));
  });
  const target = new Metrics({
    namespace: 'Test',
    serviceName: 'test',
    logger: {
      debug: () => undefined,
      info: () => undefined,
      warn: (...args: unknown[]) => warnings.push(args.map(String).join(' ')),
      error: () => undefined,
    },
  });
  return { target, warnings, emitted };
}

describe('publishRecordedMetrics', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });

  it('publishes nothing and warns nothing when the invocation recorded no metric', async () => {
    // Prepare
    const { target, warnings, emitted } = capturedMetrics();
    const handler = middy(async () => 'ok').use(publishRecordedMetrics(target));

    // Act
    await handler({}, localContext('discovery'));

    // Assess
    expect(warnings).toEqual([]);
    expect(emitted).toEqual([]);
  });

  it('publishes what the invocation recorded, after it returns and after it throws', async () => {
    // Prepare
    const { target, emitted } = capturedMetrics();
    const ok = middy(async () => {
      target.addMetric('DiscoveryStaleAnswers', MetricUnit.Count, 1);
    }).use(publishRecordedMetrics(target));
    const failing = middy(async () => {
      target.addMetric('EventsStoreUnavailable', MetricUnit.Count, 1);
      throw new Error('store down');
    }).use(publishRecordedMetrics(target));

    // Act
    await ok({}, localContext('discovery'));
    await expect(failing({}, localContext('ecs-events'))).rejects.toThrow('store down');

    // Assess
    const names = emitted.map((line) => Object.keys(JSON.parse(line)).filter((key) => key !== '_aws'));
    expect(names).toEqual([
      expect.arrayContaining(['DiscoveryStaleAnswers']),
      expect.arrayContaining(['EventsStoreUnavailable']),
    ]);
  });
});
