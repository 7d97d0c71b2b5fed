import type { Lifecycle } from './lifecycle.ts';
import type { ShardRef } from './shards.ts';
import type { EndpointRegistration } from './task-endpoints.ts';

/** What the registry keeps: the domain's records, whatever store holds them. */

/** One ECS task as the registry last applied it. */
export interface TaskRecord {
  readonly taskArn: string;
  readonly clusterArn: string;
  readonly taskVersion: number;
  readonly lifecycle: Lifecycle;
  readonly availabilityZone: string | undefined;
  readonly endpoints: readonly EndpointRegistration[];
  /** Epoch seconds; set on stopping/stopped tombstones only. */
  readonly expiresAt?: number;
  /** Every (endpoint id, model) any applied event of the task registered; read back only. */
  readonly registeredModels?: readonly (readonly [endpointId: string, model: string])[];
}

/** An endpoint registered for one model (`REG#` item). */
export interface ModelRegistration {
  readonly endpointId: string;
  readonly model: string;
  readonly taskArn: string;
  readonly clusterArn: string;
  readonly availabilityZone: string | undefined;
  readonly host: string | undefined;
  readonly restPort: number | undefined;
  readonly grpcPort: number | null;
  readonly taskVersion: number;
  readonly lifecycle: Lifecycle;
}

/** The latest probe results of one endpoint for one model (`EP#` item). */
export interface ProbeRecord {
  readonly endpointId: string;
  readonly model: string;
  /** AVAILABLE versions seen by the last successful probe, newest first. */
  readonly versions: readonly string[];
  /** Declared labels resolved by the last successful probe: label → version. */
  readonly labels: Readonly<Record<string, string>>;
  /** Epoch milliseconds of the last successful probe. */
  readonly lastSuccessAt: number | undefined;
  /** Epoch milliseconds of the latest probe (success or failure): orders concurrent probe writes. */
  readonly probedAt: number;
  readonly consecutiveFailures: number;
  readonly lastError: string | undefined;
  /** Epoch seconds; renewed by each successful probe. */
  readonly expiresAt: number | undefined;
}

/**
 * What the probe rounds saw of a model (`ROUND` item): when each endpoint was last seen serving
 * exactly what its row already says. It stands in for one write per unchanged endpoint, and its
 * `recordedAt` is the prober's heartbeat for the model.
 */
export interface RoundMarker {
  /** Epoch milliseconds at which the writing round started: orders markers between rounds. */
  readonly startedAt: number;
  /** Epoch milliseconds of this write: the prober's last record for the model. */
  readonly recordedAt: number;
  /** Endpoint id → epoch milliseconds of the probe that last saw it unchanged. */
  readonly seen: ReadonlyMap<string, number>;
  /**
   * The probe shard that wrote it: each shard keeps a marker of its own per model, and only the
   * shard owning an endpoint speaks for it (`markerFor` in `health.ts`).
   * @default WHOLE_FLEET (one invocation probes every endpoint)
   */
  readonly shard?: ShardRef;
}

export interface ModelPartition {
  readonly registrations: ModelRegistration[];
  readonly probes: ProbeRecord[];
  /** Every probe shard's marker of the model (one when a single invocation probes the fleet). */
  readonly rounds: readonly RoundMarker[];
}

/**
 * A model's partition as one read saw it, reduced to what discovery judges (`SNAPSHOT` item):
 * running registrations, their probe rows with the round marker's vouching folded into
 * `lastSuccessAt`, and the marker's times. Every write that can change routing rebuilds it, so
 * discovery reads one small item instead of the partition, and still applies the time rules
 * itself at read time.
 */
export interface ModelSnapshot {
  /** Claimed before the read the snapshot was built from: a higher one saw every write this one saw. */
  readonly sequence: number;
  /** Epoch milliseconds at which that read began. */
  readonly builtAt: number;
  /**
   * Epoch milliseconds of the last read of the whole partition this snapshot derives from: a
   * snapshot is rebuilt from the one before it and the rows its writer changed (`snapshots.ts`),
   * and the prober reads the whole partition again when this grows old. Equal to `builtAt` for a
   * snapshot built from a whole read.
   */
  readonly partitionReadAt: number;
  /** Undefined when the model has too many endpoints for a snapshot: discovery reads the partition. */
  readonly partition: ModelPartition | undefined;
}
