import type { DiscoveryDeps } from '../registry/discovery.ts';
import { AwsEcsLookups, type EcsLookups } from '../registry/ecs-lookups.ts';
import type { ProbeDeps } from '../registry/probe.ts';
import { RegistryStore } from '../registry/registry-store.ts';
import { DEFAULT_TOMBSTONE_SECONDS, type TaskEventDeps } from '../registry/task-events.ts';
import { TfServingClient } from '../registry/tfserving-client.ts';
import { type AwsClients, createAwsClients } from './aws-clients.ts';
import { loadConfig, type RegistryConfig } from './config.ts';
import { logger } from './observability.ts';

/**
 * The registry's dependencies, wired once: what each handler's domain call needs. The Lambda
 * handlers build it at cold start from the environment; the local runtime builds it with its own
 * lookups (no ECS API) and hands it to the same handlers.
 */
export interface Registry {
  readonly config: RegistryConfig;
  readonly store: RegistryStore;
  readonly tfserving: TfServingClient;
  readonly probe: ProbeDeps;
  readonly taskEvents: TaskEventDeps;
  readonly discovery: DiscoveryDeps;
}

export interface RegistryOptions {
  readonly config?: RegistryConfig;
  readonly clients?: AwsClients;
  readonly lookups?: EcsLookups;
  readonly now?: () => number;
  /** Hosts the probe may contact (tests confine it to loopback). */
  readonly isAllowedProbeHost?: (host: string) => boolean;
}

export function createRegistry(options: RegistryOptions = {}): Registry {
  const config = options.config ?? loadConfig();
  const clients = options.clients ?? createAwsClients();
  const now = options.now ?? Date.now;
  const store = new RegistryStore(clients.dynamodb, config.tableName);
  const tfserving = new TfServingClient({
    timeoutMs: config.probeTimeoutMs,
    ...(options.isAllowedProbeHost ? { isAllowedHost: options.isAllowedProbeHost } : {}),
  });
  const lookups = options.lookups ?? new AwsEcsLookups(clients.ecs, clients.ec2, logger, now);
  const probe: ProbeDeps = {
    store,
    tfserving,
    now,
    removeAfterSeconds: config.removeAfterSeconds,
    concurrency: config.probeConcurrency,
  };
  return {
    config,
    store,
    tfserving,
    probe,
    taskEvents: {
      store,
      lookups,
      probe,
      now,
      tfservingContainerNames: config.tfservingContainerNames,
      tombstoneSeconds: DEFAULT_TOMBSTONE_SECONDS,
    },
    discovery: {
      store,
      now,
      policy: {
        unhealthyAfterSeconds: config.unhealthyAfterSeconds,
        failureThreshold: config.failureThreshold,
      },
    },
  };
}
