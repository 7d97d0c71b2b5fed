import { ConfigError } from './errors.ts';

/** The registry's settings: the names, defaults and bounds of the design's configuration table. */
export interface RegistryConfig {
  readonly tableName: string;
  readonly probeIntervalSeconds: number;
  readonly probeTimeoutMs: number;
  readonly failureThreshold: number;
  readonly unhealthyAfterSeconds: number;
  readonly removeAfterSeconds: number;
  readonly tfservingContainerNames: readonly string[];
  /** How many endpoint probes run at once in one round. */
  readonly probeConcurrency: number;
  /** Clusters the reconciler reads; every cluster of the account when empty. */
  readonly clusterArns: readonly string[];
}

type Env = Readonly<Record<string, string | undefined>>;

// Bounds admit at least what the design requires (1–3600 s, 1–1000, 50–60000 ms); there is
// deliberately no rule *between* settings, so tests can set one rule short and the rest very large.
const MAX_SECONDS = 86_400;

function intSetting(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw.trim());
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(name, raw, `expected a whole number from ${min} to ${max} (default ${fallback})`);
  }
  return value;
}

function listSetting(env: Env, name: string, fallback: readonly string[]): readonly string[] {
  const raw = env[name];
  if (raw === undefined) return fallback;
  const items = raw
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  if (items.length === 0) {
    throw new ConfigError(name, raw, 'expected a comma-separated list of container names');
  }
  return items;
}

const CLUSTER_ARN = /^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:cluster\/[A-Za-z0-9_-]{1,255}$/;

function clusterArnsSetting(env: Env): readonly string[] {
  const raw = env.CLUSTER_ARNS;
  if (raw === undefined || raw.trim() === '') return [];
  const arns = listSetting(env, 'CLUSTER_ARNS', []);
  const bad = arns.find((arn) => !CLUSTER_ARN.test(arn));
  if (bad !== undefined) {
    throw new ConfigError(
      'CLUSTER_ARNS',
      raw,
      `expected comma-separated ECS cluster ARNs; ${JSON.stringify(bad)} is not one`,
    );
  }
  return arns;
}

/**
 * Reads and checks the configuration once. Throws a {@link ConfigError} naming the variable,
 * the value and what is allowed.
 */
export function loadConfig(env: Env = process.env): RegistryConfig {
  const tableName = (env.TABLE_NAME ?? 'tf-serving-registry').trim();
  if (!/^[a-zA-Z0-9_.-]{3,255}$/.test(tableName)) {
    throw new ConfigError(
      'TABLE_NAME',
      env.TABLE_NAME ?? '',
      'expected 3–255 characters of a-z, A-Z, 0-9, _ . -',
    );
  }
  return Object.freeze({
    tableName,
    probeIntervalSeconds: intSetting(env, 'PROBE_INTERVAL_SECONDS', 5, 1, MAX_SECONDS),
    probeTimeoutMs: intSetting(env, 'PROBE_TIMEOUT_MS', 2000, 50, 60_000),
    failureThreshold: intSetting(env, 'FAILURE_THRESHOLD', 2, 1, 1000),
    unhealthyAfterSeconds: intSetting(env, 'UNHEALTHY_AFTER_SECONDS', 10, 1, MAX_SECONDS),
    removeAfterSeconds: intSetting(env, 'REMOVE_AFTER_SECONDS', 30, 1, MAX_SECONDS),
    tfservingContainerNames: listSetting(env, 'TFSERVING_CONTAINER_NAMES', ['tfserving', 'tf-serving']),
    probeConcurrency: intSetting(env, 'PROBE_CONCURRENCY', 64, 1, 1024),
    clusterArns: clusterArnsSetting(env),
  });
}
