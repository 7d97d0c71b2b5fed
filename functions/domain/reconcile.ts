import type { Task } from '@aws-sdk/client-ecs';
import pMap from 'p-map';
import type { RegistryStore, StoreOperation, TaskRecord } from '../adapters/dynamodb/registry-store.ts';
import { parseTaskDetail, type TaskDetail } from './ecs-task-event.ts';
import { asError } from './errors.ts';
import type { TaskEventOutcome } from './task-events.ts';

/**
 * Reconciliation: what ECS says now, applied like an event. It heals what events missed (an
 * event that exhausted its retries into the dead-letter queue, a registry started after its
 * tasks): running tasks the registry lacks or holds at an older version are applied from
 * `DescribeTasks`, and tasks the registry holds as running that ECS has stopped, or forgotten, are
 * retired. Every write goes through the same forward-only conditions as events.
 */

/** The ECS reads reconciliation needs (`ecs:ListClusters`, `ecs:ListTasks`, `ecs:DescribeTasks`). */
export interface EcsTaskReader {
  listClusters(): Promise<string[]>;
  listRunningTaskArns(clusterArn: string): Promise<string[]>;
  /** At most 100 ARNs; `missing` lists those ECS no longer knows (stopped over an hour ago). */
  describeTasks(
    clusterArn: string,
    taskArns: readonly string[],
  ): Promise<{ tasks: Task[]; missing: string[] }>;
}

export interface ReconcileLog {
  warn(message: string, attributes: Record<string, unknown>): void;
}

/** What reconciliation asks of the store itself (applying a task is an event's work). */
export const RECONCILE_STORE_OPERATIONS = ['listRunningTasks'] as const satisfies readonly StoreOperation[];

export interface ReconcileDeps {
  readonly ecs: EcsTaskReader;
  readonly store: Pick<RegistryStore, (typeof RECONCILE_STORE_OPERATIONS)[number]>;
  readonly apply: (detail: TaskDetail) => Promise<TaskEventOutcome>;
  /** Clusters to reconcile; every cluster of the account when empty. */
  readonly clusterArns: readonly string[];
  readonly log: ReconcileLog;
}

export interface ReconcileSummary {
  readonly clusters: number;
  readonly described: number;
  /** Tasks whose ECS state was newer than the registry's, applied. */
  readonly applied: number;
  /** Registry tasks ECS no longer knows, retired. */
  readonly forgotten: number;
  /** Tasks that could not be read or applied (logged). */
  readonly errors: number;
}

const DESCRIBE_BATCH = 100;

/** A `DescribeTasks` task as the detail of a task event (timestamps aside, the same shape). */
export function taskAsDetail(task: Task): TaskDetail {
  return parseTaskDetail({
    taskArn: task.taskArn,
    clusterArn: task.clusterArn,
    version: task.version,
    lastStatus: task.lastStatus,
    desiredStatus: task.desiredStatus,
    taskDefinitionArn: task.taskDefinitionArn,
    availabilityZone: task.availabilityZone,
    launchType: task.launchType,
    containerInstanceArn: task.containerInstanceArn,
    attachments: task.attachments?.map((a) => ({
      type: a.type,
      status: a.status,
      details: a.details?.map((d) => ({ name: d.name ?? '', value: d.value })),
    })),
    containers: (task.containers ?? []).map((c) => ({
      name: c.name,
      image: c.image,
      lastStatus: c.lastStatus,
      networkInterfaces: c.networkInterfaces?.map((n) => ({ privateIpv4Address: n.privateIpv4Address })),
      networkBindings: c.networkBindings?.map((b) => ({
        bindIP: b.bindIP,
        containerPort: b.containerPort,
        hostPort: b.hostPort,
        protocol: b.protocol,
      })),
    })),
    overrides: {
      containerOverrides: task.overrides?.containerOverrides?.map((o) => ({
        name: o.name ?? '',
        environment: o.environment?.map((e) => ({ name: e.name ?? '', value: e.value })),
      })),
    },
  });
}

/** A stop for a task ECS has forgotten: one version past the registry's, so it wins. */
function forgottenStop(task: TaskRecord): TaskDetail {
  return {
    taskArn: task.taskArn,
    clusterArn: task.clusterArn,
    version: task.taskVersion + 1,
    lastStatus: 'STOPPED',
    desiredStatus: 'STOPPED',
    availabilityZone: task.availabilityZone,
    containers: task.endpoints.map((e) => ({ name: e.containerName })),
  };
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  return Array.from({ length: Math.ceil(items.length / size) }, (_, i) =>
    items.slice(i * size, (i + 1) * size),
  );
}

export async function reconcile(deps: ReconcileDeps): Promise<ReconcileSummary> {
  const clusters = deps.clusterArns.length > 0 ? [...deps.clusterArns] : await deps.ecs.listClusters();
  const registered = new Map((await deps.store.listRunningTasks()).map((t) => [t.taskArn, t]));
  let described = 0;
  let applied = 0;
  let forgotten = 0;
  let errors = 0;

  const fail = (message: string, attributes: Record<string, unknown>, error: unknown) => {
    errors += 1;
    deps.log.warn(message, { ...attributes, error: asError(error).message });
  };

  await pMap(
    clusters,
    async (clusterArn) => {
      let running: string[];
      try {
        running = await deps.ecs.listRunningTaskArns(clusterArn);
      } catch (error) {
        fail('reconcile: listing tasks failed', { clusterArn }, error);
        return;
      }
      // ECS's running tasks, and the registry's running tasks of this cluster ECS did not list.
      const runningSet = new Set(running);
      const vanished = [...registered.values()]
        .filter((t) => t.clusterArn === clusterArn && !runningSet.has(t.taskArn))
        .map((t) => t.taskArn);
      for (const batch of chunks([...running, ...vanished], DESCRIBE_BATCH)) {
        let answer: Awaited<ReturnType<EcsTaskReader['describeTasks']>>;
        try {
          answer = await deps.ecs.describeTasks(clusterArn, batch);
        } catch (error) {
          fail('reconcile: describing tasks failed', { clusterArn, tasks: batch.length }, error);
          continue;
        }
        described += answer.tasks.length;
        for (const task of answer.tasks) {
          const known = registered.get(task.taskArn ?? '');
          const isRunning = task.lastStatus === 'RUNNING' && task.desiredStatus === 'RUNNING';
          // Already applied: the registry holds this version (or a newer one) as running.
          if (known !== undefined && isRunning && known.taskVersion >= (task.version ?? 0)) continue;
          // Not running and not registered: nothing to heal (pending, or already retired).
          if (known === undefined && !isRunning && task.lastStatus !== 'RUNNING') continue;
          try {
            const outcome = await deps.apply(taskAsDetail(task));
            if (outcome.applied) applied += 1;
          } catch (error) {
            fail('reconcile: applying a task failed', { taskArn: task.taskArn }, error);
          }
        }
        for (const taskArn of answer.missing) {
          const known = registered.get(taskArn);
          if (known === undefined) continue;
          try {
            const outcome = await deps.apply(forgottenStop(known));
            if (outcome.applied) forgotten += 1;
          } catch (error) {
            fail('reconcile: retiring a forgotten task failed', { taskArn }, error);
          }
        }
      }
    },
    { concurrency: 4 },
  );
  return { clusters: clusters.length, described, applied, forgotten, errors };
}
