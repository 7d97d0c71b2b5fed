import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

/**
 * Logger and metrics, configured once. Log messages are short, stable and lower-case, with the
 * details as structured keys (Logs Insights queries in the README rely on them).
 */
export const SERVICE_NAME = 'tf-serving-registry';

export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? SERVICE_NAME });

// Pure: a function that records no metric (discovery) leaves Metrics out of its bundle.
export const metrics = /* @__PURE__ */ new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'TfServingRegistry',
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? SERVICE_NAME,
});
