// The packed client against a scripted discovery API on 127.0.90.250 (endpoint data on 127.0.91.x,
// never dialled): the server contract's answers, stale and failing ones included.

import type { RegistryClient, RegistryClientOptions, RegistryStateEvent } from 'tf-serving-registry-client';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { within } from '../../test/support/kit/poll.ts';
import { endpoint, FakeRegistry } from './support/fake-registry.ts';
import { type ClientModule, loadClient } from './support/packed.ts';

let lib: ClientModule;
const registries: FakeRegistry[] = [];
const clients: RegistryClient[] = [];

beforeAll(async () => {
  lib = await loadClient();
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await Promise.all(registries.splice(0).map((r) => r.close()));
});

async function fake(prefix = ''): Promise<FakeRegistry> {
  const registry = await FakeRegistry.start('127.0.90.250', prefix);
  registries.push(registry);
  registry.endpoints = [endpoint(1), endpoint(2), endpoint(3)];
  return registry;
}

/** A client whose fetch records every status it got. */
function client(url: string, options: Partial<RegistryClientOptions> = {}) {
  const statuses: number[] = [];
  const events: RegistryStateEvent[] = [];
  const instance = new lib.RegistryClient({
    url,
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

describe('endpoints and pick', () => {
  it('resolves the endpoints with their REST URL and gRPC target', async () => {
    // Prepare
    const registry = await fake();
    registry.endpoints = [endpoint(1), { ...endpoint(2), grpcPort: null }];
    const { client: c } = client(registry.url);

    // Act
    const result = await c.endpoints('resnet');

    // Assess
    expect(result).toMatchObject({ model: 'resnet', known: true, stale: false });
    expect(result).not.toHaveProperty('asOf');
    expect(result.endpoints.map((e) => [e.id, e.restUrl, e.grpcTarget])).toEqual([
      ['ml/task1/tfserving', 'http://127.0.91.1:8501', '127.0.91.1:8500'],
      ['ml/task2/tfserving', 'http://127.0.91.2:8501', null],
    ]);
    expect(result.endpoints[0]).toMatchObject({ versions: ['1'], availabilityZone: 'us-east-1a' });
  });

  it('asks the version and label routes, with names percent-encoded', async () => {
    // Prepare
    const registry = await fake();
    const { client: c } = client(registry.url);

    // Act
    await c.endpoints('resnet', { version: 2 });
    await c.pick('résnet', { label: 'stable' });

    // Assess
    expect(registry.requests.map((r) => r.path)).toEqual([
      '/models/resnet/versions/2',
      '/models/r%C3%A9snet/labels/stable',
    ]);
  });

  it.each(['/v1/', '/v1'])('works under an API Gateway stage path (base URL ending %s)', async (ending) => {
    // Prepare
    const registry = await fake('/v1');
    const base = registry.url.replace(/\/v1$/, ending);
    const { client: c } = client(base);

    // Act
    const picked = await c.pick('resnet');

    // Assess
    expect(picked.host).toBe('127.0.91.1');
    expect(registry.requests.map((r) => r.path)).toEqual(['/v1/models/resnet']);
  });

  it('answers a 404 ModelNotFound as an unknown model, and pick throws NoEndpointError ModelNotFound', async () => {
    // Prepare
    const registry = await fake();
    registry.endpoints = undefined;
    const { client: c } = client(registry.url);

    // Act
    const result = await c.endpoints('nope');
    const picking = c.pick('nope');

    // Assess
    expect(result).toMatchObject({ known: false, endpoints: [], stale: false });
    await expect(picking).rejects.toBeInstanceOf(lib.NoEndpointError);
    await expect(picking).rejects.toMatchObject({ code: 'ModelNotFound', model: 'nope', stale: false });
  });

  it('throws NoEndpointError NoHealthyEndpoint when the registry lists no endpoint', async () => {
    // Prepare
    const registry = await fake();
    registry.endpoints = [];
    const { client: c } = client(registry.url);

    // Act + Assess
    await expect(c.pick('resnet')).rejects.toMatchObject({
      name: 'NoEndpointError',
      code: 'NoHealthyEndpoint',
    });
    expect((await c.endpoints('resnet')).known).toBe(true);
  });

  it('rejects with RegistryRequestError when the registry refuses the request (400)', async () => {
    // Prepare
    const registry = await fake();
    registry.override = () => ({
      status: 400,
      body: { error: { code: 'InvalidName', message: 'bad name' } },
    });
    const { client: c } = client(registry.url);

    // Act
    const picking = c.pick('bad\u0001name');

    // Assess
    await expect(picking).rejects.toBeInstanceOf(lib.RegistryRequestError);
    await expect(picking).rejects.toMatchObject({ status: 400, code: 'InvalidName' });
  });

  it('rejects a version and a label together, and bad options, naming what is wrong', async () => {
    // Prepare
    const registry = await fake();
    const { client: c } = client(registry.url);

    // Act + Assess
    await expect(c.endpoints('resnet', { version: '1', label: 'stable' })).rejects.toThrow(
      /version or a label/,
    );
    expect(() => new lib.RegistryClient({ url: 'ftp://x', auth: 'none' })).toThrow(/http\(s\) base URL/);
    expect(() => new lib.RegistryClient({ url: registry.url, auth: 'none', refreshIntervalMs: -1 })).toThrow(
      /refreshIntervalMs must be a number from 10/,
    );
    expect(() => new lib.RegistryClient({ url: registry.url, auth: 'basic' as 'none' })).toThrow(
      /auth must be/,
    );
  });
});

describe('background refresh', () => {
  it('revalidates with If-None-Match, so an unchanged answer costs a 304', async () => {
    // Prepare
    const registry = await fake();
    const { client: c, statuses } = client(registry.url, { refreshIntervalMs: 40 });

    // Act
    await c.pick('resnet');
    await within(5000, () => statuses.length >= 8, '8 requests');

    // Assess
    expect(statuses[0]).toBe(200);
    expect(statuses.slice(1).every((status) => status === 304)).toBe(true);
    expect(registry.requests.slice(1).every((r) => r.headers['if-none-match'] === registry.etag)).toBe(true);
  });

  it('takes a changed answer at the next refresh', async () => {
    // Prepare
    const registry = await fake();
    const { client: c } = client(registry.url, { refreshIntervalMs: 40 });
    await c.pick('resnet');

    // Act
    registry.endpoints = [endpoint(4)];

    // Assess
    await within(2000, async () => (await c.pick('resnet')).host === '127.0.91.4', 'new answer');
    expect((await c.endpoints('resnet')).endpoints.map((e) => e.host)).toEqual(['127.0.91.4']);
  });

  it('stops refreshing when closed, and later calls reject', async () => {
    // Prepare
    const registry = await fake();
    const { client: c } = client(registry.url, { refreshIntervalMs: 20 });
    await c.pick('resnet');
    await within(2000, () => registry.requests.length >= 3);

    // Act
    c.close();
    const seen = registry.requests.length;
    await new Promise((resolve) => setTimeout(resolve, 200));

    // Assess
    expect(registry.requests.length).toBe(seen);
    await expect(c.pick('resnet')).rejects.toBeInstanceOf(lib.RegistryClientError);
  });

  it('pauses a watch nobody uses, and revalidates it on its next use', async () => {
    // Prepare
    const registry = await fake();
    const { client: c } = client(registry.url, { refreshIntervalMs: 20, idleTimeoutMs: 100 });
    await c.pick('resnet');

    // Act: no use for a while
    await within(3000, async () => {
      const before = registry.requests.length;
      await new Promise((resolve) => setTimeout(resolve, 100));
      return registry.requests.length === before;
    });
    const paused = registry.requests.length;
    const picked = await c.pick('resnet');

    // Assess: round-robin goes on where it was (the second pick)
    expect(picked.host).toBe('127.0.91.2');
    expect(registry.requests.length).toBe(paused + 1);
  });
});

describe('failing open', () => {
  it('answers from the last known answer, marked stale, while the registry answers 503; fresh again after', async () => {
    // Prepare
    const registry = await fake();
    const { client: c, events } = client(registry.url, { refreshIntervalMs: 40 });
    await c.pick('resnet');
    const before = Date.now();

    // Act
    registry.override = () => ({
      status: 503,
      body: { error: { code: 'RegistryUnavailable', message: 'store down' } },
      headers: { 'retry-after': '0' },
    });
    await within(2000, async () => (await c.endpoints('resnet')).stale, 'stale');
    const stale = await c.endpoints('resnet');
    const picks = await Promise.all([1, 2, 3].map(() => c.pick('resnet')));
    registry.override = undefined;
    await within(2000, async () => !(await c.endpoints('resnet')).stale, 'fresh');

    // Assess
    expect(stale.endpoints).toHaveLength(3);
    expect(Date.parse(stale.asOf as string)).toBeLessThanOrEqual(before + 50);
    expect(picks.map((p) => p.host).sort()).toEqual(['127.0.91.1', '127.0.91.2', '127.0.91.3']);
    expect(events.map((e) => e.type)).toEqual(['stale', 'fresh']);
    expect(events[0]).toMatchObject({ model: 'resnet', asOf: stale.asOf });
    expect(events[0]?.reason).toMatch(/503 RegistryUnavailable/);
  });

  it('fails open when the registry hangs past the request deadline', async () => {
    // Prepare
    const registry = await fake();
    const { client: c, events } = client(registry.url, { refreshIntervalMs: 40, requestTimeoutMs: 150 });
    await c.pick('resnet');

    // Act
    registry.override = () => 'hang';
    const took = await within(3000, async () => (await c.endpoints('resnet')).stale, 'stale');

    // Assess
    expect(took).toBeGreaterThanOrEqual(150);
    expect((await c.pick('resnet')).host).toMatch(/^127\.0\.91\./);
    expect(events[0]?.reason).toMatch(/no answer within 150 ms/);
  });

  it("surfaces the registry's own stale answer as stale, with its asOf, and asks for it in full", async () => {
    // Prepare
    const registry = await fake();
    const asOf = '2026-12-01T10:00:00.000Z';
    registry.override = () => ({
      status: 200,
      body: { model: 'resnet', endpoints: [endpoint(1)], stale: true, asOf },
      headers: { etag: 'W/"same"' },
    });
    const { client: c, events } = client(registry.url, { refreshIntervalMs: 40 });

    // Act
    const result = await c.endpoints('resnet');
    await within(2000, () => registry.requests.length >= 4);

    // Assess
    expect(result).toMatchObject({
      stale: true,
      asOf,
      endpoints: [expect.objectContaining({ id: endpoint(1).id })],
    });
    expect(events.map((e) => [e.type, e.asOf])).toEqual([['stale', asOf]]);
    expect(registry.requests.every((r) => r.headers['if-none-match'] === undefined)).toBe(true);
  });

  it('throws RegistryUnavailableError when it has never had an answer, and honours Retry-After', async () => {
    // Prepare
    const registry = await fake();
    registry.override = () => ({
      status: 503,
      body: { error: { code: 'RegistryUnavailable', message: 'nothing known yet' } },
      headers: { 'retry-after': '2' },
    });
    const { client: c } = client(registry.url);

    // Act
    const first = c.pick('resnet');
    await expect(first).rejects.toBeInstanceOf(lib.RegistryUnavailableError);
    const second = c.endpoints('resnet');

    // Assess
    await expect(first).rejects.toMatchObject({ status: 503, retryAfterMs: 2000, model: 'resnet' });
    await expect(second).rejects.toBeInstanceOf(lib.RegistryUnavailableError);
    expect(registry.requests).toHaveLength(1);
  });

  it('throws RegistryUnavailableError for a refused connection and for a 200 that is not a discovery answer', async () => {
    // Prepare
    const registry = await fake();
    const closedUrl = registry.url;
    await registry.close();
    registries.splice(registries.indexOf(registry), 1);
    const html = await fake();
    html.override = () => ({ status: 200, body: '<html>proxy</html>' });

    // Act + Assess
    await expect(client(closedUrl).client.pick('resnet')).rejects.toMatchObject({
      name: 'RegistryUnavailableError',
      message: expect.stringMatching(/ECONNREFUSED/),
    });
    await expect(client(html.url).client.pick('resnet')).rejects.toMatchObject({
      name: 'RegistryUnavailableError',
      message: expect.stringMatching(/not a discovery answer/),
    });
  });

  it('gives up on the first call at the request deadline when the registry hangs', async () => {
    // Prepare
    const registry = await fake();
    registry.override = () => 'hang';
    const { client: c } = client(registry.url, { requestTimeoutMs: 200 });

    // Act
    const started = performance.now();
    await expect(c.pick('resnet')).rejects.toBeInstanceOf(lib.RegistryUnavailableError);
    const took = performance.now() - started;

    // Assess
    expect(took).toBeGreaterThanOrEqual(190);
    expect(took).toBeLessThan(2000);
  });
});
