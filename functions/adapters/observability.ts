import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { MiddlewareObj } from '@middy/core';
import { METRICS_NAMESPACE, SERVICE_NAME } from './observability-names.ts';

/**
 * Logger and metrics, configured once. Log messages are short, stable and lower-case, with the
 * details as structured keys (Logs Insights queries in the README rely on them).
 */
export { METRICS_NAMESPACE, SERVICE_NAME } from './observability-names.ts';

export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? SERVICE_NAME });

/** The registry's pieces, each of which logs as itself. */
export type Piece = 'discovery' | 'ecs-events' | 'probe' | 'reconcile' | 'local';

/**
 * One logger per piece, each with its own Lambda context and keys, and a `piece` key saying who
 * logged. On Lambda each function is a process of its own; in local mode they share one, and a
 * single logger would stamp every probe round with the last discovery request's id.
 */
export const loggers: Readonly<Record<Piece, Logger>> = {
  discovery: logger.createChild({ persistentKeys: { piece: 'discovery' } }),
  'ecs-events': logger.createChild({ persistentKeys: { piece: 'ecs-events' } }),
  probe: logger.createChild({ persistentKeys: { piece: 'probe' } }),
  reconcile: logger.createChild({ persistentKeys: { piece: 'reconcile' } }),
  local: logger.createChild({ persistentKeys: { piece: 'local' } }),
};

// Pure: a function that records no metric (discovery) leaves Metrics out of its bundle.
export const metrics = /* @__PURE__ */ new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? METRICS_NAMESPACE,
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? SERVICE_NAME,
});

/**
 * Publishes what an invocation recorded, and only when it recorded something. Powertools'
 * `logMetrics` flushes every time and warns "No application metrics to publish" on each empty
 * flush, which is most discovery calls; this middleware uses its `hasStoredMetrics()` instead.
 */
export function publishRecordedMetrics(target: Metrics = metrics): MiddlewareObj {
  const publish = () => {
    if (target.hasStoredMetrics()) target.publishStoredMetrics();
  };
  return { after: publish, onError: publish };
}
