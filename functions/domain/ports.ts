import type { TaskDetail } from './ecs-task-event.ts';
import type { ModelPartition, ModelRegistration, ModelSnapshot, RoundMarker, TaskRecord } from './records.ts';
import type { ShardRef } from './shards.ts';
import type { TaskDefinition } from './task-endpoints.ts';
import type { StatusVerdict } from './tfserving-status.ts';

/**
 * What the domain needs from the world, as interfaces the adapters implement
 * (`functions/adapters/`). Each use case takes only the part it calls (a `Pick` of a port,
 * named by a typed list of operations), and the composition root wires the rest.
 */

/** A successful probe, as the store records it. */
export interface ProbeSuccess {
  readonly endpointId: string;
  readonly model: string;
  readonly versions: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
  readonly probedAt: number;
  /** Epoch seconds: the row's renewed lease. */
  readonly expiresAt: number;
}

/**
 * The registry's store. Every write that can race another is conditional: losing the race returns
 * `false`, a normal outcome. Any other failure (the store slow, down, throttling) rejects with a
 * `StoreUnavailableError`, within the store's deadline.
 */
export interface RegistryStore {
  /** The task, or undefined. Strongly consistent: it decides what a stop retires. */
  getTask(taskArn: string): Promise<TaskRecord | undefined>;
  /** Writes the task unless a newer version or a later lifecycle is stored; equal versions apply again. */
  putTask(task: TaskRecord): Promise<boolean>;
  /** Writes an endpoint's registration for one model, with the same forward-only guard as its task. */
  putRegistration(registration: ModelRegistration, expiresAt?: number): Promise<boolean>;
  /** Deletes an endpoint's probe results for a model (on drain and stop). */
  deleteProbe(endpointId: string, model: string): Promise<void>;
  /** Every task whose latest applied state is RUNNING. */
  listRunningTasks(): Promise<TaskRecord[]>;
  /** Records a successful probe (creating the row if needed); loses to a newer probe. */
  recordProbeSuccess(input: ProbeSuccess): Promise<boolean>;
  /** Counts a failed probe on an existing row (never creates one); `lastSuccessAt` carries a vouched success. */
  recordProbeFailure(input: {
    endpointId: string;
    model: string;
    probedAt: number;
    error: string;
    lastSuccessAt?: number;
  }): Promise<boolean>;
  /** Writes a model's round marker of the marker's shard unless a round of that shard that started later already wrote one. */
  recordRound(model: string, marker: RoundMarker): Promise<boolean>;
  /**
   * Deletes a model's marker of one probe shard unless it was recorded at or after
   * `recordedBefore` (a layout's marker that a later layout's markers have taken over); `false`
   * when it was kept.
   */
  deleteRound(model: string, shard: ShardRef, recordedBefore: number): Promise<boolean>;
  /** Everything known about one model. */
  readModel(model: string): Promise<ModelPartition>;
  /**
   * How many of a model's registrations are RUNNING, counted only until the count passes
   * `atMost` (then any number above it): reads no item out, so telling that a model is too large
   * for a snapshot costs less than reading its partition.
   */
  countRunningRegistrations(model: string, atMost: number): Promise<number>;
  /**
   * The registrations and probe rows of the given endpoints for one model, strongly consistent
   * (an id with neither is left out): what a snapshot rebuilt from the one before it reads again.
   */
  readEndpointRows(
    model: string,
    endpointIds: readonly string[],
  ): Promise<Pick<ModelPartition, 'registrations' | 'probes'>>;
  /** A model's round markers (every probe shard's), strongly consistent. */
  readRounds(model: string): Promise<RoundMarker[]>;
  /** A model's probe rows and markers, without its registrations (what a probe round needs). */
  readProbeState(model: string): Promise<Pick<ModelPartition, 'probes' | 'rounds'>>;
  /** The next sequence number of a model's snapshot (an atomic counter): claimed before the read it is built from. */
  claimSnapshot(model: string): Promise<number>;
  /**
   * Writes a model's snapshot unless one with a higher or equal sequence is stored. A snapshot
   * without a partition, or too large for one item, is stored as overflowed: read back without one.
   */
  putSnapshot(model: string, snapshot: ModelSnapshot): Promise<boolean>;
  /** A model's snapshot, strongly consistent; undefined when there is none. */
  readSnapshot(model: string): Promise<ModelSnapshot | undefined>;
}

/** One operation of the store: what use cases list to say what they ask of it. */
export type StoreOperation = keyof RegistryStore;

/**
 * What the ECS and EC2 APIs add to an event: the task definition (environment, Docker labels,
 * port mappings: never in events) and, in bridge mode, the container instance's private IP. Both
 * fail soft: undefined when the API is unavailable, and the event alone is used.
 */
export interface EcsLookups {
  taskDefinition(arn: string): Promise<TaskDefinition | undefined>;
  containerInstanceHost(clusterArn: string, containerInstanceArn: string): Promise<string | undefined>;
}

/** ECS's own view of the tasks, for reconciliation. */
export interface EcsTaskReader {
  listClusters(): Promise<string[]>;
  listRunningTaskArns(clusterArn: string): Promise<string[]>;
  /**
   * At most 100 ARNs, as task event details; `missing` lists those ECS no longer knows (stopped
   * over an hour ago), `invalid` why a described task could not be read as one.
   */
  describeTasks(
    clusterArn: string,
    taskArns: readonly string[],
  ): Promise<{ tasks: TaskDetail[]; missing: string[]; invalid: string[] }>;
}

/** Where a TF Serving REST API listens. */
export interface TfServingEndpoint {
  readonly host: string;
  readonly restPort: number;
}

/** TF Serving's status and metadata APIs, judged. Never rejects: a failure is a verdict. */
export interface TfServingProber {
  modelStatus(endpoint: TfServingEndpoint, model: string): Promise<StatusVerdict>;
  /** The version a label resolves to, or undefined when it does not resolve. */
  labelVersion(endpoint: TfServingEndpoint, model: string, label: string): Promise<string | undefined>;
}

/** A log that takes warnings (the domain reports what it skipped, never how it is shipped). */
export interface WarnLog {
  warn(message: string, attributes: Record<string, unknown>): void;
}
