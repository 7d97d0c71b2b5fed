import { type HealthPolicy, healthPolicy } from '../../../functions/domain/health.ts';
import { loadConfig, type RegistryConfig } from '../../../functions/domain/settings.ts';

/** The registry's settings at their defaults: what the production settings module reads from no environment. */
export const DEFAULT_SETTINGS: RegistryConfig = loadConfig({});

/** The health rules at the default settings. */
export const DEFAULT_POLICY: HealthPolicy = healthPolicy(DEFAULT_SETTINGS);

/** Settings that make a test registry quick to notice: probes every second, two failures exclude. */
export const QUICK_SETTINGS = {
  PROBE_INTERVAL_SECONDS: 1,
  PROBE_TIMEOUT_MS: 300,
  FAILURE_THRESHOLD: 2,
  UNHEALTHY_AFTER_SECONDS: 3,
  REMOVE_AFTER_SECONDS: 30,
} as const;

type ProbeTiming = Pick<
  typeof QUICK_SETTINGS,
  'PROBE_INTERVAL_SECONDS' | 'PROBE_TIMEOUT_MS' | 'FAILURE_THRESHOLD'
>;

/** Until the next probe has seen a change: an interval plus the timeout, doubled for a shared machine. */
export const nextProbeMs = (settings: ProbeTiming = QUICK_SETTINGS) =>
  2 * (settings.PROBE_INTERVAL_SECONDS * 1000 + settings.PROBE_TIMEOUT_MS);

/** The design's bound on a silent death (FAILURE_THRESHOLD probes), doubled for a shared machine. */
export const exclusionMs = (settings: ProbeTiming = QUICK_SETTINGS) =>
  2 * (settings.FAILURE_THRESHOLD * settings.PROBE_INTERVAL_SECONDS * 1000 + settings.PROBE_TIMEOUT_MS);
