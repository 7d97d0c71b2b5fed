/**
 * Benchmark 6, the client library (`tf-serving-registry-client`), against the local runtime
 * in-process over HTTP, with TF Serving stand-ins on 127.240.x.y:
 * (a) `pick` cost: ns per `await client.pick()` from memory (round-robin, least-loaded, zone, with
 *     an ejection active), interleaved with a floor measured in the same run: a bare array pick
 *     (`list[i++ % n]`), and, for context, the same pick awaited;
 * (b) registry requests per client per minute at the default refresh (1 s ± 10 %), and how many
 *     were 304s;
 * (c) time from a silent death (the stand-in stops listening) to the client no longer picking the
 *     endpoint, with passive ejection (the caller reports its failed call) and without (the
 *     registry excludes it, the client's next refresh sees that), side by side at random phases;
 * (d) minified bundle sizes (client/scripts/bundle-size.ts).
 *
 *   npx tsx bench/client.ts [--quick]
 */
import './support-quiet.ts';
import { parseArgs } from 'node:util';
import { RegistryClient } from 'tf-serving-registry-client';
import { type BundleSizes, measureBundleSizes } from '../client/scripts/bundle-size.ts';
import { isLoopback } from '../functions/adapters/tfserving/tfserving-client.ts';
import { loadConfig } from '../functions/domain/settings.ts';
import { startLocalRegistry } from '../infra/local/local-registry.ts';
import { type BenchTask, loopbackHost, taskEvent } from '../tools/fleet/task-events.ts';
import { TfServingStandIn } from '../tools/tfserving-stand-in/stand-in.ts';
import { type Distribution, distribution, median, ratio, round, sleep } from './lib/stats.ts';

const HOST_BLOCK = 240;

export interface ClientBenchOptions {
  /** Rounds of (floor, pick) batches; the medians are reported. */
  readonly pickRounds: number;
  readonly picksPerRound: number;
  /** How long the request-rate clients run, and how many of them. */
  readonly rateSeconds: number;
  readonly rateClients: number;
  /** Side-by-side trials of each death scenario. */
  readonly deathTrials: number;
  readonly log?: (line: string) => void;
}

export interface ClientResult {
  readonly pick: {
    readonly endpoints: number;
    readonly floorNs: number;
    readonly awaitedFloorNs: number;
    readonly roundRobinNs: number;
    readonly leastLoadedNs: number;
    readonly zoneNs: number;
    readonly withEjectionNs: number;
    /** round-robin pick / bare array pick. */
    readonly ratio: number;
    readonly ratioToAwaitedFloor: number;
  };
  readonly requests: {
    readonly clients: number;
    readonly seconds: number;
    readonly perClientPerMinute: number;
    readonly notModifiedShare: number;
  };
  readonly death: {
    readonly settings: {
      intervalSeconds: number;
      failureThreshold: number;
      timeoutMs: number;
      refreshMs: number;
    };
    readonly withEjection: Distribution;
    readonly withoutEjection: Distribution;
    /** Picks of the dead endpoint in the second after its failed call was reported (should be 0). */
    readonly picksAfterEjection: number;
  };
  readonly bundle: BundleSizes;
}

const SETTINGS = { intervalSeconds: 1, unhealthyAfterSeconds: 3, failureThreshold: 2, timeoutMs: 500 };

export async function benchClient(options: ClientBenchOptions): Promise<ClientResult> {
  const log = options.log ?? (() => undefined);
  const config = loadConfig({
    TABLE_NAME: 'client-bench',
    PROBE_INTERVAL_SECONDS: String(SETTINGS.intervalSeconds),
    UNHEALTHY_AFTER_SECONDS: String(SETTINGS.unhealthyAfterSeconds),
    FAILURE_THRESHOLD: String(SETTINGS.failureThreshold),
    PROBE_TIMEOUT_MS: String(SETTINGS.timeoutMs),
    REMOVE_AFTER_SECONDS: '3600',
  });
  const registry = await startLocalRegistry({ config, port: 0, isAllowedProbeHost: isLoopback });
  const standIns: TfServingStandIn[] = [];
  let next = 0;

  async function tasks(
    model: string,
    n: number,
    zones: readonly string[] = ['us-east-1a'],
  ): Promise<BenchTask[]> {
    const list: BenchTask[] = [];
    for (let i = 0; i < n; i += 1) {
      const task = { index: next, runId: 'cli', host: loopbackHost(HOST_BLOCK, next), models: [model] };
      next += 1;
      standIns.push(
        await TfServingStandIn.start({ host: task.host, models: { [model]: { available: ['1'] } } }),
      );
      list.push(task);
    }
    const events = list.map((task, i) => {
      const event = taskEvent(task, 'RUNNING');
      event.detail.availabilityZone = zones[i % zones.length] as string;
      return event;
    });
    const response = await fetch(`${registry.url}/events`, { method: 'POST', body: JSON.stringify(events) });
    await response.arrayBuffer();
    if (response.status !== 202) throw new Error(`POST /events answered ${response.status}`);
    return list;
  }

  try {
    const pick = await measurePicks(
      registry.url,
      await tasks('pick', 10, ['us-east-1a', 'us-east-1b']),
      options,
    );
    log(`client pick: ${JSON.stringify(pick)}`);
    await tasks('rate', 3);
    const requests = await measureRequestRate(registry.url, options);
    log(`client requests: ${JSON.stringify(requests)}`);
    const death = await measureDeath(registry.url, tasks, standIns, options);
    log(`client death: ${JSON.stringify(death)}`);
    const bundle = await measureBundleSizes();
    return { pick, requests, death, bundle };
  } finally {
    await Promise.all(standIns.map((s) => s.close()));
    await registry.close();
  }
}

async function measurePicks(url: string, list: readonly BenchTask[], options: ClientBenchOptions) {
  const client = new RegistryClient({ url, auth: 'none', refreshIntervalMs: 60_000 });
  // One endpoint of ten ejected for the whole run (an hour's back-off), so every pick checks ejections.
  const ejecting = new RegistryClient({
    url,
    auth: 'none',
    refreshIntervalMs: 60_000,
    ejection: { baseMs: 3_600_000, maxMs: 3_600_000 },
  });
  try {
    const n = list.length;
    await client.pick('pick');
    ejecting.reportFailure(await ejecting.pick('pick'));
    const array = list.map((t) => ({ host: t.host }));
    const count = options.picksPerRound;
    let sink = 0;
    const floor = () => {
      let i = 0;
      const t0 = process.hrtime.bigint();
      for (let k = 0; k < count; k += 1) sink += (array[i++ % n] as { host: string }).host.length;
      return Number(process.hrtime.bigint() - t0) / count;
    };
    const awaited = async () => {
      let i = 0;
      const t0 = process.hrtime.bigint();
      for (let k = 0; k < count; k += 1) sink += (await (array[i++ % n] as { host: string })).host.length;
      return Number(process.hrtime.bigint() - t0) / count;
    };
    const picks = async (c: RegistryClient, opts?: Parameters<RegistryClient['pick']>[1]) => {
      const t0 = process.hrtime.bigint();
      for (let k = 0; k < count; k += 1) sink += (await c.pick('pick', opts)).host.length;
      return Number(process.hrtime.bigint() - t0) / count;
    };
    const samples = {
      floor: [] as number[],
      awaited: [] as number[],
      rr: [] as number[],
      ll: [] as number[],
      zone: [] as number[],
      ej: [] as number[],
    };
    for (let round = 0; round < options.pickRounds + 1; round += 1) {
      const batch = {
        floor: floor(),
        awaited: await awaited(),
        rr: await picks(client),
        ll: await picks(client, { strategy: 'least-loaded' }),
        zone: await picks(client, { zone: 'us-east-1b' }),
        ej: await picks(ejecting),
      };
      if (round === 0) continue; // warm-up
      for (const [key, value] of Object.entries(batch)) samples[key as keyof typeof samples].push(value);
    }
    if (sink === 0) throw new Error('unreachable: keeps the loops from being optimised away');
    const ns = (values: number[]) => round(median(values), 1);
    const floorNs = ns(samples.floor);
    return {
      endpoints: n,
      floorNs,
      awaitedFloorNs: ns(samples.awaited),
      roundRobinNs: ns(samples.rr),
      leastLoadedNs: ns(samples.ll),
      zoneNs: ns(samples.zone),
      withEjectionNs: ns(samples.ej),
      ratio: ratio(median(samples.rr), median(samples.floor)),
      ratioToAwaitedFloor: ratio(median(samples.rr), median(samples.awaited)),
    };
  } finally {
    client.close();
    ejecting.close();
  }
}

async function measureRequestRate(url: string, options: ClientBenchOptions) {
  const statuses: number[] = [];
  const clients = Array.from(
    { length: options.rateClients },
    () =>
      new RegistryClient({
        url,
        auth: 'none',
        fetch: async (input, init) => {
          const response = await fetch(input, init);
          statuses.push(response.status);
          return response;
        },
      }),
  );
  try {
    await Promise.all(clients.map((c) => c.pick('rate')));
    const start = statuses.length;
    const t0 = performance.now();
    // The clients are used all along (as a caller would), which does not add requests.
    while (performance.now() - t0 < options.rateSeconds * 1000) {
      for (const c of clients) await c.pick('rate');
      await sleep(50);
    }
    const minutes = (performance.now() - t0) / 60_000;
    const during = statuses.slice(start);
    return {
      clients: options.rateClients,
      seconds: options.rateSeconds,
      perClientPerMinute: round(during.length / options.rateClients / minutes, 1),
      notModifiedShare: round(during.filter((s) => s === 304).length / during.length, 3),
    };
  } finally {
    for (const c of clients) c.close();
  }
}

async function measureDeath(
  url: string,
  tasks: (model: string, n: number) => Promise<BenchTask[]>,
  standIns: TfServingStandIn[],
  options: ClientBenchOptions,
) {
  const limitMs = 20_000;
  const standInOf = (task: BenchTask) => standIns.find((s) => s.host === task.host) as TfServingStandIn;
  let picksAfterEjection = 0;

  /** One trial: two endpoints of a model of its own; the first dies at a random phase. */
  async function trial(i: number, eject: boolean): Promise<number> {
    const model = `death${eject ? 'e' : 'n'}${i}`;
    const [dead, alive] = await tasks(model, 2);
    if (dead === undefined || alive === undefined) throw new Error('no tasks');
    const client = new RegistryClient({ url, auth: 'none' });
    try {
      while ((await client.endpoints(model)).endpoints.length < 2) await sleep(20);
      await sleep(Math.random() * 1000);
      const t0 = performance.now();
      await standInOf(dead).die();
      for (;;) {
        if (performance.now() - t0 > limitMs) throw new Error(`${model}: still picked after ${limitMs} ms`);
        if (eject) {
          // A caller making a status call every 10 ms and reporting how it went.
          const endpoint = await client.pick(model);
          const ok = await callStatus(endpoint.restUrl, model);
          if (ok) client.reportSuccess(endpoint);
          else {
            client.reportFailure(endpoint);
            const at = performance.now() - t0;
            const until = performance.now() + 1000;
            while (performance.now() < until) {
              if ((await client.pick(model)).host === dead.host) picksAfterEjection += 1;
              await sleep(10);
            }
            return at;
          }
        } else {
          const hosts = [(await client.pick(model)).host, (await client.pick(model)).host];
          if (!hosts.includes(dead.host)) return performance.now() - t0;
        }
        await sleep(10);
      }
    } finally {
      client.close();
    }
  }

  const withEjection = await Promise.all(
    Array.from({ length: options.deathTrials }, (_, i) => trial(i, true)),
  );
  const withoutEjection = await Promise.all(
    Array.from({ length: options.deathTrials }, (_, i) => trial(i, false)),
  );
  return {
    settings: {
      intervalSeconds: SETTINGS.intervalSeconds,
      failureThreshold: SETTINGS.failureThreshold,
      timeoutMs: SETTINGS.timeoutMs,
      refreshMs: 1000,
    },
    withEjection: distribution(withEjection, 1),
    withoutEjection: distribution(withoutEjection, 1),
    picksAfterEjection,
  };
}

/** A TF Serving status call, as a caller's request: true when it answered 200. */
async function callStatus(restUrl: string, model: string): Promise<boolean> {
  try {
    const response = await fetch(`${restUrl}/v1/models/${model}`, { signal: AbortSignal.timeout(500) });
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}

export const CLIENT_PLANS = {
  quick: { pickRounds: 7, picksPerRound: 200_000, rateSeconds: 15, rateClients: 5, deathTrials: 10 },
  full: { pickRounds: 21, picksPerRound: 500_000, rateSeconds: 60, rateClients: 10, deathTrials: 20 },
} as const;

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
  const result = await benchClient({
    ...CLIENT_PLANS[values.quick ? 'quick' : 'full'],
    log: (line) => console.error(line),
  });
  console.log(JSON.stringify(result, null, 2));
}
