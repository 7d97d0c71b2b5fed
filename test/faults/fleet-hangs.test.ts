import { afterEach, describe, expect, it } from 'vitest';
import { StandInFleet } from '../../tools/fleet/stand-in-fleet.ts';
import { loopbackHost, taskEvent } from '../../tools/fleet/task-events.ts';
import { within } from '../support/kit/poll.ts';
import { type LocalProcess, startLocalProcess } from '../support/local-process.ts';

/**
 * Part of the fleet hanging, through `npm start` at DEFAULT settings (probe every 5 s, 2 s
 * timeout, 2 failures, unhealthy after 10 s, 64 probes at once): TF Serving stand-ins that accept
 * connections and never answer, as a partitioned Availability Zone looks from the prober.
 * `npm run test:faults` (minutes; not in `npm test`).
 *
 * Each scenario polls both models every 500 ms for 40 s and holds the registry to:
 * - a healthy endpoint is served on every poll (a hung neighbour never makes it stale);
 * - every hung endpoint is out within 12 s, and stays out (its timeouts are evidence, not a stall);
 * - once the hang ends, every one is back within 15 s.
 */

const MODELS = ['resnet', 'bert'];
const ZONES = ['us-east-1a', 'us-east-1b', 'us-east-1c'];
const POLL_MS = 500;
const WATCH_MS = 40_000;
const OUT_WITHIN_MS = 12_000;
const BACK_WITHIN_MS = 15_000;

interface Fleet {
  readonly registry: LocalProcess;
  readonly fleet: StandInFleet;
  readonly hosts: readonly string[];
  readonly zoneOf: (host: string) => string;
}

interface Poll {
  readonly at: number;
  /** Per model: the hosts served. */
  readonly served: Readonly<Record<string, ReadonlySet<string>>>;
  readonly stale: boolean;
  readonly ms: number;
}

let running: Fleet | undefined;

afterEach(async () => {
  running?.registry.kill();
  await running?.fleet.close();
  running = undefined;
});

async function startFleet(tasks: number, block: number): Promise<Fleet> {
  const registry = await startLocalProcess({}, 60_000);
  const hosts = Array.from({ length: tasks }, (_, i) => loopbackHost(block, i));
  const zones = new Map(hosts.map((host, i) => [host, ZONES[i % ZONES.length] as string]));
  const fleet = await StandInFleet.start(
    hosts,
    Object.fromEntries(MODELS.map((model) => [model, { available: ['1'] }])),
  );
  running = { registry, fleet, hosts, zoneOf: (host) => zones.get(host) as string };
  for (let i = 0; i < tasks; i += 100) {
    const batch = hosts
      .slice(i, i + 100)
      .map((host, j) =>
        taskEvent(
          { index: i + j, runId: `f${block}`, host, models: MODELS, availabilityZone: zones.get(host) },
          'RUNNING',
        ),
      );
    const answer = await registry.post(batch);
    expect(answer.status).toBe(202);
  }
  await within(
    60_000,
    async () => {
      const poll = await pollOnce(registry.url);
      return MODELS.every((model) => poll.served[model]?.size === tasks);
    },
    'every task served for every model',
    500,
  );
  // Two rounds in steady state: rows settled, every endpoint vouched for by its model's marker.
  await new Promise((resolve) => setTimeout(resolve, 10_000));
  return running;
}

async function pollOnce(url: string): Promise<Poll> {
  const t0 = performance.now();
  const served: Record<string, Set<string>> = {};
  let stale = false;
  for (const model of MODELS) {
    const response = await fetch(`${url}/models/${model}`);
    const body = (await response.json()) as { endpoints?: { host: string }[]; stale?: boolean };
    served[model] = new Set((body.endpoints ?? []).map((e) => e.host));
    stale ||= body.stale === true;
  }
  return { at: Date.now(), served, stale, ms: performance.now() - t0 };
}

/** Polls every POLL_MS for `durationMs` (or until `stop` holds). */
async function watch(url: string, durationMs: number, stop?: (poll: Poll) => boolean): Promise<Poll[]> {
  const polls: Poll[] = [];
  const end = Date.now() + durationMs;
  while (Date.now() < end) {
    const started = Date.now();
    const poll = await pollOnce(url);
    polls.push(poll);
    if (stop?.(poll)) break;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, POLL_MS - (Date.now() - started))));
  }
  return polls;
}

const servedOf = (poll: Poll, hosts: readonly string[]) =>
  MODELS.reduce((n, model) => n + hosts.filter((h) => poll.served[model]?.has(h)).length, 0);

/** Runs one scenario: hang `hung`, watch, end the hang, watch the recovery; returns the figures. */
async function hangScenario(fleet: Fleet, hung: readonly string[]) {
  const healthy = fleet.hosts.filter((h) => !hung.includes(h));
  const hungAt = Date.now();
  await fleet.fleet.misbehave(hung, 'hang');
  const polls = await watch(fleet.registry.url, WATCH_MS);
  const missedHealthy = polls.filter((p) => servedOf(p, healthy) < healthy.length * MODELS.length);
  const lastWithHung = polls.filter((p) => servedOf(p, hung) > 0).at(-1);
  const outAfterMs = lastWithHung === undefined ? 0 : lastWithHung.at - hungAt;
  const servedLate = polls.filter((p) => p.at - hungAt > OUT_WITHIN_MS && servedOf(p, hung) > 0);

  const recoveredAt = Date.now();
  await fleet.fleet.misbehave(hung, 'none');
  const recovery = await watch(
    fleet.registry.url,
    2 * BACK_WITHIN_MS,
    (p) => servedOf(p, fleet.hosts) === fleet.hosts.length * MODELS.length,
  );
  const back = recovery.at(-1);
  const backAfterMs =
    back !== undefined && servedOf(back, fleet.hosts) === fleet.hosts.length * MODELS.length
      ? back.at - recoveredAt
      : Number.POSITIVE_INFINITY;
  const pollMs = polls.map((p) => p.ms).sort((a, b) => a - b);
  const figures = {
    polls: polls.length,
    pollsMissingAHealthyEndpoint: missedHealthy.length,
    worstHealthyMissing: Math.max(
      0,
      ...missedHealthy.map((p) => healthy.length * MODELS.length - servedOf(p, healthy)),
    ),
    hungOutAfterMs: outAfterMs,
    pollsServingAHungEndpointAfter12s: servedLate.length,
    staleAnswers: polls.filter((p) => p.stale).length,
    backAfterMs,
    pollMsP50: Math.round(pollMs[Math.floor(pollMs.length / 2)] ?? 0),
    pollMsMax: Math.round(pollMs.at(-1) ?? 0),
  };
  console.info(
    `${fleet.hosts.length} tasks × ${MODELS.length} models, ${hung.length} hung: ${JSON.stringify(figures)}`,
  );
  return figures;
}

describe('a hanging part of the fleet, through npm start at default settings', () => {
  it('one Availability Zone of 600 tasks hangs: the other two are served on every poll', async () => {
    // Prepare
    const fleet = await startFleet(600, 60);
    const hung = fleet.hosts.filter((h) => fleet.zoneOf(h) === 'us-east-1c');

    // Act
    const figures = await hangScenario(fleet, hung);

    // Assess
    expect(hung).toHaveLength(200);
    expect(figures.pollsMissingAHealthyEndpoint).toBe(0);
    expect(figures.hungOutAfterMs).toBeLessThanOrEqual(OUT_WITHIN_MS);
    expect(figures.pollsServingAHungEndpointAfter12s).toBe(0);
    expect(figures.backAfterMs).toBeLessThanOrEqual(BACK_WITHIN_MS);
  });

  it('half of 1,000 tasks hang: the other half is served on every poll', async () => {
    // Prepare
    const fleet = await startFleet(1000, 61);
    const hung = fleet.hosts.filter((_, i) => i % 2 === 1);

    // Act
    const figures = await hangScenario(fleet, hung);

    // Assess
    expect(figures.pollsMissingAHealthyEndpoint).toBe(0);
    expect(figures.hungOutAfterMs).toBeLessThanOrEqual(OUT_WITHIN_MS);
    expect(figures.pollsServingAHungEndpointAfter12s).toBe(0);
    expect(figures.backAfterMs).toBeLessThanOrEqual(BACK_WITHIN_MS);
  });

  it('all of 1,000 tasks hang: all are out within 12 s and stay out (timeouts are evidence, not a stall)', async () => {
    // Prepare
    const fleet = await startFleet(1000, 62);

    // Act
    const figures = await hangScenario(fleet, fleet.hosts);

    // Assess
    expect(figures.hungOutAfterMs).toBeLessThanOrEqual(OUT_WITHIN_MS);
    expect(figures.pollsServingAHungEndpointAfter12s).toBe(0);
    expect(figures.backAfterMs).toBeLessThanOrEqual(BACK_WITHIN_MS);
  });
});
