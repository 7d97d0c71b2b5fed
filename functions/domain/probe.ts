import pMap from 'p-map';
import { addToGroup } from './groups.ts';
import { lastSuccessAt, markerFor } from './health.ts';
import type { RegistryStore, StoreOperation, TfServingProber } from './ports.ts';
import type { ModelPartition, ProbeRecord, RoundMarker, TaskRecord } from './records.ts';
import { ownsEndpoint, type ShardRef, shardCount, shardOf, shardsOf, WHOLE_FLEET } from './shards.ts';
import { type RebuildTurns, refreshSnapshot, SNAPSHOT_REFRESH_STORE_OPERATIONS } from './snapshots.ts';
import { type EndpointRegistration, isAddressable } from './task-endpoints.ts';
import { type ProbeFailureKind, probeFailureKind } from './tfserving-status.ts';
import { runPooled } from './work-pool.ts';

/**
 * Probing: one endpoint × model (used by the probe round and by registration, which probes a new
 * endpoint at once), a round over every running task, and the loop a scheduled invocation runs.
 */

/** What probing one endpoint asks of the store (a round's probes, and an event's probe of a new endpoint). */
export const ENDPOINT_PROBE_STORE_OPERATIONS = [
  'recordProbeSuccess',
  'recordProbeFailure',
] as const satisfies readonly StoreOperation[];

/** What a probe round asks of the store. */
export const PROBE_ROUND_STORE_OPERATIONS = [
  ...ENDPOINT_PROBE_STORE_OPERATIONS,
  'listRunningTasks',
  'readProbeState',
  'recordRound',
  'deleteRound',
  ...SNAPSHOT_REFRESH_STORE_OPERATIONS,
] as const satisfies readonly StoreOperation[];

/** Probing one endpoint: the TF Serving client, the clock and where outcomes are written. */
export interface EndpointProbeDeps {
  readonly store: Pick<RegistryStore, (typeof ENDPOINT_PROBE_STORE_OPERATIONS)[number]>;
  readonly tfserving: TfServingProber;
  readonly now: () => number;
  readonly removeAfterSeconds: number;
}

export interface ProbeDeps extends EndpointProbeDeps {
  readonly store: Pick<RegistryStore, (typeof PROBE_ROUND_STORE_OPERATIONS)[number]>;
  /** Probes doing work at once in a round (a probe waiting on a hung server stops counting after `slowAfterMs`). */
  readonly concurrency: number;
  readonly slowAfterMs: number;
  /** Probes waiting on slow servers at once, at most (bounds open sockets). */
  readonly maxWaiting: number;
  /**
   * Probe targets one round marker speaks for at most when one invocation probes the whole fleet
   * (local mode, or a coordinator without a shard function): past it, the round writes one marker
   * per shard of the probe-shard layout of that share (`EP!ROUND#<count>#<index>`, the markers
   * shard invocations write on AWS, which `markerFor` already judges), so none outgrows its item.
   * @default one marker per model, whatever the fleet's size
   */
  readonly markerShare?: number;
  /** Shared with the process's other writers, so its snapshot rebuilds move each other's forward. */
  readonly rebuildTurns?: RebuildTurns;
  /**
   * How often a long round rebuilds a snapshot its markers only vouched for ({@link vouchedRebuildMs}).
   * @default MARKER_FLUSH_MS, as for failures and changed rows
   */
  readonly vouchedRebuildMs?: number;
}

export interface ProbeTarget {
  readonly endpoint: EndpointRegistration & { host: string; restPort: number };
  readonly model: string;
}

/** What the registry holds for a target, read at the start of a round. */
export interface KnownState {
  readonly probe: ProbeRecord | undefined;
  /** The marker that speaks for the target's endpoint (`markerFor`). */
  readonly round: RoundMarker | undefined;
}

export type ProbeResult =
  | {
      readonly ok: true;
      readonly versions: string[];
      /** The declared labels that resolved: label → version. */
      readonly labels: Readonly<Record<string, string>>;
      readonly written: boolean;
      /** Nothing changed: left to the round's marker instead of a write. */
      readonly unchanged: boolean;
    }
  | { readonly ok: false; readonly reason: string; readonly written: boolean };

const sameList = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((v, i) => v === b[i]);

function sameLabels(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
}

/**
 * The stored `expiresAt` is a lease for TTL's clean-up, an hour past REMOVE_AFTER_SECONDS, renewed
 * once less than ten minutes of that hour is left: about one write an hour per unchanged row.
 * Serving does not wait for it: a row counts as expired REMOVE_AFTER_SECONDS after its last
 * success (`health.ts`), whatever the lease says.
 */
const LEASE_SECONDS = 3600;
const LEASE_RENEW_SECONDS = 600;

/** The `expiresAt` a success writes. */
export function leaseExpiresAt(nowSeconds: number, removeAfterSeconds: number): number {
  return nowSeconds + removeAfterSeconds + LEASE_SECONDS;
}

/** Whether a success needs no write: the row already says exactly this, shows no failure, and its lease holds. */
function isUnchanged(
  probe: ProbeRecord | undefined,
  versions: readonly string[],
  labels: Readonly<Record<string, string>>,
  nowSeconds: number,
  removeAfterSeconds: number,
): boolean {
  return (
    probe !== undefined &&
    probe.lastSuccessAt !== undefined &&
    probe.consecutiveFailures === 0 &&
    probe.expiresAt !== undefined &&
    probe.expiresAt - nowSeconds >= removeAfterSeconds + LEASE_RENEW_SECONDS &&
    sameList(probe.versions, versions) &&
    sameLabels(probe.labels, labels)
  );
}

/**
 * Probes one endpoint for one model, resolves its declared labels, and records the outcome.
 * With `known` (a round), an unchanged success writes nothing: the round's marker vouches for it.
 * Without it (a newly registered endpoint), a success is always written.
 */
export async function probeEndpointModel(
  deps: EndpointProbeDeps,
  target: ProbeTarget,
  known?: KnownState,
): Promise<ProbeResult> {
  const { endpoint, model } = target;
  const probedAt = deps.now();
  const status = await deps.tfserving.modelStatus(endpoint, model);
  if (!status.ok) {
    const lastSuccess = known?.probe === undefined ? undefined : lastSuccessAt(known.probe, known.round);
    const written = await deps.store.recordProbeFailure({
      endpointId: endpoint.id,
      model,
      probedAt,
      error: status.reason,
      ...(lastSuccess === undefined ? {} : { lastSuccessAt: lastSuccess }),
    });
    return { ok: false, reason: status.reason, written };
  }
  // TF Serving's status API ignores labels, so each declared label is resolved through metadata.
  // A label that does not resolve is left out; it is not a health failure of the model.
  const resolved = await Promise.all(
    endpoint.labels.map(
      async (label) => [label, await deps.tfserving.labelVersion(endpoint, model, label)] as const,
    ),
  );
  const labels = Object.fromEntries(
    resolved.filter((entry): entry is readonly [string, string] => entry[1] !== undefined),
  );
  const nowSeconds = Math.ceil(deps.now() / 1000);
  if (
    known !== undefined &&
    isUnchanged(known.probe, status.versions, labels, nowSeconds, deps.removeAfterSeconds)
  ) {
    return { ok: true, versions: status.versions, labels, written: false, unchanged: true };
  }
  const written = await deps.store.recordProbeSuccess({
    endpointId: endpoint.id,
    model,
    versions: status.versions,
    labels,
    probedAt,
    expiresAt: leaseExpiresAt(nowSeconds, deps.removeAfterSeconds),
  });
  return { ok: true, versions: status.versions, labels, written, unchanged: false };
}

/** Every (endpoint, model) pair of the given tasks that has an address. */
export function probeTargets(tasks: readonly TaskRecord[]): ProbeTarget[] {
  return tasks.flatMap((task) =>
    task.endpoints
      .filter(isAddressable)
      .flatMap((endpoint) => endpoint.models.map((model) => ({ endpoint, model }))),
  );
}

export interface RoundSummary {
  readonly targets: number;
  readonly healthy: number;
  readonly failed: number;
  /** Probes that waited longer than the pool's slow threshold (hung or slow servers). */
  readonly slow: number;
  /** Successful probes that found other versions or labels than the endpoint's row held (or no row). */
  readonly changed: number;
  /** Registry writes: changed rows, and markers. */
  readonly writes: number;
  /** Registry writes that failed (a target's row, a marker or a snapshot rebuild). */
  readonly errors: number;
  readonly durationMs: number;
  /** Each model of the round's targets → how many of its endpoints this round's probe found serving. */
  readonly healthyByModel: ReadonlyMap<string, number>;
  /** The round's failed probes by kind (they add up to `failed`). */
  readonly failuresByKind: Readonly<Partial<Record<ProbeFailureKind, number>>>;
}

/** How many of each model's targets succeeded, and the failures by kind; `outcomes` align with `targets`. */
function tally(
  targets: readonly ProbeTarget[],
  outcomes: readonly (ProbeResult | undefined)[],
): Pick<RoundSummary, 'healthyByModel' | 'failuresByKind'> {
  const healthyByModel = new Map<string, number>();
  const failuresByKind: Partial<Record<ProbeFailureKind, number>> = {};
  targets.forEach(({ model }, index) => {
    const outcome = outcomes[index];
    healthyByModel.set(model, (healthyByModel.get(model) ?? 0) + (outcome?.ok ? 1 : 0));
    if (outcome?.ok) return;
    // No outcome: the probe's result could not be written.
    const kind = outcome === undefined ? 'store-error' : probeFailureKind(outcome.reason);
    failuresByKind[kind] = (failuresByKind[kind] ?? 0) + 1;
  });
  return { healthyByModel, failuresByKind };
}

// Model partitions read at once at the start of a round.
const READ_CONCURRENCY = 8;
/**
 * A marker names the endpoints it vouches for: each costs its id's UTF-8 bytes plus
 * {@link VOUCHED_ENTRY_OVERHEAD_BYTES} of the item (a 13-digit number, 8 B, and 1 B for the map
 * entry). Past this many bytes, unchanged rows are written instead, keeping the marker below
 * DynamoDB's 400 KB item limit with room for its other attributes (about 6,000 endpoints with ids
 * like `cluster/<32 hex>/tfserving`; it was a count of 4,000 before).
 */
const MAX_VOUCHED_BYTES = 340_000;
const VOUCHED_ENTRY_OVERHEAD_BYTES = 9;

// UTF-8 length, counted without encoding.
const vouchedEntryBytes = (id: string) => Buffer.byteLength(id, 'utf8') + VOUCHED_ENTRY_OVERHEAD_BYTES;
/** A model with observations to vouch for gets a marker at least this often during a long round. */
const MARKER_FLUSH_MS = 1000;

/** The longest a long round leaves its snapshot behind markers that only vouched (see {@link vouchedRebuildMs}). */
const MAX_VOUCHED_REBUILD_MS = 2000;

/**
 * How often a long round rebuilds a model's snapshot when its markers only vouched since the last
 * rebuild (no row written, nothing failed): a fifth of UNHEALTHY_AFTER_SECONDS, from
 * {@link MARKER_FLUSH_MS} to {@link MAX_VOUCHED_REBUILD_MS}. A served endpoint's freshness in the
 * snapshot then lags its marker by at most that, far inside the rule, while a rebuild of a large
 * model (its snapshot read, moved forward, encoded and written) runs half as often; failures and
 * changed rows are still rebuilt at most {@link MARKER_FLUSH_MS} after their marker.
 */
export function vouchedRebuildMs(unhealthyAfterSeconds: number): number {
  return Math.min(MAX_VOUCHED_REBUILD_MS, Math.max(MARKER_FLUSH_MS, (unhealthyAfterSeconds * 1000) / 5));
}

/** One model's part of a round: when each endpoint was seen unchanged, and when to write that down. */
class ModelRound {
  /** Endpoint → when it was last seen serving exactly what its row says. */
  readonly seen: Map<string, number>;
  /** Endpoints not in `seen` whose probe may still be vouched for: their room is kept for them. */
  private readonly claimed = new Set<string>();
  /** Marker bytes taken by `seen` and `claimed`. */
  private vouchedBytes = 0;
  private unsettled: number;
  private dirty = false;
  private wrote = false;
  private lastWriteAt: number;
  private writing: Promise<void> = Promise.resolve();
  private queued = false;
  markers = 0;
  markerErrors = 0;

  constructor(
    readonly model: string,
    private readonly deps: ProbeDeps,
    private readonly startedAt: number,
    targetIds: ReadonlySet<string>,
    previous: readonly RoundMarker[],
    private readonly shard: ShardRef,
    /** Told after each marker write, whether it landed or not: the model's snapshot is then due. */
    private readonly onWritten: () => void,
  ) {
    // Endpoints not yet probed this round keep the time they were last seen (by whichever marker
    // spoke for them: another layout's, when the shard count changed); endpoints no longer
    // registered, or no longer in this shard, drop out.
    this.seen = new Map();
    for (const id of targetIds) {
      const seenAt = markerFor(previous, id)?.seen.get(id);
      if (seenAt !== undefined) this.seen.set(id, seenAt);
    }
    for (const id of this.seen.keys()) this.vouchedBytes += vouchedEntryBytes(id);
    this.unsettled = targetIds.size;
    this.lastWriteAt = startedAt;
  }

  /**
   * Whether the marker can vouch for this endpoint's probe, asked before the probe: when it can, its
   * room in the marker is kept for it until its outcome (so probes running at once cannot overfill
   * the marker and leave an unchanged success neither vouched for nor written).
   */
  claim(id: string): boolean {
    if (this.seen.has(id) || this.claimed.has(id)) return true;
    const bytes = vouchedEntryBytes(id);
    if (this.vouchedBytes + bytes > MAX_VOUCHED_BYTES) return false;
    this.vouchedBytes += bytes;
    this.claimed.add(id);
    return true;
  }

  /** An outcome: seen unchanged at `seenAt`, or anything else (a failure, a changed row, a failed write). */
  observed(id: string, seenAt: number | undefined): void {
    const wasClaimed = this.claimed.delete(id);
    if (seenAt === undefined) {
      // Its row says something else now, or its write failed: the marker must not vouch for it,
      // and the model's snapshot must be rebuilt with the row as it now is.
      const wasSeen = this.seen.delete(id);
      this.dirty = true;
      if (wasSeen || wasClaimed) this.vouchedBytes -= vouchedEntryBytes(id);
    } else if (wasClaimed || this.seen.has(id)) {
      this.seen.set(id, seenAt);
      this.dirty = true;
    }
    this.writeIfDue();
  }

  /** One of the model's targets no longer holds its marker back: it settled, or is waiting on a hang. */
  release(): void {
    this.unsettled -= 1;
    this.writeIfDue();
  }

  /** The round is over: the last marker, also the prober's heartbeat for the model. */
  finish(): Promise<void> {
    return this.dirty || !this.wrote ? this.write() : this.writing;
  }

  private writeIfDue(): void {
    // A healthy endpoint's freshness must not wait for its neighbours' timeouts: once every target
    // of the model has answered or is waiting on a hang, what was seen is written (in a long round,
    // at least every MARKER_FLUSH_MS).
    if (this.dirty && (this.unsettled <= 0 || this.deps.now() - this.lastWriteAt >= MARKER_FLUSH_MS)) {
      void this.write();
    }
  }

  /** Writes the marker: one write at a time per marker, and a request made meanwhile is coalesced. */
  private write(): Promise<void> {
    if (this.queued) return this.writing;
    this.queued = true;
    this.writing = this.writing.then(async () => {
      this.queued = false;
      this.dirty = false;
      this.wrote = true;
      const recordedAt = this.deps.now();
      this.lastWriteAt = recordedAt;
      try {
        const marker: RoundMarker = {
          startedAt: this.startedAt,
          recordedAt,
          seen: new Map(this.seen),
          // The whole fleet's marker carries no shard (as before shards existed).
          ...(this.shard.count === 1 ? {} : { shard: this.shard }),
        };
        if (await this.deps.store.recordRound(this.model, marker)) this.markers += 1;
      } catch {
        // Its endpoints age until a later marker lands; a stalled prober is not evidence against
        // them (discovery's stall rule).
        this.markerErrors += 1;
      }
      this.onWritten();
    });
    return this.writing;
  }
}

/**
 * A snapshot moved forward from the one before it (the rows a round changed and the markers) is
 * rebuilt from a whole read of the partition at least this often, so rows written by a writer
 * that failed before its own rebuild cannot stay out of it for long.
 */
const REREAD_PARTITION_AFTER_MS = 60_000;

/**
 * A model's snapshot over a round: rebuilt after its markers are written (they carry the round's
 * failures and changes), at most once every {@link MARKER_FLUSH_MS} while the round runs however
 * many markers the model has (one per shard of the layout; every {@link vouchedRebuildMs} when
 * they only vouched), and once more when the round ends.
 * Each rebuild starts (claims its sequence) after the marker writes it answers for, and names the
 * endpoints whose rows the round wrote (or failed to write) since the rebuild before it.
 */
class RoundSnapshot {
  private running: Promise<void> | undefined;
  private dirty = false;
  private ending = false;
  private lastStartAt = Number.NEGATIVE_INFINITY;
  private changed = new Set<string>();
  errors = 0;

  constructor(
    private readonly model: string,
    private readonly deps: ProbeDeps,
    /** The model's running endpoints in every shard, as the round listed them (past a snapshot's limit its partition is not read). */
    private readonly listed: ReadonlySet<string>,
  ) {}

  /** An endpoint's row was written, or its write was tried: the next rebuild reads it again. */
  rowWritten(id: string): void {
    this.changed.add(id);
  }

  /** One of the model's markers was written (or failed to be). */
  markerWritten(): void {
    this.dirty = true;
    this.rebuildIfDue();
  }

  /** Every marker of the model has been written for the last time this round: one rebuild after them all. */
  async finish(): Promise<void> {
    this.ending = true;
    while (this.running !== undefined) await this.running;
    if (this.dirty) await this.rebuild();
  }

  private rebuildIfDue(): void {
    if (this.ending || this.running !== undefined || !this.dirty) return;
    // Only vouching to carry (no row named): the snapshot may wait a little longer.
    const every = this.changed.size > 0 ? MARKER_FLUSH_MS : (this.deps.vouchedRebuildMs ?? MARKER_FLUSH_MS);
    if (this.deps.now() - this.lastStartAt < every) return;
    this.running = this.rebuild().finally(() => {
      this.running = undefined;
      this.rebuildIfDue();
    });
  }

  private async rebuild(): Promise<void> {
    this.dirty = false;
    this.lastStartAt = this.deps.now();
    const changed = this.changed;
    this.changed = new Set();
    try {
      // What discovery reads: the rows (failures included) and the markers as they now are.
      await refreshSnapshot(this.deps, this.model, {
        listed: this.listed,
        changed,
        rereadAfterMs: REREAD_PARTITION_AFTER_MS,
      });
    } catch {
      // Discovery stops using a snapshot that is not rebuilt in time and reads the partition. The
      // rows stay named: a later rebuild moving forward from an older snapshot must read them.
      for (const id of changed) this.changed.add(id);
      this.errors += 1;
    }
  }
}

/**
 * One probe round: every registered endpoint × model of `shard` (the whole fleet by default),
 * through a pool in which a hung target gives
 * its slot up. Each model's probe rows are read first (one Query), so a success that changes
 * nothing is not written: the model's marker records when each such endpoint was seen instead.
 * A model's marker is written as soon as all its targets have answered or are waiting on a hang
 * (and at least every second in a long round), and once more when the round ends, which is also
 * the prober's heartbeat for the model. Failures are written as they are observed.
 */
export async function runProbeRound(deps: ProbeDeps, shard: ShardRef = WHOLE_FLEET): Promise<RoundSummary> {
  const startedAt = deps.now();
  const fleet = probeTargets(await deps.store.listRunningTasks());
  const fleetByModel = new Map<string, Set<string>>();
  for (const { model, endpoint } of fleet) addToGroup(fleetByModel, model, endpoint.id);
  const targets = fleet.filter((target) => shard.count === 1 || ownsEndpoint(shard, target.endpoint.id));
  // One marker per model for a shard invocation (its own) or a fleet within one share; past it,
  // one per (model, shard) of the layout a sharded deployment would use for this fleet.
  const layout = shardsOf(
    shard.count > 1 || deps.markerShare === undefined ? 1 : shardCount(fleet.length, deps.markerShare),
  );
  const markerShardOf = (id: string): ShardRef =>
    shard.count > 1
      ? shard
      : layout.length === 1
        ? WHOLE_FLEET
        : (layout[shardOf(id, layout.length)] as ShardRef);
  const groups = new Map<string, { model: string; shard: ShardRef; ids: Set<string> }>();
  const groupOf = new Map<ProbeTarget, string>();
  const modelsOfRound = new Set<string>();
  for (const target of targets) {
    const { model, endpoint } = target;
    const markerShard = markerShardOf(endpoint.id);
    const key = `${markerShard.index}\u0000${model}`;
    let group = groups.get(key);
    if (group === undefined) {
      group = { model, shard: markerShard, ids: new Set() };
      groups.set(key, group);
    }
    group.ids.add(endpoint.id);
    groupOf.set(target, key);
    modelsOfRound.add(model);
  }
  const partitions = new Map(
    await pMap(
      [...modelsOfRound],
      async (model) => [model, await deps.store.readProbeState(model)] as const,
      { concurrency: READ_CONCURRENCY },
    ),
  );
  const rows = new Map<string, Map<string, ProbeRecord>>();
  const snapshots = new Map<string, RoundSnapshot>();
  for (const model of modelsOfRound) {
    rows.set(model, new Map(partitions.get(model)?.probes.map((p) => [p.endpointId, p])));
    snapshots.set(model, new RoundSnapshot(model, deps, fleetByModel.get(model) ?? new Set()));
  }
  const models = new Map<string, ModelRound>();
  for (const [key, { model, shard: markerShard, ids }] of groups) {
    const snapshot = snapshots.get(model) as RoundSnapshot;
    models.set(
      key,
      new ModelRound(model, deps, startedAt, ids, partitions.get(model)?.rounds ?? [], markerShard, () =>
        snapshot.markerWritten(),
      ),
    );
  }

  const released = new Set<number>();
  const release = (index: number) => {
    if (released.has(index)) return;
    released.add(index);
    models.get(groupOf.get(targets[index] as ProbeTarget) as string)?.release();
  };
  let slow = 0;
  let changed = 0;
  const outcomes = await runPooled(
    targets,
    async (target, index): Promise<ProbeResult | undefined> => {
      const round = models.get(groupOf.get(target) as string) as ModelRound;
      const probe = rows.get(target.model)?.get(target.endpoint.id);
      // Past the marker's cap, an unchanged success is written to its row instead.
      const vouchable = round.claim(target.endpoint.id);
      const probedAt = deps.now();
      let result: ProbeResult | undefined;
      try {
        result = await probeEndpointModel(
          deps,
          target,
          vouchable
            ? { probe, round: markerFor(partitions.get(target.model)?.rounds ?? [], target.endpoint.id) }
            : undefined,
        );
      } catch {
        result = undefined;
      }
      const seenAt = result?.ok && result.unchanged ? probedAt : undefined;
      if (seenAt === undefined) snapshots.get(target.model)?.rowWritten(target.endpoint.id);
      round.observed(target.endpoint.id, seenAt);
      if (
        result?.ok &&
        (probe === undefined ||
          !sameList(probe.versions, result.versions) ||
          !sameLabels(probe.labels, result.labels))
      ) {
        changed += 1;
      }
      release(index);
      return result;
    },
    {
      concurrency: deps.concurrency,
      slowAfterMs: deps.slowAfterMs,
      maxWaiting: deps.maxWaiting,
      onSlow: (index) => {
        slow += 1;
        release(index);
      },
    },
  );
  await Promise.all([...models.values()].map((round) => round.finish()));
  const retired =
    shard.count === 1 ? await retireOtherLayouts(deps, startedAt, layout.length, partitions, models) : 0;
  // After every marker's last write: each model's snapshot once more, covering them all.
  await Promise.all([...snapshots.values()].map((snapshot) => snapshot.finish()));

  const results = outcomes.filter((r): r is ProbeResult => r !== undefined);
  const healthy = results.filter((r) => r.ok).length;
  const rounds = [...models.values()];
  return {
    targets: targets.length,
    healthy,
    failed: targets.length - healthy,
    slow,
    changed,
    writes: results.filter((r) => r.written).length + rounds.reduce((n, r) => n + r.markers, 0) + retired,
    errors:
      targets.length -
      results.length +
      rounds.reduce((n, r) => n + r.markerErrors, 0) +
      [...snapshots.values()].reduce((n, r) => n + r.errors, 0),
    durationMs: deps.now() - startedAt,
    ...tally(targets, outcomes),
  };
}

/**
 * Deletes the markers of other layouts once a round over the whole fleet has written every marker
 * of its own for a model: each endpoint's owner under the round's layout then holds what the old
 * markers vouched for (a round starts from them) and was recorded later, so they speak for nobody
 * (`markerFor`) and are only read units. Left alone when any of the model's markers failed, and
 * kept by the store when recorded since the round started (a shard of that layout still running).
 * Returns how many were deleted; a failed delete is tried again next round.
 */
async function retireOtherLayouts(
  deps: ProbeDeps,
  startedAt: number,
  count: number,
  partitions: ReadonlyMap<string, Pick<ModelPartition, 'rounds'>>,
  rounds: ReadonlyMap<string, ModelRound>,
): Promise<number> {
  const failedModels = new Set([...rounds.values()].filter((r) => r.markerErrors > 0).map((r) => r.model));
  const stale = [...partitions].flatMap(([model, partition]) =>
    failedModels.has(model)
      ? []
      : partition.rounds
          .map((marker) => marker.shard ?? WHOLE_FLEET)
          .filter((markerShard) => markerShard.count !== count)
          .map((markerShard) => ({ model, shard: markerShard })),
  );
  const deleted = await pMap(
    stale,
    ({ model, shard }) => deps.store.deleteRound(model, shard, startedAt).catch(() => false),
    { concurrency: READ_CONCURRENCY },
  );
  return deleted.filter(Boolean).length;
}

export interface LoopOptions {
  readonly intervalMs: number;
  /** Epoch ms by which the last round must have finished (the next scheduled trigger, less a margin). */
  readonly deadlineMs: number;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly signal?: AbortSignal;
}

/**
 * Runs rounds every `intervalMs` until the deadline. A round starts only if a round as long as the
 * longest one so far still finishes before the deadline, so an invocation never overlaps the next
 * scheduled one; a doubled or late trigger only adds rounds, whose writes are ordered by `probedAt`.
 */
export async function runProbeLoop<T extends { durationMs: number }>(
  round: () => Promise<T>,
  options: LoopOptions,
): Promise<T[]> {
  const summaries: T[] = [];
  let longestRoundMs = 0;
  let nextStart = options.now();
  while (!options.signal?.aborted) {
    const start = options.now();
    if (start + longestRoundMs > options.deadlineMs) break;
    const summary = await round();
    summaries.push(summary);
    longestRoundMs = Math.max(longestRoundMs, summary.durationMs);
    nextStart += options.intervalMs;
    // A round longer than the interval delays the next one rather than stacking rounds.
    if (nextStart < options.now()) nextStart = options.now();
    if (nextStart + longestRoundMs > options.deadlineMs) break;
    await options.sleep(nextStart - options.now());
  }
  return summaries;
}
