import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoDbClient } from '../../../functions/adapters/aws-clients.ts';
import { TABLE_KEYS } from '../../../functions/adapters/dynamodb/table.ts';
import { handleEcsEvent } from '../../../functions/adapters/edges/ecs-events.ts';
import { STORE_BUDGETS } from '../../../functions/composition/registry.ts';
import { TfServingStandIn } from '../../../tools/tfserving-stand-in/stand-in.ts';
import { loopbackEvent } from '../../support/kit/events.ts';
import { createTestRegistry, standInHost, type TestRegistry } from '../../support/test-registry.ts';

/**
 * ECS delivers events at least once and out of order. For a task's event sequence, every
 * permutation with duplicates must end in the same registry state as in-order delivery.
 */

const FILE_OCTET = 30;
const LIFE = ['provisioning', 'pending', 'running-awsvpc', 'draining', 'deactivating', 'stopped'];
const START = ['provisioning', 'pending', 'running-awsvpc'];

describe('out-of-order and duplicate delivery', () => {
  let registry: TestRegistry;
  let tfserving: TfServingStandIn;
  const host = standInHost(FILE_OCTET, 1);
  const db = createDynamoDbClient(STORE_BUDGETS.probe.client);
  let runs = 0;

  beforeAll(async () => {
    registry = await createTestRegistry();
    tfserving = await TfServingStandIn.start({ host, models: { resnet: { available: ['1'] } } });
  });

  afterAll(async () => {
    await tfserving.close();
    registry.close();
    db.destroy();
  });

  /** Every item the task owns, with its task id replaced so runs on different tasks compare. */
  async function registryState(taskId: string) {
    const arn = `arn:aws:ecs:us-east-1:123456789012:task/ml/${taskId}`;
    const { Item: task } = await db.send(
      new GetCommand({
        TableName: registry.config.tableName,
        Key: { pk: TABLE_KEYS.tasksPartition, sk: arn },
        ConsistentRead: true,
      }),
    );
    const { Items = [] } = await db.send(
      new QueryCommand({
        TableName: registry.config.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': TABLE_KEYS.modelPartition('resnet') },
        ConsistentRead: true,
      }),
    );
    const owned = Items.filter((item) => String(item.sk).includes(`/${taskId}/`));
    return JSON.parse(JSON.stringify({ task, owned }).replaceAll(taskId, 'TASK'));
  }

  async function deliver(names: readonly string[], taskId: string) {
    for (const name of names) await handleEcsEvent(registry.taskEvents, loopbackEvent(name, host, taskId));
    return registryState(taskId);
  }

  /** A permutation of the sequence with up to `extra` duplicates mixed in. */
  const deliveries = (sequence: readonly string[], extra: number) =>
    fc
      .array(fc.constantFrom(...sequence), { maxLength: extra })
      .chain((duplicates) =>
        fc.shuffledSubarray([...sequence, ...duplicates], { minLength: sequence.length + duplicates.length }),
      );

  const ENDPOINT = 'ml/TASK/tfserving';
  it.each([
    ['a whole life, from PROVISIONING to STOPPED', LIFE, 'STOPPED', [TABLE_KEYS.registrationKey(ENDPOINT)]],
    [
      'a start, from PROVISIONING to RUNNING (registered and probed)',
      START,
      'RUNNING',
      [TABLE_KEYS.probeKey(ENDPOINT), TABLE_KEYS.registrationKey(ENDPOINT)],
    ],
  ])('ends in the in-order state for every delivery order of %s', async (_, sequence, lifecycle, keys) => {
    // Prepare
    const expected = await deliver(sequence, `inorder${sequence.length}`);
    expect(expected.task.lifecycle).toBe(lifecycle);
    expect(expected.owned.map((item: { sk: string }) => item.sk)).toEqual(keys);

    // Act + Assess
    await fc.assert(
      fc.asyncProperty(deliveries(sequence, 4), async (order) => {
        runs += 1;
        const actual = await deliver(order, `run${sequence.length}x${runs}`);
        expect(actual).toEqual(expected);
      }),
      { numRuns: 40 },
    );
  });
});
