/**
 * `npm run bench [-- --quick] [--only discovery,probe,freshness,cold-start,cost,client,probe-fleet] [--out DIR]`
 *
 * Runs the benchmarks (discovery, probe round, freshness, cold start, cost, the client library's, and
 * the probe at fleet scale) one after the other (never side by side: the machine is
 * shared and noisy, so each headline figure is a ratio against a floor measured in the same run),
 * checks the targets, writes `<out>/<date>-<machine>[-quick].json` and `.md`, prints the summary.
 * Only loopback addresses are ever contacted. Each benchmark is bounded in time; engines, stand-in
 * fleets and servers are closed on every path, and child processes are killed if the run aborts.
 */
import './support-quiet.ts';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { benchClient, CLIENT_PLANS } from './client.ts';
import { benchColdStart } from './cold-start.ts';
import { benchCost } from './cost.ts';
import { benchDiscovery } from './discovery.ts';
import { type FreshnessSettings, measureFreshness } from './freshness.ts';
import { round, withTimeout } from './lib/stats.ts';
import { benchProbeFleet } from './probe-fleet.ts';
import { benchProbeRounds } from './probe-round.ts';
import { type BenchResults, checkTargets, markdown } from './report.ts';

const BENCHMARKS = [
  'discovery',
  'probe',
  'freshness',
  'cold-start',
  'cost',
  'client',
  'probe-fleet',
] as const;
type Benchmark = (typeof BENCHMARKS)[number];

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    out: { type: 'string', default: fileURLToPath(new URL('./results', import.meta.url)) },
    name: { type: 'string' },
  },
});
const quick = values.quick === true;
const only = new Set((values.only ?? BENCHMARKS.join(',')).split(',').map((s) => s.trim()) as Benchmark[]);
for (const name of only)
  if (!BENCHMARKS.includes(name)) throw new Error(`unknown benchmark ${name}; use ${BENCHMARKS}`);

const SHORT: FreshnessSettings = {
  intervalSeconds: 1,
  unhealthyAfterSeconds: 3,
  failureThreshold: 2,
  timeoutMs: 500,
};
const DEFAULTS: FreshnessSettings = {
  intervalSeconds: 5,
  unhealthyAfterSeconds: 10,
  failureThreshold: 2,
  timeoutMs: 2000,
};

const plan = quick
  ? {
      discovery: {
        engines: ['dynalite', 'ddb-local'] as const,
        sizes: [10, 100, 1000],
        iterations: (n: number) => (n <= 100 ? 200 : n <= 1000 ? 25 : 6),
        httpSeconds: 2,
        connections: 32,
      },
      probe: { engines: ['dynalite'] as const, sizes: [100, 1000], repetitions: 3 },
      freshness: { trials: 20, defaultTrials: 5, defaultScenarios: ['silent-death'] as const },
      coldStart: { runs: 10 },
      cost: { engine: 'ddb-local' as const, rounds: 24, callsPerModel: 30 },
      client: CLIENT_PLANS.quick,
      probeFleet: { endpoints: 2000, rounds: 4, trials: 5 },
      limitsSeconds: {
        discovery: 360,
        probe: 150,
        freshness: 150,
        'cold-start': 120,
        cost: 90,
        client: 120,
        'probe-fleet': 300,
      },
    }
  : {
      discovery: {
        engines: ['dynalite', 'ddb-local'] as const,
        sizes: [10, 100, 1000, 5000],
        iterations: (n: number) => (n <= 100 ? 1000 : n <= 1000 ? 150 : 30),
        httpSeconds: 10,
        connections: 32,
      },
      probe: { engines: ['dynalite', 'ddb-local'] as const, sizes: [100, 1000, 5000], repetitions: 7 },
      freshness: { trials: 40, defaultTrials: 10, defaultScenarios: ['silent-death', 'hang'] as const },
      coldStart: { runs: 31 },
      cost: { engine: 'ddb-local' as const, rounds: 120, callsPerModel: 200 },
      client: CLIENT_PLANS.full,
      probeFleet: { endpoints: 10_000, rounds: 5, trials: 10 },
      limitsSeconds: {
        discovery: 1800,
        probe: 2400,
        freshness: 900,
        'cold-start': 600,
        cost: 600,
        client: 300,
        'probe-fleet': 2400,
      },
    };

const started = new Date();
const cpu = os.cpus()[0]?.model.replace(/\s+/g, ' ').trim() ?? 'unknown CPU';
const machine = (values.name ?? os.hostname()).replace(/[^a-zA-Z0-9_.-]/g, '-');
const subset = values.only === undefined ? '' : `-${[...only].join('+')}`;
const id = `${started.toISOString().slice(0, 10)}-${machine}${quick ? '-quick' : ''}${subset}`;
const results: BenchResults = {
  meta: {
    id,
    mode: quick ? 'quick' : 'full',
    date: started.toISOString(),
    machine,
    cpu,
    cores: os.cpus().length,
    memoryGiB: round(os.totalmem() / 1024 ** 3, 1),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    plan: {
      ...plan,
      discovery: { ...plan.discovery, iterations: [10, 100, 1000, 5000].map(plan.discovery.iterations) },
    },
  },
  errors: [],
};

const log = (line: string) => console.log(`[${round((Date.now() - started.getTime()) / 1000, 0)} s] ${line}`);

function save(): string {
  results.targets = checkTargets(results);
  (results.meta as Record<string, unknown>).durationSeconds = round(
    (Date.now() - started.getTime()) / 1000,
    0,
  );
  mkdirSync(values.out as string, { recursive: true });
  const base = join(values.out as string, id);
  writeFileSync(`${base}.json`, `${JSON.stringify(results, null, 2)}\n`);
  const md = markdown(results);
  writeFileSync(`${base}.md`, md);
  return md;
}

async function step(name: Benchmark, body: () => Promise<void>): Promise<void> {
  if (!only.has(name)) return;
  log(`${name}: start`);
  try {
    await withTimeout(body(), plan.limitsSeconds[name] * 1000, name);
    log(`${name}: done`);
  } catch (error) {
    const message = (error as Error).message;
    results.errors.push({ benchmark: name, message });
    log(`${name}: FAILED: ${message}`);
    if (message.includes('no result within')) {
      // Something hangs: keep what was measured and stop here (children are killed on exit).
      save();
      process.exit(1);
    }
  }
}

await step('discovery', async () => {
  results.discovery = await benchDiscovery({ ...plan.discovery, log });
});
await step('probe', async () => {
  results.probe = await benchProbeRounds({ ...plan.probe, log });
});
await step('freshness', async () => {
  const short = await measureFreshness(SHORT, plan.freshness.trials);
  results.freshness = { short: { settings: SHORT, trials: plan.freshness.trials, results: short } };
  log(`freshness short: ${JSON.stringify(short)}`);
  const defaults = await measureFreshness(
    DEFAULTS,
    plan.freshness.defaultTrials,
    plan.freshness.defaultScenarios,
    251,
  );
  results.freshness.defaults = {
    settings: DEFAULTS,
    trials: plan.freshness.defaultTrials,
    results: defaults,
  };
  log(`freshness defaults: ${JSON.stringify(defaults)}`);
});
await step('cold-start', async () => {
  results.coldStart = await benchColdStart({ ...plan.coldStart, log });
});
await step('cost', async () => {
  results.cost = await benchCost({ ...plan.cost, log });
});
await step('client', async () => {
  results.client = await benchClient({ ...plan.client, log });
});

await step('probe-fleet', async () => {
  results.probeFleet = await benchProbeFleet({ ...plan.probeFleet, log });
});

const md = save();
console.log(`\n${md}`);
console.log(`results: ${join(values.out as string, id)}.{json,md}`);
const missed = (results.targets ?? []).filter((t) => t.met === false).length;
log(`${missed} target(s) not met, ${results.errors.length} error(s)`);
process.exit(results.errors.length > 0 ? 1 : 0);
