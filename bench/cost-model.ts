/**
 * The cost model of benchmark 5 (`cost.ts` measures, this prices): the monthly cost of a fleet of
 * 100 tasks × 3 models from the DynamoDB operations and capacity units counted in steady state,
 * for each kind of discovery API (REST API, the default, and HTTP API, `API_KIND=http`), split
 * into what the registry costs with no discovery traffic (standing) and what each discovery call
 * adds; beside AWS Cloud Map for the same fleet. Every figure that depends on the registry's code
 * (read units per discovery call, writes per probe round, answer bytes) comes from the
 * measurements, so a change of the read or write path changes the model with no edit here.
 */
import { END_MARGIN_MS } from '../functions/adapters/edges/scheduled-probe.ts';
import { SETTINGS } from '../functions/domain/settings.ts';
import { cpuShare, FUNCTION_MEMORY_MB } from '../infra/aws/constructs/function-memory.ts';
import type { ApiKind } from '../infra/aws/context.ts';
import { round } from './lib/stats.ts';
import { BYTES_PER_GB, HTTP_API_METERING_BYTES, PRICES, SECONDS_PER_MONTH } from './prices.ts';

export const FLEET = { tasks: 100, models: ['resnet', 'bert', 't5'], discoveryCallsPerSecond: 100 } as const;

/** Assumptions the cost model needs that this machine cannot measure. */
export const ASSUMPTIONS = {
  /** DynamoDB round trip inside a Region (not measurable here). */
  queryRoundTripMs: 8,
  /** An ECS ListTasks or DescribeTasks round trip inside a Region (not measurable here). */
  ecsRoundTripMs: 30,
  ecsEventDurationMs: 100,
  /** Graviton's per-core speed taken as this machine's (CPU times are measured here). */
  lambdaCoreVsThisMachine: 1,
  /** Fleet churn: every task replaced once a day (RUNNING, drain, STOPPED events). */
  taskReplacementsPerDay: 1,
} as const;

/** Each function's memory (GB) and CPU share, as the stack deploys them (one place: FUNCTION_MEMORY_MB). */
const SIZE = {
  discovery: { gb: FUNCTION_MEMORY_MB.discovery / 1024, cpu: cpuShare(FUNCTION_MEMORY_MB.discovery) },
  probe: { gb: FUNCTION_MEMORY_MB.probe / 1024, cpu: cpuShare(FUNCTION_MEMORY_MB.probe) },
  reconcile: { gb: FUNCTION_MEMORY_MB.reconcile / 1024, cpu: cpuShare(FUNCTION_MEMORY_MB.reconcile) },
  ecsEvents: { gb: FUNCTION_MEMORY_MB['ecs-events'] / 1024 },
} as const;

/** The targets (issue 10, "Scale and cost"). */
export const COST_TARGETS = {
  /** Per million discovery calls with the HTTP API, at most this multiple of Cloud Map's price. */
  perMillionCallsVsCloudMap: 1.5,
  /** Standing cost (no discovery traffic) at most this multiple of Cloud Map's instance charge. */
  standingVsCloudMapInstances: 1,
  /** A full probe share's CPU per round at the probe's size, at most this part of the interval. */
  probeShareCpuOfInterval: 0.5,
} as const;

export interface CostMeasurements {
  readonly engine: string;
  readonly settings: { intervalSeconds: number; unhealthyAfterSeconds: number; removeAfterSeconds: number };
  readonly targets: number;
  readonly roundsCounted: number;
  /** Registry time the counted rounds covered (they run back to back on a virtual clock). */
  readonly virtualMinutes: number;
  readonly roundMs: number;
  /** The probe's CPU time per steady round, this machine (the stand-ins and the engine run elsewhere). */
  readonly roundCpuMs: number;
  readonly perRound: { reads: number; readUnits: number; writes: number; writeUnits: number };
  readonly writesPerEndpointModelPerMinute: number;
  readonly writeUnitsPerEndpointModelPerMinute: number;
  readonly discovery: {
    readonly calls: number;
    readonly readsPerCall: number;
    readonly readUnitsPerCall: number;
    /** Read operations per call by DynamoDB command (QueryCommand, GetItemCommand, …). */
    readonly readsByCommand: Readonly<Record<string, number>>;
    /** Mean bytes of an answer's body. */
    readonly answerBytes: number;
    readonly cpuMsPerCall: number;
  };
  /** One steady-state reconcile round (ECS lists every registered task, nothing to heal). */
  readonly reconcile: {
    readonly reads: number;
    readonly readUnits: number;
    readonly writes: number;
    readonly writeUnits: number;
    /** ECS API calls the round made (ListTasks pages, DescribeTasks batches). */
    readonly ecsCalls: number;
    readonly cpuMs: number;
  };
  /** The table in steady state: every item, sized as DynamoDB bills storage (with its overhead). */
  readonly storage: { readonly items: number; readonly bytes: number };
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

export interface CostTotal {
  readonly lines: CostLine[];
  readonly totalUsd: number;
}

/** This registry deployed with one kind of discovery API. */
export interface ApiVariant {
  readonly kind: ApiKind;
  readonly name: string;
  /** What a million discovery calls add, line by line, and in all. */
  readonly perMillionCalls: CostTotal;
  /** Standing cost plus FLEET.discoveryCallsPerSecond of discovery calls, for a month. */
  readonly monthly: CostTotal;
}

export interface TargetResult {
  readonly what: string;
  readonly oursUsd: number;
  readonly limitUsd: number;
  readonly ratio: number;
  readonly met: boolean;
}

export interface ProbeSizing {
  readonly memoryMb: number;
  readonly cpuShare: number;
  /** The default PROBE_TARGETS_PER_SHARD: the most targets one probe invocation takes. */
  readonly targetsPerShare: number;
  /** Measured here: the probe's CPU per target per steady round. */
  readonly cpuMsPerTarget: number;
  /** A full share's CPU per round, as wall time at the function's CPU share. */
  readonly shareRoundCpuMs: number;
  readonly intervalMs: number;
  /** `shareRoundCpuMs` over the interval. */
  readonly ofInterval: number;
  readonly limit: number;
  readonly met: boolean;
}

/** A full share's CPU per round at the probe's size, against the interval it must fit in. */
export function probeSizing(m: Pick<CostMeasurements, 'roundCpuMs' | 'targets' | 'settings'>): ProbeSizing {
  const cpuMsPerTarget = m.roundCpuMs / m.targets;
  const targetsPerShare = SETTINGS.PROBE_TARGETS_PER_SHARD.default;
  const shareRoundCpuMs =
    (cpuMsPerTarget * targetsPerShare) / ASSUMPTIONS.lambdaCoreVsThisMachine / SIZE.probe.cpu;
  const intervalMs = m.settings.intervalSeconds * 1000;
  const ofInterval = shareRoundCpuMs / intervalMs;
  return {
    memoryMb: FUNCTION_MEMORY_MB.probe,
    cpuShare: round(SIZE.probe.cpu, 3),
    targetsPerShare,
    cpuMsPerTarget: round(cpuMsPerTarget, 3),
    shareRoundCpuMs: round(shareRoundCpuMs, 0),
    intervalMs,
    ofInterval: round(ofInterval, 2),
    limit: COST_TARGETS.probeShareCpuOfInterval,
    met: ofInterval <= COST_TARGETS.probeShareCpuOfInterval,
  };
}

export interface CostModel {
  readonly callsPerMonth: number;
  /** The registry with no discovery traffic: probe, reconcile, ECS events, storage. */
  readonly standing: CostTotal;
  readonly variants: Readonly<Record<ApiKind, ApiVariant>>;
  readonly otherVariants: { readonly name: string; readonly totalUsd: number; readonly note: string }[];
  readonly cloudMap: CostTotal & {
    readonly instances: number;
    readonly instancesUsd: number;
    readonly perMillionCallsUsd: number;
    readonly note: string;
  };
  readonly targets: { readonly perMillionCalls: TargetResult; readonly standing: TargetResult };
  /** Whether the probe's size (memory, so CPU) carries a full share of targets within its interval. */
  readonly probeSizing: ProbeSizing;
  readonly writesDominateBelowCallsPerSecond: number;
  /** What neither side's figure contains. */
  readonly notCounted: string;
}

const line = (item: string, quantity: number, unit: string, usd: number): CostLine => ({
  item,
  quantity: Math.round(quantity),
  unit,
  usd: round(usd, 2),
});

/** A line of what a million discovery calls add, unrounded until it is shown. */
interface RawLine {
  readonly item: string;
  readonly quantity: number;
  readonly unit: string;
  readonly usd: number;
}

/** Per-million figures are small: shown to a hundredth of a cent. */
const perMillionLine = (l: RawLine): CostLine => ({
  ...l,
  quantity: round(l.quantity, 2),
  usd: round(l.usd, 4),
});

const total = (lines: CostLine[]): CostTotal => ({
  lines,
  totalUsd: round(
    lines.reduce((sum, l) => sum + l.usd, 0),
    2,
  ),
});

/** HTTP API requests a discovery call is metered as: one per started 512 KB of its answer. */
export function httpApiMeteredRequests(answerBytes: number): number {
  return Math.max(1, Math.ceil(answerBytes / HTTP_API_METERING_BYTES));
}

/** Monthly cost of the fleet from the measured counts, the prices and the stated assumptions. */
export function costModel(m: CostMeasurements): CostModel {
  const month = SECONDS_PER_MONTH;
  const minutes = month / 60;
  const calls = FLEET.discoveryCallsPerSecond * month;
  const endpointModels = m.targets;
  const roundsPerMonth = (month / m.settings.intervalSeconds) | 0;

  // Standing: the probe loops inside each minute (rounds at 0, I, 2I, … until the last round that
  // ends before the minute's deadline), so it is billed for nearly every second.
  const lastStartS =
    Math.floor((60 - END_MARGIN_MS / 1000 - m.roundMs / 1000) / m.settings.intervalSeconds) *
    m.settings.intervalSeconds;
  const probeBilledS = lastStartS + m.roundMs / 1000;
  const probeWrites = m.writeUnitsPerEndpointModelPerMinute * endpointModels * minutes;
  const probeReads = m.perRound.readUnits * roundsPerMonth;
  const r = m.reconcile;
  const reconcileBilledMs =
    r.ecsCalls * ASSUMPTIONS.ecsRoundTripMs +
    (r.reads + r.writes) * ASSUMPTIONS.queryRoundTripMs +
    r.cpuMs / SIZE.reconcile.cpu;
  const reconcileGbS = (minutes * reconcileBilledMs * SIZE.reconcile.gb) / 1000;
  const replacements = FLEET.tasks * ASSUMPTIONS.taskReplacementsPerDay * (month / 86_400);
  // A replacement: the new task's RUNNING, the old task's drain, then its STOPPED (as the drain).
  const eventWrites = replacements * (m.events.runningWrites + 2 * m.events.drainWrites);
  const eventReads = replacements * 2 * m.events.drainReads;
  const storageGb = m.storage.bytes / BYTES_PER_GB;

  const standing = total([
    line(
      `probe Lambda duration (${round(probeBilledS, 1)} s per minute × ${SIZE.probe.gb} GB)`,
      minutes * probeBilledS * SIZE.probe.gb,
      'GB-s',
      minutes * probeBilledS * SIZE.probe.gb * PRICES.lambdaArmGbSecond.usd,
    ),
    line('probe Lambda requests', minutes, 'requests', minutes * PRICES.lambdaRequest.usd),
    line(
      `probe writes (${m.writesPerEndpointModelPerMinute} writes, ${m.writeUnitsPerEndpointModelPerMinute} WRU per endpoint-model per minute × ${endpointModels})`,
      probeWrites,
      'WRU',
      probeWrites * PRICES.dynamodbWriteRequestUnit.usd,
    ),
    line(
      `probe reads (${m.perRound.reads} per round, ${m.perRound.readUnits} RRU)`,
      probeReads,
      'RRU',
      probeReads * PRICES.dynamodbReadRequestUnit.usd,
    ),
    line(
      `reconcile Lambda duration, once a minute (${round(reconcileBilledMs, 0)} ms × ${SIZE.reconcile.gb} GB; ECS calls: ${r.ecsCalls}, DynamoDB calls: ${r.reads + r.writes})`,
      reconcileGbS,
      'GB-s',
      reconcileGbS * PRICES.lambdaArmGbSecond.usd,
    ),
    line('reconcile Lambda requests', minutes, 'requests', minutes * PRICES.lambdaRequest.usd),
    line(
      `reconcile reads and writes (${r.readUnits} RRU, ${r.writeUnits} WRU per round)`,
      minutes * (r.readUnits + r.writeUnits),
      'RRU+WRU',
      minutes *
        (r.readUnits * PRICES.dynamodbReadRequestUnit.usd +
          r.writeUnits * PRICES.dynamodbWriteRequestUnit.usd),
    ),
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
          (ASSUMPTIONS.ecsEventDurationMs / 1000) * SIZE.ecsEvents.gb * PRICES.lambdaArmGbSecond.usd),
    ),
    line(
      `table storage (${m.storage.items} items, ${round(m.storage.bytes / 1024, 1)} KiB with DynamoDB's per-item overhead)`,
      storageGb * 1e6,
      'KB-months',
      storageGb * PRICES.dynamodbStorageGbMonth.usd,
    ),
  ]);

  // What one million discovery calls add, whatever the API in front.
  const discoveryBilledMs =
    ASSUMPTIONS.queryRoundTripMs * m.discovery.readsPerCall + m.discovery.cpuMsPerCall / SIZE.discovery.cpu;
  const readCommands = Object.entries(m.discovery.readsByCommand)
    .map(([command, count]) => `${count} ${command.replace(/Command$/, '')}`)
    .join(' + ');
  const million = 1e6;
  const durationGbS = (million * discoveryBilledMs * SIZE.discovery.gb) / 1000;
  const behindAnyApi: RawLine[] = [
    {
      item: 'discovery Lambda requests',
      quantity: million,
      unit: 'requests',
      usd: million * PRICES.lambdaRequest.usd,
    },
    {
      item: `discovery Lambda duration (${round(discoveryBilledMs, 1)} ms × ${SIZE.discovery.gb} GB)`,
      quantity: durationGbS,
      unit: 'GB-s',
      usd: durationGbS * PRICES.lambdaArmGbSecond.usd,
    },
    {
      item: `discovery reads (${readCommands || 'none'}: ${m.discovery.readUnitsPerCall} RRU per call, measured)`,
      quantity: million * m.discovery.readUnitsPerCall,
      unit: 'RRU',
      usd: million * m.discovery.readUnitsPerCall * PRICES.dynamodbReadRequestUnit.usd,
    },
  ];
  const metered = httpApiMeteredRequests(m.discovery.answerBytes);
  const apiLines: Record<ApiKind, RawLine> = {
    rest: {
      item: 'API Gateway REST API requests',
      quantity: million,
      unit: 'requests',
      usd: million * PRICES.apiGatewayRestRequest.usd,
    },
    http: {
      item: `API Gateway HTTP API requests (${metered} metered per call: answers of ${round(m.discovery.answerBytes / 1024, 1)} KiB, 512 KB increments)`,
      quantity: million * metered,
      unit: 'requests',
      usd: million * metered * PRICES.apiGatewayHttpRequest.usd,
    },
  };
  const sumUsd = (lines: readonly RawLine[]) => lines.reduce((sum, l) => sum + l.usd, 0);
  const variant = (kind: ApiKind, name: string): ApiVariant => {
    const perMillion = [apiLines[kind], ...behindAnyApi];
    const monthly = [
      ...perMillion.map((l) =>
        line(l.item, (l.quantity * calls) / million, l.unit, (l.usd * calls) / million),
      ),
      ...standing.lines,
    ];
    return {
      kind,
      name,
      perMillionCalls: { lines: perMillion.map(perMillionLine), totalUsd: round(sumUsd(perMillion), 4) },
      monthly: {
        lines: monthly,
        totalUsd: round(standing.totalUsd + (sumUsd(perMillion) * calls) / million, 2),
      },
    };
  };
  const variants = {
    rest: variant('rest', 'REST API (API_KIND=rest, the default)'),
    http: variant('http', 'HTTP API (API_KIND=http)'),
  };

  const readUsdPerMonth = m.discovery.readUnitsPerCall * calls * PRICES.dynamodbReadRequestUnit.usd;
  const otherVariants = [
    {
      name: 'no API Gateway (Lambda function URL, IAM auth)',
      totalUsd: round(standing.totalUsd + (sumUsd(behindAnyApi) * calls) / million, 2),
      note: 'function URLs add no per-request charge beyond Lambda; not built',
    },
    {
      name: 'HTTP API, eventually consistent discovery reads',
      totalUsd: round(variants.http.monthly.totalUsd - readUsdPerMonth / 2, 2),
      note: 'half the read units; a drain could be seen up to ~1 s late (misses the 50 ms drain target)',
    },
  ];

  const instances = FLEET.tasks * FLEET.models.length;
  const instancesUsd = instances * PRICES.cloudMapInstanceMonth.usd;
  const cloudMapPerMillion = million * PRICES.cloudMapDiscoveryCall.usd;
  const cloudMapTotal = total([
    line(
      `registered instances (${FLEET.tasks} tasks × ${FLEET.models.length} model services)`,
      instances,
      'instance-months',
      instancesUsd,
    ),
    line('DiscoverInstances calls', calls, 'calls', calls * PRICES.cloudMapDiscoveryCall.usd),
  ]);
  const cloudMap = {
    ...cloudMapTotal,
    instances,
    instancesUsd: round(instancesUsd, 2),
    perMillionCallsUsd: round(cloudMapPerMillion, 4),
    note:
      'one Cloud Map service per model (the paper registers model@version services); ECS custom health ' +
      'checks are free; Route 53 health checks cannot reach private task IPs. With one service for all ' +
      `models (${FLEET.tasks} instances) the instance line is $${round(FLEET.tasks * PRICES.cloudMapInstanceMonth.usd, 2)}.`,
  };

  const httpPerMillion = variants.http.perMillionCalls.totalUsd;
  const perMillionLimit = COST_TARGETS.perMillionCallsVsCloudMap * cloudMapPerMillion;
  const standingLimit = COST_TARGETS.standingVsCloudMapInstances * instancesUsd;
  const probeWriteUsd = standing.lines.find((l) => l.item.startsWith('probe writes'))?.usd ?? 0;
  // Reads grow with calls, probe writes do not: below this rate the probe's writes cost more.
  const readUsdPerCallPerSecond = readUsdPerMonth / FLEET.discoveryCallsPerSecond;
  return {
    callsPerMonth: calls,
    standing,
    variants,
    otherVariants,
    cloudMap,
    targets: {
      perMillionCalls: {
        what: `per million discovery calls with the HTTP API ≤ ${COST_TARGETS.perMillionCallsVsCloudMap} × Cloud Map's`,
        oursUsd: httpPerMillion,
        limitUsd: round(perMillionLimit, 4),
        ratio: round(httpPerMillion / cloudMapPerMillion, 2),
        met: httpPerMillion <= perMillionLimit,
      },
      standing: {
        what: `standing cost (no discovery traffic) ≤ Cloud Map's instance charge for the same fleet (${instances} instances)`,
        oursUsd: standing.totalUsd,
        limitUsd: round(standingLimit, 2),
        ratio: round(standing.totalUsd / instancesUsd, 2),
        met: standing.totalUsd <= standingLimit,
      },
    },
    probeSizing: probeSizing(m),
    writesDominateBelowCallsPerSecond:
      readUsdPerCallPerSecond > 0
        ? round(probeWriteUsd / readUsdPerCallPerSecond, 1)
        : Number.POSITIVE_INFINITY,
    notCounted:
      'Not counted on either side: CloudWatch (the alarms, the dashboard, custom metrics and logs are optional here, and ' +
      'Cloud Map would need its own), X-Ray, data transfer out, the free tiers.',
  };
}
