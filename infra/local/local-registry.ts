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
import { createEcsEventsHandler } from '../../functions/adapters/edges/ecs-events.ts';
import { loggedProbeRound } from '../../functions/adapters/edges/scheduled-probe.ts';
import { runReconcile } from '../../functions/adapters/edges/scheduled-reconcile.ts';
import { logger } from '../../functions/adapters/observability.ts';
import { createRegistry, STORE_BUDGETS } from '../../functions/composition/registry.ts';
import { asError } from '../../functions/domain/errors.ts';
import { runProbeLoop } from '../../functions/domain/probe.ts';
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
}

export interface LocalRegistry {
  readonly url: string;
  readonly engine: string;
  close(): Promise<void>;
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
  await ensureTable(new DynamoDBClient({}), options.config.tableName);

  // Local mode never calls AWS unless pointed at an ECS endpoint explicitly.
  const ecs = options.ecsEndpoint === undefined ? undefined : createEcsClient();
  const lookups =
    ecs === undefined
      ? eventOnlyLookups(options.containerInstanceHost ?? '127.0.0.1')
      : new AwsEcsLookups(ecs, ec2PrivateIpLookup(), logger);
  const registry = createRegistry(options.config, lookups, {
    ...(options.isAllowedProbeHost ? { isAllowedProbeHost: options.isAllowedProbeHost } : {}),
  });
  const server = createLocalServer({
    discovery: createDiscoveryHandler(registry.discovery),
    ecsEvents: createEcsEventsHandler(registry.taskEvents),
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  const stop = new AbortController();
  const sleep = (ms: number) => delay(ms, undefined, { signal: stop.signal }).catch(() => undefined);
  const intervalMs = options.config.probeIntervalSeconds * 1000;
  const probing = runProbeLoop(() => loggedProbeRound(registry.probe, intervalMs), {
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
          logger.warn(`${name} failed`, { error: asError(error).message });
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
              log: logger,
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
