/**
 * Benchmark 5, cost: the DynamoDB operations of a fleet of 100 tasks × 3 models at the default
 * settings, counted (with the capacity units the engine reports) during steady-state probe rounds
 * (nothing changing) and discovery calls; then the monthly DynamoDB + Lambda (+ API Gateway) cost of
 * that fleet at 100 discovery calls per second, beside AWS Cloud Map for the same fleet.
 */
import { createDiscoveryHandler } from '../functions/adapters/edges/discovery-api.ts';
import { handleEcsEvent } from '../functions/adapters/edges/ecs-events.ts';
import { END_MARGIN_MS } from '../functions/adapters/edges/scheduled-probe.ts';
import { runProbeRound } from '../functions/domain/probe.ts';
import { localContext } from '../infra/local/local-context.ts';
import { type EngineKind, startEngine, useEndpoint } from '../tools/dynamodb-engines.ts';
import { type BenchTask, taskEvent } from '../tools/fleet/task-events.ts';
import type { CountSummary } from './lib/ddb-counter.ts';
import { startFleetRegistry } from './lib/harness.ts';
import { median, round } from './lib/stats.ts';
import { PRICES, SECONDS_PER_MONTH } from './prices.ts';

export const FLEET = { tasks: 100, models: ['resnet', 'bert', 't5'], discoveryCallsPerSecond: 100 } as const;

/** Assumptions the cost model needs that this machine cannot measure. */
export const ASSUMPTIONS = {
  /** DynamoDB Query round trip inside a Region for a ~70 KB partition (not measurable here). */
  queryRoundTripMs: 8,
  /** Lambda gives a full vCPU at 1,769 MB; a 256 MB function gets this share of one. */
  discoveryCpuShare: 256 / 1769,
  discoveryMemoryGb: 0.25,
  probeMemoryGb: 0.5,
  ecsEventsMemoryGb: 0.25,
  ecsEventDurationMs: 100,
  /** Fleet churn: every task replaced once a day (RUNNING, drain, STOPPED events). */
  taskReplacementsPerDay: 1,
} as const;

export interface CostMeasurements {
  readonly engine: EngineKind;
  readonly settings: { intervalSeconds: number; unhealthyAfterSeconds: number; removeAfterSeconds: number };
  readonly targets: number;
  readonly roundsCounted: number;
  /** Registry time the counted rounds covered (they run back to back on a virtual clock). */
  readonly virtualMinutes: number;
  readonly roundMs: number;
  readonly perRound: { reads: number; readUnits: number; writes: number; writeUnits: number };
  readonly writesPerEndpointModelPerMinute: number;
  readonly writeUnitsPerEndpointModelPerMinute: number;
  readonly discovery: {
    readonly calls: number;
    readonly readsPerCall: number;
    readonly readUnitsPerCall: number;
    readonly cpuMsPerCall: number;
  };
  readonly events: {
    readonly runningWrites: number;
    readonly drainWrites: number;
    readonly drainReads: number;
  };
}

export interface CostLine {
  readonly item: string;
  readonly quantity: number;
  readonly unit: string;
  readonly usd: number;
}

export interface CostModel {
  readonly ours: { readonly lines: CostLine[]; readonly totalUsd: number };
  readonly variants: { readonly name: string; readonly totalUsd: number; readonly note: string }[];
  readonly cloudMap: { readonly lines: CostLine[]; readonly totalUsd: number; readonly note: string };
  readonly writesDominateBelowCallsPerSecond: number;
}

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
      for (let i = 0; i < options.rounds; i += 1) {
        const t0 = Date.now();
        const summary = await runProbeRound(registry.probe);
        durations.push(Date.now() - t0);
        targets = summary.targets;
        if (summary.healthy !== summary.targets)
          throw new Error('steady state expected: every probe healthy');
        advance(t0);
      }
      const virtualMinutes = (now() - virtualStart) / 60_000;
      const rounds = counter.summary();
      const perRound = {
        reads: round(rounds.reads / options.rounds, 2),
        readUnits: round(rounds.readUnits / options.rounds, 2),
        writes: round(rounds.writes / options.rounds, 2),
        writeUnits: round(rounds.writeUnits / options.rounds, 2),
      };

      const handler = createDiscoveryHandler(registry.discovery);
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
      const cpu0 = process.cpuUsage();
      let calls = 0;
      for (let i = 0; i < options.callsPerModel; i += 1) {
        for (const model of FLEET.models) {
          const answer = await handler(event(model), localContext('discovery'));
          if (answer.statusCode !== 200) throw new Error(`discovery answered ${answer.statusCode}`);
          calls += 1;
        }
      }
      const cpu = process.cpuUsage(cpu0);
      const discoveryCounts = counter.summary();

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
        perRound,
        writesPerEndpointModelPerMinute: round(rounds.writes / targets / virtualMinutes, 3),
        writeUnitsPerEndpointModelPerMinute: round(rounds.writeUnits / targets / virtualMinutes, 3),
        discovery: {
          calls,
          readsPerCall: round(discoveryCounts.reads / calls, 2),
          readUnitsPerCall: round(discoveryCounts.readUnits / calls, 2),
          cpuMsPerCall: round((cpu.user + cpu.system) / 1000 / calls, 3),
        },
        events: {
          runningWrites: round(harness.registrationCounts.writes / FLEET.tasks, 2),
          drainWrites: drain.writes,
          drainReads: drain.reads,
        },
      };
      options.log?.(
        `cost: ${measurements.writesPerEndpointModelPerMinute} writes/endpoint-model/min, ` +
          `${measurements.discovery.readsPerCall} Query (${measurements.discovery.readUnitsPerCall} RRU)/discovery call`,
      );
      return { measurements, model: costModel(measurements), prices: PRICES, assumptions: ASSUMPTIONS };
    } finally {
      await harness.close();
    }
  } finally {
    await engine.stop();
  }
}

const line = (item: string, quantity: number, unit: string, usd: number): CostLine => ({
  item,
  quantity: Math.round(quantity),
  unit,
  usd: round(usd, 2),
});

/** Monthly cost of the fleet from the measured counts, the prices and the stated assumptions. */
export function costModel(m: CostMeasurements, _counts?: CountSummary): CostModel {
  const month = SECONDS_PER_MONTH;
  const calls = FLEET.discoveryCallsPerSecond * month;
  const endpointModels = m.targets;
  const roundsPerMonth = (month / m.settings.intervalSeconds) | 0;

  // Probe: the scheduled function loops inside each minute (rounds at 0, I, 2I, … until the last
  // round that ends before the minute's deadline), so it is billed for nearly every second.
  const invocations = month / 60;
  const lastStartS =
    Math.floor((60 - END_MARGIN_MS / 1000 - m.roundMs / 1000) / m.settings.intervalSeconds) *
    m.settings.intervalSeconds;
  const probeBilledS = lastStartS + m.roundMs / 1000;
  const probeWrites = m.writeUnitsPerEndpointModelPerMinute * endpointModels * (month / 60);
  const probeReads = m.perRound.readUnits * roundsPerMonth;

  const discoveryBilledMs =
    ASSUMPTIONS.queryRoundTripMs + m.discovery.cpuMsPerCall / ASSUMPTIONS.discoveryCpuShare;
  const replacements = FLEET.tasks * ASSUMPTIONS.taskReplacementsPerDay * (month / 86_400);
  // A replacement: the new task's RUNNING, the old task's drain, then its STOPPED (as the drain).
  const eventWrites = replacements * (m.events.runningWrites + 2 * m.events.drainWrites);
  const eventReads = replacements * 2 * m.events.drainReads;

  const lines = [
    line('API Gateway REST requests', calls, 'requests', calls * PRICES.apiGatewayRestRequest.usd),
    line('discovery Lambda requests', calls, 'requests', calls * PRICES.lambdaRequest.usd),
    line(
      `discovery Lambda duration (${round(discoveryBilledMs, 1)} ms × ${ASSUMPTIONS.discoveryMemoryGb} GB)`,
      (calls * discoveryBilledMs * ASSUMPTIONS.discoveryMemoryGb) / 1000,
      'GB-s',
      ((calls * discoveryBilledMs * ASSUMPTIONS.discoveryMemoryGb) / 1000) * PRICES.lambdaArmGbSecond.usd,
    ),
    line(
      `discovery reads (${m.discovery.readUnitsPerCall} RRU per call)`,
      calls * m.discovery.readUnitsPerCall,
      'RRU',
      calls * m.discovery.readUnitsPerCall * PRICES.dynamodbReadRequestUnit.usd,
    ),
    line(
      `probe writes (${m.writesPerEndpointModelPerMinute} writes, ${m.writeUnitsPerEndpointModelPerMinute} WRU per endpoint-model per minute × ${endpointModels})`,
      probeWrites,
      'WRU',
      probeWrites * PRICES.dynamodbWriteRequestUnit.usd,
    ),
    line(
      'probe task listing (one Query per round)',
      probeReads,
      'RRU',
      probeReads * PRICES.dynamodbReadRequestUnit.usd,
    ),
    line(
      `probe Lambda duration (${round(probeBilledS, 1)} s per minute × ${ASSUMPTIONS.probeMemoryGb} GB)`,
      invocations * probeBilledS * ASSUMPTIONS.probeMemoryGb,
      'GB-s',
      invocations * probeBilledS * ASSUMPTIONS.probeMemoryGb * PRICES.lambdaArmGbSecond.usd,
    ),
    line('probe Lambda requests', invocations, 'requests', invocations * PRICES.lambdaRequest.usd),
    line(
      'ecs-events writes and reads (1 replacement per task per day)',
      eventWrites + eventReads,
      'RRU+WRU',
      eventWrites * PRICES.dynamodbWriteRequestUnit.usd + eventReads * PRICES.dynamodbReadRequestUnit.usd,
    ),
    line(
      'ecs-events Lambda',
      replacements * 3,
      'requests',
      replacements *
        3 *
        (PRICES.lambdaRequest.usd +
          (ASSUMPTIONS.ecsEventDurationMs / 1000) *
            ASSUMPTIONS.ecsEventsMemoryGb *
            PRICES.lambdaArmGbSecond.usd),
    ),
  ];
  const total = round(
    lines.reduce((sum, l) => sum + l.usd, 0),
    2,
  );
  const usd = (name: string) => lines.find((l) => l.item.startsWith(name))?.usd ?? 0;
  const apiRest = usd('API Gateway REST');
  const probeWriteUsd = usd('probe writes');
  const readUsd = usd('discovery reads');
  const variants = [
    {
      name: 'HTTP API instead of REST API',
      totalUsd: round(total - apiRest + calls * PRICES.apiGatewayHttpRequest.usd, 2),
      note: 'API Gateway HTTP API at $1.00 per million (the design fixes REST v1 for LocalStack free)',
    },
    {
      name: 'no API Gateway (Lambda function URL, IAM auth)',
      totalUsd: round(total - apiRest, 2),
      note: 'function URLs add no per-request charge beyond Lambda',
    },
    {
      name: 'eventually consistent discovery Query',
      totalUsd: round(total - readUsd / 2, 2),
      note: 'half the read units; a drain could be seen up to ~1 s late (misses the 50 ms drain target)',
    },
  ];

  const instances = FLEET.tasks * FLEET.models.length;
  const cloudMapLines = [
    line(
      `registered instances (${FLEET.tasks} tasks × ${FLEET.models.length} model services)`,
      instances,
      'instance-months',
      instances * PRICES.cloudMapInstanceMonth.usd,
    ),
    line('DiscoverInstances calls', calls, 'calls', calls * PRICES.cloudMapDiscoveryCall.usd),
  ];
  // Reads grow with calls, probe writes do not: below this rate the probe's writes cost more.
  const readUsdPerCallPerSecond = readUsd / FLEET.discoveryCallsPerSecond;
  return {
    ours: { lines, totalUsd: total },
    variants,
    cloudMap: {
      lines: cloudMapLines,
      totalUsd: round(
        cloudMapLines.reduce((sum, l) => sum + l.usd, 0),
        2,
      ),
      note:
        'one Cloud Map service per model (the paper registers model@version services); ECS custom health ' +
        'checks are free; Route 53 health checks cannot reach private task IPs. With one service for all ' +
        `models (${FLEET.tasks} instances) the instance line is $${round(FLEET.tasks * PRICES.cloudMapInstanceMonth.usd, 2)}.`,
    },
    writesDominateBelowCallsPerSecond: round(probeWriteUsd / readUsdPerCallPerSecond, 1),
  };
}
