/**
 * Where a task is in its life, as the registry sees it. Ranked so that state only moves forward:
 * a stopping or stopped task never comes back, whatever arrives late.
 */
export const LIFECYCLES = ['PENDING', 'RUNNING', 'STOPPING', 'STOPPED'] as const;

export type Lifecycle = (typeof LIFECYCLES)[number];

export const LIFECYCLE_RANK: Readonly<Record<Lifecycle, number>> = {
  PENDING: 0,
  RUNNING: 1,
  STOPPING: 2,
  STOPPED: 3,
};

const STOPPING_STATUSES = new Set(['DEACTIVATING', 'STOPPING', 'DEPROVISIONING']);

/** The lifecycle of a task from ECS's `lastStatus` and `desiredStatus`. */
export function lifecycleOf(task: { lastStatus: string; desiredStatus: string }): Lifecycle {
  if (task.lastStatus === 'STOPPED') return 'STOPPED';
  // desiredStatus STOPPED while still RUNNING is the drain signal: the first event of a stop.
  if (task.desiredStatus === 'STOPPED' || STOPPING_STATUSES.has(task.lastStatus)) return 'STOPPING';
  if (task.lastStatus === 'RUNNING') return 'RUNNING';
  return 'PENDING';
}
