import { once } from 'node:events';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTableInput } from '../../functions/adapters/dynamodb/table.ts';
import { freePort } from '../../tools/dynamodb-engines.ts';
import { TfServingStandIn } from '../../tools/tfserving-stand-in/stand-in.ts';
import { startEngine } from '../support/dynamodb-engines.ts';
import { loadEvent, loopbackEvent } from '../support/kit/events.ts';
import { fetchDocumented } from '../support/kit/openapi.ts';
import { within } from '../support/kit/poll.ts';
import { exclusionMs, nextProbeMs, QUICK_SETTINGS } from '../support/kit/settings.ts';
import { spawnLocalProcess as startRegistry } from '../support/local-process.ts';

/**
 * `npm start` end to end, over HTTP: events in, endpoints appear, disappear on death, hang and
 * drain, and come back on recovery. Deadlines derive from the configured intervals.
 */

const SETTINGS = QUICK_SETTINGS;
// The design's bound on a silent death, and on a recovery (benchmarks measure them).
const EXCLUSION_DEADLINE_MS = exclusionMs();
const RECOVERY_DEADLINE_MS = nextProbeMs();
const AT_ONCE_MS = 1000;

describe('npm start', () => {
  let registry: ReturnType<typeof startRegistry>;
  let url: string;
  const stands: TfServingStandIn[] = [];

  beforeAll(async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    registry = startRegistry({
      PORT: String(port),
      ...Object.fromEntries(Object.entries(SETTINGS).map(([k, v]) => [k, String(v)])),
    });
    await within(30_000, async () => registry.output().includes(`running at ${url}`));
  });

  afterAll(async () => {
    await Promise.all(stands.map((s) => s.close()));
    if (registry.child.exitCode === null && registry.child.pid !== undefined) {
      process.kill(-registry.child.pid, 'SIGKILL');
    }
  });

  async function post(event: unknown) {
    const response = await fetchDocumented(`${url}/events`, { method: 'POST', body: JSON.stringify(event) });
    const body = (await response.json()) as { error: { code: string; message: string }; accepted?: number };
    return { status: response.status, body };
  }

  async function hosts(model: string): Promise<string[] | number> {
    const response = await fetchDocumented(`${url}/models/${model}`);
    if (response.status !== 200) return response.status;
    const body = (await response.json()) as { endpoints: { host: string }[] };
    return body.endpoints.map((e) => e.host);
  }

  async function register(n: number, taskId: string) {
    const host = `127.0.40.${n}`;
    const stand = await TfServingStandIn.start({ host, models: { resnet: { available: ['1'] } } });
    stands.push(stand);
    const event = loopbackEvent('running-awsvpc', host, taskId);
    expect((await post(event)).status).toBe(202);
    return { stand, host, taskId };
  }

  it('prints a start banner with the URL, the engine and the settings', () => {
    // Assess
    expect(registry.output()).toContain('embedded dynalite');
    expect(registry.output()).toContain('probe             every 1 s, timeout 300 ms, 2 failures to exclude');
    expect(registry.output()).toContain(`status page       ${url}/ `);
  });

  it('serves a RUNNING endpoint with an AVAILABLE model as soon as its event is accepted', async () => {
    // Prepare + Act
    const { host } = await register(1, 'appear');

    // Assess
    expect(await within(AT_ONCE_MS, async () => Array.isArray(await hosts('resnet')))).toBeLessThan(
      AT_ONCE_MS,
    );
    expect(await hosts('resnet')).toContain(host);
  });

  it('excludes an endpoint that dies silently, then serves it again when it recovers', async () => {
    // Prepare
    const { stand, host } = await register(2, 'dies');
    await within(AT_ONCE_MS, async () => ((await hosts('resnet')) as string[]).includes(host));

    // Act + Assess
    await stand.die();
    await within(EXCLUSION_DEADLINE_MS, async () => !((await hosts('resnet')) as string[]).includes(host));
    await stand.revive();
    await within(RECOVERY_DEADLINE_MS, async () => ((await hosts('resnet')) as string[]).includes(host));
  });

  it('excludes an endpoint that hangs', async () => {
    // Prepare
    const { stand, host } = await register(3, 'hangs');
    await within(AT_ONCE_MS, async () => ((await hosts('resnet')) as string[]).includes(host));

    // Act
    stand.misbehave('hang');

    // Assess
    await within(EXCLUSION_DEADLINE_MS, async () => !((await hosts('resnet')) as string[]).includes(host));
    stand.misbehave('none');
    await within(RECOVERY_DEADLINE_MS, async () => ((await hosts('resnet')) as string[]).includes(host));
  });

  it('excludes a draining endpoint at once', async () => {
    // Prepare
    const { host, taskId } = await register(4, 'drains');
    await within(AT_ONCE_MS, async () => ((await hosts('resnet')) as string[]).includes(host));

    // Act
    const accepted = await post(loopbackEvent('draining', host, taskId));
    const after = await hosts('resnet');

    // Assess
    expect(accepted.status).toBe(202);
    expect(after).not.toContain(host);
  });

  it('registers a bridge-mode container on this machine at its host port', async () => {
    // Prepare: a TF Serving container published on a random local port.
    const stand = await TfServingStandIn.start({
      host: '127.0.0.1',
      port: 0,
      models: { bert: { available: ['7'] } },
    });
    stands.push(stand);
    const event = loadEvent<{
      detail: { containers: { networkBindings?: { containerPort: number; hostPort: number }[] }[] };
    }>('ecs', 'running-bridge');
    for (const binding of event.detail.containers[0]?.networkBindings ?? []) {
      if (binding.containerPort === 8501) binding.hostPort = stand.port;
    }

    // Act
    const accepted = await post(event);
    const response = await fetchDocumented(`${url}/models/bert/versions/7`);
    const body = (await response.json()) as { endpoints: { host: string; restPort: number }[] };

    // Assess
    expect(accepted.status).toBe(202);
    expect(body.endpoints).toEqual([expect.objectContaining({ host: '127.0.0.1', restPort: stand.port })]);
  });

  it('rejects a batch with one malformed event and applies none of it', async () => {
    // Prepare
    const good = loopbackEvent('running-awsvpc', '127.0.40.9', 'batched');
    const bad = loadEvent('ecs', 'malformed-missing-taskarn');

    // Act
    const rejected = await post([good, bad]);
    const listed = await fetchDocumented(`${url}/models`).then((r) => r.json());

    // Assess
    expect(rejected.status).toBe(400);
    expect(rejected.body.error.message).toMatch(/event \[1\]/);
    expect(JSON.stringify(listed)).not.toContain('batched');
  });

  it('answers malformed JSON with 400, an empty batch and other event kinds with 202', async () => {
    // Act
    const malformed = await fetchDocumented(`${url}/events`, { method: 'POST', body: '{"detail-type":' });
    const empty = await post([]);
    const other = await post(loadEvent('ecs', 'service-action'));

    // Assess
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ error: { code: 'InvalidJson' } });
    expect(empty).toMatchObject({ status: 202, body: { accepted: 0 } });
    expect(other).toMatchObject({ status: 202, body: { accepted: 1, ignored: 1 } });
  });

  it.each([
    ['/models/%ZZ', 400],
    ['/models/%C3%28', 400],
    ['/models/a%00b', 400],
    ['/models/a%3Ab', 400],
    ['/models/a%2Fb', 400],
    [`/models/${'m'.repeat(257)}`, 400],
    ['/models/resnet/versions/-1', 400],
    ['/models/resnet/versions/1.5', 400],
    ['/models/resnet/versions/99999999999999999999', 400],
    ['/models/resnet/labels/%0A', 400],
    ['/models/resnet/other/1', 404],
    ['/../../etc/passwd', 404],
    ['/index.html', 404],
  ])('answers the hostile path %s with %i and the error shape, never a 5xx', async (path, status) => {
    // Act
    const response = await fetchDocumented(`${url}${path}`);

    // Assess
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.json()).toMatchObject({
      error: { code: expect.any(String), message: expect.any(String) },
    });
  });

  it('answers GET /models/{model}/health: a dead endpoint failing with its last error, a drained one not running', async () => {
    // Prepare
    const dead = await register(5, 'health-dies');
    const drained = await register(6, 'health-drains');
    const health = async () =>
      (await (await fetchDocumented(`${url}/models/resnet/health`)).json()) as {
        endpoints: {
          id: string;
          served: boolean;
          reason: string | null;
          lifecycle: string;
          lastError: string | null;
        }[];
      };
    // Endpoint ids name the task (cluster/task id/container).
    const of = async (taskId: string) => (await health()).endpoints.find((e) => e.id.includes(taskId));
    await within(AT_ONCE_MS, async () => (await of(dead.taskId))?.served === true);

    // Act
    await dead.stand.die();
    expect((await post(loopbackEvent('draining', drained.host, drained.taskId))).status).toBe(202);

    // Assess
    await within(EXCLUSION_DEADLINE_MS, async () => (await of(dead.taskId))?.reason === 'failing');
    expect(await of(dead.taskId)).toMatchObject({
      served: false,
      lifecycle: 'RUNNING',
      lastError: expect.any(String),
    });
    expect(await of(drained.taskId)).toMatchObject({
      served: false,
      reason: 'not-running',
      lifecycle: 'STOPPING',
    });
    await dead.stand.revive();
  });

  it.each([
    ['/models/unknown-model/health', 404, 'ModelNotFound'],
    ['/models/a%3Ab/health', 400, 'InvalidModelName'],
    ['/models/%ZZ/health', 400, 'InvalidPath'],
  ])('answers %s with %i %s', async (path, status, code) => {
    // Act
    const response = await fetchDocumented(`${url}${path}`);

    // Assess
    expect(response.status).toBe(status);
    expect(await response.json()).toMatchObject({ error: { code } });
  });

  it('serves the status page at / and the known models it lists at /status/models', async () => {
    // Act
    const page = await fetchDocumented(`${url}/`);
    const models = await fetchDocumented(`${url}/status/models`);

    // Assess
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await page.text()).toContain('<title>tf-serving-registry status</title>');
    expect(await models.json()).toEqual({ models: expect.arrayContaining(['resnet']) });
  });

  it('serves its OpenAPI document at /openapi.json', async () => {
    // Act
    const response = await fetchDocumented(`${url}/openapi.json`);

    // Assess
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      openapi: expect.stringMatching(/^3\.1\./),
      paths: expect.objectContaining({
        '/models/{model}/health': expect.any(Object),
        '/events': expect.any(Object),
      }),
    });
  });

  it('answers 304 to a request whose If-None-Match is the current ETag', async () => {
    // Prepare
    const first = await fetchDocumented(`${url}/models/resnet`);
    const etag = first.headers.get('etag') ?? '';

    // Act
    const second = await fetchDocumented(`${url}/models/resnet`, { headers: { 'if-none-match': etag } });

    // Assess
    expect(etag).toMatch(/^W\/"/);
    expect(second.status).toBe(304);
  });

  it('answers HEAD like GET without a body, and a trailing slash like no slash', async () => {
    // Act
    const get = await fetchDocumented(`${url}/models`);
    const head = await fetchDocumented(`${url}/models`, { method: 'HEAD' });
    const slashed = await fetchDocumented(`${url}/models/`);

    // Assess
    expect(head.status).toBe(200);
    expect(head.headers.get('etag')).toBe(get.headers.get('etag'));
    expect(await head.text()).toBe('');
    expect(slashed.status).toBe(200);
    expect(await slashed.json()).toEqual(await get.json());
  });

  it.each([
    ['/models', 'DELETE', 'GET, HEAD'],
    ['/models/resnet', 'POST', 'GET, HEAD'],
    ['/events', 'GET', 'POST'],
    ['/', 'POST', 'GET, HEAD'],
  ])('answers %s %s with 405 and the Allow header %j', async (path, method, allow) => {
    // Act
    const response = await fetchDocumented(`${url}${path}`, { method });

    // Assess
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe(allow);
    expect(await response.json()).toMatchObject({ error: { code: 'MethodNotAllowed' } });
  });

  it('shuts down cleanly on SIGTERM and frees its port', async () => {
    // Act: as a terminal's Ctrl+C does, to the whole process group (npm, tsx, node).
    const exited = once(registry.child, 'exit');
    process.kill(-(registry.child.pid as number), 'SIGTERM');
    await exited;
    await within(5_000, async () => registry.output().includes('SIGTERM, shutting down'));

    // Assess
    expect(registry.output()).not.toContain('shutdown failed');
    await expect(fetch(`${url}/models`)).rejects.toThrow();
  });
});

describe('npm start with bad configuration', () => {
  it('fails at start with the variable, the value and what is allowed', async () => {
    // Act
    const { child, output } = startRegistry({ PROBE_TIMEOUT_MS: '10' });
    const [code] = await once(child, 'exit');

    // Assess
    expect(code).toBe(2);
    expect(output()).toContain('PROBE_TIMEOUT_MS="10" is invalid: expected a whole number from 50 to 60000');
  });
});

describe('npm start with AWS_ENDPOINT_URL_DYNAMODB', () => {
  it('uses the external engine, creating the registry table there from the shared definition', async () => {
    // Prepare
    const engine = await startEngine('dynalite');
    const port = await freePort();
    const { child, output } = startRegistry({
      PORT: String(port),
      AWS_ENDPOINT_URL_DYNAMODB: engine.endpoint,
      TABLE_NAME: 'external-registry',
    });
    try {
      await within(30_000, async () => output().includes('is running at'));
      const admin = new DynamoDBClient({ endpoint: engine.endpoint });

      // Act
      const { Table } = await admin.send(new DescribeTableCommand({ TableName: 'external-registry' }));
      const answer = await fetchDocumented(`http://127.0.0.1:${port}/models`);
      admin.destroy();

      // Assess
      expect(output()).toContain(`external DynamoDB at ${engine.endpoint}`);
      expect(Table?.KeySchema).toEqual(createTableInput('external-registry').KeySchema);
      expect(answer.status).toBe(200);
    } finally {
      if (child.pid !== undefined && child.exitCode === null) process.kill(-child.pid, 'SIGKILL');
      await engine.stop();
    }
  });
});
