import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import pMap from 'p-map';
import { createDynamoDbClient } from '../../functions/adapters/aws-clients.ts';
import { eventOnlyLookups } from '../../functions/adapters/ecs/ecs-lookups.ts';
import { handleEcsEvent } from '../../functions/adapters/edges/ecs-events.ts';
import { isLoopback } from '../../functions/adapters/tfserving/tfserving-client.ts';
import { createRegistry, type Registry, STORE_BUDGETS } from '../../functions/composition/registry.ts';
import { loadConfig } from '../../functions/domain/settings.ts';
import type { TaskEventOutcome } from '../../functions/domain/task-events.ts';
import { ensureTable } from '../../infra/local/dynamodb-engine.ts';
import { StandInFleet } from '../../tools/fleet/stand-in-fleet.ts';
import { type BenchTask, loopbackHost, taskEvent } from '../../tools/fleet/task-events.ts';
import type { ModelSeed } from '../../tools/tfserving-stand-in/stand-in.ts';
import { type CountSummary, DdbCounter } from './ddb-counter.ts';

/**
 * A registry over a real engine (whose endpoint is already in the environment) with K tasks
 * registered through the real ECS events handler, each task's TF Serving a stand-in on its own
 * loopback host in a child process. The registry's DynamoDB client counts its operations.
 */
export interface FleetRegistry {
  readonly registry: Registry;
  readonly db: DynamoDBDocumentClient;
  readonly counter: DdbCounter;
  readonly fleet: StandInFleet;
  readonly tasks: readonly BenchTask[];
  readonly registrationMs: number;
  /** DynamoDB operations of the registration (one RUNNING event per task, each probed at once). */
  readonly registrationCounts: CountSummary;
  close(): Promise<void>;
}

export async function startFleetRegistry(options: {
  readonly table: string;
  readonly tasks: number;
  readonly hostBlock: number;
  readonly runId: string;
  readonly models: Readonly<Record<string, ModelSeed>>;
  readonly env?: Readonly<Record<string, string>>;
  /** The registry's clock (a virtual one lets a benchmark run minutes of rounds back to back). */
  readonly now?: () => number;
}): Promise<FleetRegistry> {
  const hosts = Array.from({ length: options.tasks }, (_, i) => loopbackHost(options.hostBlock, i));
  const fleet = await StandInFleet.start(hosts, options.models);
  const db = createDynamoDbClient(STORE_BUDGETS.probe.client);
  const base = new DynamoDBClient({});
  const closeAll = async () => {
    db.destroy();
    base.destroy();
    await fleet.close();
  };
  try {
    await ensureTable(base, options.table);
    const counter = new DdbCounter().attach(db);
    const config = loadConfig({ TABLE_NAME: options.table, ...options.env });
    const registry = createRegistry(config, eventOnlyLookups('127.0.0.1'), {
      isAllowedProbeHost: isLoopback,
      instrument: (client) => counter.attach(client),
      ...(options.now ? { now: options.now } : {}),
    });
    const models = Object.keys(options.models);
    const tasks = hosts.map((host, index) => ({ index, runId: options.runId, host, models }));
    const t0 = performance.now();
    const outcomes = await pMap(
      tasks,
      (task) => handleEcsEvent(registry.taskEvents, taskEvent(task, 'RUNNING')) as Promise<TaskEventOutcome>,
      { concurrency: 32 },
    );
    const registrationMs = Math.round(performance.now() - t0);
    const failed = outcomes.flatMap((o) => o.probes ?? []).filter((p) => !p.ok);
    if (failed.length > 0)
      throw new Error(`${failed.length} registration probes failed: ${JSON.stringify(failed[0])}`);
    const registrationCounts = counter.summary();
    counter.reset();
    return {
      registrationCounts,
      registry,
      db,
      counter,
      fleet,
      tasks,
      registrationMs,
      async close() {
        registry.close();
        await closeAll();
      },
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}
