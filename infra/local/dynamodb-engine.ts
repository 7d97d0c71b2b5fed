import { Worker } from 'node:worker_threads';
import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
} from '@aws-sdk/client-dynamodb';
import { DeleteCommand, type DynamoDBDocumentClient, paginateScan } from '@aws-sdk/lib-dynamodb';
import { createTableInput, REGISTRY_TABLE } from '../../functions/adapters/dynamodb/table.ts';
import { loggers } from '../../functions/adapters/observability.ts';

/** The embedded DynamoDB engine of local mode (dynalite, in memory, on a thread of this process). */
export interface EmbeddedEngine {
  readonly endpoint: string;
  close(): Promise<void>;
}

/**
 * Starts dynalite on a worker thread of this process: the engine's work (request validation, its
 * in-memory LevelDB, serializing items) is a third of local mode's CPU at fleet scale, and on
 * the main thread it delayed the probe and discovery (decision 0026).
 */
export async function startDynalite(): Promise<EmbeddedEngine> {
  // Tables go ACTIVE at once: dynalite's default is 500 ms in CREATING.
  const worker = new Worker(new URL('./dynalite-thread.mjs', import.meta.url), {
    workerData: { createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 },
  });
  const port = await new Promise<number>((resolve, reject) => {
    const failed = (error: Error) => {
      settle();
      reject(error);
    };
    const exited = (code: number) => failed(new Error(`the embedded DynamoDB engine exited (code ${code})`));
    const answered = (message: { port?: number; error?: string }) => {
      settle();
      if (message.port === undefined)
        reject(new Error(`the embedded DynamoDB engine failed: ${message.error}`));
      else resolve(message.port);
    };
    // Only these listeners go: the Worker's own keep its message port referenced.
    const settle = () => {
      worker.off('error', failed);
      worker.off('exit', exited);
      worker.off('message', answered);
    };
    worker.once('error', failed);
    worker.once('exit', exited);
    worker.once('message', answered);
  });
  worker.on('error', (error) =>
    loggers.local.error('the embedded DynamoDB engine failed', { error: String(error) }),
  );
  return {
    endpoint: `http://127.0.0.1:${port}`,
    async close() {
      const closed = new Promise((resolve) => {
        worker.once('message', resolve);
        worker.once('exit', resolve);
      });
      worker.postMessage('close');
      await closed;
      await worker.terminate();
    },
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
