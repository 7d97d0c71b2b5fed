import type { TaskDetail } from './ecs-task-event.ts';
import { addToGroup } from './groups.ts';
import { LIFECYCLE_RANK, type Lifecycle, lifecycleOf } from './lifecycle.ts';
import type { EcsLookups, RegistryStore, StoreOperation } from './ports.ts';
import { type EndpointProbeDeps, type ProbeResult, probeEndpointModel } from './probe.ts';
import type { TaskRecord } from './records.ts';
import { namedTogether, SNAPSHOT_REFRESH_STORE_OPERATIONS, type SnapshotRebuild } from './snapshots.ts';
import { deriveEndpoints, type EndpointRegistration, isAddressable } from './task-endpoints.ts';

/**
 * Applies one ECS task state change to the registry: RUNNING registers and probes at once, a
 * drain (desiredStatus STOPPED) or a stop retires at once. The task item is written first with a
 * forward-only condition; only the winner of that write touches the model partitions, and those
 * writes carry the same guard, so duplicates and any delivery order end in the same state.
 */

/** What applying an event asks of the store (its probe of a new endpoint aside). */
export const TASK_EVENT_STORE_OPERATIONS = [
  'getTask',
  'putTask',
  'putRegistration',
  'deleteProbe',
  ...SNAPSHOT_REFRESH_STORE_OPERATIONS,
] as const satisfies readonly StoreOperation[];

export interface TaskEventDeps {
  readonly store: Pick<RegistryStore, (typeof TASK_EVENT_STORE_OPERATIONS)[number]>;
  readonly lookups: EcsLookups;
  readonly probe: EndpointProbeDeps;
  readonly now: () => number;
  readonly tfservingContainerNames: readonly string[];
  /** How long a stopped task's tombstone blocks late events (longer than EventBridge's 24 h of retries). */
  readonly tombstoneSeconds: number;
  /**
   * Rebuilds a model's snapshot after an event's writes (`coalescedRebuilds` over `store`: the
   * events a process applies at once share rebuilds).
   */
  readonly rebuildSnapshot: SnapshotRebuild;
}

/**
 * Why an event changed nothing. `task-stopping`: the task is already stopping or stopped, which is
 * final (a task that runs again is a new task with a new ARN). `superseded`: a newer event of the
 * running task (a higher version, or RUNNING over PENDING) was already applied. `concurrent`:
 * another event of the task won the write at the same moment.
 */
export const NOT_APPLIED_REASONS = ['task-stopping', 'superseded', 'concurrent'] as const;
export type NotAppliedReason = (typeof NOT_APPLIED_REASONS)[number];

export interface TaskEventOutcome {
  readonly taskArn: string;
  readonly taskVersion: number;
  readonly lifecycle: Lifecycle;
  /** `false`: the registry already holds a later state of the task; nothing changed (see `notApplied`). */
  readonly applied: boolean;
  /** Present when not applied: why, in a word and a sentence. */
  readonly notApplied?: { readonly reason: NotAppliedReason; readonly message: string };
  readonly endpoints: readonly EndpointRegistration[];
  readonly skipped: readonly { container: string; reason: string }[];
  readonly probes: readonly (ProbeResult & { endpointId: string; model: string })[];
}

export const DEFAULT_TOMBSTONE_SECONDS = 2 * 24 * 3600;

async function endpointsOf(detail: TaskDetail, lifecycle: Lifecycle, deps: TaskEventDeps) {
  // Before RUNNING there is nothing to register, so no lookups are spent on it.
  if (lifecycle === 'PENDING') return { endpoints: [], skipped: [] };
  const [taskDefinition, containerInstanceHost] = await Promise.all([
    detail.taskDefinitionArn ? deps.lookups.taskDefinition(detail.taskDefinitionArn) : undefined,
    detail.containerInstanceArn
      ? deps.lookups.containerInstanceHost(detail.clusterArn, detail.containerInstanceArn)
      : undefined,
  ]);
  return deriveEndpoints(detail, {
    tfservingContainerNames: deps.tfservingContainerNames,
    taskDefinition,
    containerInstanceHost,
  });
}

/** Endpoints retired by a stop: those of this event and every one an earlier event registered. */
function retiredEndpoints(derived: readonly EndpointRegistration[], previous: TaskRecord | undefined) {
  const byId = new Map<string, Set<string>>();
  for (const endpoint of derived) for (const model of endpoint.models) addToGroup(byId, endpoint.id, model);
  for (const [endpointId, model] of previous?.registeredModels ?? []) addToGroup(byId, endpointId, model);
  return byId;
}

/** This event's endpoints, plus whatever an earlier event of the running task registered. */
function merged(
  derived: readonly EndpointRegistration[],
  earlier: readonly EndpointRegistration[],
): EndpointRegistration[] {
  const byId = new Map(earlier.map((e) => [e.id, e]));
  const result = derived.map((endpoint) => {
    const before = byId.get(endpoint.id);
    byId.delete(endpoint.id);
    if (before === undefined) return endpoint;
    return {
      ...endpoint,
      models: [...new Set([...endpoint.models, ...before.models])],
      labels: [...new Set([...endpoint.labels, ...before.labels])],
    };
  });
  return [...result, ...byId.values()];
}

const CONCURRENT = {
  reason: 'concurrent',
  message: 'another event of this task was applied at the same moment',
} as const;

/** Why the registry's state of a task (`current`) kept an event (`version`, `lifecycle`) from applying. */
export function notAppliedBecause(
  current: Pick<TaskRecord, 'taskVersion' | 'lifecycle'> | undefined,
  version: number,
  lifecycle: Lifecycle,
): NonNullable<TaskEventOutcome['notApplied']> {
  if (current === undefined) {
    return CONCURRENT;
  }
  if (
    (current.lifecycle === 'STOPPING' || current.lifecycle === 'STOPPED') &&
    LIFECYCLE_RANK[current.lifecycle] > LIFECYCLE_RANK[lifecycle]
  ) {
    return {
      reason: 'task-stopping',
      message: `the task is ${current.lifecycle} (event version ${current.taskVersion}); a stopping task never runs again, and a task started anew has a new ARN`,
    };
  }
  if (current.taskVersion > version || LIFECYCLE_RANK[current.lifecycle] > LIFECYCLE_RANK[lifecycle]) {
    return {
      reason: 'superseded',
      message: `a later event of this task was already applied (version ${current.taskVersion}, ${current.lifecycle})`,
    };
  }
  return CONCURRENT;
}

/**
 * Rebuilds the snapshot of each model the event wrote rows of (once each, naming the endpoints it
 * wrote); a failure fails the event, which is then retried.
 */
async function refreshSnapshots(
  deps: TaskEventDeps,
  written: readonly { endpointId: string; model: string }[],
): Promise<void> {
  const byModel = new Map<string, Set<string>>();
  for (const { endpointId, model } of written) addToGroup(byModel, model, endpointId);
  await Promise.all([...byModel].map(([model, ids]) => deps.rebuildSnapshot(model, ids)));
}

/**
 * For a batch of events applied together (local mode's `POST /events`): `deps` under which each
 * event's rebuilds are only noted, and `flush`, which rebuilds every noted model once, after all
 * the batch's writes. The batch is acknowledged only after `flush` (a failed rebuild fails it, and
 * its events, idempotent, are posted again).
 */
export function deferredRebuilds(deps: TaskEventDeps): {
  readonly deps: TaskEventDeps;
  flush(): Promise<void>;
} {
  // Model → the endpoints its events wrote (undefined: an event did not say, read the partition).
  const noted = new Map<string, Set<string> | undefined>();
  return {
    deps: {
      ...deps,
      rebuildSnapshot: async (model, changed) => {
        noted.set(model, namedTogether(noted.has(model) ? noted.get(model) : new Set(), changed));
      },
    },
    async flush() {
      const models = [...noted];
      noted.clear();
      await Promise.all(models.map(([model, changed]) => deps.rebuildSnapshot(model, changed)));
    },
  };
}

export async function applyTaskEvent(detail: TaskDetail, deps: TaskEventDeps): Promise<TaskEventOutcome> {
  const lifecycle = lifecycleOf(detail);
  const { endpoints, skipped } = await endpointsOf(detail, lifecycle, deps);
  const stopping = lifecycle === 'STOPPING' || lifecycle === 'STOPPED';
  const tombstoneExpiresAt = Math.ceil(deps.now() / 1000) + deps.tombstoneSeconds;
  const previous = lifecycle === 'PENDING' ? undefined : await deps.store.getTask(detail.taskArn);
  const task: TaskRecord = {
    taskArn: detail.taskArn,
    clusterArn: detail.clusterArn,
    taskVersion: detail.version,
    lifecycle,
    availabilityZone: detail.availabilityZone,
    // A running task's endpoints never shrink: the probe walks them, and an endpoint registered
    // earlier (when, say, the task definition could still be read) must go on being probed.
    endpoints:
      lifecycle === 'RUNNING' && previous?.lifecycle === 'RUNNING'
        ? merged(endpoints, previous.endpoints)
        : endpoints,
    ...(stopping ? { expiresAt: tombstoneExpiresAt } : {}),
  };
  const outcome = { taskArn: detail.taskArn, taskVersion: detail.version, lifecycle, endpoints, skipped };
  if (!(await deps.store.putTask(task))) {
    // The write lost to a later state: read it (a PENDING event did not) to say which.
    const current = await deps.store.getTask(detail.taskArn);
    return {
      ...outcome,
      applied: false,
      notApplied: notAppliedBecause(current, detail.version, lifecycle),
      probes: [],
    };
  }

  const common = {
    taskArn: detail.taskArn,
    clusterArn: detail.clusterArn,
    availabilityZone: detail.availabilityZone,
    taskVersion: detail.version,
    lifecycle,
  };
  if (stopping) {
    const retired = retiredEndpoints(endpoints, previous);
    const writes = [...retired].flatMap(([endpointId, models]) =>
      [...models].map(async (model) => {
        await deps.store.putRegistration(
          { ...common, endpointId, model, host: undefined, restPort: undefined, grpcPort: null },
          tombstoneExpiresAt,
        );
        await deps.store.deleteProbe(endpointId, model);
      }),
    );
    await Promise.all(writes);
    // Discovery reads the snapshots: rebuilt before the event is acknowledged, so the drain is
    // in effect for the next discovery call.
    await refreshSnapshots(
      deps,
      [...retired].flatMap(([endpointId, models]) => [...models].map((model) => ({ endpointId, model }))),
    );
    return { ...outcome, applied: true, probes: [] };
  }
  if (lifecycle !== 'RUNNING') return { ...outcome, applied: true, probes: [] };

  const targets = endpoints
    .filter(isAddressable)
    .flatMap((endpoint) => endpoint.models.map((model) => ({ endpoint, model })));
  const registered = await Promise.all(
    targets.map(({ endpoint, model }) =>
      deps.store.putRegistration({
        ...common,
        endpointId: endpoint.id,
        model,
        host: endpoint.host,
        restPort: endpoint.restPort,
        grpcPort: endpoint.grpcPort,
      }),
    ),
  );
  const written = targets.filter((_, index) => registered[index]);
  // Probe at once, so an endpoint whose models are already AVAILABLE is served now, not next round.
  const probes = await Promise.all(
    written.map(async (target) => ({
      ...(await probeEndpointModel(deps.probe, target)),
      endpointId: target.endpoint.id,
      model: target.model,
    })),
  );
  await refreshSnapshots(
    deps,
    written.map(({ endpoint, model }) => ({ endpointId: endpoint.id, model })),
  );
  return { ...outcome, applied: true, probes };
}
