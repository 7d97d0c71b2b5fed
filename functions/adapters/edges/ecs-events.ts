import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import { parseEvent } from '../../domain/ecs-task-event.ts';
import { InvalidEventError, StoreUnavailableError } from '../../domain/errors.ts';
import {
  applyTaskEvent,
  deferredRebuilds,
  type TaskEventDeps,
  type TaskEventOutcome,
} from '../../domain/task-events.ts';
import { loggers, metrics, publishRecordedMetrics } from '../observability.ts';

const logger = loggers['ecs-events'];

/**
 * EventBridge target for "ECS Task State Change". A malformed event is logged and thrown, so
 * EventBridge/Lambda retries and the dead-letter queue see it; events of other kinds are ignored.
 */

export type EcsEventResult = { readonly status: 'ignored'; readonly detailType: string } | TaskEventOutcome;

/** Validates and applies one event. Throws {@link InvalidEventError} for a malformed one. */
export async function handleEcsEvent(deps: TaskEventDeps, event: unknown): Promise<EcsEventResult> {
  let parsed: ReturnType<typeof parseEvent>;
  try {
    parsed = parseEvent(event);
  } catch (error) {
    if (error instanceof InvalidEventError) {
      logger.error('event rejected', { reason: error.message });
      metrics.addMetric('EventsRejected', MetricUnit.Count, 1);
    }
    throw error;
  }
  if (parsed.kind === 'ignored') {
    logger.debug('event ignored', { detailType: parsed.detailType, source: parsed.source });
    return { status: 'ignored', detailType: parsed.detailType };
  }
  return applyParsedTaskEvent(deps, parsed.detail, parsed.id, parsed.time);
}

/**
 * From the event's `time` (the state change, as EventBridge stamps it) to now, in ms: delivery,
 * retries and the apply itself. Undefined without a readable time; a clock ahead of ours counts 0.
 */
export function eventLagMs(eventTime: string | undefined, nowMs: number): number | undefined {
  const at = eventTime === undefined ? Number.NaN : Date.parse(eventTime);
  return Number.isFinite(at) ? Math.max(0, nowMs - at) : undefined;
}

/** Applies an already validated task event (the local runtime validates a whole batch first). */
export async function applyParsedTaskEvent(
  deps: TaskEventDeps,
  detail: Parameters<typeof applyTaskEvent>[0],
  eventId: string | undefined,
  eventTime?: string,
): Promise<TaskEventOutcome> {
  logger.appendKeys({ taskArn: detail.taskArn, eventId });
  try {
    let outcome: TaskEventOutcome;
    try {
      outcome = await applyTaskEvent(detail, deps);
    } catch (error) {
      if (error instanceof StoreUnavailableError) {
        // Thrown on: EventBridge and Lambda retry the event, then the dead-letter queue keeps it.
        logger.error('task event failed, store unavailable', {
          error: error.message,
          timedOut: error.timedOut,
        });
        metrics.addMetric('EventsStoreUnavailable', MetricUnit.Count, 1);
      }
      throw error;
    }
    metrics.addMetric(outcome.applied ? 'EventsApplied' : 'EventsStale', MetricUnit.Count, 1);
    const lagMs = outcome.applied ? eventLagMs(eventTime, deps.now()) : undefined;
    if (lagMs !== undefined) metrics.addMetric('EventLag', MetricUnit.Milliseconds, lagMs);
    logger.info(outcome.applied ? 'task event applied' : 'task event skipped', {
      taskVersion: outcome.taskVersion,
      lifecycle: outcome.lifecycle,
      ...(outcome.notApplied === undefined
        ? {}
        : { reason: outcome.notApplied.reason, detail: outcome.notApplied.message }),
      endpoints: outcome.endpoints.map((e) => ({
        id: e.id,
        host: e.host,
        restPort: e.restPort,
        models: e.models,
      })),
      probes: outcome.probes.map((p) => ({ endpointId: p.endpointId, model: p.model, ok: p.ok })),
      ...(outcome.skipped.length > 0 ? { skipped: outcome.skipped } : {}),
    });
    return outcome;
  } finally {
    logger.removeKeys(['taskArn', 'eventId']);
  }
}

/** What applying a batch of events came to. */
export interface EcsEventBatchResult {
  /** One per event applied, in order. */
  readonly results: readonly EcsEventResult[];
  /**
   * The store failed: the events after `results` were not applied, or (all of them applied) the
   * batch's snapshots were not rebuilt. The events are idempotent: the batch is posted again.
   */
  readonly unavailable?: StoreUnavailableError;
}

/**
 * Applies an already validated batch of events (local mode's `POST /events`), one after the other,
 * then rebuilds each model they touched once, after all their writes: not once per event.
 */
export async function handleEcsEventBatch(
  deps: TaskEventDeps,
  events: readonly unknown[],
): Promise<EcsEventBatchResult> {
  const batch = deferredRebuilds(deps);
  const results: EcsEventResult[] = [];
  try {
    for (const event of events) results.push(await handleEcsEvent(batch.deps, event));
  } catch (error) {
    if (error instanceof StoreUnavailableError) return { results, unavailable: error };
    throw error;
  }
  try {
    await batch.flush();
  } catch (error) {
    if (!(error instanceof StoreUnavailableError)) throw error;
    logger.error('event batch failed, snapshot rebuild: store unavailable', {
      error: error.message,
      timedOut: error.timedOut,
      events: events.length,
    });
    metrics.addMetric('EventsStoreUnavailable', MetricUnit.Count, 1);
    return { results, unavailable: error };
  }
  return { results };
}

/** Local mode's batch entry: the same logging and metrics set-up as the Lambda's, once per batch. */
export function createEcsEventBatchHandler(deps: TaskEventDeps) {
  return middy(async (events: readonly unknown[]) => handleEcsEventBatch(deps, events))
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(publishRecordedMetrics());
}

export function createEcsEventsHandler(deps: TaskEventDeps) {
  // The result is for in-process callers (local mode); EventBridge ignores it.
  return middy(async (event: unknown) => handleEcsEvent(deps, event))
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(publishRecordedMetrics());
}
