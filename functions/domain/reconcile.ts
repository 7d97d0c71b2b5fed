import pMap from 'p-map';
import type { TaskDetail } from './ecs-task-event.ts';
import { asError } from './errors.ts';
import type { EcsTaskReader, RegistryStore, StoreOperation, WarnLog } from './ports.ts';
import type { TaskRecord } from './records.ts';
import type { TaskEventOutcome } from './task-events.ts';

/**
 * Reconciliation: what ECS says now, applied like an event. It heals what events missed (an
 * event that exhausted its retries into the dead-letter queue, a registry started after its
 * tasks): running tasks the registry lacks or holds at an older version are applied from
 * `DescribeTasks`, and tasks the registry holds as running that ECS has stopped, or forgotten, are
 * retired. Every write goes through the same forward-only conditions as events.
 */

/** What reconciliation asks of the store itself (applying a task is an event's work). */
export const RECONCILE_STORE_OPERATIONS = ['listRunningTasks'] as const satisfies readonly StoreOperation[];

export interface ReconcileDeps {
  readonly ecs: EcsTaskReader;
  readonly store: Pick<RegistryStore, (typeof RECONCILE_STORE_OPERATIONS)[number]>;
  readonly apply: (detail: TaskDetail) => Promise<TaskEventOutcome>;
  /** Clusters to reconcile; every cluster of the account when empty. */
  readonly clusterArns: readonly string[];
  readonly log: WarnLog;
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
        for (const reason of answer.invalid)
          fail('reconcile: ECS described a task that is not valid', {}, new Error(reason));
        for (const task of answer.tasks) {
          const known = registered.get(task.taskArn);
          const isRunning = task.lastStatus === 'RUNNING' && task.desiredStatus === 'RUNNING';
          // Already applied: the registry holds this version (or a newer one) as running.
          if (known !== undefined && isRunning && known.taskVersion >= task.version) continue;
          // Not running and not registered: nothing to heal (pending, or already retired).
          if (known === undefined && !isRunning && task.lastStatus !== 'RUNNING') continue;
          try {
            const outcome = await deps.apply(task);
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
