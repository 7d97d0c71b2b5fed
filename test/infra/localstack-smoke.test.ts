import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseEvent } from '../../functions/domain/ecs-task-event.ts';
import { lifecycleOf } from '../../functions/domain/lifecycle.ts';
import { deriveEndpoints } from '../../functions/domain/task-endpoints.ts';
import { STACK_ID } from '../../infra/aws/registry-app.ts';
import { bootstrapArgs, cdklocalEnv, deployArgs } from '../../localstack/cdklocal.ts';
import {
  missingServices,
  putEvents,
  putEventsRequest,
  REQUIRED_SERVICES,
} from '../../localstack/local-aws.ts';
import {
  ACCOUNT,
  CLUSTER_ARN,
  LOCALSTACK_CONTEXT,
  OUTPUTS_FILE,
  REGION,
  STACK_NAME,
} from '../../localstack/settings.ts';
import {
  deliveredEvent,
  newTaskId,
  type SmokeTask,
  taskArnOf,
  taskStateChangeEntry,
} from '../../localstack/smoke-event.ts';
import { parseSmokeArgs } from '../../localstack/smoke-options.ts';
import {
  findEndpoint,
  localExecuteApiUrl,
  modelPath,
  parseInvokeUrl,
  readStackOutputs,
} from '../../localstack/stack-outputs.ts';
import { createStepRunner, pollUntil, StepError } from '../../localstack/steps.ts';
import {
  checkModelDir,
  DEFAULT_NODE_IMAGE,
  DEFAULT_TFSERVING_IMAGE,
  dockerRunArgs,
  hostPortOf,
  ipOnNetwork,
} from '../../localstack/tfserving-container.ts';
import { DEFAULT_SETTINGS } from '../support/kit/settings.ts';

const TASK: SmokeTask = {
  clusterArn: CLUSTER_ARN,
  taskId: '0123456789abcdef0123456789abcdef',
  ip: '172.20.0.5',
  model: 'half_plus_two',
};
const AT = new Date('2026-05-04T10:00:35.123Z');

function delivered(phase: 'RUNNING' | 'STOPPED') {
  return deliveredEvent(
    taskStateChangeEntry(TASK, phase, AT),
    'e5a3f7c1-2b4d-4c6e-8f0a-1b3d5e7f9a13',
    ACCOUNT,
    REGION,
  );
}

describe('smoke ECS events', () => {
  it('puts an aws.ecs "ECS Task State Change" on the default bus, about the task', () => {
    // Act
    const entry = taskStateChangeEntry(TASK, 'RUNNING', AT);

    // Assess
    expect(entry).toMatchObject({
      Source: 'aws.ecs',
      DetailType: 'ECS Task State Change',
      EventBusName: 'default',
      Resources: [`arn:aws:ecs:us-east-1:000000000000:task/smoke/${TASK.taskId}`],
      Time: '2026-05-04T10:00:35.123Z',
    });
    expect(typeof entry.Detail).toBe('string');
  });

  it('builds a RUNNING event the ecs-events handler accepts and registers at the container IP, port 8501', () => {
    // Act
    const parsed = parseEvent(delivered('RUNNING'));

    // Assess
    if (parsed.kind !== 'task') throw new Error(`expected a task event, got ${parsed.kind}`);
    expect(parsed.detail).toMatchObject({ clusterArn: CLUSTER_ARN, taskArn: taskArnOf(TASK), version: 3 });
    expect(lifecycleOf(parsed.detail)).toBe('RUNNING');
    const { endpoints, skipped } = deriveEndpoints(parsed.detail, {
      tfservingContainerNames: DEFAULT_SETTINGS.tfservingContainerNames,
    });
    expect(skipped).toEqual([]);
    expect(endpoints).toEqual([
      expect.objectContaining({ host: '172.20.0.5', restPort: 8501, models: ['half_plus_two'] }),
    ]);
  });

  it('builds a later STOPPED event for the same task', () => {
    const parsed = parseEvent(delivered('STOPPED'));
    if (parsed.kind !== 'task') throw new Error(`expected a task event, got ${parsed.kind}`);
    expect(lifecycleOf(parsed.detail)).toBe('STOPPED');
    expect(parsed.detail.taskArn).toBe(taskArnOf(TASK));
    expect(parsed.detail.version).toBeGreaterThan(3);
  });

  it('matches the deployed rule: aws.ecs, ECS Task State Change, the smoke cluster', () => {
    const event = delivered('RUNNING');
    expect(event.source).toBe('aws.ecs');
    expect(event['detail-type']).toBe('ECS Task State Change');
    expect((event.detail as { clusterArn: string }).clusterArn).toBe(LOCALSTACK_CONTEXT.CLUSTER_ARNS);
  });

  it('makes 32-hex-digit task ids', () => {
    expect(newTaskId()).toMatch(/^[0-9a-f]{32}$/);
    expect(newTaskId(() => 0.999)).toBe('f'.repeat(32));
  });

  it('throws for a cluster that is not an ARN and for a bad task id', () => {
    expect(() => taskStateChangeEntry({ ...TASK, clusterArn: 'smoke' }, 'RUNNING', AT)).toThrow(
      /not an ECS cluster ARN/,
    );
    expect(() => taskStateChangeEntry({ ...TASK, taskId: 'abc' }, 'RUNNING', AT)).toThrow(/32 hex digits/);
  });
});

describe('PutEvents request', () => {
  it('is an AWS JSON 1.1 call to the edge endpoint carrying the entries', () => {
    // Act
    const { url, init } = putEventsRequest(
      'http://localhost:4566/',
      'us-east-1',
      [taskStateChangeEntry(TASK, 'RUNNING', AT)],
      AT,
    );

    // Assess
    expect(url).toBe('http://localhost:4566/');
    expect(init.method).toBe('POST');
    expect(init.headers).toMatchObject({
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': 'AWSEvents.PutEvents',
      'x-amz-date': '20260504T100035Z',
    });
    expect(init.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=test\/20260504\/us-east-1\/events\/aws4_request, /,
    );
    const body = JSON.parse(init.body) as { Entries: { Source: string; Detail: string }[] };
    expect(body.Entries).toHaveLength(1);
    expect(body.Entries[0]?.Source).toBe('aws.ecs');
  });

  it('throws for an empty or oversized batch', () => {
    expect(() => putEventsRequest('http://localhost:4566', REGION, [], AT)).toThrow(/1 to 10 entries/);
  });

  it('rejects when EventBridge reports failed entries', async () => {
    // Prepare
    const fakeFetch = (async () =>
      new Response(
        JSON.stringify({
          FailedEntryCount: 1,
          Entries: [{ ErrorCode: 'InvalidArgument', ErrorMessage: 'bad detail' }],
        }),
      )) as typeof fetch;

    // Act / Assess
    await expect(
      putEvents('http://localhost:4566', REGION, [taskStateChangeEntry(TASK, 'RUNNING', AT)], fakeFetch),
    ).rejects.toThrow('PutEvents rejected 1 entries: InvalidArgument: bad detail');
  });

  it('returns the event ids when all entries are accepted', async () => {
    const fakeFetch = (async () =>
      new Response(JSON.stringify({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] }))) as typeof fetch;
    await expect(
      putEvents('http://localhost:4566', REGION, [taskStateChangeEntry(TASK, 'RUNNING', AT)], fakeFetch),
    ).resolves.toEqual(['e-1']);
  });
});

describe('LocalStack health', () => {
  it('lists the services that are not available', () => {
    const services = Object.fromEntries(REQUIRED_SERVICES.map((name) => [name, 'available']));
    expect(missingServices({ services: { ...services, lambda: 'disabled', events: 'running' } })).toEqual([
      'lambda',
    ]);
    expect(missingServices({ version: '4.14.0' })).toEqual([...REQUIRED_SERVICES]);
  });
});

describe('stack outputs and URLs', () => {
  const file = {
    [STACK_NAME]: {
      ApiUrl: 'https://abc123def4.execute-api.localhost.localstack.cloud:4566/v1/',
      TableName: 'TfServingRegistry-RegistryTable7BF98589-ABC',
      DeadLetterQueueUrl: 'http://sqs.us-east-1.localhost.localstack.cloud:4566/000000000000/dlq',
      DiscoveryApiRestApiEndpointF1D67A6D:
        'https://abc123def4.execute-api.localhost.localstack.cloud:4566/v1/',
    },
  };

  it('names the stack the CDK app deploys', () => {
    expect(STACK_NAME).toBe(STACK_ID);
  });

  it('reads the outputs of the stack from a cdk --outputs-file', () => {
    expect(readStackOutputs(file, STACK_NAME)).toEqual({
      apiUrl: 'https://abc123def4.execute-api.localhost.localstack.cloud:4566/v1/',
      tableName: 'TfServingRegistry-RegistryTable7BF98589-ABC',
      deadLetterQueueUrl: 'http://sqs.us-east-1.localhost.localstack.cloud:4566/000000000000/dlq',
    });
  });

  it('throws naming the stack or the output that is missing', () => {
    expect(() => readStackOutputs({ Other: {} }, STACK_NAME)).toThrow(
      /no outputs for stack TfServingRegistry \(stacks in the file: Other\)/,
    );
    expect(() => readStackOutputs({ [STACK_NAME]: { ApiUrl: 'x' } }, STACK_NAME)).toThrow(
      /has no output TableName/,
    );
    expect(() => readStackOutputs('nope', STACK_NAME)).toThrow(/not a JSON object/);
  });

  it.each([
    ['https://abc123def4.execute-api.localhost.localstack.cloud:4566/v1/', 'abc123def4', 'v1'],
    ['http://abc123def4.execute-api.localhost.localstack.cloud:4566/v1', 'abc123def4', 'v1'],
    ['https://k7yq2x0a1b.execute-api.eu-west-1.amazonaws.com/prod/', 'k7yq2x0a1b', 'prod'],
  ])('finds the API id and stage in %s', (apiUrl, apiId, stage) => {
    expect(parseInvokeUrl(apiUrl)).toEqual({ apiId, stage });
  });

  it('throws for a URL that is not an API Gateway invoke URL', () => {
    expect(() => parseInvokeUrl('http://localhost:4566/restapis/abc/v1/_user_request_/')).toThrow(
      /not an API Gateway invoke URL/,
    );
  });

  it('builds the DNS-free LocalStack URL of a discovery route', () => {
    // Prepare
    const api = parseInvokeUrl(file[STACK_NAME].ApiUrl);

    // Act / Assess
    expect(localExecuteApiUrl('http://localhost:4566/', api, modelPath('half_plus_two'))).toBe(
      'http://localhost:4566/_aws/execute-api/abc123def4/v1/models/half_plus_two',
    );
    expect(localExecuteApiUrl('http://localhost:4566', api, '/models')).toBe(
      'http://localhost:4566/_aws/execute-api/abc123def4/v1/models',
    );
  });

  it('encodes model names and labels in route paths', () => {
    expect(modelPath('résnet 50')).toBe('/models/r%C3%A9snet%2050');
    expect(modelPath('resnet', { version: '2' })).toBe('/models/resnet/versions/2');
    expect(modelPath('resnet', { label: 'canary' })).toBe('/models/resnet/labels/canary');
    expect(() => localExecuteApiUrl('http://localhost:4566', { apiId: 'a', stage: 'v1' }, 'models')).toThrow(
      /must start with/,
    );
  });

  it('finds the endpoint of a host in a discovery answer', () => {
    const body = {
      model: 'm',
      endpoints: [
        { host: '172.20.0.9', restPort: 8501, versions: ['1'] },
        { host: '172.20.0.5', restPort: 8501, versions: ['2'] },
      ],
    };
    expect(findEndpoint(body, '172.20.0.5')).toEqual({ host: '172.20.0.5', restPort: 8501, versions: ['2'] });
    expect(findEndpoint(body, '10.0.0.1')).toBeUndefined();
    expect(findEndpoint({ error: { code: 'ModelNotFound' } }, '172.20.0.5')).toBeUndefined();
    expect(findEndpoint('<html>', '172.20.0.5')).toBeUndefined();
  });
});

describe('step runner', () => {
  it('logs each step with its number and duration and returns its value', async () => {
    // Prepare
    const lines: string[] = [];
    let clock = 0;
    const step = createStepRunner({ log: (line) => lines.push(line), now: () => clock });

    // Act
    const value = await step('first', async () => {
      clock += 1500;
      return 42;
    });

    // Assess
    expect(value).toBe(42);
    expect(lines).toEqual(['[1] first ...', '[1] ok   first (1.5 s)']);
  });

  it('rejects with the step, the reason and the hint when a step fails', async () => {
    const lines: string[] = [];
    const step = createStepRunner({ log: (line) => lines.push(line), now: () => 0 });
    await step('first', async () => 1);

    const failure = step(
      'second',
      async () => Promise.reject(new Error('connection refused')),
      'npm run localstack:up',
    );

    await expect(failure).rejects.toBeInstanceOf(StepError);
    await expect(failure).rejects.toThrow(
      'step "second" failed: connection refused\n  hint: npm run localstack:up',
    );
    expect(lines.at(-1)).toBe('[2] FAIL second (0.0 s)');
  });
});

describe('pollUntil', () => {
  function fakeClock() {
    let now = 0;
    return {
      now: () => now,
      sleep: async (ms: number) => {
        now += ms;
      },
    };
  }

  it('returns the value once an attempt is done, counting thrown attempts as not yet', async () => {
    const clock = fakeClock();
    let tries = 0;
    const value = await pollUntil(
      'ready',
      async () => {
        tries += 1;
        if (tries === 1) throw new Error('ECONNREFUSED');
        return tries < 3 ? { done: false, reason: 'HTTP 502' } : { done: true, value: 'up' };
      },
      { timeoutMs: 10_000, intervalMs: 1000, ...clock },
    );
    expect(value).toBe('up');
    expect(tries).toBe(3);
  });

  it('throws at the deadline with the last reason', async () => {
    const clock = fakeClock();
    await expect(
      pollUntil(
        'discovery listing 172.20.0.5',
        async () => ({ done: false, reason: 'HTTP 200 {"endpoints":[]}' }),
        {
          timeoutMs: 5000,
          intervalMs: 2000,
          ...clock,
        },
      ),
    ).rejects.toThrow(
      'discovery listing 172.20.0.5: not after 5 s (3 tries); last: HTTP 200 {"endpoints":[]}',
    );
    expect(clock.now()).toBeLessThanOrEqual(5000);
  });
});

describe('TF Serving container', () => {
  it('runs the stand-in bundle in a node container on the network, REST port published on loopback', () => {
    const args = dockerRunArgs({
      name: 'tfsr-smoke-tfserving',
      network: 'tfsr-localstack',
      model: 'smoke',
      source: {
        kind: 'stand-in',
        bundlePath: '/repo/.tmp/localstack/tfserving-stand-in.mjs',
        versions: '1',
        image: 'node:22-alpine',
      },
    });
    expect(args).toEqual([
      'run',
      '--detach',
      '--name',
      'tfsr-smoke-tfserving',
      '--network',
      'tfsr-localstack',
      '--publish',
      '127.0.0.1::8501',
      '--volume',
      '/repo/.tmp/localstack:/stand-in:ro',
      'node:22-alpine',
      'node',
      '/stand-in/tfserving-stand-in.mjs',
      '--host',
      '0.0.0.0',
      '--port',
      '8501',
      '--model',
      'smoke:1',
    ]);
  });

  it('runs tensorflow/serving with the model directory under /models/<model> and MODEL_NAME', () => {
    const args = dockerRunArgs({
      name: 'tfsr-smoke-tfserving',
      network: 'tfsr-localstack',
      model: 'half_plus_two',
      source: {
        kind: 'tensorflow-serving',
        modelDir: '/data/half_plus_two',
        image: 'tensorflow/serving:2.19.0',
      },
    });
    expect(args.slice(-5)).toEqual([
      '--volume',
      '/data/half_plus_two:/models/half_plus_two:ro',
      '--env',
      'MODEL_NAME=half_plus_two',
      'tensorflow/serving:2.19.0',
    ]);
  });

  it('reads the IP on the network and the published port from docker output', () => {
    expect(
      ipOnNetwork(
        '{"tfsr-localstack":{"IPAddress":"172.20.0.5"},"bridge":{"IPAddress":"172.17.0.3"}}',
        'tfsr-localstack',
      ),
    ).toBe('172.20.0.5');
    expect(() => ipOnNetwork('{"bridge":{"IPAddress":"172.17.0.3"}}', 'tfsr-localstack')).toThrow(
      /not on network tfsr-localstack/,
    );
    expect(hostPortOf('127.0.0.1:49153\n')).toBe(49153);
    expect(() => hostPortOf('')).toThrow(/cannot read a host port/);
  });

  describe('model directory check', () => {
    let dir: string | undefined;
    afterEach(() => dir && rmSync(dir, { recursive: true, force: true }));

    it('returns the servable versions, newest first', () => {
      dir = mkdtempSync(join(tmpdir(), 'tfsr-model-'));
      for (const version of ['1', '12', '3']) {
        mkdirSync(join(dir, version));
        writeFileSync(join(dir, version, 'saved_model.pb'), '');
      }
      mkdirSync(join(dir, '4'));
      expect(checkModelDir(dir)).toEqual(['12', '3', '1']);
    });

    it('throws saying what it found when there is no <version>/saved_model.pb', () => {
      dir = mkdtempSync(join(tmpdir(), 'tfsr-model-'));
      writeFileSync(join(dir, 'saved_model.pb'), '');
      expect(() => checkModelDir(dir as string)).toThrow(
        /no <version>\/saved_model.pb \(found: saved_model.pb\)/,
      );
      expect(() => checkModelDir(join(dir as string, 'missing'))).toThrow(/cannot be read/);
    });
  });
});

describe('smoke options', () => {
  it('defaults to the stand-in serving "smoke" in a node container', () => {
    expect(parseSmokeArgs([])).toEqual({
      modelDir: undefined,
      model: 'smoke',
      image: DEFAULT_NODE_IMAGE,
      timeoutSeconds: 180,
      keep: false,
    });
  });

  it('serves a named model directory with tensorflow/serving, named after the directory', () => {
    expect(parseSmokeArgs(['--model-dir', '/data/half_plus_two', '--timeout', '300', '--keep'])).toEqual({
      modelDir: '/data/half_plus_two',
      model: 'half_plus_two',
      image: DEFAULT_TFSERVING_IMAGE,
      timeoutSeconds: 300,
      keep: true,
    });
  });

  it('throws with the usage for unknown or bad arguments', () => {
    expect(() => parseSmokeArgs(['--modeldir', 'x'])).toThrow(/Usage: npm run localstack:smoke/);
    expect(() => parseSmokeArgs(['--model', 'a/b'])).toThrow(/not a TF Serving model name/);
    expect(() => parseSmokeArgs(['--timeout', '1'])).toThrow(/whole seconds from 10 to 3600/);
  });
});

describe('cdklocal deployment', () => {
  it("drops the caller's AWS profile and credentials for LocalStack's dummy ones", () => {
    const env = cdklocalEnv({
      PATH: '/bin',
      AWS_PROFILE: 'prod',
      AWS_ACCESS_KEY_ID: 'AKIA…',
      AWS_SESSION_TOKEN: 't',
    });
    expect(env).toMatchObject({
      PATH: '/bin',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_REGION: 'us-east-1',
    });
    expect(env.AWS_PROFILE).toBeUndefined();
    expect(env.AWS_SESSION_TOKEN).toBeUndefined();
    expect(env.AWS_ENVAR_ALLOWLIST?.split(',')).toEqual(
      expect.arrayContaining(['AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']),
    );
  });

  it("keeps the caller's LocalStack endpoint, and gives S3 the same one unless it has its own", () => {
    // Act
    const both = cdklocalEnv({ AWS_ENDPOINT_URL: 'http://localhost:4566' });
    const own = cdklocalEnv({
      AWS_ENDPOINT_URL: 'http://127.0.0.1:4566',
      AWS_ENDPOINT_URL_S3: 'http://s3.local:4566',
    });
    const none = cdklocalEnv({ PATH: '/bin' });

    // Assess
    expect(both).toMatchObject({
      AWS_ENDPOINT_URL: 'http://localhost:4566',
      AWS_ENDPOINT_URL_S3: 'http://localhost:4566',
    });
    expect(own).toMatchObject({
      AWS_ENDPOINT_URL: 'http://127.0.0.1:4566',
      AWS_ENDPOINT_URL_S3: 'http://s3.local:4566',
    });
    expect(none.AWS_ENDPOINT_URL).toBeUndefined();
  });

  it("bootstraps LocalStack's account and deploys with the LocalStack context, writing the outputs file", () => {
    expect(bootstrapArgs()).toEqual(['bootstrap', 'aws://000000000000/us-east-1']);
    const args = deployArgs();
    expect(args.slice(0, 6)).toEqual([
      'deploy',
      'TfServingRegistry',
      '--require-approval',
      'never',
      '--outputs-file',
      OUTPUTS_FILE,
    ]);
    expect(args).toEqual(
      expect.arrayContaining([
        '--context',
        'API_KIND=rest',
        '--context',
        'API_AUTH=none',
        '--context',
        `CLUSTER_ARNS=${CLUSTER_ARN}`,
      ]),
    );
  });
});
