import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { type FleetJudgementDeps, modelsWithoutServedEndpoints } from '../../domain/discovery.ts';
import { asError } from '../../domain/errors.ts';
import { type ProbeDeps, type RoundSummary, runProbeLoop, runProbeRound } from '../../domain/probe.ts';
import { fanOut, probeLayout, readShardInvocation, type ShardInvoker } from '../../domain/probe-fanout.ts';
import { type ShardRef, WHOLE_FLEET } from '../../domain/shards.ts';
import { loggers, metrics, publishRecordedMetrics } from '../observability.ts';

const logger = loggers.probe;

/**
 * Scheduled probe: a rule fires once a minute and the coordinator either probes every
 * PROBE_INTERVAL_SECONDS until just before the next trigger itself (a fleet within one share), or
 * starts one probe shard invocation per shard, each doing the same for its own endpoints.
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
export function probeRounds(
  deps: ProbeDeps,
  intervalMs: number,
  shard: ShardRef = WHOLE_FLEET,
): () => Promise<{ durationMs: number }> {
  const sharded = shard.count > 1;
  let previousShape: string | undefined;
  const publish = (summary: RoundSummary) => {
    const overran = summary.durationMs > intervalMs;
    const shape = roundShape(summary);
    const noteworthy = overran || summary.changed > 0 || shape !== previousShape;
    previousShape = shape;
    const { healthyByModel, failuresByKind, ...counts } = summary;
    const modelsWithoutHealthy = [...healthyByModel].filter(([, healthy]) => healthy === 0).map(([m]) => m);
    const line = {
      ...counts,
      overran,
      failures: failuresByKind,
      modelsWithoutHealthy,
      ...(sharded ? { shard: `${shard.index}/${shard.count}` } : {}),
    };
    if (noteworthy) logger.info('probe round', line);
    else logger.debug('probe round', line);
    metrics.addMetric('ProbeTargets', MetricUnit.Count, summary.targets);
    metrics.addMetric('ProbeFailures', MetricUnit.Count, summary.failed);
    // The fleet-wide figure the "no healthy endpoint" alarm watches, whatever the models are called.
    // One shard sees only its share of each model's endpoints, so it cannot say a model has none:
    // with shards, the coordinator publishes it (publishFleetFigure).
    if (!sharded) {
      metrics.addMetric('ModelsWithoutHealthyEndpoints', MetricUnit.Count, modelsWithoutHealthy.length);
    }
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
      const summary = await runProbeRound(deps, shard);
      publish(summary);
      return summary;
    } catch (error) {
      // The next round is logged whatever it sees: the registry came back.
      previousShape = undefined;
      logger.error('probe round failed', {
        error: asError(error).message,
        ...(sharded ? { shard: `${shard.index}/${shard.count}` } : {}),
      });
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

export interface ProbeCoordinatorDeps {
  readonly probe: ProbeDeps;
  /**
   * Judging the fleet's models as discovery does, for the fleet-wide figure a sharded minute
   * publishes (no shard sees a whole model).
   */
  readonly fleet: FleetJudgementDeps;
  /** Starts probe shards; undefined: this invocation probes every endpoint itself, whatever the fleet's size. */
  readonly invoker: ShardInvoker | undefined;
  /** Probe targets one invocation takes at most (`targetsPerShard`). */
  readonly share: number;
}

/**
 * The minute's work of the scheduled probe. It counts the running fleet's probe targets: within
 * one share (or with no shard function) it runs the rounds itself, as a single probe always did;
 * past it, it starts one shard invocation per shard and is done. A start that fails is logged and
 * counted (`ProbeShardStartFailures`), the others go ahead, and the invocation then fails so the
 * function's errors alarm sees it; the failed shard's endpoints get no records this minute, and
 * the stall rule applies to them alone. When the fleet cannot be counted (the registry down) the
 * last count this container saw is used.
 */
export function probeCoordinator(deps: ProbeCoordinatorDeps, schedule: ProbeSchedule) {
  const round = probeRounds(deps.probe, schedule.intervalMs);
  let lastCount = 1;
  return async (event: { time?: string }, remainingMs: number) => {
    let count = lastCount;
    let targets: number | undefined;
    try {
      ({ count, targets } = await probeLayout({ store: deps.probe.store, share: deps.share }));
      lastCount = count;
    } catch (error) {
      logger.error('probe layout failed, using the last count', { error: asError(error).message, count });
    }
    if (count === 1 || deps.invoker === undefined) {
      if (count > 1) logger.warn('probe shards needed but no shard function configured', { count, targets });
      const rounds = await runScheduledProbe(round, schedule, event, remainingMs);
      return { rounds: rounds.length };
    }
    const scheduledTime = event.time ?? new Date(schedule.now()).toISOString();
    const result = await fanOut(deps.invoker, count, scheduledTime);
    for (const { shard, error } of result.failed) {
      logger.error('probe shard start failed', { shard: `${shard.index}/${shard.count}`, error });
    }
    logger.info('probe shards started', {
      count,
      targets,
      started: result.started,
      failed: result.failed.length,
    });
    metrics.addMetric('ProbeShards', MetricUnit.Count, count);
    metrics.addMetric('ProbeShardStartFailures', MetricUnit.Count, result.failed.length);
    await publishFleetFigure(deps.fleet);
    if (result.failed.length > 0) {
      throw new Error(`${result.failed.length} of ${count} probe shards could not be started`);
    }
    return { shards: count, started: result.started };
  };
}

/**
 * With shards, the fleet-wide "no healthy endpoint" figure comes from the coordinator, once a
 * minute: the models discovery serves no endpoint for as the last minute's shards left them. A
 * failure to judge is logged and leaves the minute without the figure (the alarm treats missing
 * data as not breaching; the stalled-prober alarm watches the rounds themselves).
 */
async function publishFleetFigure(fleet: ProbeCoordinatorDeps['fleet']): Promise<void> {
  try {
    const unserved = await modelsWithoutServedEndpoints(fleet);
    metrics.addMetric('ModelsWithoutHealthyEndpoints', MetricUnit.Count, unserved.length);
    if (unserved.length > 0) logger.warn('models without a served endpoint', { models: unserved });
  } catch (error) {
    logger.error('fleet judgement failed', { error: asError(error).message });
  }
}

function realSchedule(deps: ProbeDeps, intervalSeconds: number): ProbeSchedule {
  return {
    intervalMs: intervalSeconds * 1000,
    now: deps.now,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  };
}

/** The scheduled probe's entry: the coordinator (EventBridge rule, once a minute). */
export function createProbeHandler(deps: ProbeCoordinatorDeps, intervalSeconds: number) {
  // One per container: a warm container's first round of the minute is quiet when nothing changed.
  const coordinate = probeCoordinator(deps, realSchedule(deps.probe, intervalSeconds));
  return middy(async (event: { time?: string }, context: Context) =>
    coordinate(event, context.getRemainingTimeInMillis()),
  )
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(publishRecordedMetrics());
}

/**
 * A probe shard's entry (started by the coordinator with `{ shard, scheduledTime }`): the rounds
 * of its own endpoints every PROBE_INTERVAL_SECONDS until just before the minute's next trigger.
 * A malformed event throws (Lambda drops it: the shard function retries nothing).
 */
export function createProbeShardHandler(deps: ProbeDeps, intervalSeconds: number) {
  const schedule = realSchedule(deps, intervalSeconds);
  // One round function per shard a warm container has run, for the quiet-when-unchanged log lines.
  const rounds = new Map<string, () => Promise<{ durationMs: number }>>();
  return middy(async (event: unknown, context: Context) => {
    const { shard, scheduledTime } = readShardInvocation(event);
    const key = `${shard.index}/${shard.count}`;
    let round = rounds.get(key);
    if (round === undefined) {
      round = probeRounds(deps, schedule.intervalMs, shard);
      rounds.set(key, round);
    }
    const done = await runScheduledProbe(
      round,
      schedule,
      { time: scheduledTime },
      context.getRemainingTimeInMillis(),
    );
    return { shard: key, rounds: done.length };
  })
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(publishRecordedMetrics());
}
