/**
 * Benchmark 5, cost: the DynamoDB operations of a fleet of 100 tasks × 3 models at the default
 * settings, counted (with the capacity units the engine reports) during steady-state probe rounds
 * (nothing changing), discovery calls and a reconcile round, and the table's size; then the monthly
 * cost of that fleet (`cost-model.ts`) with each kind of discovery API, beside AWS Cloud Map.
 */
import { setTimeout } from 'node:timers/promises';
import { DynamoDBClient, paginateScan } from '@aws-sdk/client-dynamodb';
import { createDiscoveryHandler } from '../functions/adapters/edges/discovery-api.ts';
import { handleEcsEvent } from '../functions/adapters/edges/ecs-events.ts';
import { discoveryDeps } from '../functions/composition/registry.ts';
import { parseTaskDetail } from '../functions/domain/ecs-task-event.ts';
import type { EcsTaskReader } from '../functions/domain/ports.ts';
import { runProbeRound } from '../functions/domain/probe.ts';
import { reconcile } from '../functions/domain/reconcile.ts';
import { applyTaskEvent } from '../functions/domain/task-events.ts';
import { localContext } from '../infra/local/local-context.ts';
import { type EngineKind, startEngine, useEndpoint } from '../tools/dynamodb-engines.ts';
import { type BenchTask, taskEvent } from '../tools/fleet/task-events.ts';
import { ASSUMPTIONS, type CostMeasurements, type CostModel, costModel, FLEET } from './cost-model.ts';
import { READ_COMMANDS } from './lib/ddb-counter.ts';
import { startFleetRegistry } from './lib/harness.ts';
import { ITEM_STORAGE_OVERHEAD_BYTES, itemBytes } from './lib/item-size.ts';
import { median, round } from './lib/stats.ts';
import { PRICES } from './prices.ts';

/** ECS answers ListTasks in pages of up to 100 ARNs and DescribeTasks for up to 100 tasks. */
const ECS_PAGE = 100;

export async function benchCost(options: {
  readonly engine: EngineKind;
  readonly rounds: number;
  readonly callsPerModel: number;
  readonly log?: (line: string) => void;
}): Promise<{
  measurements: CostMeasurements;
  model: CostModel;
  prices: typeof PRICES;
  assumptions: typeof ASSUMPTIONS;
}> {
  const engine = await startEngine(options.engine);
  try {
    useEndpoint(engine.endpoint);
    // A virtual clock: rounds run back to back while the registry sees them PROBE_INTERVAL apart,
    // so lease renewals and markers show up as they would over minutes of steady state.
    let offsetMs = 0;
    const now = () => Date.now() + offsetMs;
    const harness = await startFleetRegistry({
      table: 'cost-fleet',
      tasks: FLEET.tasks,
      hostBlock: 90,
      runId: 'cost',
      models: Object.fromEntries(FLEET.models.map((m) => [m, { available: [1, 2] }])),
      now,
    });
    try {
      const { registry, counter } = harness;
      const config = registry.config;
      const intervalMs = config.probeIntervalSeconds * 1000;
      const advance = (since: number) => {
        offsetMs += Math.max(0, intervalMs - (Date.now() - since));
      };
      // Two rounds to settle (the first one after registration writes what registration left).
      for (let i = 0; i < 2; i += 1) {
        const t0 = Date.now();
        await runProbeRound(registry.probe);
        advance(t0);
      }
      counter.reset();
      const durations: number[] = [];
      let targets = 0;
      const virtualStart = now();
      // The probe's own CPU: the stand-ins and the engine run in other processes.
      const probeCpu0 = process.cpuUsage();
      for (let i = 0; i < options.rounds; i += 1) {
        const t0 = Date.now();
        const summary = await runProbeRound(registry.probe);
        durations.push(Date.now() - t0);
        targets = summary.targets;
        if (summary.healthy !== summary.targets)
          throw new Error('steady state expected: every probe healthy');
        advance(t0);
      }
      const probeCpu = process.cpuUsage(probeCpu0);
      const virtualMinutes = (now() - virtualStart) / 60_000;
      const rounds = counter.summary();
      const perRound = {
        reads: round(rounds.reads / options.rounds, 2),
        readUnits: round(rounds.readUnits / options.rounds, 2),
        writes: round(rounds.writes / options.rounds, 2),
        writeUnits: round(rounds.writeUnits / options.rounds, 2),
      };

      // Each call its own read, as separate Lambda invocations make them (no read shared between calls).
      const handler = createDiscoveryHandler(
        discoveryDeps(registry.config, registry.stores.discovery, { now, sharedReadMs: 0 }),
      );
      const event = (model: string) =>
        ({
          resource: '/models/{model}',
          path: `/models/${model}`,
          httpMethod: 'GET',
          headers: { Accept: 'application/json' },
          pathParameters: { model },
        }) as never;
      for (const model of FLEET.models) await handler(event(model), localContext('discovery'));
      counter.reset();
      // Calls arrive at the modelled rate, the models in turn, as one container would see them:
      // back to back, a process could answer some calls from a read it already has in hand, and
      // the read units per call would be lower than the fleet's calls would cost.
      const gapMs = 1000 / FLEET.discoveryCallsPerSecond;
      const start = performance.now();
      const cpu0 = process.cpuUsage();
      let calls = 0;
      let answerBytes = 0;
      for (let i = 0; i < options.callsPerModel; i += 1) {
        for (const model of FLEET.models) {
          const wait = start + calls * gapMs - performance.now();
          if (wait > 0) await setTimeout(wait);
          const answer = await handler(event(model), localContext('discovery'));
          if (answer.statusCode !== 200) throw new Error(`discovery answered ${answer.statusCode}`);
          calls += 1;
          answerBytes += Buffer.byteLength(answer.body, 'utf8');
        }
      }
      const cpu = process.cpuUsage(cpu0);
      const discoveryCounts = counter.summary();
      const readsByCommand = Object.fromEntries(
        READ_COMMANDS.filter((command) => discoveryCounts.byCommand[command] !== undefined).map((command) => [
          command,
          round((discoveryCounts.byCommand[command]?.calls ?? 0) / calls, 2),
        ]),
      );

      // A steady reconcile round: ECS lists every registered task, at the version already applied.
      const details = harness.tasks.map((task) => parseTaskDetail(taskEvent(task, 'RUNNING').detail));
      const clusterArn = (details[0] as (typeof details)[number]).clusterArn;
      let ecsCalls = 0;
      const ecs: EcsTaskReader = {
        listClusters: async () => {
          ecsCalls += 1;
          return [clusterArn];
        },
        listRunningTaskArns: async () => {
          ecsCalls += Math.max(1, Math.ceil(details.length / ECS_PAGE));
          return details.map((detail) => detail.taskArn);
        },
        describeTasks: async (_cluster, taskArns) => {
          ecsCalls += 1;
          const asked = new Set(taskArns);
          return { tasks: details.filter((detail) => asked.has(detail.taskArn)), missing: [], invalid: [] };
        },
      };
      const warnings: string[] = [];
      counter.reset();
      const reconcileCpu0 = process.cpuUsage();
      const reconciled = await reconcile({
        ecs,
        store: registry.store,
        apply: (detail) => applyTaskEvent(detail, registry.taskEvents),
        clusterArns: [clusterArn],
        log: { warn: (message, attributes) => warnings.push(`${message} ${JSON.stringify(attributes)}`) },
      });
      const reconcileCpu = process.cpuUsage(reconcileCpu0);
      const reconcileCounts = counter.summary();
      if (
        reconciled.applied + reconciled.forgotten + reconciled.errors > 0 ||
        reconciled.described !== FLEET.tasks
      ) {
        throw new Error(
          `steady state expected: reconcile ${JSON.stringify(reconciled)} ${warnings.join('; ')}`,
        );
      }

      // The table in steady state, item by item, as DynamoDB bills its storage.
      const scanner = new DynamoDBClient({});
      let items = 0;
      let storedBytes = 0;
      try {
        for await (const page of paginateScan({ client: scanner }, { TableName: config.tableName })) {
          for (const item of page.Items ?? []) {
            items += 1;
            storedBytes += itemBytes(item) + ITEM_STORAGE_OVERHEAD_BYTES;
          }
        }
      } finally {
        scanner.destroy();
      }

      counter.reset();
      await handleEcsEvent(registry.taskEvents, taskEvent(harness.tasks[0] as BenchTask, 'DRAINING'));
      const drain = counter.summary();

      const measurements: CostMeasurements = {
        engine: options.engine,
        settings: {
          intervalSeconds: config.probeIntervalSeconds,
          unhealthyAfterSeconds: config.unhealthyAfterSeconds,
          removeAfterSeconds: config.removeAfterSeconds,
        },
        targets,
        roundsCounted: options.rounds,
        virtualMinutes: round(virtualMinutes, 2),
        roundMs: round(median(durations), 1),
        roundCpuMs: round((probeCpu.user + probeCpu.system) / 1000 / options.rounds, 1),
        perRound,
        writesPerEndpointModelPerMinute: round(rounds.writes / targets / virtualMinutes, 3),
        writeUnitsPerEndpointModelPerMinute: round(rounds.writeUnits / targets / virtualMinutes, 3),
        discovery: {
          calls,
          readsPerCall: round(discoveryCounts.reads / calls, 2),
          readUnitsPerCall: round(discoveryCounts.readUnits / calls, 2),
          readsByCommand,
          answerBytes: Math.round(answerBytes / calls),
          cpuMsPerCall: round((cpu.user + cpu.system) / 1000 / calls, 3),
        },
        reconcile: {
          reads: reconcileCounts.reads,
          readUnits: round(reconcileCounts.readUnits, 2),
          writes: reconcileCounts.writes,
          writeUnits: round(reconcileCounts.writeUnits, 2),
          ecsCalls,
          cpuMs: round((reconcileCpu.user + reconcileCpu.system) / 1000, 1),
        },
        storage: { items, bytes: storedBytes },
        events: {
          runningWrites: round(harness.registrationCounts.writes / FLEET.tasks, 2),
          drainWrites: drain.writes,
          drainReads: drain.reads,
        },
      };
      options.log?.(
        `cost: ${measurements.writesPerEndpointModelPerMinute} writes/endpoint-model/min, ` +
          `${measurements.discovery.readsPerCall} reads ${JSON.stringify(readsByCommand)} ` +
          `(${measurements.discovery.readUnitsPerCall} RRU)/discovery call, ${items} items stored`,
      );
      return { measurements, model: costModel(measurements), prices: PRICES, assumptions: ASSUMPTIONS };
    } finally {
      await harness.close();
    }
  } finally {
    await engine.stop();
  }
}
