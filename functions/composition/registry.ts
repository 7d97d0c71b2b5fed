import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type CallBudget, createDynamoDbClient, lambdaInvoke } from '../adapters/aws-clients.ts';
import { DynamoDbRegistryStore, STORE_OPERATION_ACTIONS } from '../adapters/dynamodb/registry-store.ts';
import { LambdaShardInvoker, PROBE_SHARD_FUNCTION_ENV } from '../adapters/lambda/shard-invoker.ts';
import { logger } from '../adapters/observability.ts';
import { TfServingClient } from '../adapters/tfserving/tfserving-client.ts';
import {
  DISCOVERY_STORE_OPERATIONS,
  type DiscoveryDeps,
  FLEET_JUDGEMENT_STORE_OPERATIONS,
  type FleetJudgementDeps,
  LastKnownAnswers,
} from '../domain/discovery.ts';
import { healthPolicy } from '../domain/health.ts';
import type { EcsLookups, RegistryStore, StoreOperation } from '../domain/ports.ts';
import {
  ENDPOINT_PROBE_STORE_OPERATIONS,
  PROBE_ROUND_STORE_OPERATIONS,
  type ProbeDeps,
  vouchedRebuildMs,
} from '../domain/probe.ts';
import { PROBE_FANOUT_STORE_OPERATIONS } from '../domain/probe-fanout.ts';
import { RECONCILE_STORE_OPERATIONS } from '../domain/reconcile.ts';
import { loadConfig, type RegistryConfig, settingConflicts } from '../domain/settings.ts';
import { targetsPerShard } from '../domain/shards.ts';
import { SHARED_READ_MAX_AGE_MS, SHARED_READ_REFRESH_AFTER_MS, sharedReads } from '../domain/shared-reads.ts';
import { coalescedRebuilds, RebuildTurns } from '../domain/snapshots.ts';
import {
  DEFAULT_TOMBSTONE_SECONDS,
  TASK_EVENT_STORE_OPERATIONS,
  type TaskEventDeps,
} from '../domain/task-events.ts';

/**
 * The composition root: the one place where adapters meet the domain. It builds what each
 * function's domain calls need from the configuration. The Lambda entry points build only their
 * own function's part (so a bundle carries only what it uses); the local runtime and the tests
 * build the whole registry with {@link createRegistry}.
 */

export interface RegistryOptions {
  readonly now?: () => number;
  /** Hosts the probe may contact (tests confine it to loopback). */
  readonly isAllowedProbeHost?: (host: string) => boolean;
  /** Called with each DynamoDB client made (benchmarks count calls, tests record them). */
  readonly instrument?: (client: DynamoDBDocumentClient) => void;
  /** The snapshot rebuild turns of the process's writers (one process running several: shared). */
  readonly rebuildTurns?: RebuildTurns;
}

/** The deployed functions, by the name their folder, bundle and construct carry. */
export type FunctionName = 'ecs-events' | 'probe' | 'probe-shard' | 'reconcile' | 'discovery';

/**
 * The store operations each function's code asks for: the domain ports it is wired with (each a
 * typed list next to the code that calls it). The CDK app grants exactly their DynamoDB actions.
 */
export const FUNCTION_STORE_OPERATIONS: Readonly<Record<FunctionName, readonly StoreOperation[]>> = {
  'ecs-events': [...TASK_EVENT_STORE_OPERATIONS, ...ENDPOINT_PROBE_STORE_OPERATIONS],
  // The coordinator: it counts the fleet, then probes it itself or starts the shards and judges
  // the fleet's models for the fleet-wide figure.
  probe: [
    ...PROBE_FANOUT_STORE_OPERATIONS,
    ...PROBE_ROUND_STORE_OPERATIONS,
    ...FLEET_JUDGEMENT_STORE_OPERATIONS,
  ],
  'probe-shard': PROBE_ROUND_STORE_OPERATIONS,
  reconcile: [
    ...RECONCILE_STORE_OPERATIONS,
    ...TASK_EVENT_STORE_OPERATIONS,
    ...ENDPOINT_PROBE_STORE_OPERATIONS,
  ],
  discovery: DISCOVERY_STORE_OPERATIONS,
};

/** The DynamoDB actions a function's role needs on the registry table, sorted, each once. */
export function storeActionsOf(name: FunctionName): string[] {
  return [
    ...new Set(FUNCTION_STORE_OPERATIONS[name].map((operation) => STORE_OPERATION_ACTIONS[operation])),
  ].sort();
}

/** Who uses the store, and so which budget its calls get. */
export type StoreUser = 'discovery' | 'taskEvents' | 'probe';

interface StoreBudget {
  readonly client: CallBudget;
  /** One store operation, every page and attempt included. */
  readonly deadlineMs: number;
}

/**
 * Each store user's deadlines. Discovery answers within 1 s whatever the store does (then from
 * its last known answers); an event fails within 2 s so the caller retries (EventBridge, or the
 * `POST /events` client on a 503); a probe round's writes must not outlast its interval.
 */
export const STORE_BUDGETS: Readonly<Record<StoreUser, StoreBudget>> = {
  discovery: { client: { connectionTimeoutMs: 200, requestTimeoutMs: 400, maxAttempts: 2 }, deadlineMs: 600 },
  taskEvents: {
    client: { connectionTimeoutMs: 300, requestTimeoutMs: 700, maxAttempts: 2 },
    deadlineMs: 1_500,
  },
  probe: {
    client: { connectionTimeoutMs: 1_000, requestTimeoutMs: 1_000, maxAttempts: 3, maxSockets: 128 },
    deadlineMs: 2_000,
  },
};

/** The store as `user` sees it: its own DynamoDB client (`AWS_ENDPOINT_URL_DYNAMODB` honoured) and deadlines. */
export function createStore(
  config: RegistryConfig,
  user: StoreUser,
  options: RegistryOptions = {},
): DynamoDbRegistryStore {
  const budget = STORE_BUDGETS[user];
  const client = createDynamoDbClient(budget.client);
  options.instrument?.(client);
  return new DynamoDbRegistryStore(client, config.tableName, budget.deadlineMs);
}

/** A probe that has waited this long for an answer gives its slot up (it goes on waiting). */
const SLOW_PROBE_MS = 200;
/** Probes waiting on slow servers at once: keeps open sockets under Lambda's 1,024 descriptors. */
const MAX_WAITING_PROBES = 768;

export function probeDeps(
  config: RegistryConfig,
  store: RegistryStore,
  options: RegistryOptions = {},
): ProbeDeps & { tfserving: TfServingClient } {
  const concurrency = config.probeConcurrency;
  const slowAfterMs = Math.min(SLOW_PROBE_MS, Math.ceil(config.probeTimeoutMs / 2));
  return {
    store,
    tfserving: new TfServingClient({
      timeoutMs: config.probeTimeoutMs,
      ...(options.isAllowedProbeHost ? { isAllowedHost: options.isAllowedProbeHost } : {}),
    }),
    now: options.now ?? Date.now,
    removeAfterSeconds: config.removeAfterSeconds,
    concurrency,
    slowAfterMs,
    maxWaiting: MAX_WAITING_PROBES,
    // A fleet probed by one invocation gets the markers of the layout shards would use for it.
    markerShare: probeShare(config, { concurrency, slowAfterMs }),
    vouchedRebuildMs: vouchedRebuildMs(config.unhealthyAfterSeconds),
    ...(options.rebuildTurns === undefined ? {} : { rebuildTurns: options.rebuildTurns }),
  };
}

/** What the probe coordinator judges the fleet's models with (the fleet-wide figure of a sharded minute). */
export function fleetJudgementDeps(
  config: RegistryConfig,
  store: RegistryStore,
  options: RegistryOptions = {},
): FleetJudgementDeps {
  return { store, now: options.now ?? Date.now, policy: healthPolicy(config) };
}

/** Probe targets one invocation takes at most: PROBE_TARGETS_PER_SHARD, bounded by what its pool gets through in an interval. */
export function probeShare(
  config: RegistryConfig,
  probe: Pick<ProbeDeps, 'concurrency' | 'slowAfterMs'>,
): number {
  return targetsPerShard({
    targetsPerShard: config.probeTargetsPerShard,
    concurrency: probe.concurrency,
    intervalMs: config.probeIntervalSeconds * 1000,
    slowAfterMs: probe.slowAfterMs,
  });
}

/**
 * What starts probe shards: the function `PROBE_SHARD_FUNCTION_NAME` names, through Lambda's
 * asynchronous invocation; undefined when it is not set (local mode, or a deployment without the
 * shard function), and the coordinator then probes every endpoint itself.
 */
export function shardInvokerFrom(
  env: Readonly<Record<string, string | undefined>> = process.env,
): LambdaShardInvoker | undefined {
  const functionName = env[PROBE_SHARD_FUNCTION_ENV]?.trim();
  return functionName ? new LambdaShardInvoker(lambdaInvoke(), functionName) : undefined;
}

export function taskEventDeps(
  config: RegistryConfig,
  store: RegistryStore,
  probe: ProbeDeps,
  lookups: EcsLookups,
  options: RegistryOptions = {},
): TaskEventDeps {
  return {
    store,
    lookups,
    // A new endpoint's first probe is written with the events' deadlines.
    probe: { ...probe, store },
    now: options.now ?? Date.now,
    tfservingContainerNames: config.tfservingContainerNames,
    tombstoneSeconds: DEFAULT_TOMBSTONE_SECONDS,
    rebuildSnapshot: coalescedRebuilds({
      store,
      now: options.now ?? Date.now,
      ...(options.rebuildTurns === undefined ? {} : { rebuildTurns: options.rebuildTurns }),
    }),
  };
}

export function discoveryDeps(
  config: RegistryConfig,
  store: RegistryStore,
  options: RegistryOptions & {
    /** How long a snapshot read is shared between requests (0: only while in flight). */
    readonly sharedReadMs?: number;
    /** The process answers requests concurrently: start the next shared read before the bound passes. */
    readonly concurrentRequests?: boolean;
  } = {},
): DiscoveryDeps & { readonly forgetSharedReads: () => void } {
  const now = options.now ?? Date.now;
  // Many clients asking for the same model share one snapshot read (bounded in age).
  const snapshots = sharedReads((model: string) => store.readSnapshot(model), String, {
    maxAgeMs: options.sharedReadMs ?? SHARED_READ_MAX_AGE_MS,
    ...(options.concurrentRequests ? { refreshAfterMs: SHARED_READ_REFRESH_AFTER_MS } : {}),
  });
  return {
    store: {
      readSnapshot: snapshots.read,
      readModel: (model) => store.readModel(model),
      listRunningTasks: () => store.listRunningTasks(),
    },
    now,
    policy: healthPolicy(config),
    answers: new LastKnownAnswers(),
    forgetSharedReads: snapshots.forget,
  };
}

/** The whole registry over one table: every handler's dependencies, each over its own store budget. */
export interface Registry {
  readonly config: RegistryConfig;
  readonly stores: Readonly<Record<StoreUser, DynamoDbRegistryStore>>;
  /** The task events' store: what reconciliation, expiry sweeps and tests use. */
  readonly store: DynamoDbRegistryStore;
  readonly tfserving: TfServingClient;
  readonly probe: ProbeDeps;
  readonly taskEvents: TaskEventDeps;
  readonly discovery: DiscoveryDeps;
  /** Closes the TF Serving sockets and the DynamoDB clients. */
  close(): void;
}

export function createRegistry(
  config: RegistryConfig,
  lookups: EcsLookups,
  given: RegistryOptions = {},
): Registry {
  // The process's writers (events, prober) take turns at a model's rebuilds.
  const options = { ...given, rebuildTurns: given.rebuildTurns ?? new RebuildTurns() };
  const stores = {
    discovery: createStore(config, 'discovery', options),
    taskEvents: createStore(config, 'taskEvents', options),
    probe: createStore(config, 'probe', options),
  };
  const probe = probeDeps(config, stores.probe, options);
  // One process answering many requests at once (local mode, the benchmarks).
  const discovery = discoveryDeps(config, stores.discovery, { concurrentRequests: true, ...options });
  // One process: its discovery sees its own writers' snapshots at once.
  for (const writer of [stores.taskEvents, stores.probe])
    writer.onSnapshotWritten(discovery.forgetSharedReads);
  return {
    config,
    stores,
    store: stores.taskEvents,
    tfserving: probe.tfserving,
    probe,
    taskEvents: taskEventDeps(config, stores.taskEvents, probe, lookups, options),
    discovery,
    close() {
      probe.tfserving.close();
      for (const store of Object.values(stores)) store.close();
    },
  };
}

/**
 * A function's configuration at cold start: checked (a bad value throws), and settings that
 * defeat each other logged as warnings, naming them and what will happen.
 */
export function loadFunctionConfig(
  env: Readonly<Record<string, string | undefined>> = process.env,
): RegistryConfig {
  const config = loadConfig(env);
  for (const conflict of settingConflicts(config)) {
    logger.warn('settings conflict', { settings: conflict.settings, detail: conflict.message });
  }
  return config;
}
