import { LIFECYCLE_RANK } from '../../../functions/domain/lifecycle.ts';
import type { RegistryStore, StoreOperation } from '../../../functions/domain/ports.ts';
import type {
  ModelPartition,
  ModelRegistration,
  ModelSnapshot,
  ProbeRecord,
  RoundMarker,
  TaskRecord,
} from '../../../functions/domain/records.ts';
import type { ShardRef } from '../../../functions/domain/shards.ts';

/** A registration as the twin keeps it: with the expiry the port writes but never reads back. */
export interface StoredRegistration {
  readonly registration: ModelRegistration;
  readonly expiresAt: number | undefined;
}

const key = (model: string, endpointId: string) => `${model}\u0000${endpointId}`;
/** Where a marker is kept: the model itself for the whole fleet's, the model and shard otherwise. */
const roundKey = (model: string, round: RoundMarker) =>
  round.shard === undefined || round.shard.count === 1
    ? model
    : `${model}\u0000${round.shard.count}#${round.shard.index}`;
const isRoundOf = (stored: string, model: string) => stored === model || stored.startsWith(`${model}\u0000`);

function isForward(
  stored: { taskVersion: number; lifecycle: TaskRecord['lifecycle'] } | undefined,
  next: { taskVersion: number; lifecycle: TaskRecord['lifecycle'] },
): boolean {
  return (
    stored === undefined ||
    (stored.taskVersion <= next.taskVersion &&
      LIFECYCLE_RANK[stored.lifecycle] <= LIFECYCLE_RANK[next.lifecycle])
  );
}

/**
 * An in-memory twin of the DynamoDB store (`functions/adapters/dynamodb/registry-store.ts`) for
 * the unit tests, held to the same contract suite as the real store on both engines
 * (`test/support/registry-store-contract.ts`): forward-only task and registration writes,
 * `registeredModels` that only grow, probe successes that create rows and failures that never do,
 * each losing to a newer probe, round markers that lose to a round that started later.
 *
 * No I/O; values are deep-copied in and out, as a database would. Reads come back in write order,
 * not in DynamoDB's key order: the port promises no order, so either is correct, and the unit tests
 * can show the domain relies on none. It never fails: tests that need a failing store wrap it in
 * {@link failingStore}. Its maps are open for inspection and for {@link InMemoryRegistryStore.holding}.
 */
export class InMemoryRegistryStore implements RegistryStore {
  /** A store already holding these records, as if written earlier (`rounds`: model → marker). */
  static holding(contents: {
    readonly tasks?: readonly TaskRecord[];
    readonly registrations?: readonly ModelRegistration[];
    readonly probes?: readonly ProbeRecord[];
    readonly rounds?: Readonly<Record<string, RoundMarker | readonly RoundMarker[]>>;
  }): InMemoryRegistryStore {
    const store = new InMemoryRegistryStore();
    for (const task of contents.tasks ?? []) store.tasks.set(task.taskArn, structuredClone(task));
    for (const registration of contents.registrations ?? []) {
      store.registrations.set(key(registration.model, registration.endpointId), {
        registration: structuredClone(registration),
        expiresAt: undefined,
      });
    }
    for (const probe of contents.probes ?? []) {
      store.probes.set(key(probe.model, probe.endpointId), structuredClone(probe));
    }
    for (const [model, round] of Object.entries(contents.rounds ?? {})) {
      for (const marker of [round].flat()) store.rounds.set(roundKey(model, marker), structuredClone(marker));
    }
    return store;
  }

  readonly tasks = new Map<string, TaskRecord>();
  readonly registrations = new Map<string, StoredRegistration>();
  readonly probes = new Map<string, ProbeRecord>();
  /** Markers by model (the whole fleet's) or by model and shard (`model\u0000count#index`). */
  readonly rounds = new Map<string, RoundMarker>();
  readonly modelSnapshots = new Map<string, ModelSnapshot>();
  readonly snapshotSequences = new Map<string, number>();

  async getTask(taskArn: string): Promise<TaskRecord | undefined> {
    const task = this.tasks.get(taskArn);
    return task === undefined ? undefined : structuredClone(task);
  }

  async putTask(task: TaskRecord): Promise<boolean> {
    const stored = this.tasks.get(task.taskArn);
    if (!isForward(stored, task)) return false;
    const registered = new Map<string, readonly [string, string]>();
    const pairs = [
      ...(stored?.registeredModels ?? []),
      ...task.endpoints.flatMap((e) => e.models.map((m) => [e.id, m] as const)),
    ];
    for (const pair of pairs) registered.set(JSON.stringify(pair), pair);
    const registeredModels = [...registered.keys()]
      .sort()
      .map((k) => registered.get(k) as readonly [string, string]);
    this.tasks.set(task.taskArn, structuredClone({ ...task, registeredModels }));
    return true;
  }

  async putRegistration(registration: ModelRegistration, expiresAt?: number): Promise<boolean> {
    const id = key(registration.model, registration.endpointId);
    if (!isForward(this.registrations.get(id)?.registration, registration)) return false;
    this.registrations.set(id, { registration: structuredClone(registration), expiresAt });
    return true;
  }

  async deleteProbe(endpointId: string, model: string): Promise<void> {
    this.probes.delete(key(model, endpointId));
  }

  async listRunningTasks(): Promise<TaskRecord[]> {
    return [...this.tasks.values()].filter((t) => t.lifecycle === 'RUNNING').map((t) => structuredClone(t));
  }

  async recordProbeSuccess(input: Parameters<RegistryStore['recordProbeSuccess']>[0]): Promise<boolean> {
    const id = key(input.model, input.endpointId);
    const stored = this.probes.get(id);
    if (stored !== undefined && !(stored.probedAt < input.probedAt)) return false;
    this.probes.set(id, {
      endpointId: input.endpointId,
      model: input.model,
      versions: [...input.versions],
      labels: { ...input.labels },
      lastSuccessAt: input.probedAt,
      probedAt: input.probedAt,
      consecutiveFailures: 0,
      lastError: undefined,
      expiresAt: input.expiresAt,
    });
    return true;
  }

  async recordProbeFailure(input: Parameters<RegistryStore['recordProbeFailure']>[0]): Promise<boolean> {
    const id = key(input.model, input.endpointId);
    const stored = this.probes.get(id);
    if (stored === undefined || !(stored.probedAt < input.probedAt)) return false;
    this.probes.set(id, {
      ...stored,
      ...(input.lastSuccessAt === undefined ? {} : { lastSuccessAt: input.lastSuccessAt }),
      probedAt: input.probedAt,
      lastError: input.error.slice(0, 500),
      consecutiveFailures: stored.consecutiveFailures + 1,
    });
    return true;
  }

  async readModel(model: string): Promise<ModelPartition> {
    return {
      registrations: [...this.registrations.values()]
        .filter((r) => r.registration.model === model)
        .map((r) => structuredClone(r.registration)),
      probes: [...this.probes.values()].filter((p) => p.model === model).map((p) => structuredClone(p)),
      rounds: [...this.rounds.entries()]
        .filter(([stored]) => isRoundOf(stored, model))
        .map(([, round]) => structuredClone(round)),
    };
  }

  async countRunningRegistrations(model: string, _atMost: number): Promise<number> {
    return [...this.registrations.values()].filter(
      (r) => r.registration.model === model && r.registration.lifecycle === 'RUNNING',
    ).length;
  }

  async readEndpointRows(
    model: string,
    endpointIds: readonly string[],
  ): Promise<Pick<ModelPartition, 'registrations' | 'probes'>> {
    // Looked up by key, as the real store's BatchGetItem does (and not through readModel, which
    // tests count as the partition read it stands for).
    const ids = [...new Set(endpointIds)];
    const found = <T>(rows: ReadonlyMap<string, T>) =>
      ids.flatMap((id) => {
        const row = rows.get(key(model, id));
        return row === undefined ? [] : [structuredClone(row)];
      });
    return {
      registrations: found(this.registrations).map((r) => r.registration),
      probes: found(this.probes),
    };
  }

  async readRounds(model: string): Promise<RoundMarker[]> {
    return [...this.rounds.entries()]
      .filter(([stored]) => isRoundOf(stored, model))
      .map(([, round]) => structuredClone(round));
  }

  async readProbeState(model: string): Promise<Pick<ModelPartition, 'probes' | 'rounds'>> {
    return {
      probes: [...this.probes.values()].filter((p) => p.model === model).map((p) => structuredClone(p)),
      rounds: await this.readRounds(model),
    };
  }

  /** Condition (per model and shard): `attribute_not_exists(pk) OR startedAt <= :startedAt`. */
  async recordRound(model: string, round: RoundMarker): Promise<boolean> {
    const stored = this.rounds.get(roundKey(model, round));
    if (stored !== undefined && !(stored.startedAt <= round.startedAt)) return false;
    this.rounds.set(roundKey(model, round), structuredClone(round));
    return true;
  }

  /** Condition: `recordedAt < :before` (a marker that does not exist is kept: `false`). */
  async deleteRound(model: string, shard: ShardRef, recordedBefore: number): Promise<boolean> {
    const stored = roundKey(model, { startedAt: 0, recordedAt: 0, seen: new Map(), shard });
    const marker = this.rounds.get(stored);
    if (marker === undefined || !(marker.recordedAt < recordedBefore)) return false;
    this.rounds.delete(stored);
    return true;
  }

  async claimSnapshot(model: string): Promise<number> {
    const next = (this.snapshotSequences.get(model) ?? 0) + 1;
    this.snapshotSequences.set(model, next);
    return next;
  }

  /** Condition: `attribute_not_exists(pk) OR sequence < :sequence`. */
  async putSnapshot(model: string, snapshot: ModelSnapshot): Promise<boolean> {
    const stored = this.modelSnapshots.get(model);
    if (stored !== undefined && !(stored.sequence < snapshot.sequence)) return false;
    this.modelSnapshots.set(model, structuredClone(snapshot));
    return true;
  }

  async readSnapshot(model: string): Promise<ModelSnapshot | undefined> {
    const stored = this.modelSnapshots.get(model);
    return stored === undefined ? undefined : structuredClone(stored);
  }

  /** The stored registration of an endpoint for a model (test inspection). */
  registration(endpointId: string, model: string): StoredRegistration | undefined {
    return this.registrations.get(key(model, endpointId));
  }

  /** The stored probe row of an endpoint for a model (test inspection). */
  probe(endpointId: string, model: string): ProbeRecord | undefined {
    return this.probes.get(key(model, endpointId));
  }

  /** Everything stored, for "changes nothing" assertions. */
  snapshot(): unknown {
    return structuredClone({
      tasks: [...this.tasks.entries()],
      registrations: [...this.registrations.entries()],
      probes: [...this.probes.entries()],
      rounds: [...this.rounds.entries()],
      // What each snapshot says, not how many rebuilds it took (its sequence) or when.
      snapshots: [...this.modelSnapshots].map(([model, { partition }]) => [model, partition]),
    });
  }
}

/**
 * `store` with some operations failing: each named one rejects with its error (as the DynamoDB
 * store rejects when the engine is down, slow or throttling); the others are the store's own.
 */
export function failingStore<T extends Partial<RegistryStore>>(
  store: T,
  failures: Partial<Record<StoreOperation, unknown>>,
): T {
  const overrides = Object.fromEntries(
    Object.entries(failures).map(([operation, error]) => [
      operation,
      async () => {
        throw error;
      },
    ]),
  );
  return Object.assign(Object.create(store), overrides) as T;
}
