/**
 * Benchmark 7, probe at fleet scale: K endpoints × 2 models, the registry running as `npm start`
 * runs it (the local runtime: in-process dynalite, the probe loop on its interval, the HTTP API),
 * at the default settings. The K tasks are registered through `POST /events`; their TF Serving
 * stand-ins live in child processes (`tools/fleet`, one loopback host each).
 *
 * - Rounds: the duration of each steady round (every target healthy, nothing changing), against
 *   the probe interval. After each round, in the gap before the next, the bare fan-out of the same
 *   status GETs through the runtime's own TF Serving client at the same concurrency (the floor); a
 *   floor that overlapped a round is left out of both figures and counted.
 * - Dead → excluded: trials side by side, each at a random phase of the interval, each silently
 *   killing one stand-in (it stops listening) and timing until `GET /models/alpha` no longer
 *   returns it (the arrival of the first answer without it; one poller, a call every
 *   POLL_PAUSE_MS after the last one's answer).
 * - Memory: the peak RSS of this process, which is the registry's (it runs nothing else but the
 *   poller and the event posts), and of each stand-in child.
 *
 * It runs in a process of its own (`benchProbeFleet` forks this file), so the peak RSS is the
 * registry's and not that of the benchmarks before it:
 *
 *   npx tsx bench/probe-fleet.ts [--endpoints 10000] [--rounds 8] [--trials 10]
 */
import './support-quiet.ts';
import { fork } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pMap from 'p-map';
import { isLoopback } from '../functions/adapters/tfserving/tfserving-client.ts';
import type { RoundSummary } from '../functions/domain/probe.ts';
import { loadConfig } from '../functions/domain/settings.ts';
import { startLocalRegistry } from '../infra/local/local-registry.ts';
import { StandInFleet } from '../tools/fleet/stand-in-fleet.ts';
import { type BenchTask, loopbackHost, taskEvent } from '../tools/fleet/task-events.ts';
import { type Distribution, distribution, mib, ratio, round, rssSampler, sleep } from './lib/stats.ts';

const HOST_BLOCK = 140;
const MODELS = { alpha: { available: [1, 2] }, beta: { available: [7] } };
const EVENTS_PER_POST = 25;
const POLL_PAUSE_MS = 250;
/** Event posts in flight (a batch's events are applied one after the other). */
const POSTS_IN_FLIGHT = 4;

export interface ProbeFleetOptions {
  readonly endpoints: number;
  /** Steady rounds measured (each followed by a floor). */
  readonly rounds: number;
  /** Dead → excluded trials, side by side. */
  readonly trials: number;
}

export interface ProbeFleetResult {
  readonly endpoints: number;
  readonly targets: number;
  readonly settings: {
    readonly intervalSeconds: number;
    readonly timeoutMs: number;
    readonly failureThreshold: number;
    readonly unhealthyAfterSeconds: number;
    readonly concurrency: number;
  };
  readonly standInChildren: number;
  readonly standInStartMs: number;
  /** From the first `POST /events` to the last 202 (each RUNNING endpoint is probed at once). */
  readonly registrationMs: number;
  /** Steady rounds: every target healthy. */
  readonly roundMs: Distribution;
  readonly floorMs: Distribution;
  /** Round p50 / floor p50. */
  readonly ratio: number;
  /** Floors that a round started before they ended (left out, with that round, unless all were). */
  readonly overlappingFloors: number;
  /** No floor had a gap of its own (rounds back to back): the figures include overlapping ones. */
  readonly floorsOverlapOnly: boolean;
  /** The most targets a steady round found failing (0: all healthy). */
  readonly maxUnhealthyInRound: number;
  /** 1-minute load average of the machine at the start and the end (other processes included). */
  readonly loadAverage: readonly [number, number];
  /** Rounds that failed as a whole (the store did not answer in time), over the whole run. */
  readonly failedRounds: number;
  /** Registry writes per steady round (changed rows, unvouched rows, markers), median. */
  readonly writesPerRound: number;
  /** Rounds during the death trials (the poller's discovery calls share the process). */
  readonly roundMsDuringTrials: Distribution;
  readonly deadToExcluded: Distribution;
  /** Duration of one `GET /models/alpha` during the trials: the resolution of the figure above. */
  readonly discoveryCallMs: Distribution;
  /** Endpoints served by each `GET /models/alpha` of the trials: the fewest, and the median. */
  readonly servedDuringTrials: { readonly min: number; readonly p50: number; readonly answers: number };
  readonly memory: {
    /** RSS of the registry process before the fleet was registered, and its peak (MiB). */
    readonly registryBaselineMiB: number;
    readonly registryPeakMiB: number;
    /** Peak RSS during the steady rounds and floors only. */
    readonly registrySteadyPeakMiB: number;
    readonly standInPeakMiB: readonly number[];
  };
}

/** Runs the benchmark in a fresh process (its own peak RSS, its own file descriptors). */
export function benchProbeFleet(
  options: ProbeFleetOptions & { readonly log?: (line: string) => void },
): Promise<ProbeFleetResult> {
  const script = fileURLToPath(import.meta.url);
  const args = ['--endpoints', options.endpoints, '--rounds', options.rounds, '--trials', options.trials];
  const child = fork(script, [...args.map(String), '--ipc'], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const kill = () => child.exitCode === null && child.kill('SIGKILL');
  process.once('exit', kill);
  return new Promise<ProbeFleetResult>((resolve, reject) => {
    let result: ProbeFleetResult | undefined;
    child.on(
      'message',
      (message: { type: string; line?: string; result?: ProbeFleetResult; error?: string }) => {
        if (message.type === 'log' && message.line) options.log?.(message.line);
        else if (message.type === 'result') result = message.result;
        else if (message.type === 'error') reject(new Error(message.error));
      },
    );
    child.once('exit', (code) => {
      process.off('exit', kill);
      if (result !== undefined) resolve(result);
      else reject(new Error(`probe-fleet child exited with code ${code} and no result`));
    });
  });
}

/** The benchmark itself, in this process. */
export async function runProbeFleet(
  options: ProbeFleetOptions,
  log: (line: string) => void = () => {},
): Promise<ProbeFleetResult> {
  const k = options.endpoints;
  const loadStart = round(os.loadavg()[0] ?? 0, 2);
  const baseline = mib(process.memoryUsage.rss());
  const whole = rssSampler(50);
  const hosts = Array.from({ length: k }, (_, i) => loopbackHost(HOST_BLOCK, i));
  const fleet = await StandInFleet.start(hosts, MODELS);
  log(`probe-fleet K=${k}: ${hosts.length} stand-ins up in ${fleet.startMs} ms`);
  const config = loadConfig({ TABLE_NAME: 'probe-fleet' });
  const rounds: (RoundSummary & { endedAt: number })[] = [];
  let roundWaiter: (() => void) | undefined;
  let failedRounds = 0;
  const registry = await startLocalRegistry({
    config,
    port: 0,
    isAllowedProbeHost: isLoopback,
    onProbeRound: (summary) => {
      if (process.env.PROBE_FLEET_DEBUG) log(`round ${JSON.stringify(summary)}`);
      if ('targets' in summary) rounds.push({ ...summary, endedAt: Date.now() });
      else failedRounds += 1;
      roundWaiter?.();
    },
  });
  const nextRound = async (limitMs: number) => {
    const count = rounds.length;
    const deadline = Date.now() + limitMs;
    while (rounds.length === count) {
      if (Date.now() > deadline) throw new Error(`no probe round ended within ${limitMs} ms`);
      await new Promise<void>((resolve) => {
        roundWaiter = resolve;
        setTimeout(resolve, 200);
      });
    }
    return rounds.at(-1) as RoundSummary & { endedAt: number };
  };
  try {
    const runId = 'fleet';
    const tasks: BenchTask[] = hosts.map((host, index) => ({
      index,
      runId,
      host,
      models: Object.keys(MODELS),
    }));
    const batches = Array.from({ length: Math.ceil(k / EVENTS_PER_POST) }, (_, b) =>
      tasks.slice(b * EVENTS_PER_POST, (b + 1) * EVENTS_PER_POST),
    );
    const t0 = performance.now();
    let posted = 0;
    await pMap(
      batches,
      async (batch, b) => {
        if (b > 0 && b % 40 === 0) {
          const last = rounds.at(-1);
          log(
            `probe-fleet K=${k}: ${posted} tasks registered; last round ${last?.durationMs} ms over ${last?.targets} targets`,
          );
        }
        const events = JSON.stringify(batch.map((task) => taskEvent(task, 'RUNNING')));
        // A 503 (the store slow under the load) is retried: events are idempotent.
        for (let attempt = 1; ; attempt += 1) {
          let response: Response;
          let body: { applied?: number; skipped?: number };
          try {
            response = await fetch(`${registry.url}/events`, { method: 'POST', body: events });
            body = (await response.json()) as { applied?: number; skipped?: number };
          } catch (error) {
            // A kept-alive connection the server closed meanwhile (its 5 s idle timeout): post again.
            if (attempt >= 30) throw error;
            await sleep(1000);
            continue;
          }
          if (response.status === 202 && (body.applied ?? 0) + (body.skipped ?? 0) === batch.length) {
            posted += batch.length;
            return;
          }
          if (response.status !== 503 || attempt >= 30)
            throw new Error(
              `POST /events answered ${response.status}: ${JSON.stringify(body).slice(0, 300)}`,
            );
          await sleep(1000);
        }
      },
      { concurrency: POSTS_IN_FLIGHT },
    );
    const registrationMs = Math.round(performance.now() - t0);
    log(`probe-fleet K=${k}: registered in ${registrationMs} ms`);

    const intervalMs = config.probeIntervalSeconds * 1000;
    // Steady state: a round over every target that found each healthy (or, failing that, the
    // sixth round over every target: failures then show in maxUnhealthyInRound).
    for (let i = 0, full = 0; ; i += 1) {
      const r = await nextRound(120_000);
      if (r.targets === 2 * k) full += 1;
      if (r.targets === 2 * k && (r.healthy === 2 * k || full >= 6)) break;
      if (i >= 30) throw new Error(`no round over every target after ${i} rounds: ${JSON.stringify(r)}`);
    }
    // The floor's targets from the fleet itself: the store's Query of 10,000 tasks can miss its
    // 2 s deadline on a saturated event loop (the rounds' own listing is what is measured).
    const targets = hosts.flatMap((host) =>
      Object.keys(MODELS).map((model) => ({ endpoint: { host, restPort: 8501 }, model })),
    );
    const concurrency = registry.registry.probe.concurrency;
    const tfserving = registry.registry.tfserving;

    const steady = rssSampler(50);
    const roundSamples: number[] = [];
    const floorSamples: number[] = [];
    const writes: number[] = [];
    let overlapping = 0;
    // Each steady round, then its floor; a floor and the round that started before it ended are
    // both left out (every round overran the interval: no gap, then they are kept, and flagged).
    const rounds_: { ms: number; writes: number; clean: boolean }[] = [];
    const floors: { ms: number; clean: boolean }[] = [];
    let lastFloorEnd = 0;
    let unhealthy = 0;
    for (let i = 0; i <= options.rounds; i += 1) {
      const r = await nextRound(120_000);
      const clean = r.endedAt - r.durationMs >= lastFloorEnd;
      const previous = floors.at(-1);
      if (!clean && previous !== undefined) previous.clean = false;
      if (i === options.rounds) break;
      unhealthy = Math.max(unhealthy, r.targets - r.healthy);
      rounds_.push({ ms: r.durationMs, writes: r.writes, clean });
      // The floor, in the gap before the next round.
      const f0 = performance.now();
      const verdicts = await pMap(targets, (t) => tfserving.modelStatus(t.endpoint, t.model), {
        concurrency,
      });
      const floorMs = performance.now() - f0;
      lastFloorEnd = Date.now();
      floors.push({ ms: floorMs, clean: true });
      log(
        `probe-fleet K=${k}: round ${r.durationMs} ms (${r.healthy}/${r.targets} healthy, ${r.writes} writes${clean ? '' : ', overlapped the last floor'}); ` +
          `floor ${Math.round(floorMs)} ms (${verdicts.filter((v) => !v.ok).length} failed)`,
      );
    }
    const steadyPeak = steady.stop();
    const pick = <T extends { clean: boolean }>(all: T[]) =>
      all.some((x) => x.clean) ? all.filter((x) => x.clean) : all;
    const keptRounds = pick(rounds_);
    const keptFloors = pick(floors);
    roundSamples.push(...keptRounds.map((x) => x.ms));
    writes.push(...keptRounds.map((x) => x.writes));
    floorSamples.push(...keptFloors.map((x) => x.ms));
    overlapping = floors.filter((x) => !x.clean).length;
    const overlapOnly = !floors.some((x) => x.clean);

    // Dead → excluded, side by side at random phases.
    const victims = hosts.slice(-options.trials);
    const served = new Map<string, (at: number) => void>();
    const discoveryMs: number[] = [];
    /** How many endpoints each answer served (all K but the dead ones, when every round keeps up). */
    const servedCounts: number[] = [];
    const roundsBefore = rounds.length;
    let polling = true;
    const poller = (async () => {
      const deadline = Date.now() + 120_000;
      while (polling && Date.now() < deadline) {
        const c0 = performance.now();
        let text: string | undefined;
        try {
          const response = await fetch(`${registry.url}/models/alpha`);
          text = await response.text();
        } catch {
          // A failed poll shows nothing; the next one will.
        }
        const at = performance.now();
        discoveryMs.push(at - c0);
        if (text !== undefined) servedCounts.push(text.split('"host":"').length - 1);
        if (text !== undefined) {
          for (const [host, resolve] of [...served]) {
            if (!text.includes(`"host":"${host}"`)) {
              served.delete(host);
              resolve(at);
            }
          }
        }
        // A pause between calls: at this size a discovery call is a large part of the process's CPU.
        await sleep(POLL_PAUSE_MS);
      }
    })();
    const limitMs = 30_000;
    const samples = await Promise.all(
      victims.map(async (host) => {
        await sleep(Math.random() * intervalMs);
        const excluded = new Promise<number>((resolve, reject) => {
          const timer = setTimeout(
            () => reject(new Error(`${host} still served after ${limitMs} ms`)),
            limitMs,
          );
          served.set(host, (at) => {
            clearTimeout(timer);
            resolve(at);
          });
        });
        const d0 = performance.now();
        await fleet.die([host]);
        return (await excluded) - d0;
      }),
    ).finally(async () => {
      polling = false;
      await poller;
    });
    const trialRounds = rounds.slice(roundsBefore).map((r) => r.durationMs);
    log(
      `probe-fleet K=${k}: rounds during the trials ${trialRounds.join(', ')} ms; ${failedRounds} rounds failed whole`,
    );
    log(`probe-fleet K=${k}: dead → excluded ${samples.map((s) => Math.round(s)).join(', ')} ms`);

    const fleetMemory = await fleet.memory();
    const roundMs = distribution(roundSamples, 0);
    const floorMs = distribution(floorSamples, 0);
    return {
      endpoints: k,
      targets: targets.length,
      settings: {
        intervalSeconds: config.probeIntervalSeconds,
        timeoutMs: config.probeTimeoutMs,
        failureThreshold: config.failureThreshold,
        unhealthyAfterSeconds: config.unhealthyAfterSeconds,
        concurrency,
      },
      standInChildren: fleetMemory.children.length,
      standInStartMs: fleet.startMs,
      registrationMs,
      roundMs,
      floorMs,
      ratio: ratio(roundMs.p50, floorMs.p50),
      overlappingFloors: overlapping,
      floorsOverlapOnly: overlapOnly,
      maxUnhealthyInRound: unhealthy,
      loadAverage: [loadStart, round(os.loadavg()[0] ?? 0, 2)],
      failedRounds,
      writesPerRound: [...writes].sort((a, b) => a - b)[Math.floor(writes.length / 2)] ?? 0,
      roundMsDuringTrials: distribution(trialRounds, 0),
      deadToExcluded: distribution(samples, 0),
      discoveryCallMs: distribution(discoveryMs, 0),
      servedDuringTrials: {
        min: Math.min(...servedCounts),
        p50: distribution(servedCounts, 0).p50,
        answers: servedCounts.length,
      },
      memory: {
        registryBaselineMiB: baseline,
        registryPeakMiB: Math.max(whole.stop(), mib(process.resourceUsage().maxRSS * 1024)),
        registrySteadyPeakMiB: steadyPeak,
        standInPeakMiB: fleetMemory.children.map((c) => mib(c.peakRssBytes)),
      },
    };
  } catch (error) {
    log(`probe-fleet K=${k}: FAILED: ${(error as Error).message}`);
    // Let the handlers still running finish their writes before the engine closes under them.
    await sleep(3000);
    throw error;
  } finally {
    await registry.close();
    await fleet.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      endpoints: { type: 'string', default: '10000' },
      rounds: { type: 'string', default: '8' },
      trials: { type: 'string', default: '10' },
      ipc: { type: 'boolean', default: false },
    },
  });
  const options = {
    endpoints: Number(values.endpoints),
    rounds: Number(values.rounds),
    trials: Number(values.trials),
  };
  const viaIpc = values.ipc === true && process.send !== undefined;
  const log = (line: string) => (viaIpc ? process.send?.({ type: 'log', line }) : console.error(line));
  try {
    const result = await runProbeFleet(options, log);
    if (viaIpc) process.send?.({ type: 'result', result }, () => process.exit(0));
    else {
      console.log(JSON.stringify(result, null, 2));
      process.exit(0);
    }
  } catch (error) {
    if (viaIpc) process.send?.({ type: 'error', error: (error as Error).message }, () => process.exit(1));
    else {
      console.error(error);
      process.exit(1);
    }
  }
}
