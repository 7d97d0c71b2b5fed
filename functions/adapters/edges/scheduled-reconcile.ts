import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import { type ReconcileDeps, type ReconcileSummary, reconcile } from '../../domain/reconcile.ts';
import { loggers, metrics, publishRecordedMetrics } from '../observability.ts';

const logger = loggers.reconcile;

/** Scheduled reconciliation: ECS's view of the tasks, applied like events (a rule, once a minute). */
export async function runReconcile(deps: ReconcileDeps): Promise<ReconcileSummary> {
  const summary = await reconcile(deps);
  logger.info('reconcile round', { ...summary });
  metrics.addMetric('ReconcileApplied', MetricUnit.Count, summary.applied + summary.forgotten);
  metrics.addMetric('ReconcileErrors', MetricUnit.Count, summary.errors);
  return summary;
}

export function createReconcileHandler(deps: ReconcileDeps) {
  return middy(async () => runReconcile(deps))
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(publishRecordedMetrics());
}
