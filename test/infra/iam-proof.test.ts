import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FunctionName } from '../../functions/composition/registry.ts';
import { ensureTable } from '../../infra/local/dynamodb-engine.ts';
import { startEngine } from '../../tools/dynamodb-engines.ts';
import { DynamoDbFaultProxy } from '../../tools/dynamodb-fault-proxy.ts';
import { TfServingStandIn } from '../../tools/tfserving-stand-in/stand-in.ts';
import { loadEvent, loopbackEvent } from '../support/kit/events.ts';
import { AwsFake, type RecordedCall } from './support/aws-fakes.ts';
import { bundleOutdir, type Invocation, invokeBundle, resolver } from './support/deployed-bundles.ts';
import {
  dynamoDbRequests,
  ecsOrEc2Requests,
  type IamRequest,
  isAllowed,
  type PolicyStatement,
  REGION,
} from './support/iam-evaluation.ts';
import { buildStack, functionId, propertiesOf, roleStatements } from './synth.ts';

/**
 * Every AWS call each function makes is allowed by its synthesized role. Each function's DEPLOYED
 * bundle (cdk.out, house esbuild options) runs in a fresh `node` with the environment from the
 * template, against a recording DynamoDB endpoint in front of a real engine and loopback fakes of
 * ECS, EC2 and Lambda (no local engine exists for them), over its real code paths; then every recorded call is evaluated against that
 * function's role policies, resource ARN and condition keys included, by a real IAM policy
 * evaluator. A missing action or a too-narrow resource fails here, not in production.
 */

const TABLE = 'iam-proof-registry';
const CLUSTER = 'arn:aws:ecs:us-east-1:123456789012:cluster/ml';
const HOSTS = {
  awsvpc: '127.0.96.1',
  bridge: '127.0.96.2',
  reconciled: '127.0.96.3',
  refusing: '127.0.96.9',
};
/** Tasks of one model, enough that one changed endpoint moves its snapshot forward. */
const FLEET_TASKS = Array.from({ length: 13 }, (_, i) => i.toString(16).padStart(32, 'c'));
const BRIDGE_REST_PORT = 49159;
const RECONCILED_TASK = 'arn:aws:ecs:us-east-1:123456789012:task/ml/0123456789abcdef0123456789abcdef';

interface FunctionCalls {
  readonly dynamodb: { operation: string; tableNames: readonly string[] }[];
  readonly aws: RecordedCall[];
}

const taskDefinitions = (() => {
  const resnet = loadEvent<{ taskDefinition: Record<string, unknown> }>('task-definitions', 'tfs-resnet-7');
  const bert = structuredClone(resnet);
  const container = (bert.taskDefinition.containerDefinitions as Record<string, unknown>[])[0] as Record<
    string,
    unknown
  >;
  container.environment = [{ name: 'MODEL_NAME', value: 'bert' }];
  bert.taskDefinition.taskDefinitionArn = 'arn:aws:ecs:us-east-1:123456789012:task-definition/tfs-bert-gpu:3';
  bert.taskDefinition.networkMode = 'bridge';
  return new Map([resnet, bert].map((td) => [String(td.taskDefinition.taskDefinitionArn), td] as const));
})();

/** EventBridge's scheduled event, as the probe's rule delivers it now. */
const scheduledNow = () => ({
  ...loadEvent<Record<string, unknown>>('scheduled', 'base'),
  time: new Date().toISOString(),
});

/** The task ECS reports running to the reconciler, as `DescribeTasks` describes it. */
const reconciledTask = {
  taskArn: RECONCILED_TASK,
  clusterArn: CLUSTER,
  taskDefinitionArn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/tfs-resnet:7',
  version: 3,
  lastStatus: 'RUNNING',
  desiredStatus: 'RUNNING',
  availabilityZone: 'us-east-1a',
  launchType: 'FARGATE',
  containers: [
    {
      name: 'tfserving',
      image: 'tensorflow/serving:2.15.0',
      lastStatus: 'RUNNING',
      networkInterfaces: [{ attachmentId: 'eni-attachment', privateIpv4Address: HOSTS.reconciled }],
    },
  ],
};

describe('IAM proof: each deployed function is allowed every AWS call it makes', () => {
  let engine: Awaited<ReturnType<typeof startEngine>>;
  let dynamodb: DynamoDbFaultProxy;
  let ecs: AwsFake;
  let ec2: AwsFake;
  let lambda: AwsFake;
  const stands: TfServingStandIn[] = [];
  const outdir = bundleOutdir('iam-proof-');
  const withClusters = buildStack(
    { CLUSTER_ARNS: CLUSTER, 'aws:cdk:enable-asset-metadata': true },
    { bundling: true, outdir },
  );
  const everyCluster = buildStack({ 'aws:cdk:enable-asset-metadata': true }, { bundling: true, outdir });
  const httpApi = buildStack(
    { CLUSTER_ARNS: CLUSTER, API_KIND: 'http', 'aws:cdk:enable-asset-metadata': true },
    { bundling: true, outdir },
  );
  const calls = new Map<string, FunctionCalls>();

  beforeAll(async () => {
    engine = await startEngine('dynalite');
    dynamodb = await DynamoDbFaultProxy.start(engine.endpoint);
    const admin = new DynamoDBClient({ endpoint: engine.endpoint });
    await ensureTable(admin, TABLE);
    admin.destroy();
    ecs = await AwsFake.ecs({
      DescribeTaskDefinition: (input) =>
        taskDefinitions.get(String(input.taskDefinition)) ?? { error: 'ClientException' },
      DescribeContainerInstances: (input) => ({
        containerInstances: (input.containerInstances as string[]).map((arn) => ({
          containerInstanceArn: arn,
          ec2InstanceId: 'i-0123456789abcdef0',
        })),
        failures: [],
      }),
      ListClusters: () => ({ clusterArns: [CLUSTER] }),
      ListTasks: () => ({ taskArns: [RECONCILED_TASK] }),
      DescribeTasks: (input) => {
        const asked = input.tasks as string[];
        return {
          tasks: asked.includes(RECONCILED_TASK) ? [reconciledTask] : [],
          // Tasks ECS no longer knows (stopped over an hour ago): the reconciler retires them.
          failures: asked.filter((arn) => arn !== RECONCILED_TASK).map((arn) => ({ arn, reason: 'MISSING' })),
        };
      },
    });
    ec2 = await AwsFake.ec2(() => HOSTS.bridge);
    lambda = await AwsFake.lambda();
    stands.push(
      await TfServingStandIn.start({
        host: HOSTS.awsvpc,
        models: { resnet: { available: ['7'], labels: { stable: '7' } } },
      }),
      await TfServingStandIn.start({
        host: HOSTS.bridge,
        port: BRIDGE_REST_PORT,
        models: { bert: { available: ['3'] } },
      }),
      await TfServingStandIn.start({ host: HOSTS.reconciled, models: { resnet: { available: ['7'] } } }),
    );
  }, 120_000);

  afterAll(async () => {
    // The calls each function made, for the record (the tests above proved each allowed).
    for (const [label, recorded] of calls) {
      const lines = requestsOf(recorded).map(
        (r) =>
          `  ${r.action} ${r.resource}${r.context['ecs:cluster'] ? ` (ecs:cluster ${r.context['ecs:cluster']})` : ''}`,
      );
      console.info(`${label}:\n${[...new Set(lines)].sort().join('\n')}`);
    }
    await Promise.all(stands.map((s) => s.close()));
    await ecs?.close();
    await ec2?.close();
    await lambda?.close();
    await dynamodb?.close();
    await engine?.stop();
    rmSync(outdir, { recursive: true, force: true });
  });

  /**
   * Runs the function `name` of `built` over `invocations`, with the template's environment (and
   * `settings` on top, as `-c KEY=VALUE` would set them: settings change no role); records what it called.
   */
  async function run(
    built: typeof withClusters,
    name: FunctionName,
    invocations: Invocation[],
    label: string = name,
    settings: Readonly<Record<string, string>> = {},
  ) {
    const { template } = built;
    const id = functionId(template, name);
    const { resources, resolve } = resolver(template, { [tableId(template)]: TABLE });
    const fn = resources[id] as unknown as {
      Properties: { Environment: { Variables: Record<string, unknown> } };
      Metadata: Record<string, string>;
    };
    const environment = resolve(fn.Properties.Environment.Variables) as Record<string, string>;
    const bundle = join(outdir, fn.Metadata['aws:asset:path'] as string, 'index.mjs');
    const dynamoStart = dynamodb.calls.length;
    const ecsStart = ecs.calls.length;
    const ec2Start = ec2.calls.length;
    const lambdaStart = lambda.calls.length;
    const results = await invokeBundle(
      bundle,
      {
        ...environment,
        ...settings,
        AWS_REGION: REGION,
        AWS_ACCESS_KEY_ID: 'proof',
        AWS_SECRET_ACCESS_KEY: 'proof',
        AWS_ENDPOINT_URL_DYNAMODB: dynamodb.endpoint,
        AWS_ENDPOINT_URL_ECS: ecs.endpoint,
        AWS_ENDPOINT_URL_EC2: ec2.endpoint,
        AWS_ENDPOINT_URL_LAMBDA: lambda.endpoint,
        POWERTOOLS_LOG_LEVEL: 'ERROR',
        POWERTOOLS_METRICS_DISABLED: 'true',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
      invocations,
    );
    const recorded = calls.get(label) ?? { dynamodb: [], aws: [] };
    recorded.dynamodb.push(...dynamodb.calls.slice(dynamoStart));
    recorded.aws.push(
      ...ecs.calls.slice(ecsStart),
      ...ec2.calls.slice(ec2Start),
      ...lambda.calls.slice(lambdaStart),
    );
    calls.set(label, recorded);
    return results;
  }

  function tableId(template: (typeof withClusters)['template']): string {
    const [id] = Object.keys(template.findResources('AWS::DynamoDB::Table'));
    return id as string;
  }

  function requestsOf(recorded: FunctionCalls): IamRequest[] {
    const unique = new Map<string, IamRequest>();
    for (const request of [
      ...recorded.dynamodb.flatMap(dynamoDbRequests),
      ...recorded.aws.flatMap(ecsOrEc2Requests),
    ]) {
      unique.set(JSON.stringify(request), request);
    }
    return [...unique.values()];
  }

  /** Every request of `label`'s calls that the function's role (in `built`) does not allow. */
  async function denials(
    built: typeof withClusters,
    name: FunctionName,
    label: string = name,
    edit = (s: PolicyStatement[]) => s,
  ) {
    const { template } = built;
    const { resolve } = resolver(template, { [tableId(template)]: TABLE });
    const statements = edit(
      resolve(roleStatements(template, functionId(template, name))) as PolicyStatement[],
    );
    const denied: string[] = [];
    for (const request of requestsOf(calls.get(label) ?? { dynamodb: [], aws: [] })) {
      const decision = await isAllowed(statements, request);
      if (decision !== 'Allowed') {
        denied.push(
          `${request.action} on ${request.resource} ${JSON.stringify(request.context)}: ${decision}`,
        );
      }
    }
    return denied;
  }

  const actionsOf = (label: string) =>
    [...new Set(requestsOf(calls.get(label) ?? { dynamodb: [], aws: [] }).map((r) => r.action))].sort();

  it('runs ecs-events over RUNNING (awsvpc and bridge): every call allowed', async () => {
    // Act
    const results = await run(withClusters, 'ecs-events', [
      { event: loopbackEvent('running-awsvpc', HOSTS.awsvpc) },
      { event: loopbackEvent('running-bridge', '127.0.0.1') },
    ]);

    // Assess
    expect(results.map((r) => r.ok)).toEqual([true, true]);
    expect(JSON.stringify(results)).toContain('"applied":true');
    expect(actionsOf('ecs-events')).toEqual([
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
      'ec2:DescribeInstances',
      'ecs:DescribeContainerInstances',
      'ecs:DescribeTaskDefinition',
    ]);
    expect(await denials(withClusters, 'ecs-events')).toEqual([]);
  });

  it('runs a probe round that writes a changed row, records a failure and writes markers: every call allowed', async () => {
    // Prepare: one endpoint has a new version (a row write), the bridge one stays unchanged (a marker).
    const [awsvpc] = stands as [TfServingStandIn];
    awsvpc.load('resnet', '8');

    // Act
    const results = await run(withClusters, 'probe', [
      {
        event: scheduledNow(),
        remainingMs: 3_000,
      },
    ]);

    // Assess
    expect(results).toEqual([{ ok: true, result: { rounds: 1 } }]);
    // GetItem: the round's rebuilds move the stored snapshot forward (BatchGetItem past 12 endpoints).
    expect(actionsOf('probe')).toEqual([
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
    ]);
    expect(await denials(withClusters, 'probe')).toEqual([]);
  });

  it('fails the proof when the probe role lacks dynamodb:PutItem (the outage this test exists for)', async () => {
    // Prepare: the role as it was deployed before: Query and UpdateItem only.
    const withoutPutItem = (statements: PolicyStatement[]) =>
      statements.map((s) => ({
        ...s,
        Action: [s.Action].flat().filter((action) => action !== 'dynamodb:PutItem'),
      }));

    // Act
    const denied = await denials(withClusters, 'probe', 'probe', withoutPutItem);

    // Assess
    expect(denied).toEqual([
      `dynamodb:PutItem on arn:aws:dynamodb:us-east-1:123456789012:table/${TABLE} {}: ImplicitlyDenied`,
    ]);
  });

  it('starts probe shards for a fleet larger than one share (lambda:Invoke, asynchronous): every call allowed', async () => {
    // Prepare: one target a share, so the registered fleet needs a shard per target.
    const { template } = withClusters;
    const shardName = String(propertiesOf(template, functionId(template, 'probe-shard')).FunctionName);
    const lambdaStart = lambda.calls.length;

    // Act
    const results = await run(
      withClusters,
      'probe',
      [
        {
          event: scheduledNow(),
        },
      ],
      'probe-coordinator',
      { PROBE_TARGETS_PER_SHARD: '1' },
    );

    // Assess
    const invokes = lambda.calls.slice(lambdaStart);
    const count = invokes.length;
    expect(count).toBeGreaterThan(1);
    expect(results).toEqual([{ ok: true, result: { shards: count, started: count } }]);
    expect(invokes.map((call) => call.input.FunctionName)).toEqual(new Array(count).fill(shardName));
    expect(invokes.every((call) => call.input.InvocationType === 'Event')).toBe(true);
    expect(
      invokes.map((call) => (call.input.Payload as { shard: { index: number } }).shard.index).sort(),
    ).toEqual(Array.from({ length: count }, (_, index) => index));
    // Listing the fleet (Query), starting the shards, then judging each model's snapshot (GetItem)
    // for the fleet-wide figure no shard can publish.
    expect(actionsOf('probe-coordinator')).toEqual([
      'dynamodb:GetItem',
      'dynamodb:Query',
      'lambda:InvokeFunction',
    ]);
    expect(await denials(withClusters, 'probe', 'probe-coordinator')).toEqual([]);
  });

  it('fails the proof when the probe may not invoke the shard function', async () => {
    // Prepare: the role without its lambda statement.
    const withoutInvoke = (statements: PolicyStatement[]) =>
      statements.filter((s) => ![s.Action].flat().includes('lambda:InvokeFunction'));

    // Act
    const denied = await denials(withClusters, 'probe', 'probe-coordinator', withoutInvoke);

    // Assess
    expect(denied).toEqual([
      'lambda:InvokeFunction on arn:aws:lambda:us-east-1:123456789012:function:TfServingRegistry-probe-shard {}: ImplicitlyDenied',
    ]);
  });

  it('runs two probe shards of a layout, each writing its own markers: every call allowed', async () => {
    // Act
    const scheduledTime = new Date().toISOString();
    const results = await run(
      withClusters,
      'probe-shard',
      [0, 1].map((index) => ({ event: { shard: { index, count: 2 }, scheduledTime }, remainingMs: 3_000 })),
    );

    // Assess
    expect(results).toEqual([
      { ok: true, result: { shard: '0/2', rounds: 1 } },
      { ok: true, result: { shard: '1/2', rounds: 1 } },
    ]);
    expect(actionsOf('probe-shard')).toEqual(expect.arrayContaining(['dynamodb:PutItem', 'dynamodb:Query']));
    expect(await denials(withClusters, 'probe-shard')).toEqual([]);
  });

  it('answers every discovery route: every call allowed', async () => {
    // Act
    const results = await run(withClusters, 'discovery', [
      ...['list-models', 'get-model', 'get-version', 'get-label', 'get-health'].map((name) => ({
        event: loadEvent('apigw-rest', name),
      })),
      {
        event: {
          ...loadEvent<Record<string, unknown>>('apigw-rest', 'list-models'),
          resource: '/openapi.json',
          path: '/openapi.json',
        },
      },
    ]);

    // Assess
    expect(results.map((r) => (r.result as { statusCode: number }).statusCode)).toEqual([
      200, 200, 200, 200, 200, 200,
    ]);
    expect(actionsOf('discovery')).toEqual(['dynamodb:GetItem', 'dynamodb:Query']);
    expect(await denials(withClusters, 'discovery')).toEqual([]);
  });

  it('answers every discovery route through the HTTP API (payload format 1.0) exactly as through the REST API: every call allowed', async () => {
    // Prepare: each route's REST event next to its HTTP API event, so both see the same registry.
    const routes = ['list-models', 'get-model', 'get-version', 'get-label', 'get-health', 'get-openapi'];
    const restEvent = (name: string) =>
      name === 'get-openapi'
        ? {
            ...loadEvent<Record<string, unknown>>('apigw-rest', 'list-models'),
            resource: '/openapi.json',
            path: '/openapi.json',
          }
        : loadEvent('apigw-rest', name);
    const pairs = routes.flatMap((name) => [
      { event: restEvent(name) },
      { event: loadEvent('apigw-http-v1', name) },
    ]);

    // Act: the discovery bundle the HTTP API stack deploys.
    const results = await run(httpApi, 'discovery', pairs, 'discovery-http');

    // Assess
    const answers = results.map((r) => r.result as { statusCode: number; headers: Record<string, string> });
    expect(answers.map((a) => a.statusCode)).toEqual(routes.flatMap(() => [200, 200]));
    for (let i = 0; i < routes.length; i += 1) {
      expect(answers[2 * i + 1], routes[i]).toEqual(answers[2 * i]);
    }
    // The same calls as the REST proof's, whatever the read path is.
    expect(actionsOf('discovery-http')).toEqual(actionsOf('discovery'));
    expect(actionsOf('discovery-http')).not.toEqual([]);
    expect(await denials(httpApi, 'discovery', 'discovery-http')).toEqual([]);
  });

  it('reconciles the configured clusters (ListTasks, DescribeTasks, a forgotten task retired): every call allowed', async () => {
    // Act
    const results = await run(withClusters, 'reconcile', [{ event: loadEvent('scheduled', 'base') }]);

    // Assess
    expect(results).toEqual([
      { ok: true, result: expect.objectContaining({ clusters: 1, applied: 1, forgotten: 2, errors: 0 }) },
    ]);
    expect(actionsOf('reconcile')).toEqual(
      expect.arrayContaining(['dynamodb:Query', 'dynamodb:UpdateItem', 'ecs:DescribeTasks', 'ecs:ListTasks']),
    );
    expect(actionsOf('reconcile')).not.toContain('ecs:ListClusters');
    expect(await denials(withClusters, 'reconcile')).toEqual([]);
  });

  it('reconciles every cluster of the account when none is configured (ListClusters): every call allowed', async () => {
    // Act
    const results = await run(
      everyCluster,
      'reconcile',
      [{ event: loadEvent('scheduled', 'base') }],
      'reconcile-all',
    );

    // Assess
    expect(results).toEqual([{ ok: true, result: expect.objectContaining({ clusters: 1, errors: 0 }) }]);
    expect(actionsOf('reconcile-all')).toEqual(expect.arrayContaining(['ecs:ListClusters', 'ecs:ListTasks']));
    expect(await denials(everyCluster, 'reconcile', 'reconcile-all')).toEqual([]);
  });

  it('applies a drain and a stop of a registered task: every call allowed', async () => {
    // Act
    const results = await run(
      withClusters,
      'ecs-events',
      [
        { event: loopbackEvent('running-awsvpc', HOSTS.awsvpc, 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa') },
        ...['draining', 'stopped'].map((name) => ({
          event: loopbackEvent(name, HOSTS.awsvpc, 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'),
        })),
      ],
      'ecs-events-stop',
    );

    // Assess
    expect(results.map((r) => r.ok)).toEqual([true, true, true]);
    expect(actionsOf('ecs-events-stop')).toContain('dynamodb:DeleteItem');
    expect(await denials(withClusters, 'ecs-events', 'ecs-events-stop')).toEqual([]);
  });

  it("moves a model's snapshot forward from the rows an event wrote (BatchGetItem): every call allowed", async () => {
    // Prepare: 13 tasks of one model (one on an address nothing listens on), so an event's
    // rebuild reads its own rows, not the partition (one changed endpoint in twelve or fewer).
    const tasks = FLEET_TASKS.map((task, i) => ({ task, host: i === 0 ? HOSTS.refusing : HOSTS.awsvpc }));

    // Act
    const results = await run(
      withClusters,
      'ecs-events',
      [
        ...tasks.map(({ task, host }) => ({ event: loopbackEvent('running-awsvpc', host, task) })),
        { event: loopbackEvent('draining', HOSTS.awsvpc, FLEET_TASKS[1]) },
      ],
      'ecs-events-fleet',
    );

    // Assess
    expect(results.map((r) => r.ok)).toEqual(Array(tasks.length + 1).fill(true));
    expect(actionsOf('ecs-events-fleet')).toContain('dynamodb:BatchGetItem');
    expect(await denials(withClusters, 'ecs-events', 'ecs-events-fleet')).toEqual([]);
  });

  it("moves a model's snapshot forward from the rows a probe round wrote (BatchGetItem): every call allowed", async () => {
    // Act: of the fleet above, only the refusing endpoint's row changes (a failure).
    const results = await run(
      withClusters,
      'probe',
      [
        {
          event: scheduledNow(),
          remainingMs: 3_000,
        },
      ],
      'probe-fleet',
    );

    // Assess
    expect(results).toEqual([{ ok: true, result: { rounds: 1 } }]);
    expect(actionsOf('probe-fleet')).toContain('dynamodb:BatchGetItem');
    expect(await denials(withClusters, 'probe', 'probe-fleet')).toEqual([]);
  });

  it('reads the bundles it proves: the deployed assets of this synthesis', () => {
    // Assess: the proof ran real bundles, not the sources.
    const { template } = withClusters;
    const { resources } = resolver(template, {});
    const bundle = join(
      outdir,
      String(resources[functionId(template, 'probe')]?.Metadata?.['aws:asset:path']),
      'index.mjs',
    );
    expect(readFileSync(bundle, 'utf8').length).toBeGreaterThan(100_000);
  });

  it('deploys one discovery bundle whichever the API kind: the asset the HTTP API proof ran is the REST one', () => {
    const assetOf = (built: typeof withClusters) =>
      resolver(built.template, {}).resources[functionId(built.template, 'discovery')]?.Metadata?.[
        'aws:asset:path'
      ];
    expect(assetOf(httpApi)).toBeDefined();
    expect(assetOf(httpApi)).toBe(assetOf(withClusters));
  });
});
