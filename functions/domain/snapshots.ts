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
  'readSnapshot',
  'readEndpointRows',
  'readRounds',
  'putSnapshot',
] as const satisfies readonly StoreOperation[];

export interface SnapshotRefreshDeps {
  readonly store: Pick<RegistryStore, (typeof SNAPSHOT_REFRESH_STORE_OPERATIONS)[number]>;
  readonly now: () => number;
  /** Shared by the process's writers (see {@link RebuildTurns}); none: rebuilds start at once. */
  readonly rebuildTurns?: RebuildTurns;
}

/**
 * The turns of one process's snapshot rebuilds, per model: whichever writer asks (the events, the
 * prober), a model's rebuilds run one at a time, in the order they were asked for. Each then
 * finds the snapshot of the sequence claimed just before its own stored and moves it forward
 * instead of reading the partition ({@link advancePartition}); rebuilds of other processes (other
 * Lambda functions) still interleave, and then the partition is read.
 */
export class RebuildTurns {
  private readonly last = new Map<string, Promise<void>>();

  take<T>(model: string, rebuild: () => Promise<T>): Promise<T> {
    const turn = (this.last.get(model) ?? Promise.resolve()).then(rebuild);
    const settled = turn.then(
      () => {},
      () => {},
    );
    this.last.set(model, settled);
    void settled.then(() => {
      if (this.last.get(model) === settled) this.last.delete(model);
    });
    return turn;
  }
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
 * A snapshot moved forward without reading the partition: `base` (a compacted partition) with the
 * rows of `changed` endpoints replaced by `rows` as read now (an endpoint in `changed` with no row
 * left is gone), folded again with the markers as they now are. It equals `compactPartition` of
 * the partition as long as, for every endpoint not in `changed`, its rows are unchanged since
 * `base` and the marker speaking for it vouches for it at least as late as the one `base` folded
 * (the prober's markers only move an endpoint's time forward; a failure, a changed answer or a
 * failed write is a row the prober names): folding a folded time again with a later marker is
 * the same maximum (`lastSuccessAt`).
 */
export function advancePartition(
  base: ModelPartition,
  changed: ReadonlySet<string>,
  rows: Pick<ModelPartition, 'registrations' | 'probes'>,
  rounds: readonly RoundMarker[],
): ModelPartition {
  const kept = <T extends { endpointId: string }>(list: readonly T[]) =>
    list.filter((row) => !changed.has(row.endpointId));
  return compactPartition({
    registrations: [...kept(base.registrations), ...rows.registrations],
    probes: [...kept(base.probes), ...rows.probes],
    rounds,
  });
}

/**
 * Past this many running endpoints a model gets no snapshot and discovery reads its partition, as
 * it always did. One item holds ~12,000 at ~29 B an endpoint (random 32-hex task ids, Brotli
 * quality 1); rebuilds of a large model read only the rows their writer changed (see
 * {@link advancePartition}), so the limit is the item's size, not the time of a partition read
 * (at 5,000, the limit before, event batches' rebuilds reading partitions of 5,000–10,000
 * endpoints passed the events' 1.5 s store deadline).
 */
export const MAX_SNAPSHOT_ENDPOINTS = 12_000;

/**
 * A rebuild reads the changed endpoints' rows instead of the partition only when they are at most
 * one in this many of the model's endpoints: each costs two item reads (registration and probe
 * row, 1 read unit each), a partition read ~0.17 read units an endpoint (16.7 at 100).
 */
const ROWS_PER_CHANGED_ENDPOINT = 12;

/**
 * What a rebuild's caller knows of a model's size: how many endpoints it has (a probe round,
 * from its listing), or that its last rebuild found it past the limit (then its running
 * registrations are counted first, and its partition is read only if they fit after all).
 */
export type SnapshotSize = number | 'was-overflowed' | undefined;

export interface RebuildRequest {
  /** See {@link SnapshotSize}: spares the read of a partition too large for a snapshot (default: `listed`'s size). */
  readonly size?: SnapshotSize;
  /**
   * The endpoints whose rows the caller wrote (registrations, probe rows, deletions) before the
   * rebuild: when the stored snapshot is the one claimed just before, only their rows and the
   * markers are read (see {@link advancePartition}). Undefined: the whole partition is read.
   */
  readonly changed?: ReadonlySet<string>;
  /**
   * A snapshot whose last whole read of the partition is older than this is rebuilt from a whole
   * read again (the prober asks it, so rows written by a writer that died before its rebuild are
   * caught up; an event's rebuild, which has a short deadline, does not).
   */
  readonly rereadAfterMs?: number;
  /**
   * The model's running endpoints as the caller listed them (the prober, from the task records):
   * an endpoint the stored snapshot registers and the listing does not, or the reverse, is read
   * again too, so a drain or stop whose own rebuild failed is caught up by the next round.
   */
  readonly listed?: ReadonlySet<string>;
}

/**
 * Rebuilds a model's snapshot; `false` when a later rebuild was already stored.
 */
export async function refreshSnapshot(
  deps: SnapshotRefreshDeps,
  model: string,
  request: RebuildRequest = {},
): Promise<boolean> {
  return (await rebuildInTurn(deps, model, request)).written;
}

function rebuildInTurn(
  deps: SnapshotRefreshDeps,
  model: string,
  request: RebuildRequest,
): Promise<{ written: boolean; overflowed: boolean }> {
  const rebuild = () => rebuildSnapshot(deps, model, request);
  return deps.rebuildTurns === undefined ? rebuild() : deps.rebuildTurns.take(model, rebuild);
}

async function rebuildSnapshot(
  deps: SnapshotRefreshDeps,
  model: string,
  { listed, size = listed?.size, changed, rereadAfterMs }: RebuildRequest,
): Promise<{ written: boolean; overflowed: boolean }> {
  const sequence = await deps.store.claimSnapshot(model);
  const builtAt = deps.now();
  const overflowed = async () => ({
    written: await deps.store.putSnapshot(model, {
      sequence,
      builtAt,
      partitionReadAt: builtAt,
      partition: undefined,
    }),
    overflowed: true,
  });
  if (typeof size === 'number' && size > MAX_SNAPSHOT_ENDPOINTS) return overflowed();
  if (
    size === 'was-overflowed' &&
    (await deps.store.countRunningRegistrations(model, MAX_SNAPSHOT_ENDPOINTS)) > MAX_SNAPSHOT_ENDPOINTS
  ) {
    return overflowed();
  }
  const advanced =
    changed === undefined
      ? undefined
      : await advanceStored(deps, model, sequence, { changed, rereadAfterMs, listed });
  const partition = advanced?.partition ?? compactPartition(await deps.store.readModel(model));
  const fits = partition.registrations.length <= MAX_SNAPSHOT_ENDPOINTS;
  const snapshot: ModelSnapshot = {
    sequence,
    builtAt,
    partitionReadAt: advanced?.partitionReadAt ?? builtAt,
    partition: fits ? partition : undefined,
  };
  return { written: await deps.store.putSnapshot(model, snapshot), overflowed: !fits };
}

/**
 * The stored snapshot moved forward by the changed endpoints' rows, when it is the snapshot of the
 * sequence claimed just before `sequence` (so it reflects every write whose rebuild claimed
 * before: what the partition would add is only what the claims since, this one, wrote), few
 * enough endpoints changed, and its last whole read is recent enough. Undefined otherwise.
 */
async function advanceStored(
  deps: SnapshotRefreshDeps,
  model: string,
  sequence: number,
  { changed: named, rereadAfterMs, listed }: RebuildRequest & { readonly changed: ReadonlySet<string> },
): Promise<{ partition: ModelPartition; partitionReadAt: number } | undefined> {
  const stored = await deps.store.readSnapshot(model);
  if (stored?.partition === undefined || stored.sequence !== sequence - 1) return undefined;
  const changed = listed === undefined ? named : withDisagreements(named, stored.partition, listed);
  if (changed.size * ROWS_PER_CHANGED_ENDPOINT > stored.partition.registrations.length) return undefined;
  if (rereadAfterMs !== undefined && deps.now() - stored.partitionReadAt > rereadAfterMs) return undefined;
  const [rows, rounds] = await Promise.all([
    changed.size === 0 ? { registrations: [], probes: [] } : deps.store.readEndpointRows(model, [...changed]),
    deps.store.readRounds(model),
  ]);
  return {
    partition: advancePartition(stored.partition, changed, rows, rounds),
    partitionReadAt: stored.partitionReadAt,
  };
}

/** `named` and every endpoint registered in `partition` or in `listed` but not in both. */
function withDisagreements(
  named: ReadonlySet<string>,
  partition: ModelPartition,
  listed: ReadonlySet<string>,
): Set<string> {
  const changed = new Set(named);
  const registered = new Set(partition.registrations.map((r) => r.endpointId));
  for (const id of registered) if (!listed.has(id)) changed.add(id);
  for (const id of listed) if (!registered.has(id)) changed.add(id);
  return changed;
}

/**
 * Rebuilds a model's snapshot after the caller's writes, which touched the rows of `changed`
 * endpoints (undefined: not known, the whole partition is read); settles once a rebuild that
 * started after the call has.
 */
export type SnapshotRebuild = (model: string, changed?: Iterable<string>) => Promise<void>;

/**
 * What one rebuild answering several calls names: `named` (the calls so far; updated) with the
 * endpoints of one more call, or undefined (the whole partition is read) once any call named none.
 */
export function namedTogether(
  named: Set<string> | undefined,
  changed: Iterable<string> | undefined,
): Set<string> | undefined {
  if (named === undefined || changed === undefined) return undefined;
  for (const id of changed) named.add(id);
  return named;
}

/**
 * Rebuilds shared by the writers of one process: a call made while a rebuild of the model runs is
 * answered by the next one, which starts (claims its sequence) once that one has settled, and
 * every call made before it starts shares it, with the union of their changed endpoints. A call is
 * never answered by a rebuild that had started before it (its claim may precede the caller's
 * writes). A failed rebuild rejects every call it answers. A model the last rebuild found past the
 * limit has its running registrations counted before its partition is read (registering a large
 * fleet reads no whole partition).
 */
export function coalescedRebuilds(deps: SnapshotRefreshDeps): SnapshotRebuild {
  const queued = new Map<string, { rebuild: Promise<void>; changed: Set<string> | undefined }>();
  const running = new Map<string, Promise<void>>();
  const overflowed = new Set<string>();
  return (model, changed) => {
    const waiting = queued.get(model);
    if (waiting !== undefined) {
      waiting.changed = namedTogether(waiting.changed, changed);
      return waiting.rebuild;
    }
    const before = running.get(model);
    const start = async () => {
      const request = queued.get(model);
      queued.delete(model);
      running.set(model, rebuild);
      try {
        const built = await rebuildInTurn(deps, model, {
          size: overflowed.has(model) ? 'was-overflowed' : undefined,
          ...(request?.changed === undefined ? {} : { changed: request.changed }),
        });
        if (built.overflowed) overflowed.add(model);
        else overflowed.delete(model);
      } finally {
        if (running.get(model) === rebuild) running.delete(model);
      }
    };
    // Started on a later tick even when none runs, so calls made meanwhile share it.
    const rebuild: Promise<void> = (before ?? Promise.resolve()).then(start, start);
    queued.set(model, { rebuild, changed: namedTogether(new Set(), changed) });
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
