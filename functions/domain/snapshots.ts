import { lastSuccessAt, markerFor } from './health.ts';
import type { RegistryStore, StoreOperation } from './ports.ts';
import type { ModelPartition, ModelSnapshot, ProbeRecord, RoundMarker } from './records.ts';

/**
 * Model snapshots: what discovery reads instead of a model's whole partition (one small item, one
 * read unit at 100 endpoints, instead of a Query whose cost grows with the rows).
 *
 * A snapshot is a pure function of the partition (`compactPartition`), rebuilt after every write
 * that can change routing: an event's registrations, drains and stops (before the event is
 * acknowledged), a probe of a new endpoint, and each probe round's marker writes (which carry its
 * failures and changes, at least once a second in a long round). Rebuilds from concurrent writers
 * are ordered without locks or transactions: each claims a sequence number *before* reading the
 * partition, and a snapshot is written only over a lower sequence. A writer's own writes precede
 * its claim, so the read of any higher claim sees them: whichever snapshot is stored last-by-sequence
 * reflects every write whose rebuild has claimed. Time rules (stale, row-expired, stalled prober)
 * are not baked in: discovery judges the snapshot's rows at read time, as it would the partition.
 */

/** What rebuilding a snapshot asks of the store. */
export const SNAPSHOT_REFRESH_STORE_OPERATIONS = [
  'claimSnapshot',
  'countRunningRegistrations',
  'readModel',
  'putSnapshot',
] as const satisfies readonly StoreOperation[];

export interface SnapshotRefreshDeps {
  readonly store: Pick<RegistryStore, (typeof SNAPSHOT_REFRESH_STORE_OPERATIONS)[number]>;
  readonly now: () => number;
}

/**
 * The partition reduced to what judging its running endpoints needs: running registrations (a
 * stopped or draining one is never served, and a model with none is unknown), their probe rows
 * with the marker's vouching folded into `lastSuccessAt` and without `lastError`, and the marker's
 * times without its per-endpoint map. Judging a running endpoint on it gives the same verdict, at
 * any time, as judging it on the partition (`test/unit/functions/snapshots.test.ts`).
 */
export function compactPartition(partition: ModelPartition): ModelPartition {
  const registrations = partition.registrations.filter((r) => r.lifecycle === 'RUNNING');
  const running = new Set(registrations.map((r) => r.endpointId));
  const probes = partition.probes
    .filter((probe) => running.has(probe.endpointId))
    .map(
      (probe): ProbeRecord => ({
        ...probe,
        // Folded with the marker that speaks for the endpoint (its probe shard's).
        lastSuccessAt: lastSuccessAt(probe, markerFor(partition.rounds, probe.endpointId)),
        lastError: undefined,
      }),
    );
  // Each shard's marker keeps its shard and times (markerFor chooses by them, not by `seen`).
  const rounds = partition.rounds.map(
    (round): RoundMarker => ({
      startedAt: round.startedAt,
      recordedAt: round.recordedAt,
      seen: new Map(),
      ...(round.shard === undefined ? {} : { shard: round.shard }),
    }),
  );
  return { registrations, probes, rounds };
}

/**
 * Past this many running endpoints a model gets no snapshot (one item would hold ~145 KB, ~36 read
 * units, and each rebuild reads the whole partition) and discovery reads its partition, as it
 * always did. Tried at 12,000 (a body fits one item at ~29 B an endpoint): the rebuilds of event
 * batches then read partitions of 5,000–10,000 endpoints past the events' 1.5 s store deadline,
 * so registration failed with 503s; a larger limit needs rebuilds that do not read the partition.
 */
export const MAX_SNAPSHOT_ENDPOINTS = 5_000;

/**
 * What a rebuild's caller knows of a model's size: how many endpoints it has (a probe round,
 * from its listing), or that its last rebuild found it past the limit (then its running
 * registrations are counted first, and its partition is read only if they fit after all).
 */
export type SnapshotSize = number | 'was-overflowed' | undefined;

/**
 * Rebuilds a model's snapshot from its partition; `false` when a later rebuild was already stored.
 * `size` (see {@link SnapshotSize}) spares the read of a partition too large for a snapshot.
 */
export async function refreshSnapshot(
  deps: SnapshotRefreshDeps,
  model: string,
  size?: SnapshotSize,
): Promise<boolean> {
  return (await rebuildSnapshot(deps, model, size)).written;
}

async function rebuildSnapshot(
  deps: SnapshotRefreshDeps,
  model: string,
  size: SnapshotSize,
): Promise<{ written: boolean; overflowed: boolean }> {
  const sequence = await deps.store.claimSnapshot(model);
  const builtAt = deps.now();
  const overflowed = async () => ({
    written: await deps.store.putSnapshot(model, { sequence, builtAt, partition: undefined }),
    overflowed: true,
  });
  if (typeof size === 'number' && size > MAX_SNAPSHOT_ENDPOINTS) return overflowed();
  if (
    size === 'was-overflowed' &&
    (await deps.store.countRunningRegistrations(model, MAX_SNAPSHOT_ENDPOINTS)) > MAX_SNAPSHOT_ENDPOINTS
  ) {
    return overflowed();
  }
  const partition = compactPartition(await deps.store.readModel(model));
  const fits = partition.registrations.length <= MAX_SNAPSHOT_ENDPOINTS;
  const snapshot: ModelSnapshot = { sequence, builtAt, partition: fits ? partition : undefined };
  return { written: await deps.store.putSnapshot(model, snapshot), overflowed: !fits };
}

/** Rebuilds a model's snapshot after the caller's writes; settles once a rebuild that started after the call has. */
export type SnapshotRebuild = (model: string) => Promise<void>;

/**
 * Rebuilds shared by the writers of one process: a call made while a rebuild of the model runs is
 * answered by the next one, which starts (claims its sequence) once that one has settled, and
 * every call made before it starts shares it. A call is never answered by a rebuild that had
 * started before it (its claim may precede the caller's writes). A failed rebuild rejects every
 * call it answers. A model the last rebuild found past the limit has its running registrations
 * counted before its partition is read (registering a large fleet reads no whole partition).
 */
export function coalescedRebuilds(deps: SnapshotRefreshDeps): SnapshotRebuild {
  const queued = new Map<string, Promise<void>>();
  const running = new Map<string, Promise<void>>();
  const overflowed = new Set<string>();
  return (model) => {
    const waiting = queued.get(model);
    if (waiting !== undefined) return waiting;
    const before = running.get(model);
    const start = async () => {
      queued.delete(model);
      running.set(model, rebuild);
      try {
        const built = await rebuildSnapshot(
          deps,
          model,
          overflowed.has(model) ? 'was-overflowed' : undefined,
        );
        if (built.overflowed) overflowed.add(model);
        else overflowed.delete(model);
      } finally {
        if (running.get(model) === rebuild) running.delete(model);
      }
    };
    // Started on a later tick even when none runs, so calls made meanwhile share it.
    const rebuild: Promise<void> = (before ?? Promise.resolve()).then(start, start);
    queued.set(model, rebuild);
    return rebuild;
  };
}

/**
 * Whether a snapshot may stand in for the partition at `nowMs`: a running prober rebuilds every
 * model's snapshot at least once a round, so one older than UNHEALTHY_AFTER_SECONDS means the
 * rebuilds are failing or the prober stalled, and discovery reads the partition itself (where
 * the stall rule and any failure recorded since apply as before).
 */
export function isUsable(snapshot: ModelSnapshot, nowMs: number, unhealthyAfterSeconds: number): boolean {
  return nowMs - snapshot.builtAt <= unhealthyAfterSeconds * 1000;
}
