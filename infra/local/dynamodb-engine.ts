import type { AddressInfo } from 'node:net';
import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
} from '@aws-sdk/client-dynamodb';
import { DeleteCommand, type DynamoDBDocumentClient, paginateScan } from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';
import { createTableInput, REGISTRY_TABLE } from '../../functions/adapters/dynamodb/table.ts';

/** The embedded DynamoDB engine of local mode (dynalite, in this process, in memory). */
export interface EmbeddedEngine {
  readonly endpoint: string;
  close(): Promise<void>;
}

export async function startDynalite(): Promise<EmbeddedEngine> {
  // Tables go ACTIVE at once: dynalite's default is 500 ms in CREATING.
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Creates the registry table from the shared definition unless it exists, and waits until it is
 * ACTIVE with a short poll (the SDK waiters' 1 s minimum delay would dominate start-up).
 */
export async function ensureTable(
  client: DynamoDBClient,
  tableName: string,
  timeoutMs = 10_000,
): Promise<void> {
  try {
    await client.send(new CreateTableCommand(createTableInput(tableName)));
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (Table?.TableStatus === 'ACTIVE') return;
    if (Date.now() > deadline) throw new Error(`table ${tableName} is not ACTIVE after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * Deletes expired rows, as DynamoDB TTL does on AWS (dynalite has no TTL). Only reclaims memory:
 * every read filters on `expiresAt` itself.
 */
export async function sweepExpired(
  db: DynamoDBDocumentClient,
  tableName: string,
  nowSeconds: number,
): Promise<number> {
  const { partitionKey, sortKey, timeToLiveAttribute } = REGISTRY_TABLE;
  let deleted = 0;
  const pages = paginateScan(
    { client: db },
    {
      TableName: tableName,
      FilterExpression: '#expiresAt <= :now',
      ProjectionExpression: '#pk, #sk',
      ExpressionAttributeNames: { '#expiresAt': timeToLiveAttribute, '#pk': partitionKey, '#sk': sortKey },
      ExpressionAttributeValues: { ':now': nowSeconds },
    },
  );
  for await (const page of pages) {
    for (const Key of page.Items ?? []) {
      try {
        // Conditional: a probe may have renewed the row since the scan read it.
        await db.send(
          new DeleteCommand({
            TableName: tableName,
            Key,
            ConditionExpression: '#expiresAt <= :now',
            ExpressionAttributeNames: { '#expiresAt': timeToLiveAttribute },
            ExpressionAttributeValues: { ':now': nowSeconds },
          }),
        );
        deleted += 1;
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    }
  }
  return deleted;
}
