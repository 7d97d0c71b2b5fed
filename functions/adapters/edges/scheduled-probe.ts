import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { asError } from '../../domain/errors.ts';
import { type ProbeDeps, type RoundSummary, runProbeLoop, runProbeRound } from '../../domain/probe.ts';
import { logger, metrics, publishRecordedMetrics } from '../observability.ts';

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

function publishRound(summary: RoundSummary, intervalMs: number): void {
  const overran = summary.durationMs > intervalMs;
  logger.info('probe round', { ...summary, overran });
  metrics.addMetric('ProbeTargets', MetricUnit.Count, summary.targets);
  metrics.addMetric('ProbeFailures', MetricUnit.Count, summary.failed);
  metrics.addMetric('ProbeSlowTargets', MetricUnit.Count, summary.slow);
  metrics.addMetric('ProbeWriteErrors', MetricUnit.Count, summary.errors);
  metrics.addMetric('ProbeRoundDuration', MetricUnit.Milliseconds, summary.durationMs);
  // Longer than the interval: every endpoint is probed less often than configured.
  if (overran) metrics.addMetric('ProbeRoundOverruns', MetricUnit.Count, 1);
}

/**
 * One probe round, logged and counted. A round that fails as a whole (the registry unreachable,
 * say) is logged and the loop goes on: the next round is an interval away, not a minute.
 */
export async function loggedProbeRound(deps: ProbeDeps, intervalMs: number): Promise<{ durationMs: number }> {
  const started = deps.now();
  try {
    const summary = await runProbeRound(deps);
    publishRound(summary, intervalMs);
    return summary;
  } catch (error) {
    logger.error('probe round failed', { error: asError(error).message });
    metrics.addMetric('ProbeRoundFailures', MetricUnit.Count, 1);
    return { durationMs: deps.now() - started };
  }
}

export async function runScheduledProbe(
  deps: ProbeDeps,
  schedule: ProbeSchedule,
  event: { time?: string },
  remainingMs: number,
): Promise<{ durationMs: number }[]> {
  const deadlineMs = loopDeadline(event.time, schedule.now(), remainingMs);
  return runProbeLoop(() => loggedProbeRound(deps, schedule.intervalMs), {
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
  return middy(async (event: { time?: string }, context: Context) => {
    const rounds = await runScheduledProbe(deps, schedule, event, context.getRemainingTimeInMillis());
    return { rounds: rounds.length };
  })
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(publishRecordedMetrics());
}
