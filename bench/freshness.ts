/**
 * Freshness: how long after a change the discovery API reflects it, through the real local
 * runtime over HTTP. Trials of one scenario run side by side, each on its own stand-in host and
 * task, at random phases of the probe interval.
 *
 *   npx tsx bench/freshness.ts [--trials 20] [--interval 1] [--unhealthy-after 3] [--threshold 2] [--timeout 500]
 */
import './support-quiet.ts';
import { parseArgs } from 'node:util';
import { isLoopback } from '../functions/registry/tfserving-client.ts';
import { loadConfig } from '../functions/shared/config.ts';
import { startLocalRegistry } from '../infra/local/local-registry.ts';
import { TfServingStandIn } from '../tools/tfserving-stand-in/stand-in.ts';

export interface FreshnessSettings {
  readonly intervalSeconds: number;
  readonly unhealthyAfterSeconds: number;
  readonly failureThreshold: number;
  readonly timeoutMs: number;
}

export interface Distribution {
  readonly trials: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

export type Scenario = 'running-to-discoverable' | 'silent-death' | 'hang' | 'drain' | 'recovery';

function percentile(sorted: number[], p: number): number {
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)] ?? Number.NaN;
}

export function distribution(samples: number[]): Distribution {
  const sorted = [...samples].sort((a, b) => a - b);
  const round = (n: number) => Math.round(n * 10) / 10;
  return {
    trials: sorted.length,
    p50: round(percentile(sorted, 50)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted.at(-1) ?? Number.NaN),
  };
}

function taskEvent(n: number, host: string, lifecycle: 'RUNNING' | 'DRAINING', runId: string) {
  const taskId = `${runId}${String(n).padStart(4, '0')}`;
  const taskArn = `arn:aws:ecs:us-east-1:123456789012:task/bench/${taskId}`;
  return {
    version: '0',
    id: `${taskId}-${lifecycle}`,
    'detail-type': 'ECS Task State Change',
    source: 'aws.ecs',
    time: new Date().toISOString(),
    detail: {
      clusterArn: 'arn:aws:ecs:us-east-1:123456789012:cluster/bench',
      taskArn,
      version: lifecycle === 'RUNNING' ? 3 : 4,
      lastStatus: 'RUNNING',
      desiredStatus: lifecycle === 'RUNNING' ? 'RUNNING' : 'STOPPED',
      availabilityZone: 'us-east-1a',
      containers: [
        {
          name: 'tfserving',
          image: 'tensorflow/serving:2.15.0',
          networkInterfaces: [{ privateIpv4Address: host }],
        },
      ],
      overrides: {
        containerOverrides: [{ name: 'tfserving', environment: [{ name: 'MODEL_NAME', value: 'resnet' }] }],
      },
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs every scenario with `trials` side-by-side trials each; returns milliseconds per scenario. */
export async function measureFreshness(
  settings: FreshnessSettings,
  trials: number,
  scenarios: readonly Scenario[] = ['running-to-discoverable', 'silent-death', 'hang', 'drain', 'recovery'],
  hostOctet = 250,
): Promise<Record<string, Distribution>> {
  const config = loadConfig({
    TABLE_NAME: 'freshness',
    PROBE_INTERVAL_SECONDS: String(settings.intervalSeconds),
    UNHEALTHY_AFTER_SECONDS: String(settings.unhealthyAfterSeconds),
    FAILURE_THRESHOLD: String(settings.failureThreshold),
    PROBE_TIMEOUT_MS: String(settings.timeoutMs),
    REMOVE_AFTER_SECONDS: '3600',
  });
  const registry = await startLocalRegistry({ config, port: 0, isAllowedProbeHost: isLoopback });
  const results: Record<string, Distribution> = {};
  const pollMs = 10;
  const limitMs =
    10 * (settings.failureThreshold * settings.intervalSeconds * 1000 + settings.timeoutMs) + 10_000;
  let runs = 0;

  async function served(): Promise<Set<string>> {
    const response = await fetch(`${registry.url}/models/resnet`);
    if (response.status !== 200) return new Set();
    const body = (await response.json()) as { endpoints: { host: string }[] };
    return new Set(body.endpoints.map((e) => e.host));
  }

  /** Time from `t0` until `predicate(served)` holds for `host`. */
  async function until(t0: number, host: string, wanted: boolean, scenario = ''): Promise<number> {
    while (performance.now() - t0 < limitMs) {
      if ((await served()).has(host) === wanted) return performance.now() - t0;
      await sleep(pollMs);
    }
    throw new Error(`${scenario}: ${host} not ${wanted ? 'served' : 'excluded'} within ${limitMs} ms`);
  }

  async function post(event: unknown): Promise<void> {
    const response = await fetch(`${registry.url}/events`, { method: 'POST', body: JSON.stringify(event) });
    if (response.status !== 202) throw new Error(`POST /events answered ${response.status}`);
  }

  try {
    for (const scenario of scenarios) {
      runs += 1;
      const runId = `r${runs}x`;
      const hosts = Array.from(
        { length: trials },
        // Hosts of their own per scenario: the tasks of earlier scenarios stay registered (no stop event).
        (_, i) => `127.${hostOctet}.${runs * 4 + Math.floor(i / 250)}.${(i % 250) + 1}`,
      );
      const stands = await Promise.all(
        hosts.map((host) => TfServingStandIn.start({ host, models: { resnet: { available: ['1'] } } })),
      );
      try {
        const samples = await Promise.all(
          hosts.map(async (host, i) => {
            const stand = stands[i] as TfServingStandIn;
            // A random phase within the probe interval, so trials do not line up with rounds.
            await sleep(Math.random() * settings.intervalSeconds * 1000);
            let t0 = performance.now();
            if (scenario === 'running-to-discoverable') {
              await post(taskEvent(i, host, 'RUNNING', runId));
              return until(t0, host, true, scenario);
            }
            await post(taskEvent(i, host, 'RUNNING', runId));
            await until(performance.now(), host, true);
            await sleep(Math.random() * settings.intervalSeconds * 1000);
            t0 = performance.now();
            switch (scenario) {
              case 'silent-death':
                await stand.die();
                return until(t0, host, false, scenario);
              case 'hang':
                stand.misbehave('hang');
                return until(t0, host, false, scenario);
              case 'drain':
                await post(taskEvent(i, host, 'DRAINING', runId));
                return until(t0, host, false, scenario);
              case 'recovery': {
                await stand.die();
                await until(performance.now(), host, false);
                await sleep(Math.random() * settings.intervalSeconds * 1000);
                t0 = performance.now();
                await stand.revive();
                return until(t0, host, true, scenario);
              }
            }
          }),
        );
        results[scenario] = distribution(samples);
      } finally {
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
