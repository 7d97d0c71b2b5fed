import type {
  ModelRegistration,
  ProbeRecord,
  RoundMarker,
  TaskRecord,
} from '../../../functions/domain/records.ts';
import type { EndpointRegistration } from '../../../functions/domain/task-endpoints.ts';

/** Builders for the registry's records: task `a`'s endpoint is `ml/a/tfserving` on 10.0.0.1. */

export const CLUSTER_ARN = 'arn:aws:ecs:us-east-1:123456789012:cluster/ml';
export const taskArnOf = (taskId: string) => `arn:aws:ecs:us-east-1:123456789012:task/ml/${taskId}`;
/** The id of a task's TF Serving endpoint (its `tfserving` container). */
export const endpointIdOf = (taskId: string) => `ml/${taskId}/tfserving`;

/** A task's TF Serving endpoint at 10.0.0.1, default ports, serving `resnet`. */
export function endpointOf(taskId: string, patch: Partial<EndpointRegistration> = {}): EndpointRegistration {
  return {
    id: endpointIdOf(taskId),
    containerName: 'tfserving',
    host: '10.0.0.1',
    restPort: 8501,
    grpcPort: 8500,
    models: ['resnet'],
    labels: [],
    ...patch,
  };
}

export function registration(
  taskId: string,
  model: string,
  patch: Partial<ModelRegistration> = {},
): ModelRegistration {
  return {
    endpointId: endpointIdOf(taskId),
    model,
    taskArn: taskArnOf(taskId),
    clusterArn: CLUSTER_ARN,
    availabilityZone: 'us-east-1a',
    host: '10.0.0.1',
    restPort: 8501,
    grpcPort: 8500,
    taskVersion: 3,
    lifecycle: 'RUNNING',
    ...patch,
  };
}

export function probeRecord(
  taskId: string,
  model: string,
  nowMs: number,
  patch: Partial<ProbeRecord> = {},
): ProbeRecord {
  return {
    endpointId: endpointIdOf(taskId),
    model,
    versions: ['1'],
    labels: {},
    lastSuccessAt: nowMs - 1000,
    probedAt: nowMs - 1000,
    consecutiveFailures: 0,
    lastError: undefined,
    expiresAt: Math.ceil(nowMs / 1000) + 30,
    ...patch,
  };
}

export function taskRecord(
  taskId: string,
  models: readonly string[],
  patch: Partial<TaskRecord> = {},
): TaskRecord {
  return {
    taskArn: taskArnOf(taskId),
    clusterArn: CLUSTER_ARN,
    taskVersion: 3,
    lifecycle: 'RUNNING',
    availabilityZone: 'us-east-1a',
    endpoints: [endpointOf(taskId, { models })],
    ...patch,
  };
}

/** A round marker of a round that started at `startedAt` and saw these endpoints (id → when). */
export function roundMarker(
  startedAt: number,
  seen: Readonly<Record<string, number>> = {},
  recordedAt = startedAt,
): RoundMarker {
  return { startedAt, recordedAt, seen: new Map(Object.entries(seen)) };
}
