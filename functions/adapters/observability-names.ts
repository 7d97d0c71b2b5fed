/**
 * The names the functions log and publish metrics under, in a module with no side effects: the
 * functions' Logger and Metrics read them (observability.ts), and the CDK stack gives them to each
 * function and builds its alarms and dashboard on them, without creating a Logger at synth.
 */
export const SERVICE_NAME = 'tf-serving-registry';
export const METRICS_NAMESPACE = 'TfServingRegistry';
