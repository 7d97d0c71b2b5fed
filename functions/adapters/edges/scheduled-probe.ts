import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { asError } from '../../domain/errors.ts';
import { type ProbeDeps, type RoundSummary, runProbeLoop, runProbeRound } from '../../domain/probe.ts';
import { loggers, metrics, publishRecordedMetrics } from '../observability.ts';

const logger = loggers.probe;

/**
 * Scheduled probe: a rule fires once a minute and this invocation probes every
 * PROBE_INTERVAL_SECONDS until just before the next trigger.
 */

/** Time kept free at the end of the minute for the last writes and the Lambda's own shutdown. */
export const END_MARGIN_MS = 2_000;
const SCHEDULE_PERIOD_MS = 60_000;

export interface ProbeSchedule {
  readonly intervalMs: number;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
}

/**
 * When this invocation must be done: one schedule period after the trigger's own `time` (so a
 * late start does not push into the next trigger), and never past the Lambda's timeout.
 */
export function loopDeadline(
  scheduledTime: string | undefined,
  startedAt: number,
  remainingMs: number,
): number {
  const scheduledAt = scheduledTime === undefined ? Number.NaN : Date.parse(scheduledTime);
  const origin = Number.isFinite(scheduledAt) && scheduledAt <= startedAt ? scheduledAt : startedAt;
  return Math.min(origin + SCHEDULE_PERIOD_MS, startedAt + remainingMs) - END_MARGIN_MS;
}

/**
 * What a round's log line is compared on: a round that saw the same as the one before, with
 * nothing new and nothing wrong, is logged at DEBUG only, so a steady fleet is quiet.
 */
function roundShape(summary: RoundSummary): string {
  return [summary.targets, summary.healthy, summary.failed, summary.slow, summary.errors].join('/');
}

/** One EMF document of its own: a metric under one more dimension (each value is a document). */
function addWithDimension(name: string, dimension: string, value: string, count: number): void {
  const single = metrics.singleMetric();
  single.addDimension(dimension, value);
  single.addMetric(name, MetricUnit.Count, count);
}

/**
 * Probe rounds, logged and counted. Every round is counted in the metrics; its `probe round`
 * line is INFO when something changed (the first round, other target/healthy/failing/slow/error
 * counts than the round before, versions or labels that changed) or the round overran its
 * interval, and DEBUG otherwise (`POWERTOOLS_LOG_LEVEL=DEBUG` shows every round). A round that
 * fails as a whole (the registry unreachable, say) is an error and the loop goes on: the next
 * round is an interval away, not a minute.
 */
export function probeRounds(deps: ProbeDeps, intervalMs: number): () => Promise<{ durationMs: number }> {
  let previousShape: string | undefined;
  const publish = (summary: RoundSummary) => {
    const overran = summary.durationMs > intervalMs;
    const shape = roundShape(summary);
    const noteworthy = overran || summary.changed > 0 || shape !== previousShape;
    previousShape = shape;
    const { healthyByModel, failuresByKind, ...counts } = summary;
    const modelsWithoutHealthy = [...healthyByModel].filter(([, healthy]) => healthy === 0).map(([m]) => m);
    const line = { ...counts, overran, failures: failuresByKind, modelsWithoutHealthy };
    if (noteworthy) logger.info('probe round', line);
    else logger.debug('probe round', line);
    metrics.addMetric('ProbeTargets', MetricUnit.Count, summary.targets);
    metrics.addMetric('ProbeFailures', MetricUnit.Count, summary.failed);
    // The fleet-wide figure the "no healthy endpoint" alarm watches, whatever the models are called.
    metrics.addMetric('ModelsWithoutHealthyEndpoints', MetricUnit.Count, modelsWithoutHealthy.length);
    // Bounded dimensions only: model names (one series per model) and the failure kinds.
    for (const [model, healthy] of healthyByModel) {
      addWithDimension('HealthyEndpoints', 'model', model, healthy);
    }
    for (const [kind, failed] of Object.entries(failuresByKind)) {
      addWithDimension('ProbeFailures', 'reason', kind, failed);
    }
    metrics.addMetric('ProbeSlowTargets', MetricUnit.Count, summary.slow);
    metrics.addMetric('ProbeWriteErrors', MetricUnit.Count, summary.errors);
    metrics.addMetric('ProbeRoundDuration', MetricUnit.Milliseconds, summary.durationMs);
    // Longer than the interval: every endpoint is probed less often than configured.
    if (overran) metrics.addMetric('ProbeRoundOverruns', MetricUnit.Count, 1);
  };
  return async () => {
    const started = deps.now();
    try {
      const summary = await runProbeRound(deps);
      publish(summary);
      return summary;
    } catch (error) {
      // The next round is logged whatever it sees: the registry came back.
      previousShape = undefined;
      logger.error('probe round failed', { error: asError(error).message });
      metrics.addMetric('ProbeRoundFailures', MetricUnit.Count, 1);
      return { durationMs: deps.now() - started };
    }
  };
}

export async function runScheduledProbe(
  round: () => Promise<{ durationMs: number }>,
  schedule: ProbeSchedule,
  event: { time?: string },
  remainingMs: number,
): Promise<{ durationMs: number }[]> {
  const deadlineMs = loopDeadline(event.time, schedule.now(), remainingMs);
  return runProbeLoop(round, {
    intervalMs: schedule.intervalMs,
    deadlineMs,
    now: schedule.now,
    sleep: schedule.sleep,
  });
}

export function createProbeHandler(deps: ProbeDeps, intervalSeconds: number) {
  const schedule: ProbeSchedule = {
    intervalMs: intervalSeconds * 1000,
    now: deps.now,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  };
  // One per container: a warm container's first round of the minute is quiet when nothing changed.
  const round = probeRounds(deps, schedule.intervalMs);
  return middy(async (event: { time?: string }, context: Context) => {
    const rounds = await runScheduledProbe(round, schedule, event, context.getRemainingTimeInMillis());
    return { rounds: rounds.length };
  })
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(publishRecordedMetrics());
}
