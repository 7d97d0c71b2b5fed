import type { ShardRef } from '../../domain/shards.ts';

/**
 * The registry table's definition, written once and used by both deployments:
 * the CDK stack (`infra/aws`) and the embedded local runtime (`infra/local`).
 *
 * One table, two partition families:
 * - `pk = "TASKS"`, `sk = <taskArn>`: one item per ECS task, the source of truth for ordering
 *   (`taskVersion`) and the list the probe walks;
 * - `pk = "MODEL#<model>"`: per endpoint serving that model, a registration item
 *   (`sk = "REG#<endpointId>"`, no expiry while the task runs) and a probe item
 *   (`sk = "EP#<endpointId>"`, expiring on `expiresAt`), and each probe shard's round marker
 *   (`sk = "EP!ROUND"`, or `"EP!ROUND#<count>#<index>"` when the probe is sharded);
 * - `pk = "SNAPSHOT#<model>"`: the model's snapshot (`sk = "SNAPSHOT"`, a compressed copy of what
 *   discovery judges, rebuilt after every write that can change routing) and its sequence counter
 *   (`sk = "SEQUENCE"`). Discovery reads the snapshot with one GetItem; a partition of its own keeps
 *   a hot model's discovery reads apart from the prober's writes.
 */
export const REGISTRY_TABLE = Object.freeze({
  partitionKey: 'pk',
  sortKey: 'sk',
  /** Epoch seconds. DynamoDB TTL deletes lazily, so every read filters on it too. */
  timeToLiveAttribute: 'expiresAt',
  billingMode: 'PAY_PER_REQUEST',
} as const);

const REGISTRATION_PREFIX = 'REG#';
const PROBE_PREFIX = 'EP#';
const ROUND_KEY = 'EP!ROUND';

/**
 * The key layout above, the only place that spells it: the store reads and writes through these,
 * and benchmarks and tests that look at raw items use them too.
 */
export const TABLE_KEYS = Object.freeze({
  tasksPartition: 'TASKS',
  modelPartition: (model: string) => `MODEL#${model}`,
  registrationKey: (endpointId: string) => `${REGISTRATION_PREFIX}${endpointId}`,
  probeKey: (endpointId: string) => `${PROBE_PREFIX}${endpointId}`,
  /** Sorts just before the `EP#` rows (`!` < `#`), so one Query of `begins_with(sk, "EP")` reads
   * a model's probe rows and its round markers. The marker of a single invocation probing the
   * whole fleet; each shard of a larger layout has its own ({@link TABLE_KEYS.shardRoundKey}). */
  roundKey: ROUND_KEY,
  /** The round marker of one probe shard: `EP!ROUND` for the whole fleet, `EP!ROUND#<count>#<index>` otherwise. */
  shardRoundKey: (shard: ShardRef) =>
    shard.count === 1 ? ROUND_KEY : `${ROUND_KEY}#${shard.count}#${shard.index}`,
  isRoundKey: (sk: string) => sk === ROUND_KEY || sk.startsWith(`${ROUND_KEY}#`),
  /** What every probe row's and the round marker's sort key begins with. */
  probeRowsPrefix: 'EP',
  snapshotPartition: (model: string) => `SNAPSHOT#${model}`,
  snapshotKey: 'SNAPSHOT',
  snapshotSequenceKey: 'SEQUENCE',
  isRegistrationKey: (sk: string) => sk.startsWith(REGISTRATION_PREFIX),
  /** What every registration row's sort key begins with. */
  registrationRowsPrefix: REGISTRATION_PREFIX,
  isProbeKey: (sk: string) => sk.startsWith(PROBE_PREFIX),
});

/** The CreateTable input for engines that take the API call directly (dynalite, DynamoDB Local). */
export function createTableInput(tableName: string) {
  return {
    TableName: tableName,
    BillingMode: REGISTRY_TABLE.billingMode,
    AttributeDefinitions: [
      { AttributeName: REGISTRY_TABLE.partitionKey, AttributeType: 'S' as const },
      { AttributeName: REGISTRY_TABLE.sortKey, AttributeType: 'S' as const },
    ],
    KeySchema: [
      { AttributeName: REGISTRY_TABLE.partitionKey, KeyType: 'HASH' as const },
      { AttributeName: REGISTRY_TABLE.sortKey, KeyType: 'RANGE' as const },
    ],
  };
}
