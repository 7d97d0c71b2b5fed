/**
 * Benchmark 3, freshness: how long after a change the discovery API reflects it, through the real
 * local runtime over HTTP. The trials of one scenario run side by side, each on its own stand-in
 * host and task, at random phases of the probe interval. One poller asks `GET /models/resnet` every
 * 10 ms for all trials of a scenario (so the load does not grow with the number of trials); a
 * change counts as seen when the first answer showing it has arrived.
 *
 *   npx tsx bench/freshness.ts [--trials 20] [--interval 1] [--unhealthy-after 3] [--threshold 2] [--timeout 500]
 */
import './support-quiet.ts';
import { parseArgs } from 'node:util';
import { isLoopback } from '../functions/adapters/tfserving/tfserving-client.ts';
import { loadConfig } from '../functions/domain/settings.ts';
import { startLocalRegistry } from '../infra/local/local-registry.ts';
import { type BenchLifecycle, type BenchTask, loopbackHost, taskEvent } from '../tools/fleet/task-events.ts';
import { TfServingStandIn } from '../tools/tfserving-stand-in/stand-in.ts';
import { type Distribution, distribution, sleep } from './lib/stats.ts';

export interface FreshnessSettings {
  readonly intervalSeconds: number;
  readonly unhealthyAfterSeconds: number;
  readonly failureThreshold: number;
  readonly timeoutMs: number;
}

export type { Distribution };

/**
 * - running-to-discoverable: from sending the RUNNING event (model already AVAILABLE) until served;
 * - silent-death: the stand-in stops listening (connections refused) until excluded;
 * - hang: the stand-in accepts requests and never answers until excluded;
 * - drain: from the 202 that accepted the drain event (desiredStatus STOPPED) until excluded;
 * - recovery: a dead, excluded stand-in listens again until served again.
 */
export type Scenario = 'running-to-discoverable' | 'silent-death' | 'hang' | 'drain' | 'recovery';

export const ALL_SCENARIOS: readonly Scenario[] = [
  'running-to-discoverable',
  'silent-death',
  'hang',
  'drain',
  'recovery',
];

const MODEL = 'resnet';
const POLL_MS = 10;

/** Watches `GET /models/resnet` for every trial of a scenario at once. */
class Poller {
  private readonly waiters = new Set<{
    host: string;
    wanted: boolean;
    deadline: number;
    resolve: (at: number) => void;
    reject: (error: Error) => void;
  }>();
  private running = true;
  private readonly loop: Promise<void>;

  constructor(private readonly url: string) {
    this.loop = this.run();
  }

  /** Resolves with the `performance.now()` of the first answer in which `host` is (not) served. */
  until(host: string, wanted: boolean, limitMs: number, what: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.waiters.add({
        host,
        wanted,
        deadline: performance.now() + limitMs,
        resolve,
        reject: (error) => reject(new Error(`${what}: ${error.message}`)),
      });
    });
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  private async run(): Promise<void> {
    while (this.running) {
      if (this.waiters.size > 0) {
        let served: Set<string> | undefined;
        try {
          const response = await fetch(this.url);
          const body = (await response.json()) as { endpoints?: { host: string }[] };
          served = new Set((body.endpoints ?? []).map((e) => e.host));
        } catch {
          // A failed poll shows nothing; the next one will.
        }
        const at = performance.now();
        for (const waiter of [...this.waiters]) {
          if (served !== undefined && served.has(waiter.host) === waiter.wanted) {
            this.waiters.delete(waiter);
            waiter.resolve(at);
          } else if (at > waiter.deadline) {
            this.waiters.delete(waiter);
            waiter.reject(new Error(`${waiter.host} not ${waiter.wanted ? 'served' : 'excluded'} in time`));
          }
        }
      }
      await sleep(POLL_MS);
    }
    for (const waiter of this.waiters) waiter.reject(new Error('poller stopped'));
  }
}

export interface FreshnessRun {
  readonly settings: FreshnessSettings;
  readonly trials: number;
  readonly results: Partial<Record<Scenario, Distribution>>;
}

/** Runs each scenario with `trials` side-by-side trials; milliseconds per scenario. */
export async function measureFreshness(
  settings: FreshnessSettings,
  trials: number,
  scenarios: readonly Scenario[] = ALL_SCENARIOS,
  hostBlock = 250,
): Promise<Partial<Record<Scenario, Distribution>>> {
  const config = loadConfig({
    TABLE_NAME: 'freshness',
    PROBE_INTERVAL_SECONDS: String(settings.intervalSeconds),
    UNHEALTHY_AFTER_SECONDS: String(settings.unhealthyAfterSeconds),
    FAILURE_THRESHOLD: String(settings.failureThreshold),
    PROBE_TIMEOUT_MS: String(settings.timeoutMs),
    REMOVE_AFTER_SECONDS: '3600',
  });
  const registry = await startLocalRegistry({ config, port: 0, isAllowedProbeHost: isLoopback });
  const results: Partial<Record<Scenario, Distribution>> = {};
  const intervalMs = settings.intervalSeconds * 1000;
  const limitMs = 10 * (settings.failureThreshold * intervalMs + settings.timeoutMs) + 10_000;
  const phase = () => sleep(Math.random() * intervalMs);

  /** One task through register, discover and drain, so that no trial pays for a cold registry. */
  async function warmUp(): Promise<void> {
    const task = { index: 0, runId: `w${hostBlock}`, host: loopbackHost(hostBlock, 999), models: [MODEL] };
    const stand = await TfServingStandIn.start({
      host: task.host,
      models: { [MODEL]: { available: ['1'] } },
    });
    try {
      await post(task, 'RUNNING');
      for (let i = 0; i < 20; i += 1) await served();
      await post(task, 'DRAINING');
    } finally {
      await stand.close();
    }
  }

  /** Posts one event; resolves with the `performance.now()` at which the 202 arrived. */
  async function post(task: BenchTask, lifecycle: BenchLifecycle): Promise<number> {
    const response = await fetch(`${registry.url}/events`, {
      method: 'POST',
      body: JSON.stringify(taskEvent(task, lifecycle)),
    });
    await response.arrayBuffer();
    if (response.status !== 202) throw new Error(`POST /events answered ${response.status}`);
    return performance.now();
  }

  async function served(): Promise<Set<string>> {
    const response = await fetch(`${registry.url}/models/${MODEL}`);
    const body = (await response.json()) as { endpoints?: { host: string }[] };
    return new Set((body.endpoints ?? []).map((e) => e.host));
  }

  try {
    await warmUp();
    for (const [s, scenario] of scenarios.entries()) {
      // Hosts and tasks of their own per scenario.
      const tasks: BenchTask[] = Array.from({ length: trials }, (_, i) => ({
        index: i,
        runId: `f${s}${hostBlock}`,
        host: loopbackHost(hostBlock, s * 1000 + i),
        models: [MODEL],
      }));
      const stands = await Promise.all(
        tasks.map((t) => TfServingStandIn.start({ host: t.host, models: { [MODEL]: { available: ['1'] } } })),
      );
      const poller = new Poller(`${registry.url}/models/${MODEL}`);
      try {
        const samples = await Promise.all(
          tasks.map(async (task, i) => {
            const stand = stands[i] as TfServingStandIn;
            const until = (wanted: boolean) => poller.until(task.host, wanted, limitMs, scenario);
            await phase();
            if (scenario === 'running-to-discoverable') {
              const t0 = performance.now();
              await post(task, 'RUNNING');
              return (await until(true)) - t0;
            }
            await post(task, 'RUNNING');
            await until(true);
            await phase();
            switch (scenario) {
              case 'silent-death': {
                const t0 = performance.now();
                await stand.die();
                return (await until(false)) - t0;
              }
              case 'hang': {
                const t0 = performance.now();
                stand.misbehave('hang');
                return (await until(false)) - t0;
              }
              case 'drain': {
                // Discovery calls of our own right after the 202, as a client would make them.
                const accepted = await post(task, 'DRAINING');
                for (;;) {
                  if (!(await served()).has(task.host)) return performance.now() - accepted;
                  if (performance.now() - accepted > limitMs)
                    throw new Error(`drain: ${task.host} still served`);
                }
              }
              case 'recovery': {
                await stand.die();
                await until(false);
                await phase();
                const t0 = performance.now();
                await stand.revive();
                return (await until(true)) - t0;
              }
            }
          }),
        );
        results[scenario] = distribution(samples, 1);
      } finally {
        await poller.stop();
        // Retire the scenario's tasks so later rounds do not keep probing them.
        if (scenario !== 'drain') await Promise.allSettled(tasks.map((t) => post(t, 'DRAINING')));
        await Promise.all(stands.map((s) => s.close()));
      }
    }
  } finally {
    await registry.close();
  }
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      trials: { type: 'string', default: '20' },
      interval: { type: 'string', default: '1' },
      'unhealthy-after': { type: 'string', default: '3' },
      threshold: { type: 'string', default: '2' },
      timeout: { type: 'string', default: '500' },
    },
  });
  const settings = {
    intervalSeconds: Number(values.interval),
    unhealthyAfterSeconds: Number(values['unhealthy-after']),
    failureThreshold: Number(values.threshold),
    timeoutMs: Number(values.timeout),
  };
  const scenarios = process.env.SCENARIOS?.split(',') as Scenario[] | undefined;
  const results = await measureFreshness(settings, Number(values.trials), scenarios);
  console.log(JSON.stringify({ settings, results }, null, 2));
}
