import { readFileSync } from 'node:fs';
import { DescribeTaskDefinitionCommand, ECSClient, ServerException } from '@aws-sdk/client-ecs';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ec2PrivateIpLookup } from '../../../../functions/adapters/aws-clients.ts';
import { AwsEcsLookups } from '../../../../functions/adapters/ecs/ecs-lookups.ts';
import { createDiscoveryHandler } from '../../../../functions/adapters/edges/discovery-api.ts';
import { createEcsEventsHandler } from '../../../../functions/adapters/edges/ecs-events.ts';
import {
  createProbeHandler,
  createProbeShardHandler,
  END_MARGIN_MS,
  probeRounds,
} from '../../../../functions/adapters/edges/scheduled-probe.ts';
import { createReconcileHandler } from '../../../../functions/adapters/edges/scheduled-reconcile.ts';
import { loggers } from '../../../../functions/adapters/observability.ts';
import { FUNCTION_STORE_OPERATIONS, type FunctionName } from '../../../../functions/composition/registry.ts';
import { InvalidEventError, StoreUnavailableError } from '../../../../functions/domain/errors.ts';
import { applyTaskEvent } from '../../../../functions/domain/task-events.ts';
import { TestClock } from '../../../support/kit/clock.ts';
import {
  testDiscoveryDeps,
  testFleetDeps,
  testProbeDeps,
  testTaskEventDeps,
} from '../../../support/kit/deps.ts';
import { isEmf, jsonPrintedBy } from '../../../support/kit/emf.ts';
import { loadEvent, taskDetail } from '../../../support/kit/events.ts';
import { failingStore, InMemoryRegistryStore } from '../../../support/kit/in-memory-store.ts';
import { available, FakeTfServing } from '../../../support/kit/tfserving.ts';

/**
 * The README's Observability section is a contract: its Logs Insights queries filter on log
 * messages and read log fields, and its table names each function's metrics. This file reads the
 * section (so a README edit is checked too), runs each function's real handler (middy, Powertools
 * Logger and Metrics as deployed) over the in-memory store, and holds what they print (JSON log
 * lines and EMF documents) to what the README says, both ways for the metrics.
 */

// Before the handlers' modules load: the Logger and Metrics read these once, when created.
const quietEnvironment = vi.hoisted(() => {
  const saved = {
    POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL,
    POWERTOOLS_METRICS_DISABLED: process.env.POWERTOOLS_METRICS_DISABLED,
  };
  process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
  process.env.POWERTOOLS_METRICS_DISABLED = 'false';
  return saved;
});

afterAll(() => {
  for (const [name, value] of Object.entries(quietEnvironment)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

interface ReadmeObservability {
  readonly messages: string[];
  readonly namespace: string;
  readonly metrics: Map<string, string[]>;
  /** Each Logs Insights query: the message it filters on (if any) and the log fields it reads. */
  readonly queries: {
    readonly text: string;
    readonly message: string | undefined;
    readonly fields: string[];
  }[];
}

/** The Observability section of README.md, read as its sentences, table and query block lay it out. */
function readmeObservability(): ReadmeObservability {
  const readme = readFileSync(new URL('../../../../README.md', import.meta.url), 'utf8');
  const section = readme.split(/^## /m).find((part) => part.startsWith('Observability\n')) ?? '';
  const ticked = (text: string) => [...text.matchAll(/`([^`]+)`/g)].map(([, inner]) => inner ?? '');
  const prose = section.slice(0, section.indexOf('\n|')).replaceAll(/\s+/g, ' ');
  const [messagesPart = '', metricsPart = ''] = prose.split(/Metrics \(/);
  const metrics = new Map<string, string[]>();
  for (const [, name = '', cells = ''] of section.matchAll(/^\| ([a-z-]+) \| (.+) \|$/gm)) {
    // The header and the separator row name no metric.
    if (ticked(cells).length > 0) metrics.set(name, ticked(cells));
  }
  const block = /```\n([\s\S]*?)```/.exec(section.slice(section.indexOf('Logs Insights')))?.[1] ?? '';
  const queries: string[] = [];
  for (const line of block.split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    if (line.startsWith('|')) queries[queries.length - 1] += ` ${line}`;
    else queries.push(line);
  }
  return {
    messages: ticked(messagesPart.slice(messagesPart.indexOf('messages:'))),
    namespace: /namespace `([^`]+)`/.exec(metricsPart)?.[1] ?? '',
    metrics,
    queries: queries.map((text) => ({
      text,
      message: /message = "([^"]+)"/.exec(text)?.[1],
      fields: queryFields(text),
    })),
  };
}

/** The log fields a Logs Insights query reads: `fields`, `by`, and the left side of comparisons. */
function queryFields(query: string): string[] {
  const fields = new Set<string>();
  for (const [, list = ''] of query.matchAll(/\b(?:fields|by)\s+([^|]+)/g)) {
    for (const field of list.split(',')) fields.add(field.trim());
  }
  for (const [, field = ''] of query.matchAll(/\b([A-Za-z]\w*)\s*(?:[<>]=?|=|\blike\b)/g)) fields.add(field);
  return [...fields].filter((field) => field !== '' && !field.startsWith('@')).sort();
}

type LogLine = Record<string, unknown> & { message: string; level: string };

interface Printed {
  readonly logs: LogLine[];
  /** The metric names of every EMF document printed, and the namespaces they went to. */
  readonly metrics: Set<string>;
  readonly namespaces: Set<string>;
}

/** Runs `act` and returns what the Logger and Metrics printed meanwhile (both print through `console`). */
async function printedBy(act: () => Promise<unknown>): Promise<Printed> {
  const printed: Printed = { logs: [], metrics: new Set(), namespaces: new Set() };
  for (const line of await jsonPrintedBy(act)) {
    if (!isEmf(line)) {
      printed.logs.push(line as LogLine);
      continue;
    }
    for (const directive of line._aws.CloudWatchMetrics) {
      printed.namespaces.add(directive.Namespace);
      for (const metric of directive.Metrics) printed.metrics.add(metric.Name);
    }
  }
  return printed;
}

function lambdaContext(functionName: FunctionName, remainingMs = 60_000): Context {
  return {
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: `request-${functionName}`,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'stream',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => remainingMs,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

const timedOut = () =>
  new StoreUnavailableError('Query', Object.assign(new Error('aborted'), { name: 'TimeoutError' }));
const RESNET = { host: '10.0.215.105', restPort: 8501 };

/** Two running tasks: resnet answers, the sidecar task refuses; each probe takes 3 s, so a round overruns the interval. */
async function slowRoundFleet() {
  const clock = new TestClock();
  const store = new InMemoryRegistryStore();
  await applyTaskEvent(taskDetail('running-awsvpc'), testTaskEventDeps({ store, now: clock.now }));
  await applyTaskEvent(taskDetail('running-sidecars'), testTaskEventDeps({ store, now: clock.now }));
  const tfserving = new FakeTfServing().status(RESNET, 'resnet', available('7'));
  const modelStatus = tfserving.modelStatus.bind(tfserving);
  tfserving.modelStatus = async (endpoint, model) => {
    clock.advance(3_000);
    return modelStatus(endpoint, model);
  };
  return { clock, store, tfserving };
}

/** What each function's README metrics and messages need: every outcome that counts or logs. */
const scenarios: Record<FunctionName, () => Promise<unknown>> = {
  async 'ecs-events'() {
    const ecs = mockClient(ECSClient);
    ecs.on(DescribeTaskDefinitionCommand).rejects(new ServerException({ $metadata: {}, message: 'no' }));
    try {
      const store = new InMemoryRegistryStore();
      const tfserving = new FakeTfServing().status(RESNET, 'resnet', available('7'));
      const lookups = new AwsEcsLookups(new ECSClient({}), ec2PrivateIpLookup(), loggers['ecs-events']);
      const deps = testTaskEventDeps({ store, tfserving, lookups, now: () => 1_000 });
      const handler = createEcsEventsHandler(deps);
      const context = lambdaContext('ecs-events');
      await handler(loadEvent('ecs', 'running-awsvpc'), context);
      await handler(loadEvent('ecs', 'pending'), context);
      await expect(handler(loadEvent('ecs', 'malformed-missing-taskarn'), context)).rejects.toThrow(
        InvalidEventError,
      );
      const down = createEcsEventsHandler({ ...deps, store: failingStore(store, { getTask: timedOut() }) });
      await expect(down(loadEvent('ecs', 'stopped'), context)).rejects.toThrow(StoreUnavailableError);
    } finally {
      ecs.restore();
    }
  },

  async probe() {
    const { clock, store, tfserving } = await slowRoundFleet();
    const event = {
      ...loadEvent<{ time: string }>('scheduled', 'base'),
      time: new Date(clock.ms).toISOString(),
    };
    // One round per invocation: the Lambda has just past the end margin left.
    const context = lambdaContext('probe', END_MARGIN_MS + 1);
    const probe = testProbeDeps({ store, tfserving, now: clock.now });
    await createProbeHandler(
      { probe, fleet: testFleetDeps({ store, now: clock.now }), invoker: undefined, share: 1000 },
      5,
    )(event, context);
    const down = failingStore(store, { listRunningTasks: timedOut() });
    const probeDown = testProbeDeps({ store: down, tfserving, now: clock.now });
    await createProbeHandler(
      {
        probe: probeDown,
        fleet: testFleetDeps({ store: down, now: clock.now }),
        invoker: undefined,
        share: 1000,
      },
      5,
    )(event, context);
    // A fleet of two shares: the coordinator starts two shards, and one start fails.
    const invoker = {
      invoke: async (shard: { index: number }) => {
        if (shard.index === 1) throw new Error('TooManyRequestsException: Rate exceeded');
      },
    };
    await expect(
      createProbeHandler({ probe, fleet: testFleetDeps({ store, now: clock.now }), invoker, share: 2 }, 5)(
        event,
        context,
      ),
    ).rejects.toThrow('1 of 2 probe shards could not be started');
  },

  async 'probe-shard'() {
    const { clock, store, tfserving } = await slowRoundFleet();
    const context = lambdaContext('probe-shard', END_MARGIN_MS + 1);
    const handler = createProbeShardHandler(testProbeDeps({ store, tfserving, now: clock.now }), 5);
    const scheduledTime = new Date(clock.ms).toISOString();
    for (const index of [0, 1]) await handler({ shard: { index, count: 2 }, scheduledTime }, context);
    const down = failingStore(store, { listRunningTasks: timedOut() });
    await createProbeShardHandler(testProbeDeps({ store: down, tfserving, now: clock.now }), 5)(
      { shard: { index: 0, count: 2 }, scheduledTime },
      context,
    );
  },

  async discovery() {
    const store = new InMemoryRegistryStore();
    const now = () => 1_000;
    await applyTaskEvent(
      taskDetail('running-awsvpc'),
      testTaskEventDeps({
        store,
        tfserving: new FakeTfServing().status(RESNET, 'resnet', available('7')),
        now,
      }),
    );
    const deps = testDiscoveryDeps({ store, now });
    const model = loadEvent<APIGatewayProxyEvent>('apigw-rest', 'get-model');
    const context = lambdaContext('discovery');
    await createDiscoveryHandler(deps)(model, context);
    // The store stops answering: the same request is served from this process's last answer,
    // another one (never answered before) is a 503.
    const down = createDiscoveryHandler({
      ...deps,
      store: failingStore(store, { readSnapshot: timedOut(), readModel: timedOut() }),
    });
    await down(model, context);
    await down(loadEvent<APIGatewayProxyEvent>('apigw-rest', 'get-version'), context);
  },

  async reconcile() {
    const store = new InMemoryRegistryStore();
    const running = taskDetail('running-awsvpc');
    const handler = createReconcileHandler({
      ecs: {
        listClusters: async () => [running.clusterArn],
        listRunningTaskArns: async () => [running.taskArn],
        describeTasks: async () => ({ tasks: [running], missing: [], invalid: ['a task: not valid'] }),
      },
      store,
      apply: (detail) => applyTaskEvent(detail, testTaskEventDeps({ store, now: () => 1_000 })),
      clusterArns: [],
      log: loggers.reconcile,
    });
    await handler({}, lambdaContext('reconcile'));
  },
};

const readme = readmeObservability();
const FUNCTIONS = Object.keys(FUNCTION_STORE_OPERATIONS) as FunctionName[];

describe('the README Observability section', () => {
  const printed = new Map<FunctionName, Printed>();
  const allLogs = () => [...printed.values()].flatMap((p) => p.logs);

  beforeAll(async () => {
    for (const name of FUNCTIONS) printed.set(name, await printedBy(scenarios[name]));
  });

  it('is found and read: messages, a namespace, a metrics row per deployed function, queries', () => {
    // Assess
    expect(readme.messages.length).toBeGreaterThanOrEqual(8);
    expect(readme.namespace).not.toBe('');
    expect([...readme.metrics.keys()].sort()).toEqual([...FUNCTIONS].sort());
    expect(readme.queries.length).toBeGreaterThanOrEqual(3);
  });

  it.each(FUNCTIONS)('lists exactly the metrics the %s function emits', (name) => {
    // Assess
    expect([...(printed.get(name)?.metrics ?? [])].sort()).toEqual(
      [...(readme.metrics.get(name) ?? [])].sort(),
    );
  });

  it.each(FUNCTIONS)('names the namespace the %s function publishes to', (name) => {
    // Assess
    expect([...(printed.get(name)?.namespaces ?? [])]).toEqual([readme.namespace]);
  });

  it.each(readme.messages)('lists "%s", a message the functions log', (message) => {
    // Assess
    expect(allLogs().map((line) => line.message)).toContain(message);
  });

  it.each(readme.queries.map((query) => [query.text, query] as const))(
    'has a query the logs answer: %s',
    (_, query) => {
      // Prepare
      const candidates = allLogs().filter(
        (line) => query.message === undefined || line.message === query.message,
      );

      // Assess: some line the query selects carries every field it reads.
      expect(candidates.length).toBeGreaterThan(0);
      expect(candidates.some((line) => query.fields.every((field) => field in line))).toBe(true);
    },
  );
});

describe('one process running every piece (local mode)', () => {
  it('logs each piece as itself: a probe round carries neither the discovery request id nor its name', async () => {
    // Prepare: a discovery request is answered first, in the same process
    const store = new InMemoryRegistryStore();
    const now = () => 1_000;
    const tfserving = new FakeTfServing().status(RESNET, 'resnet', available('7'));
    await applyTaskEvent(taskDetail('running-awsvpc'), testTaskEventDeps({ store, tfserving, now }));
    // The store does not answer discovery, so discovery logs (with its Lambda context).
    const discovery = createDiscoveryHandler(
      testDiscoveryDeps({
        store: failingStore(store, { readSnapshot: timedOut(), readModel: timedOut() }),
        now,
      }),
    );
    const round = probeRounds(testProbeDeps({ store, tfserving, now }), 5_000);

    // Act
    const printed = await printedBy(async () => {
      await discovery(loadEvent<APIGatewayProxyEvent>('apigw-rest', 'get-model'), lambdaContext('discovery'));
      await round();
    });

    // Assess
    const byMessage = (message: string) => printed.logs.find((line) => line.message === message);
    expect(byMessage('registry store unavailable')).toMatchObject({
      piece: 'discovery',
      function_request_id: 'request-discovery',
    });
    expect(byMessage('probe round')).toMatchObject({ piece: 'probe' });
    // (Earlier tests in this file ran the probe's own handler, whose context it may keep.)
    expect(byMessage('probe round')?.function_request_id).not.toBe('request-discovery');
    expect(byMessage('probe round')?.function_name).not.toBe('discovery');
  });
});

describe('readmeObservability', () => {
  it('reads a query that spans lines, with the fields it filters, groups and shows', () => {
    // Act
    const fields = queryFields(
      'filter message = "probe round" and (failed > 0 or durationMs > 2000) | fields @timestamp, targets | stats count() by lifecycle',
    );

    // Assess
    expect(fields).toEqual(['durationMs', 'failed', 'lifecycle', 'message', 'targets']);
  });

  it('reads a message that the README wraps over two lines', () => {
    // Assess
    expect(readme.messages).toContain('task definition lookup failed, using the event alone');
  });
});
