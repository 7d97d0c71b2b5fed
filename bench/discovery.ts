/**
 * Benchmark 1, discovery read path: N endpoints of the queried model among 50 models, on each
 * engine. In one interleaved loop, with one client:
 *   (a) reference: a bare QueryCommand of the model's partition (every page), ConsistentRead as the
 *       store (what discovery read before model snapshots; what the health route still reads);
 *   (b) the discovery Lambda handler (middy + Powertools) invoked in-process with an API Gateway event;
 *   (d) the same handler with `If-None-Match` = the current ETag (→ 304);
 * then (c) HTTP through the local runtime (`startLocalRegistry`) under autocannon (a child process)
 * at fixed concurrency, for 200 and for 304, side by side with (e) the floor: a bare `node:http`
 * server in the same process answering the same bytes and headers from memory (floor, registry,
 * 304, floor: the floor figure is the mean of its two runs).
 *
 * The rows are the registry's own: one endpoint is registered and probed through the real ECS events
 * handler against a TF Serving stand-in; its REG#/EP# items are read back and cloned (new ids and
 * loopback hosts) with BatchWriteItem to reach N; then every model's snapshot is rebuilt by the
 * domain's own `refreshSnapshot`, as the writers do.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import pMap from 'p-map';
import { createDynamoDbClient } from '../functions/adapters/aws-clients.ts';
import { DynamoDbRegistryStore } from '../functions/adapters/dynamodb/registry-store.ts';
import { TABLE_KEYS } from '../functions/adapters/dynamodb/table.ts';
import { eventOnlyLookups } from '../functions/adapters/ecs/ecs-lookups.ts';
import { createDiscoveryHandler } from '../functions/adapters/edges/discovery-api.ts';
import { handleEcsEvent } from '../functions/adapters/edges/ecs-events.ts';
import { isLoopback } from '../functions/adapters/tfserving/tfserving-client.ts';
import { createRegistry, discoveryDeps, STORE_BUDGETS } from '../functions/composition/registry.ts';
import { loadConfig } from '../functions/domain/settings.ts';
import { refreshSnapshot } from '../functions/domain/snapshots.ts';
import { ensureTable } from '../infra/local/dynamodb-engine.ts';
import { localContext } from '../infra/local/local-context.ts';
import { startLocalRegistry } from '../infra/local/local-registry.ts';
import { type EngineKind, startEngine, useEndpoint } from '../tools/dynamodb-engines.ts';
import { loopbackHost, taskEvent, taskId } from '../tools/fleet/task-events.ts';
import { TfServingStandIn } from '../tools/tfserving-stand-in/stand-in.ts';
import { DdbCounter } from './lib/ddb-counter.ts';
import { type Distribution, distribution, ratio, round, sleep } from './lib/stats.ts';

const run = promisify(execFile);
const QUERIED = 'resnet';
const OTHER_MODELS = 49;
const OTHER_ENDPOINTS = 20;

export interface HttpFigures {
  readonly connections: number;
  readonly durationSeconds: number;
  /** Requests answered within the duration. */
  readonly requests: number;
  readonly requestsPerSecond: number;
  readonly p50: number;
  readonly p99: number;
  readonly bytesPerResponse: number;
  readonly errors: number;
  readonly statusOk: boolean;
  /**
   * CPU time of this process (the server under test; autocannon runs in a child) per request
   * answered: what the ratio of requests/s comes from, less sensitive to a busy machine.
   */
  readonly cpuMicrosPerRequest: number;
}

export interface DiscoveryResult {
  readonly engine: EngineKind;
  readonly endpoints: number;
  readonly iterations: number;
  /** Milliseconds, sequential calls. */
  readonly bareQuery: Distribution;
  readonly handler: Distribution;
  readonly handler304: Distribution;
  /** handler p50 / bare Query p50. */
  readonly ratio: number;
  readonly ratio304: number;
  readonly responseBytes: number;
  /** DynamoDB reads (any kind) and read units of one full answer, and of one 304. */
  readonly readsPerCall: number;
  readonly readUnitsPerCall: number;
  readonly readUnitsPer304: number;
  /** Full answers one model sustains under DynamoDB's 3,000 read units per second per partition. */
  readonly callsPerSecondPerPartition: number;
  readonly http?: {
    readonly full: HttpFigures;
    readonly notModified: HttpFigures;
    /** The bare `node:http` server answering the same bytes (mean of the runs before and after). */
    readonly floor: HttpFigures;
    /** full req/s ÷ floor req/s. */
    readonly ratioToFloor: number;
  };
}

export interface DiscoveryOptions {
  readonly engines: readonly EngineKind[];
  readonly sizes: readonly number[];
  /** Sequential iterations per size (each iteration: one a, one b, one d). */
  readonly iterations: (n: number) => number;
  readonly httpSeconds: number;
  readonly connections: number;
  readonly log?: (line: string) => void;
}

export async function benchDiscovery(options: DiscoveryOptions): Promise<DiscoveryResult[]> {
  const results: DiscoveryResult[] = [];
  for (const kind of options.engines) {
    const engine = await startEngine(kind);
    try {
      useEndpoint(engine.endpoint);
      const template = await templateItems(kind);
      for (const n of options.sizes) {
        const result = await benchSize(kind, engine.endpoint, n, template, options);
        options.log?.(
          `discovery ${kind} N=${n}: query p50 ${result.bareQuery.p50} ms, handler ${result.handler.p50} ms (×${result.ratio}), ` +
            `304 ${result.handler304.p50} ms, ${result.readUnitsPerCall} RRU (304: ${result.readUnitsPer304}), ` +
            `http ${result.http?.full.requestsPerSecond ?? '-'} req/s vs floor ${result.http?.floor.requestsPerSecond ?? '-'} (×${result.http?.ratioToFloor ?? '-'})`,
        );
        results.push(result);
      }
    } finally {
      await engine.stop();
    }
  }
  return results;
}

type Item = Record<string, unknown>;

/** One endpoint registered and probed by the real code; its REG# and EP# items as stored. */
async function templateItems(kind: EngineKind): Promise<{ reg: Item; ep: Item }> {
  const table = `disc-template-${kind}`;
  const base = new DynamoDBClient({});
  const db = createDynamoDbClient(STORE_BUDGETS.probe.client);
  const host = '127.80.255.1';
  const stand = await TfServingStandIn.start({
    host,
    models: { [QUERIED]: { available: [1, 2], labels: { stable: 2 } } },
  });
  try {
    await ensureTable(base, table);
    const config = loadConfig({ TABLE_NAME: table });
    const registry = createRegistry(config, eventOnlyLookups('127.0.0.1'), {
      isAllowedProbeHost: isLoopback,
    });
    const outcome = await handleEcsEvent(
      registry.taskEvents,
      taskEvent({ index: 0, runId: 'tmpl', host, models: [QUERIED], labels: ['stable'] }, 'RUNNING'),
    );
    if (!('probes' in outcome) || !outcome.probes.every((p) => p.ok)) {
      throw new Error(`template registration failed: ${JSON.stringify(outcome)}`);
    }
    registry.close();
    const { Items = [] } = await db.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': TABLE_KEYS.modelPartition(QUERIED) },
      }),
    );
    const reg = Items.find((i) => TABLE_KEYS.isRegistrationKey(String(i.sk)));
    const ep = Items.find((i) => TABLE_KEYS.isProbeKey(String(i.sk)));
    if (reg === undefined || ep === undefined) throw new Error('template items not found');
    return { reg, ep };
  } finally {
    await stand.close();
    db.destroy();
    base.destroy();
  }
}

function cloneEndpoint(template: { reg: Item; ep: Item }, model: string, index: number, nowMs: number) {
  const id = taskId({ index, runId: model.slice(0, 4) });
  const endpointId = `bench/${id}/tfserving`;
  const taskArn = `arn:aws:ecs:us-east-1:123456789012:task/bench/${id}`;
  const pk = TABLE_KEYS.modelPartition(model);
  return [
    {
      ...template.reg,
      pk,
      sk: TABLE_KEYS.registrationKey(endpointId),
      endpointId,
      model,
      taskArn,
      host: loopbackHost(80, index),
    },
    {
      ...template.ep,
      pk,
      sk: TABLE_KEYS.probeKey(endpointId),
      endpointId,
      model,
      lastSuccessAt: nowMs,
      probedAt: nowMs,
      expiresAt: Math.ceil(nowMs / 1000) + 86_400,
    },
  ];
}

async function seed(db: DynamoDBDocumentClient, table: string, n: number, template: { reg: Item; ep: Item }) {
  const now = Date.now();
  const items: Item[] = [];
  const models = [QUERIED];
  for (let i = 0; i < n; i += 1) items.push(...cloneEndpoint(template, QUERIED, i, now));
  for (let m = 1; m <= OTHER_MODELS; m += 1) {
    const model = `model-${String(m).padStart(2, '0')}`;
    models.push(model);
    for (let i = 0; i < OTHER_ENDPOINTS; i += 1) items.push(...cloneEndpoint(template, model, i, now));
  }
  const batches: Item[][] = [];
  for (let i = 0; i < items.length; i += 25) batches.push(items.slice(i, i + 25));
  await pMap(
    batches,
    async (batch) => {
      let requests: Record<string, unknown>[] | undefined = batch.map((Item) => ({ PutRequest: { Item } }));
      for (let attempt = 0; requests !== undefined && requests.length > 0; attempt += 1) {
        if (attempt > 20) throw new Error('BatchWriteItem kept returning unprocessed items');
        const answer = await db.send(new BatchWriteCommand({ RequestItems: { [table]: requests as never } }));
        requests = answer.UnprocessedItems?.[table] as Record<string, unknown>[] | undefined;
      }
    },
    { concurrency: 8 },
  );
  // What the writers do after every routing change: each model's snapshot rebuilt from its rows.
  const store = new DynamoDbRegistryStore(db, table, 30_000);
  await pMap(models, (model) => refreshSnapshot({ store, now: Date.now }, model), { concurrency: 8 });
  return items.length;
}

/** The API Gateway fixture for GET /models/{model}, with every address made loopback. */
function apiEvent(ifNoneMatch?: string): APIGatewayProxyEvent {
  const path = fileURLToPath(new URL('../test/fixtures/events/apigw-rest/get-model.json', import.meta.url));
  const text = readFileSync(path, 'utf8').replace(
    /\b(?!127\.)\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b/g,
    '127.0.0.1',
  );
  const event = JSON.parse(text) as APIGatewayProxyEvent;
  event.pathParameters = { model: QUERIED };
  event.path = `/models/${QUERIED}`;
  if (ifNoneMatch !== undefined) {
    event.headers = { ...event.headers, 'If-None-Match': ifNoneMatch };
    event.multiValueHeaders = { ...event.multiValueHeaders, 'If-None-Match': [ifNoneMatch] };
  }
  return event;
}

async function benchSize(
  kind: EngineKind,
  endpoint: string,
  n: number,
  template: { reg: Item; ep: Item },
  options: DiscoveryOptions,
): Promise<DiscoveryResult> {
  const table = `disc-${kind}-${n}`;
  const base = new DynamoDBClient({});
  const db = createDynamoDbClient(STORE_BUDGETS.probe.client);
  let local: Awaited<ReturnType<typeof startLocalRegistry>> | undefined;
  try {
    await ensureTable(base, table);
    await seed(db, table, n, template);
    // Settings that keep every seeded endpoint served for the whole benchmark (no probe runs).
    const config = loadConfig({
      TABLE_NAME: table,
      PROBE_INTERVAL_SECONDS: '86400',
      UNHEALTHY_AFTER_SECONDS: '86400',
      REMOVE_AFTER_SECONDS: '86400',
    });
    const counter = new DdbCounter().attach(db);
    // The handler's own store, over the counted client, with discovery's deadline.
    const handler = createDiscoveryHandler({
      // Sequential calls measure one read each: none is shared with the call before.
      ...discoveryDeps(config, new DynamoDbRegistryStore(db, table, STORE_BUDGETS.discovery.deadlineMs), {
        sharedReadMs: 0,
      }),
    });
    const query = {
      TableName: table,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': TABLE_KEYS.modelPartition(QUERIED) },
      ConsistentRead: true,
    };
    const bareQuery = async () => {
      let key: Record<string, unknown> | undefined;
      let items = 0;
      do {
        const page = await db.send(new QueryCommand({ ...query, ExclusiveStartKey: key }));
        items += page.Items?.length ?? 0;
        key = page.LastEvaluatedKey;
      } while (key !== undefined);
      return items;
    };
    const full = apiEvent();
    const first = await handler(full, localContext('discovery'));
    const body = JSON.parse(first.body) as { endpoints: unknown[] };
    if (first.statusCode !== 200 || body.endpoints.length !== n) {
      throw new Error(
        `discovery answered ${first.statusCode} with ${body.endpoints?.length} endpoints, expected ${n}`,
      );
    }
    if ((await bareQuery()) !== 2 * n) throw new Error('bare query did not read 2N items');
    const etag = String(first.headers?.etag);
    const conditional = apiEvent(etag);

    counter.reset();
    await handler(full, localContext('discovery'));
    const perCall = counter.summary();
    counter.reset();
    await handler(conditional, localContext('discovery'));
    const per304 = counter.summary();
    counter.enabled = false;

    const timings = { a: [] as number[], b: [] as number[], d: [] as number[] };
    const runs = {
      a: bareQuery,
      b: async () => {
        const r = await handler(full, localContext('discovery'));
        if (r.statusCode !== 200) throw new Error(`handler answered ${r.statusCode}`);
      },
      d: async () => {
        const r = await handler(conditional, localContext('discovery'));
        if (r.statusCode !== 304) throw new Error(`conditional handler answered ${r.statusCode}`);
      },
    };
    const iterations = options.iterations(n);
    const warmup = Math.max(3, Math.round(iterations / 10));
    const orders = [
      ['a', 'b', 'd'],
      ['b', 'd', 'a'],
      ['d', 'a', 'b'],
    ] as const;
    for (let i = 0; i < warmup + iterations; i += 1) {
      for (const which of orders[i % 3] as readonly ('a' | 'b' | 'd')[]) {
        const t0 = performance.now();
        await runs[which]();
        if (i >= warmup) timings[which].push(performance.now() - t0);
      }
    }

    local = await startLocalRegistry({
      config,
      port: 0,
      dynamodbEndpoint: endpoint,
      isAllowedProbeHost: isLoopback,
      sweepIntervalMs: 86_400_000,
    });
    const url = `${local.url}/models/${QUERIED}`;
    const a = distribution(timings.a);
    const b = distribution(timings.b);
    const d = distribution(timings.d);
    // autocannon stops at the end of the duration with up to `connections` requests in flight:
    // let the server finish them before the next measurement (or before the engine stops).
    const settleMs = Math.min(30_000, Math.ceil(options.connections * b.p99) + 500);
    const http = options.httpSeconds > 0 ? await sideBySide(url, first, etag, options, settleMs) : undefined;
    return {
      engine: kind,
      endpoints: n,
      iterations,
      bareQuery: a,
      handler: b,
      handler304: d,
      ratio: ratio(b.p50, a.p50),
      ratio304: ratio(d.p50, b.p50),
      responseBytes: Buffer.byteLength(first.body),
      readsPerCall: perCall.reads,
      readUnitsPerCall: round(perCall.readUnits, 1),
      readUnitsPer304: round(per304.readUnits, 1),
      callsPerSecondPerPartition: Math.floor(PARTITION_READ_UNITS_PER_SECOND / perCall.readUnits),
      ...(http ? { http } : {}),
    };
  } finally {
    await local?.close();
    db.destroy();
    base.destroy();
  }
}

/** DynamoDB's limit per partition (and so per item): read units per second. */
const PARTITION_READ_UNITS_PER_SECOND = 3_000;

/**
 * The registry's HTTP figures beside the floor's: a bare `node:http` server in this process (as
 * the local runtime is) answering the handler's bytes and headers from memory, run before and
 * after the registry so drift on a shared machine shows up in both.
 */
async function sideBySide(
  url: string,
  answer: { body: string; headers?: Record<string, unknown> },
  etag: string,
  options: DiscoveryOptions,
  settleMs: number,
): Promise<NonNullable<DiscoveryResult['http']>> {
  const floorServer = await bareServer(answer);
  try {
    const address = floorServer.address() as { port: number };
    const floorUrl = `http://127.0.0.1:${address.port}/models/${QUERIED}`;
    const measure = (target: string, ifNoneMatch: string | undefined, expected: 200 | 304) =>
      autocannon(target, options.connections, options.httpSeconds, ifNoneMatch, expected, settleMs);
    const before = await measure(floorUrl, undefined, 200);
    const full = await measure(url, undefined, 200);
    const notModified = await measure(url, etag, 304);
    const after = await measure(floorUrl, undefined, 200);
    const floor = meanFigures(before, after);
    return { full, notModified, floor, ratioToFloor: ratio(full.requestsPerSecond, floor.requestsPerSecond) };
  } finally {
    await new Promise((resolve) => floorServer.close(resolve));
  }
}

/** A server that answers every request with `answer`, as the registry sent it. */
async function bareServer(answer: { body: string; headers?: Record<string, unknown> }): Promise<Server> {
  const body = Buffer.from(answer.body);
  const headers = {
    'content-type': 'application/json',
    etag: String(answer.headers?.etag),
    'cache-control': String(answer.headers?.['cache-control'] ?? 'no-cache'),
    'content-length': String(body.byteLength),
  };
  const server = createServer((_request, response) => {
    response.writeHead(200, headers);
    response.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

function meanFigures(a: HttpFigures, b: HttpFigures): HttpFigures {
  const mean = (x: number, y: number, digits = 1) => round((x + y) / 2, digits);
  return {
    connections: a.connections,
    durationSeconds: mean(a.durationSeconds, b.durationSeconds, 2),
    requests: a.requests + b.requests,
    requestsPerSecond: mean(a.requestsPerSecond, b.requestsPerSecond),
    p50: mean(a.p50, b.p50),
    p99: mean(a.p99, b.p99),
    bytesPerResponse: a.bytesPerResponse,
    errors: a.errors + b.errors,
    statusOk: a.statusOk && b.statusOk,
    cpuMicrosPerRequest: mean(a.cpuMicrosPerRequest, b.cpuMicrosPerRequest, 0),
  };
}

interface AutocannonJson {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  throughput: { total: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  '2xx': number;
  '3xx': number;
  start: string;
  finish: string;
}

/** autocannon in a child process (its CPU time stays off the server's event loop). */
async function autocannon(
  url: string,
  connections: number,
  seconds: number,
  ifNoneMatch: string | undefined,
  expected: 200 | 304,
  settleMs: number,
): Promise<HttpFigures> {
  if (!/^http:\/\/127\.0\.0\.1:\d+\//.test(url))
    throw new Error(`refusing to load a non-loopback URL: ${url}`);
  const cli = fileURLToPath(new URL('../node_modules/autocannon/autocannon.js', import.meta.url));
  const args = [cli, '-j', '-c', String(connections), '-d', String(seconds), '-t', '60'];
  if (ifNoneMatch !== undefined) args.push('-H', `If-None-Match:${ifNoneMatch}`);
  args.push(url);
  const cpu0 = process.cpuUsage();
  const { stdout } = await run(process.execPath, args, {
    timeout: (seconds + 120) * 1000,
    maxBuffer: 16 << 20,
  });
  await sleep(settleMs);
  const cpu = process.cpuUsage(cpu0);
  const json = JSON.parse(stdout) as AutocannonJson;
  const total = json.requests.total;
  const elapsed = (Date.parse(json.finish) - Date.parse(json.start)) / 1000;
  const statusOk = expected === 200 ? json['2xx'] === total : json['3xx'] === total;
  return {
    connections,
    durationSeconds: round(elapsed, 2),
    requests: total,
    requestsPerSecond: round(total / elapsed, 1),
    p50: json.latency.p50,
    p99: json.latency.p99,
    bytesPerResponse: total > 0 ? Math.round(json.throughput.total / total) : 0,
    errors: json.errors + json.timeouts,
    statusOk,
    cpuMicrosPerRequest: total > 0 ? Math.round((cpu.user + cpu.system) / total) : 0,
  };
}
