/**
 * Benchmark 2, probe round: K endpoints × 2 models on TF Serving stand-ins (a child process, one
 * loopback host each). The floor is a bare fan-out of the same status GETs at the same concurrency,
 * through the same TfServingClient, with no registry work; then full probe rounds (`runProbeRound`).
 * Floor and round alternate, so both see the same machine. Rounds run back to back: steady state, nothing changing (lease renewals, due every REMOVE_AFTER, are counted by
 * the cost benchmark on a virtual clock).
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import pMap from 'p-map';
import { TABLE_KEYS } from '../functions/adapters/dynamodb/table.ts';
import { probeTargets, type RoundSummary, runProbeRound } from '../functions/domain/probe.ts';
import { type EngineKind, startEngine, useEndpoint } from '../tools/dynamodb-engines.ts';
import { startFleetRegistry } from './lib/harness.ts';
import { median, ratio, round, rssSampler } from './lib/stats.ts';

export interface Timing {
  readonly median: number;
  readonly min: number;
  readonly samples: number[];
}

export interface ProbeRoundResult {
  readonly engine: EngineKind;
  readonly endpoints: number;
  readonly targets: number;
  readonly concurrency: number;
  readonly repetitions: number;
  readonly floorMs: Timing;
  readonly roundMs: Timing;
  /** Median round / median floor. */
  readonly ratio: number;
  readonly healthy: number;
  readonly writesPerRound: number;
  readonly writeUnitsPerRound: number;
  readonly readsPerRound: number;
  readonly readUnitsPerRound: number;
  readonly peakRssMiB: { floor: number; round: number };
  readonly registrationMs: number;
  /** One model partition read as the round reads it (whole partition) and EP# rows only. */
  readonly partitionRead: {
    readonly wholeMs: number;
    readonly wholeReadUnits: number;
    readonly probeRowsOnlyMs: number;
    readonly probeRowsOnlyReadUnits: number;
  };
}

export async function benchProbeRounds(options: {
  readonly engines: readonly EngineKind[];
  readonly sizes: readonly number[];
  readonly repetitions: number;
  readonly log?: (line: string) => void;
}): Promise<ProbeRoundResult[]> {
  const results: ProbeRoundResult[] = [];
  for (const kind of options.engines) {
    const engine = await startEngine(kind);
    try {
      useEndpoint(engine.endpoint);
      for (const [i, k] of options.sizes.entries()) {
        const r = await benchOne(kind, k, 110 + i + (kind === 'ddb-local' ? 10 : 0), options.repetitions);
        results.push(r);
        options.log?.(
          `probe ${kind} K=${k}: floor ${r.floorMs.median} ms, round ${r.roundMs.median} ms (×${r.ratio}), ` +
            `${r.writesPerRound} writes`,
        );
      }
    } finally {
      await engine.stop();
    }
  }
  return results;
}

const timing = (samples: number[]): Timing => ({
  median: round(median(samples), 1),
  min: Math.min(...samples),
  samples,
});

async function benchOne(engine: EngineKind, k: number, hostBlock: number, repetitions: number) {
  const harness = await startFleetRegistry({
    table: `probe-${engine}-${k}`,
    tasks: k,
    hostBlock,
    runId: `p${k}`,
    models: { alpha: { available: [1, 2] }, beta: { available: [7] } },
  });
  try {
    const { registry, counter } = harness;
    const concurrency = registry.probe.concurrency;
    const targets = probeTargets(await registry.stores.probe.listRunningTasks());
    if (targets.length !== 2 * k) throw new Error(`expected ${2 * k} targets, found ${targets.length}`);

    const floor = async () => {
      const sampler = rssSampler();
      const t0 = performance.now();
      const verdicts = await pMap(targets, (t) => registry.tfserving.modelStatus(t.endpoint, t.model), {
        concurrency,
      });
      const ms = performance.now() - t0;
      const ok = verdicts.filter((v) => v.ok).length;
      if (ok !== targets.length) throw new Error(`floor: ${targets.length - ok} probes failed`);
      return { ms, rss: sampler.stop() };
    };
    const measureRound = async (run: () => Promise<RoundSummary>) => {
      counter.reset();
      const sampler = rssSampler();
      const t0 = performance.now();
      const summary = await run();
      const ms = performance.now() - t0;
      if (summary.healthy !== targets.length) throw new Error(`round: ${summary.failed} probes failed`);
      return { ms, rss: sampler.stop(), summary, counts: counter.summary() };
    };
    const full = () => measureRound(() => runProbeRound(registry.probe));

    // Warm-up: connections are open from registration; this warms the code paths and settles the
    // rows (the first round after registration may still write).
    await floor();
    await full();
    const samples = { floor: [] as number[], round: [] as number[] };
    let floorRss = 0;
    let roundRss = 0;
    let last: Awaited<ReturnType<typeof full>> | undefined;
    const orders = [
      ['floor', 'round'],
      ['round', 'floor'],
    ] as const;
    for (let rep = 0; rep < repetitions; rep += 1) {
      for (const which of orders[rep % 2] as readonly ('floor' | 'round')[]) {
        if (which === 'floor') {
          const f = await floor();
          samples.floor.push(round(f.ms, 1));
          floorRss = Math.max(floorRss, f.rss);
        } else {
          last = await full();
          samples.round.push(round(last.ms, 1));
          roundRss = Math.max(roundRss, last.rss);
        }
      }
    }
    const result = last as NonNullable<typeof last>;
    const floorTiming = timing(samples.floor);
    const roundTiming = timing(samples.round);
    return {
      engine,
      endpoints: k,
      targets: targets.length,
      concurrency,
      repetitions,
      floorMs: floorTiming,
      roundMs: roundTiming,
      ratio: ratio(roundTiming.median, floorTiming.median),
      healthy: result.summary.healthy,
      writesPerRound: result.counts.writes,
      writeUnitsPerRound: round(result.counts.writeUnits, 1),
      readsPerRound: result.counts.reads,
      readUnitsPerRound: round(result.counts.readUnits, 1),
      peakRssMiB: { floor: floorRss, round: roundRss },
      registrationMs: harness.registrationMs,
      partitionRead: await partitionReads(harness, 'alpha'),
    } satisfies ProbeRoundResult;
  } finally {
    await harness.close();
  }
}

/** The round's read of one model partition, against a Query of the EP# rows (what the probe uses). */
async function partitionReads(harness: Awaited<ReturnType<typeof startFleetRegistry>>, model: string) {
  const { registry, counter, db } = harness;
  const probeRowsOnly = async () => {
    let key: Record<string, unknown> | undefined;
    do {
      const page = await db.send(
        new QueryCommand({
          TableName: registry.stores.probe.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :ep)',
          ExpressionAttributeValues: {
            ':pk': TABLE_KEYS.modelPartition(model),
            ':ep': TABLE_KEYS.probeKey(''),
          },
          ConsistentRead: true,
          ExclusiveStartKey: key,
        }),
      );
      key = page.LastEvaluatedKey;
    } while (key !== undefined);
  };
  const measure = async (run: () => Promise<unknown>) => {
    await run();
    counter.reset();
    await run();
    const units = counter.summary().readUnits;
    const ms: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      const t0 = performance.now();
      await run();
      ms.push(performance.now() - t0);
    }
    return { ms: round(median(ms), 1), units: round(units, 1) };
  };
  const whole = await measure(() => registry.stores.probe.readModel(model));
  const rows = await measure(probeRowsOnly);
  return {
    wholeMs: whole.ms,
    wholeReadUnits: whole.units,
    probeRowsOnlyMs: rows.ms,
    probeRowsOnlyReadUnits: rows.units,
  };
}
