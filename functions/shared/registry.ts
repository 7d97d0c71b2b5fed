import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { DiscoveryDeps } from '../registry/discovery.ts';
import type { EcsLookups } from '../registry/ecs-lookups.ts';
import { healthPolicy } from '../registry/health.ts';
import type { ProbeDeps } from '../registry/probe.ts';
import { RegistryStore } from '../registry/registry-store.ts';
import { DEFAULT_TOMBSTONE_SECONDS, type TaskEventDeps } from '../registry/task-events.ts';
import { TfServingClient } from '../registry/tfserving-client.ts';
import type { RegistryConfig } from './config.ts';

/**
 * Wiring: what each handler's domain call needs, built from the configuration. The Lambda entry
 * points build only their own function's part (so a bundle carries only what it uses); the local
 * runtime and the tests build the whole registry with {@link createRegistry}.
 */

export interface RegistryOptions {
  readonly now?: () => number;
  /** Hosts the probe may contact (tests confine it to loopback). */
  readonly isAllowedProbeHost?: (host: string) => boolean;
}

export function probeDeps(
  config: RegistryConfig,
  store: RegistryStore,
  options: RegistryOptions = {},
): ProbeDeps {
  return {
    store,
    tfserving: new TfServingClient({
      timeoutMs: config.probeTimeoutMs,
      ...(options.isAllowedProbeHost ? { isAllowedHost: options.isAllowedProbeHost } : {}),
    }),
    now: options.now ?? Date.now,
    removeAfterSeconds: config.removeAfterSeconds,
    concurrency: config.probeConcurrency,
  };
}

export function taskEventDeps(
  config: RegistryConfig,
  probe: ProbeDeps & { store: RegistryStore },
  lookups: EcsLookups,
  options: RegistryOptions = {},
): TaskEventDeps {
  return {
    store: probe.store,
    lookups,
    probe,
    now: options.now ?? Date.now,
    tfservingContainerNames: config.tfservingContainerNames,
    tombstoneSeconds: DEFAULT_TOMBSTONE_SECONDS,
  };
}

/** The whole registry over one table: every handler's dependencies, sharing one store and probe client. */
export interface Registry {
  readonly config: RegistryConfig;
  readonly store: RegistryStore;
  readonly tfserving: TfServingClient;
  readonly probe: ProbeDeps;
  readonly taskEvents: TaskEventDeps;
  readonly discovery: DiscoveryDeps;
}

export function createRegistry(
  config: RegistryConfig,
  dynamodb: DynamoDBDocumentClient,
  lookups: EcsLookups,
  options: RegistryOptions = {},
): Registry {
  const store = new RegistryStore(dynamodb, config.tableName);
  const probe = { ...probeDeps(config, store, options), store };
  return {
    config,
    store,
    tfserving: probe.tfserving as TfServingClient,
    probe,
    taskEvents: taskEventDeps(config, probe, lookups, options),
    discovery: { store, now: options.now ?? Date.now, policy: healthPolicy(config) },
  };
}
