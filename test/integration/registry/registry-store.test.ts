import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, paginateScan } from '@aws-sdk/lib-dynamodb';
import pMap from 'p-map';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { DynamoDbRegistryStore } from '../../../functions/adapters/dynamodb/registry-store.ts';
import { REGISTRY_TABLE } from '../../../functions/adapters/dynamodb/table.ts';
import { StoreUnavailableError } from '../../../functions/domain/errors.ts';
import { uniqueTableName } from '../../support/dynamodb-engines.ts';
import { endpointIdOf, registration, taskRecord } from '../../support/kit/records.ts';
import { registryStoreContract } from '../../support/registry-store-contract.ts';
import { createTestRegistry, type TestRegistry } from '../../support/test-registry.ts';

// What every store does (the in-memory twin runs the same suite in the unit project).
registryStoreContract('DynamoDbRegistryStore', async () => {
  const registry = await createTestRegistry();
  return { store: registry.store, close: () => registry.close() };
});

/** What only the DynamoDB store has: pages, the TTL attribute, engine errors. */
describe('DynamoDbRegistryStore on a real engine', () => {
  let registry: TestRegistry;

  beforeEach(async () => {
    registry = await createTestRegistry();
  });

  afterEach(() => registry.close());

  /** Every item of the test's table (its own), read without knowing the key layout. */
  async function items(): Promise<Record<string, unknown>[]> {
    const db = DynamoDBDocumentClient.from(new DynamoDBClient({}));
    const found: Record<string, unknown>[] = [];
    try {
      for await (const page of paginateScan({ client: db }, { TableName: registry.config.tableName })) {
        found.push(...(page.Items ?? []));
      }
    } finally {
      db.destroy();
    }
    return found;
  }

  it('stores a snapshot too large for one item as overflowed: it reads without a partition, and a smaller one replaces it', async () => {
    // Prepare: rows that do not compress (random hosts and ids), far past the body limit.
    const random = () => randomBytes(12).toString('hex');
    const rows = Array.from({ length: 20_000 }, () =>
      registration(random(), 'resnet', { endpointId: `ml/${random()}/tfserving`, host: random() }),
    );
    const partition = { registrations: rows, probes: [], rounds: [] };

    // Act
    const written = await registry.store.putSnapshot('resnet', {
      sequence: 1,
      builtAt: 1,
      partitionReadAt: 1,
      partition,
    });
    const overflowed = await registry.store.readSnapshot('resnet');
    await registry.store.putSnapshot('resnet', {
      sequence: 2,
      builtAt: 2,
      partitionReadAt: 2,
      partition: { ...partition, registrations: rows.slice(0, 10) },
    });

    // Assess
    expect(written).toBe(true);
    expect(overflowed).toEqual({ sequence: 1, builtAt: 1, partitionReadAt: 1, partition: undefined });
    expect((await registry.store.readSnapshot('resnet'))?.partition?.registrations).toHaveLength(10);
    const stored = (await items()).find((item) => item.sk === 'SNAPSHOT');
    expect(stored?.overflowed).toBeUndefined();
  });

  it('reads a model partition larger than one 1 MB page', async () => {
    // Prepare: enough registrations to need pagination.
    const padding = 'x'.repeat(2_000);
    await pMap(
      Array.from({ length: 600 }, (_, i) => i),
      (i) =>
        registry.store.putRegistration(
          registration('a', 'resnet', { endpointId: endpointIdOf(String(i)), host: padding }),
        ),
      { concurrency: 16 },
    );

    // Act
    const partition = await registry.store.readModel('resnet');

    // Assess
    expect(partition.registrations).toHaveLength(600);
  });

  it('puts the TTL attribute on tombstones, probe rows and markers, and none on a running task', async () => {
    // Prepare
    const ttl = REGISTRY_TABLE.timeToLiveAttribute;
    const probedAt = Date.parse('2026-05-04T10:00:00Z');

    // Act
    await registry.store.putTask(taskRecord('a', ['resnet']));
    await registry.store.putRegistration(registration('a', 'resnet'));
    await registry.store.putRegistration(
      registration('b', 'resnet', { lifecycle: 'STOPPED' }),
      1_800_000_000,
    );
    await registry.store.recordProbeSuccess({
      endpointId: endpointIdOf('a'),
      model: 'resnet',
      versions: ['1'],
      labels: {},
      probedAt,
      expiresAt: 1_800_000_100,
    });
    await registry.store.recordRound('resnet', {
      startedAt: probedAt,
      recordedAt: probedAt,
      seen: new Map(),
    });

    // Assess: one expiring item each for the tombstone, the probe row and the marker (a day on).
    const expiring = (await items()).filter((item) => item[ttl] !== undefined).map((item) => item[ttl]);
    expect(expiring.sort()).toEqual([1_800_000_000, 1_800_000_100, probedAt / 1000 + 24 * 3600].sort());
  });

  it('rejects with a StoreUnavailableError naming the operation when the table does not exist', async () => {
    // Prepare
    const missing = new DynamoDbRegistryStore(
      DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: inject('dynamodbEndpoint') })),
      uniqueTableName('missing'),
    );

    // Act
    const reading = missing.readModel('resnet');

    // Assess
    try {
      await expect(reading).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(reading).rejects.toThrow(
        /^the registry store did not answer Query: ResourceNotFoundException/,
      );
    } finally {
      missing.close();
    }
  });
});
