// The packed client against the real `npm start` (short probe settings) and TF Serving stand-ins on
// 127.0.90.1–99 (the predict example on 127.0.90.101–103). Each test has its own model and hosts.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { RegistryClient, RegistryClientOptions, RegistryStateEvent } from 'tf-serving-registry-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { within } from '../../test/support/kit/poll.ts';
import { freePort } from '../../tools/dynamodb-engines.ts';
import { TfServingStandIn } from '../../tools/tfserving-stand-in/stand-in.ts';
import { EXCLUSION_MS, LocalRegistry, taskEvent } from './support/local-registry.ts';
import { type ClientModule, loadClient } from './support/packed.ts';

const REPO_DIR = fileURLToPath(new URL('../../', import.meta.url));
/** The client's default refresh, with its default ±10 % jitter. */
const REFRESH_MS = 1000 * 1.1;
/** Deadlines are doubled for a shared 2-core machine, as in the repository's other runtime tests. */
const SLACK = 2;

let lib: ClientModule;
let registry: LocalRegistry;
const clients: RegistryClient[] = [];
const standIns: TfServingStandIn[] = [];
let octet = 0;

beforeAll(async () => {
  lib = await loadClient();
  registry = new LocalRegistry(await freePort());
  await registry.start();
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await Promise.all(standIns.splice(0).map((s) => s.close()));
});

afterAll(async () => {
  await registry.kill();
});

interface Task {
  readonly host: string;
  readonly taskId: string;
  readonly standIn: TfServingStandIn;
}

/** `n` stand-ins serving `model`, registered through `/events`, listed by the registry. */
async function fleet(model: string, n: number): Promise<Task[]> {
  const tasks: Task[] = [];
  for (let i = 0; i < n; i += 1) {
    octet += 1;
    const host = `127.0.90.${octet}`;
    const standIn = await TfServingStandIn.start({ host, models: { [model]: { available: ['1'] } } });
    standIns.push(standIn);
    tasks.push({ host, taskId: `${model}${i}`.padEnd(32, '0'), standIn });
  }
  await postRunning(model, tasks);
  await within(5000, async () => (await listed(model)).length === n, `${n} endpoints listed`);
  return tasks;
}

async function postRunning(model: string, tasks: readonly Task[]): Promise<void> {
  await registry.post(tasks.map((t) => taskEvent('running', t.host, t.taskId, model)));
}

async function listed(model: string): Promise<string[]> {
  const response = await fetch(`${registry.url}/models/${model}`);
  if (response.status !== 200) return [];
  return ((await response.json()) as { endpoints: { host: string }[] }).endpoints.map((e) => e.host);
}

function client(options: Partial<RegistryClientOptions> = {}) {
  const statuses: number[] = [];
  const events: RegistryStateEvent[] = [];
  const instance = new lib.RegistryClient({
    url: registry.url,
    auth: 'none',
    fetch: async (input, init) => {
      const response = await fetch(input, init);
      statuses.push(response.status);
      return response;
    },
    ...options,
  });
  instance.addEventListener('stale', (event) => events.push(event));
  instance.addEventListener('fresh', (event) => events.push(event));
  clients.push(instance);
  return { client: instance, statuses, events };
}

async function picks(c: RegistryClient, model: string, n: number): Promise<string[]> {
  const hosts: string[] = [];
  for (let i = 0; i < n; i += 1) hosts.push((await c.pick(model)).host);
  return hosts;
}

function counts(list: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of list) out[item] = (out[item] ?? 0) + 1;
  return out;
}

/** A TF Serving status call on the picked endpoint, reported to the client as success or failure. */
async function call(c: RegistryClient, model: string): Promise<{ host: string; ok: boolean; at: number }> {
  const endpoint = await c.pick(model);
  try {
    const response = await fetch(`${endpoint.restUrl}/v1/models/${model}`, {
      signal: AbortSignal.timeout(500),
    });
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(String(response.status));
    c.reportSuccess(endpoint);
    return { host: endpoint.host, ok: true, at: performance.now() };
  } catch {
    c.reportFailure(endpoint);
    return { host: endpoint.host, ok: false, at: performance.now() };
  }
}

describe('RegistryClient against npm start', () => {
  it('spreads round-robin picks evenly over three endpoints', async () => {
    // Prepare
    const tasks = await fleet('spread', 3);
    const { client: c } = client();

    // Act
    const picked = await picks(c, 'spread', 300);
    const one = await c.pick('spread');

    // Assess
    expect(counts(picked)).toEqual(Object.fromEntries(tasks.map((t) => [t.host, 100])));
    expect(one.restUrl).toBe(`http://${one.host}:8501`);
    expect(one.grpcTarget).toBe(`${one.host}:8500`);
  });

  it('revalidates with If-None-Match: refreshes of an unchanged answer are 304s', async () => {
    // Prepare
    await fleet('revalidate', 2);
    const { client: c, statuses } = client({ refreshIntervalMs: 100 });

    // Act
    await c.pick('revalidate');
    await within(10_000, () => statuses.length >= 15, '15 registry requests');

    // Assess
    expect(statuses[0]).toBe(200);
    expect(statuses.slice(1, 15)).toEqual(Array(14).fill(304));
  });

  it('stops picking a dead endpoint after one failed request when failures are reported', async () => {
    // Prepare
    const tasks = await fleet('eject', 3);
    const { client: c } = client();
    const dead = tasks[1] as Task;
    await picks(c, 'eject', 3);

    // Act
    await dead.standIn.die();
    const calls = [];
    for (let i = 0; i < 30; i += 1) calls.push(await call(c, 'eject'));
    const stillListed = (await c.endpoints('eject')).endpoints.map((e) => e.host);

    // Assess: one failed call, then no pick of it during its 1 s ejection
    const failures = calls.filter((x) => !x.ok);
    const first = failures[0];
    expect(first?.host).toBe(dead.host);
    const during = calls.filter((x) => first !== undefined && x.at > first.at && x.at < first.at + 1000);
    expect(during.length).toBeGreaterThan(10);
    expect(during.map((x) => x.host)).not.toContain(dead.host);
    expect(stillListed).toContain(dead.host); // the registry has not excluded it yet: the client did
  });

  it("stops picking a dead endpoint within the registry's exclusion time plus one refresh, without ejection", async () => {
    // Prepare
    const tasks = await fleet('death', 3);
    const { client: c } = client();
    const dead = tasks[0] as Task;
    await picks(c, 'death', 3);

    // Act
    await dead.standIn.die();
    const took = await within(
      SLACK * (EXCLUSION_MS + REFRESH_MS),
      async () => !(await picks(c, 'death', 3)).includes(dead.host),
      'dead endpoint no longer picked',
    );

    // Assess: the registry needed probes to notice (at least one probe interval)
    expect(took).toBeGreaterThan(500);
    expect(new Set(await picks(c, 'death', 6))).toEqual(new Set([tasks[1]?.host, tasks[2]?.host]));
  });

  it('stops picking a drained task within one refresh', async () => {
    // Prepare
    const tasks = await fleet('drain', 3);
    const { client: c } = client();
    const drained = tasks[2] as Task;
    await picks(c, 'drain', 3);

    // Act
    await registry.post(taskEvent('draining', drained.host, drained.taskId, 'drain'));
    const took = await within(
      SLACK * REFRESH_MS,
      async () => !(await picks(c, 'drain', 3)).includes(drained.host),
      'drained endpoint no longer picked',
    );

    // Assess
    expect(took).toBeLessThanOrEqual(SLACK * REFRESH_MS);
    expect(await listed('drain')).not.toContain(drained.host);
  });

  it('answers from the last known answer, marked stale, while the registry is killed; fresh within one refresh once it is back', async () => {
    // Prepare
    const tasks = await fleet('outage', 3);
    const { client: c, events } = client();
    await picks(c, 'outage', 3);

    // Act 1: the registry process vanishes
    const killedAt = Date.now();
    await registry.kill();
    await within(SLACK * REFRESH_MS + 2000, async () => (await c.endpoints('outage')).stale, 'stale');
    const stale = await c.endpoints('outage');
    const duringOutage = await picks(c, 'outage', 30);

    // Act 2: back on the same port (its in-memory table is empty: ECS events are posted again)
    await registry.start();
    await postRunning('outage', tasks);
    const took = await within(
      SLACK * REFRESH_MS,
      async () => {
        const now = await c.endpoints('outage');
        return !now.stale && now.endpoints.length === 3;
      },
      'fresh, with the three endpoints',
    );
    const fresh = await c.endpoints('outage');

    // Assess
    expect(stale.endpoints.map((e) => e.host).sort()).toEqual(tasks.map((t) => t.host).sort());
    expect(Date.parse(stale.asOf as string)).toBeLessThanOrEqual(killedAt + 50);
    expect(counts(duringOutage)).toEqual(Object.fromEntries(tasks.map((t) => [t.host, 10])));
    expect(events.map((e) => e.type)).toEqual(['stale', 'fresh']);
    expect(events[0]?.reason).toMatch(/ECONNREFUSED/);
    expect(took).toBeLessThanOrEqual(SLACK * REFRESH_MS);
    expect(fresh).toMatchObject({ stale: false, known: true });
    expect(fresh.endpoints).toHaveLength(3);
  });

  it('runs examples/predict.ts: round-robin predictions over three stand-ins, riding out one dying mid-run', async () => {
    // Act
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'examples/predict.ts',
        ...['--setup', '--registry', registry.url, '--requests', '30'],
        ...['--hosts', '127.0.90.101,127.0.90.102,127.0.90.103'],
      ],
      { cwd: REPO_DIR, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    const [code] = await once(child, 'exit');
    const summary = JSON.parse(stdout.trim().split('\n').at(-1) as string) as {
      perHost: Record<string, number>;
      retried: number;
      wrong: number;
    };

    // Assess
    expect(code, stdout).toBe(0);
    expect(summary.wrong).toBe(0);
    expect(summary.retried).toBeGreaterThanOrEqual(1);
    expect(summary.retried).toBeLessThanOrEqual(3);
    expect(summary.perHost['127.0.90.102']).toBeLessThanOrEqual(4);
    expect(
      (summary.perHost['127.0.90.101'] ?? 0) + (summary.perHost['127.0.90.103'] ?? 0),
    ).toBeGreaterThanOrEqual(26);
    expect(stdout).toMatch(/127\.0\.90\.102 failed \(.+\): ejected/);
  });
});
