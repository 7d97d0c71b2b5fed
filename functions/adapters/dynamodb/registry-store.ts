import { setTimeout as delay } from 'node:timers/promises';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  paginateQuery,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { setBounded } from '../../domain/bounded-map.ts';
import { StoreUnavailableError } from '../../domain/errors.ts';
import { LIFECYCLE_RANK, type Lifecycle } from '../../domain/lifecycle.ts';
import type { ProbeSuccess, RegistryStore, StoreOperation } from '../../domain/ports.ts';
import type {
  ModelPartition,
  ModelRegistration,
  ModelSnapshot,
  ProbeRecord,
  RoundMarker,
  TaskRecord,
} from '../../domain/records.ts';
import { isShardRef, type ShardRef, WHOLE_FLEET } from '../../domain/shards.ts';
import type { EndpointRegistration } from '../../domain/task-endpoints.ts';
import { decodePartition, encodePartition } from './snapshot-codec.ts';
import { TABLE_KEYS } from './table.ts';

/**
 * The registry table (layout in `table.ts`). Every write that can race another (two events of one
 * task, an event and a probe, two probes) is conditional, and losing the race returns `false`:
 * a normal outcome, not an error. No transactions and no reliance on TTL deletion.
 *
 * Every operation (all pages of a Query included) has a deadline, and any failure other than a
 * lost race is a {@link StoreUnavailableError}: callers tell "the store is down or slow" apart
 * from their own bugs, and never wait on the store longer than their budget.
 */

const {
  tasksPartition: TASKS_PARTITION,
  modelPartition,
  registrationKey,
  probeKey,
  shardRoundKey,
  isRoundKey,
  snapshotPartition,
  snapshotKey: SNAPSHOT_KEY,
  snapshotSequenceKey: SNAPSHOT_SEQUENCE_KEY,
} = TABLE_KEYS;
const MARKER_TTL_SECONDS = 24 * 3600;
/**
 * A snapshot body above this is stored as overflowed (discovery then reads the partition): below
 * DynamoDB's 400 KB item limit (409,600 B, attribute names included) with room for the item's
 * other attributes (under 200 B), and about 13,000 endpoints of one model (~29 B each with random
 * 32-hex task ids, measured), above `MAX_SNAPSHOT_ENDPOINTS`.
 */
export const MAX_SNAPSHOT_BODY_BYTES = 380_000;

/** One member of a task's `registeredModels` string set. */
const registeredModelKey = (endpointId: string, model: string) => JSON.stringify([endpointId, model]);

/**
 * Conditional-write guard shared by task and registration items: versions and lifecycles only
 * move forward. It names its attributes (`#taskVersion`, `#lifecycleRank`); a write using it
 * passes {@link FORWARD_ONLY_NAMES} and the values `:taskVersion` and `:lifecycleRank`.
 */
const FORWARD_ONLY =
  'attribute_not_exists(pk) OR (#taskVersion <= :taskVersion AND #lifecycleRank <= :lifecycleRank)';
const FORWARD_ONLY_NAMES = { '#taskVersion': 'taskVersion', '#lifecycleRank': 'lifecycleRank' };

function isConditionFailure(error: unknown): boolean {
  return error instanceof ConditionalCheckFailedException;
}

/**
 * The DynamoDB action each store operation sends: the one place grants are derived from
 * (`FUNCTION_STORE_OPERATIONS` in `functions/composition/registry.ts`, `RegistryTable.grant…` in the
 * CDK app). `test/infra/iam-proof.test.ts` runs each deployed bundle and proves every call it
 * makes is allowed, so a wrong entry here fails there.
 */
export const STORE_OPERATION_ACTIONS = {
  getTask: 'dynamodb:GetItem',
  putTask: 'dynamodb:UpdateItem',
  putRegistration: 'dynamodb:PutItem',
  deleteProbe: 'dynamodb:DeleteItem',
  listRunningTasks: 'dynamodb:Query',
  recordProbeSuccess: 'dynamodb:UpdateItem',
  recordProbeFailure: 'dynamodb:UpdateItem',
  recordRound: 'dynamodb:PutItem',
  deleteRound: 'dynamodb:DeleteItem',
  readModel: 'dynamodb:Query',
  readProbeState: 'dynamodb:Query',
  readEndpointRows: 'dynamodb:BatchGetItem',
  readRounds: 'dynamodb:Query',
  countRunningRegistrations: 'dynamodb:Query',
  claimSnapshot: 'dynamodb:UpdateItem',
  putSnapshot: 'dynamodb:PutItem',
  readSnapshot: 'dynamodb:GetItem',
} as const satisfies Record<StoreOperation, `dynamodb:${string}`>;

/** The default deadline of one store operation, retries included. */
export const DEFAULT_STORE_DEADLINE_MS = 2_000;

/** BatchGetItem's limit of keys per request. */
const BATCH_GET_KEYS = 100;

/** The first pause before asking again for keys a BatchGetItem left unprocessed. */
const UNPROCESSED_RETRY_MS = 25;

/** Models whose last decoded snapshot is kept (least recently read go first). */
const DECODED_SNAPSHOTS = 256;

export class DynamoDbRegistryStore implements RegistryStore {
  private readonly snapshotListeners: ((model: string) => void)[] = [];
  private readonly decoded = new Map<string, ModelSnapshot & { partition: ModelPartition }>();

  constructor(
    private readonly db: DynamoDBDocumentClient,
    readonly tableName: string,
    /** The deadline of one operation, every page and retry included. */
    private readonly deadlineMs = DEFAULT_STORE_DEADLINE_MS,
  ) {}

  /** Closes the DynamoDB client's sockets. */
  close(): void {
    this.db.destroy();
  }

  /** The task item, or undefined. Strongly consistent: it decides what a stop retires. */
  async getTask(taskArn: string): Promise<TaskRecord | undefined> {
    const { Item } = await this.call('GetItem', (abortSignal) =>
      this.db.send(
        new GetCommand({
          TableName: this.tableName,
          Key: { pk: TASKS_PARTITION, sk: taskArn },
          ConsistentRead: true,
        }),
        { abortSignal },
      ),
    );
    return Item === undefined ? undefined : toTaskRecord(Item);
  }

  /**
   * Writes the task item unless a newer version, or a later lifecycle, is already stored.
   * An equal version is applied again (same event redelivered after a partial failure): idempotent.
   * `registeredModels` only grows (a set ADD), so a stop retires every model any event of the
   * task registered, even if a later event derived fewer.
   */
  async putTask(task: TaskRecord): Promise<boolean> {
    const fields: Record<string, unknown> = {
      taskArn: task.taskArn,
      clusterArn: task.clusterArn,
      taskVersion: task.taskVersion,
      lifecycle: task.lifecycle,
      lifecycleRank: LIFECYCLE_RANK[task.lifecycle],
      availabilityZone: task.availabilityZone,
      endpoints: task.endpoints.map((e) => ({ ...e })),
      expiresAt: task.expiresAt,
    };
    const set = Object.keys(fields).filter((name) => fields[name] !== undefined);
    const remove = Object.keys(fields).filter((name) => fields[name] === undefined);
    const models = task.endpoints.flatMap((e) => e.models.map((model) => registeredModelKey(e.id, model)));
    const added = models.length > 0 ? ['registeredModels'] : [];
    const names = Object.fromEntries([...set, ...remove, ...added].map((name) => [`#${name}`, name]));
    const values: Record<string, unknown> = Object.fromEntries(set.map((name) => [`:${name}`, fields[name]]));
    if (models.length > 0) values[':registeredModels'] = new Set(models);
    return this.guarded(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: TASKS_PARTITION, sk: task.taskArn },
        UpdateExpression: [
          `SET ${set.map((name) => `#${name} = :${name}`).join(', ')}`,
          remove.length > 0 ? `REMOVE ${remove.map((name) => `#${name}`).join(', ')}` : '',
          models.length > 0 ? 'ADD #registeredModels :registeredModels' : '',
        ].join(' '),
        ConditionExpression: FORWARD_ONLY,
        ExpressionAttributeNames: { ...names, ...FORWARD_ONLY_NAMES },
        ExpressionAttributeValues: values,
      }),
    );
  }

  /** Writes an endpoint's registration for one model, with the same forward-only guard as its task. */
  async putRegistration(registration: ModelRegistration, expiresAt?: number): Promise<boolean> {
    return this.guarded(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          pk: modelPartition(registration.model),
          sk: registrationKey(registration.endpointId),
          ...registration,
          lifecycleRank: LIFECYCLE_RANK[registration.lifecycle],
          ...(expiresAt === undefined ? {} : { expiresAt }),
        },
        ConditionExpression: FORWARD_ONLY,
        ExpressionAttributeNames: FORWARD_ONLY_NAMES,
        ExpressionAttributeValues: {
          ':taskVersion': registration.taskVersion,
          ':lifecycleRank': LIFECYCLE_RANK[registration.lifecycle],
        },
      }),
    );
  }

  /** Deletes an endpoint's probe results for a model (on drain/stop; a late probe may write them again, unserved). */
  async deleteProbe(endpointId: string, model: string): Promise<void> {
    await this.call('DeleteItem', (abortSignal) =>
      this.db.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { pk: modelPartition(model), sk: probeKey(endpointId) },
        }),
        { abortSignal },
      ),
    );
  }

  /** Every task whose latest applied state is RUNNING: what the probe walks. */
  async listRunningTasks(): Promise<TaskRecord[]> {
    return this.call('Query', async (abortSignal) => {
      const tasks: TaskRecord[] = [];
      const pages = paginateQuery(
        { client: this.db, pageSize: 500 },
        {
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          FilterExpression: 'lifecycle = :running',
          ExpressionAttributeValues: { ':pk': TASKS_PARTITION, ':running': 'RUNNING' },
        },
        { abortSignal },
      );
      for await (const page of pages) {
        for (const item of page.Items ?? []) tasks.push(toTaskRecord(item));
      }
      return tasks;
    });
  }

  /**
   * Records a successful probe: versions, labels, a fresh `lastSuccessAt`, failures reset and the
   * row's expiry renewed. Creates the row if TTL deleted it. Loses to a newer probe.
   */
  async recordProbeSuccess(input: ProbeSuccess): Promise<boolean> {
    return this.guarded(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: modelPartition(input.model), sk: probeKey(input.endpointId) },
        UpdateExpression:
          'SET endpointId = :endpointId, model = :model, versions = :versions, labels = :labels, ' +
          'lastSuccessAt = :probedAt, probedAt = :probedAt, consecutiveFailures = :zero, expiresAt = :expiresAt ' +
          'REMOVE lastError',
        ConditionExpression: 'attribute_not_exists(pk) OR probedAt < :probedAt',
        ExpressionAttributeValues: {
          ':endpointId': input.endpointId,
          ':model': input.model,
          ':versions': [...input.versions],
          ':labels': { ...input.labels },
          ':probedAt': input.probedAt,
          ':zero': 0,
          ':expiresAt': input.expiresAt,
        },
      }),
    );
  }

  /**
   * Counts a failed probe on an existing row; never creates one (so a late failure cannot leave a
   * row behind a stopped task) and never renews the expiry. `lastSuccessAt`, when given, is the
   * last success a round marker vouched for, so staleness counts from the real last success.
   */
  async recordProbeFailure(input: {
    endpointId: string;
    model: string;
    probedAt: number;
    error: string;
    lastSuccessAt?: number;
  }): Promise<boolean> {
    const vouched = input.lastSuccessAt !== undefined;
    return this.guarded(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: modelPartition(input.model), sk: probeKey(input.endpointId) },
        UpdateExpression: `SET probedAt = :probedAt, lastError = :error${vouched ? ', lastSuccessAt = :lastSuccessAt' : ''} ADD consecutiveFailures :one`,
        ConditionExpression: 'attribute_exists(pk) AND probedAt < :probedAt',
        ExpressionAttributeValues: {
          ':probedAt': input.probedAt,
          ':error': input.error.slice(0, 500),
          ':one': 1,
          ...(vouched ? { ':lastSuccessAt': input.lastSuccessAt } : {}),
        },
      }),
    );
  }

  /**
   * Writes a model's round marker of the marker's probe shard unless a round of that shard that
   * started later already wrote one (a round writes its marker several times: as its targets
   * answer, and when it ends). Each shard has its own item, so shards never overwrite each other.
   */
  async recordRound(model: string, marker: RoundMarker): Promise<boolean> {
    return this.guarded(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          pk: modelPartition(model),
          sk: shardRoundKey(marker.shard ?? WHOLE_FLEET),
          model,
          ...(marker.shard === undefined
            ? {}
            : { shard: { index: marker.shard.index, count: marker.shard.count } }),
          startedAt: marker.startedAt,
          recordedAt: marker.recordedAt,
          seen: Object.fromEntries(marker.seen),
          // Only reclaims the marker of a model no task serves any more; reads never need it.
          expiresAt: Math.ceil(marker.recordedAt / 1000) + MARKER_TTL_SECONDS,
        },
        ConditionExpression: 'attribute_not_exists(pk) OR startedAt <= :startedAt',
        ExpressionAttributeValues: { ':startedAt': marker.startedAt },
      }),
    );
  }

  /** Deletes a model's marker of one probe shard unless it was recorded at or after `recordedBefore`. */
  async deleteRound(model: string, shard: ShardRef, recordedBefore: number): Promise<boolean> {
    return this.guarded(
      new DeleteCommand({
        TableName: this.tableName,
        Key: { pk: modelPartition(model), sk: shardRoundKey(shard) },
        ConditionExpression: 'recordedAt < :before',
        ExpressionAttributeValues: { ':before': recordedBefore },
      }),
    );
  }

  /** Everything known about one model: one strongly consistent Query of its partition. */
  async readModel(model: string): Promise<ModelPartition> {
    return this.call('Query', async (abortSignal) => {
      const registrations: ModelRegistration[] = [];
      const probes: ProbeRecord[] = [];
      const rounds: RoundMarker[] = [];
      let exclusiveStartKey: Record<string, unknown> | undefined;
      do {
        const page = await this.db.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': modelPartition(model) },
            ConsistentRead: true,
            ExclusiveStartKey: exclusiveStartKey,
          }),
          { abortSignal },
        );
        for (const item of page.Items ?? []) {
          const sk = String(item.sk);
          if (TABLE_KEYS.isRegistrationKey(sk)) registrations.push(toRegistration(item));
          else if (isRoundKey(sk)) rounds.push(toRound(item));
          else if (TABLE_KEYS.isProbeKey(sk)) probes.push(toProbe(item));
        }
        exclusiveStartKey = page.LastEvaluatedKey;
      } while (exclusiveStartKey !== undefined);
      return { registrations, probes, rounds };
    });
  }

  /**
   * How many of a model's registrations are RUNNING, counted page by page only until the count
   * passes `atMost`: a strongly consistent Query that returns counts, no items.
   */
  async countRunningRegistrations(model: string, atMost: number): Promise<number> {
    return this.call('Query', async (abortSignal) => {
      let count = 0;
      let exclusiveStartKey: Record<string, unknown> | undefined;
      do {
        const page = await this.db.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :registrations)',
            FilterExpression: 'lifecycle = :running',
            ExpressionAttributeValues: {
              ':pk': modelPartition(model),
              ':registrations': TABLE_KEYS.registrationRowsPrefix,
              ':running': 'RUNNING',
            },
            Select: 'COUNT',
            ConsistentRead: true,
            ExclusiveStartKey: exclusiveStartKey,
          }),
          { abortSignal },
        );
        count += page.Count ?? 0;
        exclusiveStartKey = page.LastEvaluatedKey;
      } while (exclusiveStartKey !== undefined && count <= atMost);
      return count;
    });
  }

  /**
   * A model's probe rows and round markers, without its registrations: what a probe round needs,
   * at about a third of the read units of {@link readModel}.
   */
  async readProbeState(model: string): Promise<Pick<ModelPartition, 'probes' | 'rounds'>> {
    return this.call('Query', async (abortSignal) => {
      const probes: ProbeRecord[] = [];
      const rounds: RoundMarker[] = [];
      for await (const item of this.itemsStartingWith(model, TABLE_KEYS.probeRowsPrefix, abortSignal)) {
        if (isRoundKey(String(item.sk))) rounds.push(toRound(item));
        else probes.push(toProbe(item));
      }
      return { probes, rounds };
    });
  }

  /**
   * The registration and probe rows of some endpoints of a model: strongly consistent
   * BatchGetItem requests of up to 100 keys, two keys an endpoint, keys the engine leaves
   * unprocessed (throttling, the 16 MB response limit) asked again within the same deadline.
   */
  async readEndpointRows(
    model: string,
    endpointIds: readonly string[],
  ): Promise<Pick<ModelPartition, 'registrations' | 'probes'>> {
    return this.call('BatchGetItem', async (abortSignal) => {
      const registrations: ModelRegistration[] = [];
      const probes: ProbeRecord[] = [];
      // BatchGetItem rejects a request naming one key twice.
      const keys = [...new Set(endpointIds)].flatMap((id) => [
        { pk: modelPartition(model), sk: registrationKey(id) },
        { pk: modelPartition(model), sk: probeKey(id) },
      ]);
      for (let start = 0; start < keys.length; start += BATCH_GET_KEYS) {
        let pending: Record<string, unknown>[] = keys.slice(start, start + BATCH_GET_KEYS);
        let attempt = 0;
        while (pending.length > 0) {
          const { Responses, UnprocessedKeys } = await this.db.send(
            new BatchGetCommand({
              RequestItems: { [this.tableName]: { Keys: pending, ConsistentRead: true } },
            }),
            { abortSignal },
          );
          for (const item of Responses?.[this.tableName] ?? []) {
            if (TABLE_KEYS.isRegistrationKey(String(item.sk))) registrations.push(toRegistration(item));
            else probes.push(toProbe(item));
          }
          pending = UnprocessedKeys?.[this.tableName]?.Keys ?? [];
          // Keys left unprocessed (throughput or size limits) are asked again after a pause that
          // doubles, within the operation's deadline.
          if (pending.length > 0)
            await delay(Math.min(UNPROCESSED_RETRY_MS * 2 ** attempt++, 500), undefined, {
              signal: abortSignal,
            });
        }
      }
      return { registrations, probes };
    });
  }

  /** A model's round markers, every probe shard's: one strongly consistent Query of their keys. */
  async readRounds(model: string): Promise<RoundMarker[]> {
    return this.call('Query', async (abortSignal) => {
      const rounds: RoundMarker[] = [];
      for await (const item of this.itemsStartingWith(model, TABLE_KEYS.roundKey, abortSignal)) {
        if (isRoundKey(String(item.sk))) rounds.push(toRound(item));
      }
      return rounds;
    });
  }

  /** The items of a model's partition whose sort key starts with `prefix`: a strongly consistent Query, every page. */
  private async *itemsStartingWith(
    model: string,
    prefix: string,
    abortSignal: AbortSignal,
  ): AsyncGenerator<Item> {
    const pages = paginateQuery(
      { client: this.db },
      {
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': modelPartition(model), ':prefix': prefix },
        ConsistentRead: true,
      },
      { abortSignal },
    );
    for await (const page of pages) yield* page.Items ?? [];
  }

  /** The next sequence number of a model's snapshot: an atomic counter in the snapshot's partition. */
  async claimSnapshot(model: string): Promise<number> {
    const { Attributes } = await this.call('UpdateItem', (abortSignal) =>
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: snapshotPartition(model), sk: SNAPSHOT_SEQUENCE_KEY },
          UpdateExpression: 'ADD #sequence :one',
          ExpressionAttributeNames: { '#sequence': 'sequence' },
          ExpressionAttributeValues: { ':one': 1 },
          ReturnValues: 'UPDATED_NEW',
        }),
        { abortSignal },
      ),
    );
    return Number(Attributes?.sequence);
  }

  /**
   * Writes a model's snapshot unless one with a higher or equal sequence is stored; one without a
   * partition, or with a body over {@link MAX_SNAPSHOT_BODY_BYTES}, is stored as `overflowed` (no
   * body), which reads back without a partition.
   */
  async putSnapshot(model: string, snapshot: ModelSnapshot): Promise<boolean> {
    const body = snapshot.partition === undefined ? undefined : encodePartition(model, snapshot.partition);
    const overflowed = body === undefined || body.byteLength > MAX_SNAPSHOT_BODY_BYTES;
    const written = await this.guarded(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          pk: snapshotPartition(model),
          sk: SNAPSHOT_KEY,
          sequence: snapshot.sequence,
          builtAt: snapshot.builtAt,
          partitionReadAt: snapshot.partitionReadAt,
          ...(overflowed ? { overflowed: true } : { body }),
          // Only reclaims the snapshot of a model no task serves any more; reads judge `builtAt`.
          expiresAt: Math.ceil(snapshot.builtAt / 1000) + MARKER_TTL_SECONDS,
        },
        ConditionExpression: 'attribute_not_exists(pk) OR #sequence < :sequence',
        ExpressionAttributeNames: { '#sequence': 'sequence' },
        ExpressionAttributeValues: { ':sequence': snapshot.sequence },
      }),
    );
    if (written && !overflowed && snapshot.partition !== undefined) {
      // The next rebuild starts from it: no need to decode what was just encoded.
      const { sequence, builtAt, partitionReadAt, partition } = snapshot;
      setBounded(this.decoded, model, { sequence, builtAt, partitionReadAt, partition }, DECODED_SNAPSHOTS);
    }
    for (const listener of this.snapshotListeners) listener(model);
    return written;
  }

  /**
   * Calls `listener` after each snapshot write through this store: one process running several
   * pieces (local mode) lets its discovery see its own writes at once instead of after the
   * shared-read bound.
   */
  onSnapshotWritten(listener: (model: string) => void): void {
    this.snapshotListeners.push(listener);
  }

  /**
   * A model's snapshot (one strongly consistent GetItem); undefined when none or unreadable, and
   * without a partition when overflowed (too many endpoints, or a body over the limit).
   */
  async readSnapshot(model: string): Promise<ModelSnapshot | undefined> {
    const { Item } = await this.call('GetItem', (abortSignal) =>
      this.db.send(
        new GetCommand({
          TableName: this.tableName,
          Key: { pk: snapshotPartition(model), sk: SNAPSHOT_KEY },
          ConsistentRead: true,
        }),
        { abortSignal },
      ),
    );
    if (Item === undefined) return undefined;
    const sequence = Number(Item.sequence);
    const builtAt = Number(Item.builtAt);
    // Written before snapshots were moved forward from each other: built from a whole read.
    const partitionReadAt = optionalNumber(Item.partitionReadAt) ?? builtAt;
    if (!(Item.body instanceof Uint8Array)) {
      return { sequence, builtAt, partitionReadAt, partition: undefined };
    }
    // A sequence is written once (a table made anew restarts it, hence the time too), so the body
    // read last time for it is this body: decoded once.
    const known = this.decoded.get(model);
    const partition =
      known?.sequence === sequence && known.builtAt === builtAt
        ? known.partition
        : decodePartition(model, Item.body);
    if (partition === undefined) return undefined;
    setBounded(this.decoded, model, { sequence, builtAt, partitionReadAt, partition }, DECODED_SNAPSHOTS);
    return { sequence, builtAt, partitionReadAt, partition };
  }

  /** A conditional write: `false` when the condition failed (a lost race), not an error. */
  private async guarded(command: PutCommand | UpdateCommand | DeleteCommand): Promise<boolean> {
    const operation =
      command instanceof PutCommand
        ? 'PutItem'
        : command instanceof DeleteCommand
          ? 'DeleteItem'
          : 'UpdateItem';
    return this.call(operation, async (abortSignal) => {
      try {
        await this.db.send(command as PutCommand, { abortSignal });
        return true;
      } catch (error) {
        if (isConditionFailure(error)) return false;
        throw error;
      }
    });
  }

  /** Runs one operation under the store's deadline; any failure is a {@link StoreUnavailableError}. */
  private async call<T>(operation: string, run: (abortSignal: AbortSignal) => Promise<T>): Promise<T> {
    try {
      return await run(AbortSignal.timeout(this.deadlineMs));
    } catch (error) {
      throw new StoreUnavailableError(operation, error);
    }
  }
}

type Item = Record<string, unknown>;

const optionalString = (value: unknown) => (typeof value === 'string' ? value : undefined);
const optionalNumber = (value: unknown) => (typeof value === 'number' ? value : undefined);

function toTaskRecord(item: Item): TaskRecord {
  return {
    taskArn: String(item.taskArn),
    clusterArn: String(item.clusterArn),
    taskVersion: Number(item.taskVersion),
    lifecycle: item.lifecycle as Lifecycle,
    availabilityZone: optionalString(item.availabilityZone),
    endpoints: Array.isArray(item.endpoints) ? (item.endpoints as EndpointRegistration[]) : [],
    ...(typeof item.expiresAt === 'number' ? { expiresAt: item.expiresAt } : {}),
    registeredModels: [...((item.registeredModels as Set<string> | undefined) ?? [])]
      .map((key) => JSON.parse(key) as [string, string])
      .sort(),
  };
}

function toRegistration(item: Item): ModelRegistration {
  return {
    endpointId: String(item.endpointId),
    model: String(item.model),
    taskArn: String(item.taskArn),
    clusterArn: String(item.clusterArn),
    availabilityZone: optionalString(item.availabilityZone),
    host: optionalString(item.host),
    restPort: optionalNumber(item.restPort),
    grpcPort: optionalNumber(item.grpcPort) ?? null,
    taskVersion: Number(item.taskVersion),
    lifecycle: item.lifecycle as Lifecycle,
  };
}

function toRound(item: Item): RoundMarker {
  const seen =
    typeof item.seen === 'object' && item.seen !== null ? (item.seen as Record<string, unknown>) : {};
  return {
    startedAt: Number(item.startedAt),
    recordedAt: Number(item.recordedAt ?? item.startedAt),
    seen: new Map(Object.entries(seen).map(([id, at]) => [id, Number(at)])),
    ...(isShardRef(item.shard) ? { shard: { index: item.shard.index, count: item.shard.count } } : {}),
  };
}

function toProbe(item: Item): ProbeRecord {
  return {
    endpointId: String(item.endpointId),
    model: String(item.model),
    versions: Array.isArray(item.versions) ? item.versions.map(String) : [],
    labels:
      typeof item.labels === 'object' && item.labels !== null ? (item.labels as Record<string, string>) : {},
    lastSuccessAt: optionalNumber(item.lastSuccessAt),
    probedAt: Number(item.probedAt ?? 0),
    consecutiveFailures: Number(item.consecutiveFailures ?? 0),
    lastError: optionalString(item.lastError),
    expiresAt: optionalNumber(item.expiresAt),
  };
}
