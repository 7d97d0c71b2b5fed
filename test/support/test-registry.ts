import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { inject } from 'vitest';
import { eventOnlyLookups } from '../../functions/adapters/ecs/ecs-lookups.ts';
import { isLoopback } from '../../functions/adapters/tfserving/tfserving-client.ts';
import { createRegistry, type Registry } from '../../functions/composition/registry.ts';
import { loadConfig } from '../../functions/domain/settings.ts';
import { ensureTable } from '../../infra/local/dynamodb-engine.ts';
import { uniqueTableName } from './dynamodb-engines.ts';
import { TestClock } from './kit/clock.ts';

export interface TestRegistry extends Registry {
  readonly clock: TestClock;
}

/**
 * A registry over a fresh table on the project's engine, with the same wiring as the Lambdas
 * (`createRegistry`), an event-only ECS view and a probe confined to loopback addresses.
 */
export async function createTestRegistry(
  env: Record<string, string> = {},
  clock = new TestClock(),
): Promise<TestRegistry> {
  process.env.AWS_ENDPOINT_URL_DYNAMODB = inject('dynamodbEndpoint');
  const tableName = uniqueTableName();
  const admin = new DynamoDBClient({});
  await ensureTable(admin, tableName);
  admin.destroy();
  const registry = createRegistry(
    loadConfig({ ...env, TABLE_NAME: tableName }),
    eventOnlyLookups('127.0.0.1'),
    {
      now: clock.now,
      isAllowedProbeHost: isLoopback,
    },
  );
  return { ...registry, clock };
}

/**
 * A loopback address for a stand-in, distinct per engine project (both run the same files at
 * once), per test file (`fileOctet`) and per stand-in (`n`), so each can listen on port 8501.
 */
export function standInHost(fileOctet: number, n: number): string {
  const engineOctet = inject('dynamodbEngine') === 'ddb-local' ? 2 : 1;
  return `127.${engineOctet}.${fileOctet}.${n}`;
}
