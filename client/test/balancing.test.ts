// Picking with the packed client over a scripted discovery API on 127.0.90.251 (endpoint data on
// 127.0.91.x, never dialled): strategies, zones, passive ejection and its back-off, failing open.

import type { PickOptions, RegistryClient, RegistryClientOptions } from 'tf-serving-registry-client';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { within } from '../../test/support/kit/poll.ts';
import { endpoint, FakeRegistry } from './support/fake-registry.ts';
import { type ClientModule, loadClient } from './support/packed.ts';

let lib: ClientModule;
let registry: FakeRegistry;
const clients: RegistryClient[] = [];

beforeAll(async () => {
  lib = await loadClient();
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await registry?.close();
});

async function setUp(
  endpoints = [endpoint(1), endpoint(2), endpoint(3)],
  options: Partial<RegistryClientOptions> = {},
) {
  registry = await FakeRegistry.start('127.0.90.251');
  registry.endpoints = endpoints;
  const client = new lib.RegistryClient({ url: registry.url, auth: 'none', ...options });
  clients.push(client);
  return client;
}

async function hosts(client: RegistryClient, n: number, options?: PickOptions): Promise<string[]> {
  const picked: string[] = [];
  for (let i = 0; i < n; i += 1) picked.push((await client.pick('resnet', options)).host);
  return picked;
}

function counts(list: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of list) out[item] = (out[item] ?? 0) + 1;
  return out;
}

describe('strategies and zones', () => {
  it('round-robin cycles through the endpoints in the registry order', async () => {
    // Prepare
    const client = await setUp();

    // Act
    const picked = await hosts(client, 9);

    // Assess
    expect(picked).toEqual(Array.from({ length: 9 }, (_, i) => `127.0.91.${(i % 3) + 1}`));
  });

  it('least-loaded never picks the busier endpoint of a pair, and picks it again once its requests end', async () => {
    // Prepare
    const client = await setUp();
    const busy = await client.pick('resnet');
    for (let i = 0; i < 5; i += 1) client.begin(busy);

    // Act
    const whileBusy = await hosts(client, 300, { strategy: 'least-loaded' });
    for (let i = 0; i < 5; i += 1) client.end(busy);
    const after = await hosts(client, 300, { strategy: 'least-loaded' });

    // Assess
    expect(whileBusy).not.toContain(busy.host);
    expect(new Set(whileBusy).size).toBe(2);
    expect(after).toContain(busy.host);
  });

  it('least-loaded spreads concurrent requests evenly', async () => {
    // Prepare
    const client = await setUp();
    const open: Awaited<ReturnType<typeof client.pick>>[] = [];

    // Act: 30 requests begin before any ends
    for (let i = 0; i < 30; i += 1) {
      const picked = await client.pick('resnet', { strategy: 'least-loaded' });
      client.begin(picked);
      open.push(picked);
    }

    // Assess: two choices keep every endpoint within a few requests of the others
    const load = Object.values(counts(open.map((p) => p.host)));
    expect(load).toHaveLength(3);
    expect(Math.max(...load) - Math.min(...load)).toBeLessThanOrEqual(3);
    for (const picked of open) client.reportSuccess(picked);
  });

  it('prefers the endpoints of the given zone and falls back to the others', async () => {
    // Prepare
    const client = await setUp([
      endpoint(1, 'us-east-1a'),
      endpoint(2, 'us-east-1a'),
      endpoint(3, 'us-east-1b'),
    ]);

    // Act
    const inB = await hosts(client, 4, { zone: 'us-east-1b' });
    const inA = await hosts(client, 4, { zone: 'us-east-1a' });
    const nowhere = await hosts(client, 3, { zone: 'us-east-1c' });
    client.reportFailure(await client.pick('resnet', { zone: 'us-east-1b' }));
    const bDown = await hosts(client, 4, { zone: 'us-east-1b' });

    // Assess
    expect(new Set(inB)).toEqual(new Set(['127.0.91.3']));
    expect(counts(inA)).toEqual({ '127.0.91.1': 2, '127.0.91.2': 2 });
    expect(new Set(nowhere)).toEqual(new Set(['127.0.91.1', '127.0.91.2', '127.0.91.3']));
    expect(new Set(bDown)).toEqual(new Set(['127.0.91.1', '127.0.91.2']));
  });

  it('rejects an unknown strategy', async () => {
    // Prepare
    const client = await setUp();

    // Act + Assess
    await expect(client.pick('resnet', { strategy: 'random' as 'round-robin' })).rejects.toThrow(
      /strategy must be/,
    );
  });
});

describe('passive ejection', () => {
  it('takes a failed endpoint out of the picks at once, and a success brings it back at once', async () => {
    // Prepare
    const client = await setUp();
    const failed = await client.pick('resnet');

    // Act
    client.reportFailure(failed);
    const ejected = await hosts(client, 20);
    client.reportSuccess(failed);
    const back = await hosts(client, 3);

    // Assess
    expect(ejected).not.toContain(failed.host);
    expect(counts(ejected)).toEqual({ '127.0.91.2': 10, '127.0.91.3': 10 });
    expect(back).toContain(failed.host);
  });

  it('backs off 1×, 2×, 4× the base on failures in a row, capped at the maximum', async () => {
    // Prepare: base 250 ms, cap 600 ms
    const client = await setUp([endpoint(1), endpoint(2)], { ejection: { baseMs: 250, maxMs: 600 } });
    const failing = await client.pick('resnet');
    // Measured on the client's own clock (Date.now, whole milliseconds): performance.now() across
    // a Date.now() tick can read 599.7 ms for an ejection of exactly 600.
    const ejectedFor = async () => {
      const since = Date.now();
      client.reportFailure(failing);
      await within(5000, async () => (await hosts(client, 2)).includes(failing.host), 'back in the picks');
      return Date.now() - since;
    };

    // Act
    const first = await ejectedFor();
    const second = await ejectedFor();
    const third = await ejectedFor();

    // Assess
    expect(first).toBeGreaterThanOrEqual(250);
    expect(second).toBeGreaterThanOrEqual(500);
    expect(third).toBeGreaterThanOrEqual(600);
    expect(first).toBeLessThan(500);
    expect(third).toBeLessThan(1200);
  });

  it('fails open when every endpoint is ejected: picks the one whose ejection ends first', async () => {
    // Prepare
    const client = await setUp([endpoint(1), endpoint(2)]);
    const [one, two] = [await client.pick('resnet'), await client.pick('resnet')];

    // Act
    client.reportFailure(two);
    client.reportFailure(two); // 2 s
    client.reportFailure(one); // 1 s: back first
    const picked = await hosts(client, 5);
    const leastLoaded = await hosts(client, 5, { strategy: 'least-loaded' });

    // Assess
    expect(new Set(picked)).toEqual(new Set([one.host]));
    expect(new Set(leastLoaded)).toEqual(new Set([one.host]));
  });

  it("lets the registry's answer win when it changes: the endpoints it lists are picked again", async () => {
    // Prepare
    const client = await setUp(undefined, { refreshIntervalMs: 30, ejection: { baseMs: 60_000 } });
    const failed = await client.pick('resnet');
    client.reportFailure(failed);
    await within(2000, () => registry.requests.length >= 3, 'a few 304 refreshes');
    const unchanged = await hosts(client, 6);

    // Act
    registry.endpoints = [...(registry.endpoints ?? []), endpoint(4)];

    // Assess
    expect(unchanged).not.toContain(failed.host);
    await within(2000, async () => (await hosts(client, 4)).includes(failed.host), 'ejection lifted');
  });
});
