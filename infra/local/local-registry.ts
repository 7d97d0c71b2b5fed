import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  createDynamoDbClient,
  createEcsClient,
  ec2PrivateIpLookup,
} from '../../functions/adapters/aws-clients.ts';
import { AwsEcsLookups, eventOnlyLookups } from '../../functions/adapters/ecs/ecs-lookups.ts';
import { AwsEcsTaskReader } from '../../functions/adapters/ecs/ecs-task-reader.ts';
import { createDiscoveryHandler } from '../../functions/adapters/edges/discovery-api.ts';
import { createEcsEventBatchHandler } from '../../functions/adapters/edges/ecs-events.ts';
import { probeRounds } from '../../functions/adapters/edges/scheduled-probe.ts';
import { runReconcile } from '../../functions/adapters/edges/scheduled-reconcile.ts';
import { loggers } from '../../functions/adapters/observability.ts';
import { createRegistry, type Registry, STORE_BUDGETS } from '../../functions/composition/registry.ts';
import { knownModels } from '../../functions/domain/discovery.ts';
import { asError, ConfigError } from '../../functions/domain/errors.ts';
import { type RoundSummary, runProbeLoop } from '../../functions/domain/probe.ts';
import type { RegistryConfig } from '../../functions/domain/settings.ts';
import { applyTaskEvent } from '../../functions/domain/task-events.ts';
import { type EmbeddedEngine, ensureTable, startDynalite, sweepExpired } from './dynamodb-engine.ts';
import { createLocalServer } from './http-server.ts';

/**
 * The embedded local runtime: one process running the same handlers as the Lambdas, over an
 * in-process DynamoDB engine (or `AWS_ENDPOINT_URL_DYNAMODB`), with the probe on its interval.
 */

const RECONCILE_INTERVAL_MS = 60_000;

export interface LocalRegistryOptions {
  readonly config: RegistryConfig;
  /** 0 picks a free port (tests). */
  readonly port: number;
  readonly host?: string;
  /** An external DynamoDB endpoint; the embedded engine when absent. */
  readonly dynamodbEndpoint?: string;
  /** Where bridge-mode host ports live: this machine. */
  readonly containerInstanceHost?: string;
  /** Look task definitions up through this ECS endpoint; the event alone when absent. */
  readonly ecsEndpoint?: string;
  /** How often expired rows are deleted (dynalite has no TTL). */
  readonly sweepIntervalMs?: number;
  /** Hosts the probe may contact; tests confine it to loopback. */
  readonly isAllowedProbeHost?: (host: string) => boolean;
  /** Told after each probe round, with its summary (`durationMs` alone when the round failed as a whole). */
  readonly onProbeRound?: (round: RoundSummary | { readonly durationMs: number }) => void;
}

export interface LocalRegistry {
  readonly url: string;
  readonly engine: string;
  /** What the runtime runs (benchmarks use its TF Serving client and settings). */
  readonly registry: Registry;
  close(): Promise<void>;
}

/** How long an external DynamoDB has to answer at start (per call, two attempts). */
const EXTERNAL_ENGINE_TIMEOUT_MS = 3_000;

/** Creates the table; an external engine that does not answer is a configuration error. */
async function ensureRegistryTable(tableName: string, externalEndpoint: string | undefined): Promise<void> {
  const client = new DynamoDBClient({
    maxAttempts: 2,
    requestHandler: {
      connectionTimeout: EXTERNAL_ENGINE_TIMEOUT_MS,
      requestTimeout: EXTERNAL_ENGINE_TIMEOUT_MS,
    },
  });
  try {
    await ensureTable(client, tableName);
  } catch (error) {
    if (externalEndpoint === undefined) throw error;
    throw new ConfigError(
      'AWS_ENDPOINT_URL_DYNAMODB',
      externalEndpoint,
      `no DynamoDB answered there (${asError(error).message}); start DynamoDB Local or LocalStack at that address, or unset AWS_ENDPOINT_URL_DYNAMODB to use the embedded engine`,
    );
  } finally {
    client.destroy();
  }
}

/** Listens on host:port; a port in use is a configuration error naming PORT. */
async function listen(server: Server, port: number, host: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EADDRINUSE') return reject(error);
      reject(
        new ConfigError(
          'PORT',
          String(port),
          `${host}:${port} is already in use (another npm start?); stop that process, or choose another port (PORT=3001, or PORT=0 for any free port)`,
        ),
      );
    });
    server.listen(port, host, () => resolve());
  });
}

export async function startLocalRegistry(options: LocalRegistryOptions): Promise<LocalRegistry> {
  let embedded: EmbeddedEngine | undefined;
  let endpoint = options.dynamodbEndpoint;
  if (endpoint === undefined) {
    embedded = await startDynalite();
    endpoint = embedded.endpoint;
  }
  // The same client code as on Lambda: endpoints come from the environment, never from code.
  process.env.AWS_ENDPOINT_URL_DYNAMODB = endpoint;
  process.env.AWS_REGION ??= 'us-east-1';
  if (embedded !== undefined || !process.env.AWS_ACCESS_KEY_ID) {
    process.env.AWS_ACCESS_KEY_ID ??= 'local';
    process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
  }
  // Expired rows are swept with the probe's budget (a sweep may scan the whole table).
  const dynamodb = createDynamoDbClient(STORE_BUDGETS.probe.client);
  await ensureRegistryTable(options.config.tableName, embedded === undefined ? endpoint : undefined);

  // Local mode never calls AWS unless pointed at an ECS endpoint explicitly.
  const ecs = options.ecsEndpoint === undefined ? undefined : createEcsClient();
  const lookups =
    ecs === undefined
      ? eventOnlyLookups(options.containerInstanceHost ?? '127.0.0.1')
      : new AwsEcsLookups(ecs, ec2PrivateIpLookup(), loggers['ecs-events']);
  const registry = createRegistry(options.config, lookups, {
    ...(options.isAllowedProbeHost ? { isAllowedProbeHost: options.isAllowedProbeHost } : {}),
  });
  const server = createLocalServer({
    discovery: createDiscoveryHandler(registry.discovery),
    ecsEventBatch: createEcsEventBatchHandler(registry.taskEvents),
    knownModels: () => knownModels(registry.discovery),
  });
  const host = options.host ?? '127.0.0.1';
  await listen(server, options.port, host);
  const { port } = server.address() as AddressInfo;

  const stop = new AbortController();
  const sleep = (ms: number) => delay(ms, undefined, { signal: stop.signal }).catch(() => undefined);
  const intervalMs = options.config.probeIntervalSeconds * 1000;
  const round = probeRounds(registry.probe, intervalMs);
  const onRound = options.onProbeRound;
  const observed =
    onRound === undefined
      ? round
      : async () => {
          const summary = await round();
          onRound(summary);
          return summary;
        };
  const probing = runProbeLoop(observed, {
    intervalMs,
    deadlineMs: Number.POSITIVE_INFINITY,
    now: Date.now,
    sleep,
    signal: stop.signal,
  });
  /** Runs `task` every `ms` until shutdown; a failure is logged and the next run goes ahead. */
  const every = (ms: number, name: string, task: () => Promise<unknown>) =>
    (async () => {
      while (!stop.signal.aborted) {
        await sleep(ms);
        if (stop.signal.aborted) break;
        try {
          await task();
        } catch (error) {
          loggers.local.warn(`${name} failed`, { error: asError(error).message });
        }
      }
    })();
  const background = [
    every(options.sweepIntervalMs ?? 60_000, 'expiry sweep', () =>
      sweepExpired(dynamodb, options.config.tableName, Math.floor(Date.now() / 1000)),
    ),
    // With an ECS endpoint, ECS's view is reconciled every minute, as on AWS.
    ...(ecs === undefined
      ? []
      : [
          every(RECONCILE_INTERVAL_MS, 'reconcile', () =>
            runReconcile({
              ecs: new AwsEcsTaskReader(ecs),
              store: registry.store,
              apply: (detail) => applyTaskEvent(detail, registry.taskEvents),
              clusterArns: options.config.clusterArns,
              log: loggers.reconcile,
            }),
          ),
        ]),
  ];

  return {
    url: `http://${host}:${port}`,
    engine:
      embedded === undefined
        ? `external DynamoDB at ${endpoint}`
        : `embedded dynalite (in memory, ${endpoint})`,
    registry,
    async close() {
      stop.abort();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all([probing, ...background]);
      registry.close();
      dynamodb.destroy();
      await embedded?.close();
    },
  };
}
