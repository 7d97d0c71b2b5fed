import { readdirSync, readFileSync } from 'node:fs';
import { APIGatewayProxyEventSchema, EventBridgeSchema } from '@aws-lambda-powertools/parser/schemas';
import { describe, expect, it } from 'vitest';
import { isDiscoveryRoute, routeParameters } from '../../functions/domain/routes.ts';
import { type EventSource, loadEvent, withDetail } from '../support/kit/events.ts';

interface EcsEvent {
  'detail-type': string;
  resources: string[];
  detail: Record<string, unknown> & { taskArn?: string; version?: unknown; containers?: unknown[] };
}

const SOURCES: EventSource[] = ['ecs', 'task-definitions', 'scheduled', 'apigw-rest', 'apigw-http-v1'];
const LIFECYCLE = ['provisioning', 'pending', 'running-awsvpc', 'draining', 'deactivating', 'stopped'];
const TASK_ARN_RE = /^arn:aws:ecs:us-east-1:123456789012:task\/ml\/[0-9a-f]{32}$/;

function names(source: EventSource): string[] {
  const dir = new URL(`../fixtures/events/${source}/`, import.meta.url);
  return readdirSync(dir)
    .filter((file) => file.endsWith('.json'))
    .map((file) => file.slice(0, -'.json'.length))
    .sort();
}

describe('event fixtures', () => {
  describe.each(SOURCES)('%s', (source) => {
    it.each(names(source))('%s.json is valid JSON', (name) => {
      const text = readFileSync(
        new URL(`../fixtures/events/${source}/${name}.json`, import.meta.url),
        'utf8',
      );
      expect(() => JSON.parse(text)).not.toThrow();
    });
  });

  it('has every fixture the suites rely on', () => {
    expect(names('ecs')).toEqual(
      [
        ...LIFECYCLE,
        'running-bridge',
        'running-sidecars',
        'running-overrides',
        'running-no-models',
        'service-action',
        'malformed-missing-taskarn',
      ].sort(),
    );
    expect(names('task-definitions')).toEqual(['tfs-custom-ports-1', 'tfs-resnet-7']);
    expect(names('scheduled')).toEqual(['base']);
    expect(names('apigw-rest')).toEqual([
      'get-health',
      'get-label',
      'get-model',
      'get-version',
      'list-models',
    ]);
    expect(names('apigw-http-v1')).toEqual([
      'get-health',
      'get-label',
      'get-model',
      'get-openapi',
      'get-version',
      'list-models',
    ]);
  });

  it.each([...names('ecs'), 'scheduled:base'])('%s has a valid EventBridge envelope', (name) => {
    const event = name.startsWith('scheduled:') ? loadEvent('scheduled', 'base') : loadEvent('ecs', name);
    expect(EventBridgeSchema.safeParse(event).success).toBe(true);
    expect(event).toMatchObject({ version: '0', account: '123456789012', region: 'us-east-1' });
  });

  it.each(names('apigw-rest'))('%s is a valid API Gateway REST proxy event', (name) => {
    expect(APIGatewayProxyEventSchema.safeParse(loadEvent('apigw-rest', name)).success).toBe(true);
  });

  it.each(names('apigw-http-v1'))(
    '%s is an HTTP API proxy event of payload format 1.0 for a discovery route, on stage v1',
    (name) => {
      const event = loadEvent<{
        version: string;
        resource: string;
        path: string;
        httpMethod: string;
        pathParameters: Record<string, string> | null;
        multiValueHeaders: Record<string, string[]>;
        requestContext: { resourcePath: string; stage: string; path: string };
      }>('apigw-http-v1', name);
      expect(event.version).toBe('1.0');
      expect(isDiscoveryRoute(event.resource)).toBe(true);
      expect(event.requestContext).toMatchObject({
        resourcePath: event.resource,
        stage: 'v1',
        path: event.path,
      });
      expect(event.path).toMatch(/^\/v1\//);
      const parameters = isDiscoveryRoute(event.resource) ? routeParameters(event.resource) : [];
      expect(Object.keys(event.pathParameters ?? {})).toEqual(parameters);
      expect(event.multiValueHeaders).toBeDefined();
    },
  );

  it.each(names('ecs').filter((n) => n !== 'service-action' && n !== 'malformed-missing-taskarn'))(
    '%s is a well-formed task event with full ARNs',
    (name) => {
      const event = loadEvent<EcsEvent>('ecs', name);
      expect(event['detail-type']).toBe('ECS Task State Change');
      expect(event.detail.taskArn).toMatch(TASK_ARN_RE);
      expect(event.resources).toEqual([event.detail.taskArn]);
      expect(Number.isInteger(event.detail.version)).toBe(true);
      expect(event.detail.clusterArn).toBe('arn:aws:ecs:us-east-1:123456789012:cluster/ml');
    },
  );

  it('life-cycle fixtures share one taskArn with strictly increasing detail.version', () => {
    const events = LIFECYCLE.map((name) => loadEvent<EcsEvent>('ecs', name));
    expect(new Set(events.map((e) => e.detail.taskArn)).size).toBe(1);
    const versions = events.map((e) => e.detail.version as number);
    for (let i = 1; i < versions.length; i++) {
      expect(versions[i]).toBeGreaterThan(versions[i - 1] as number);
    }
    expect(events.map((e) => e.detail.lastStatus)).toEqual([
      'PROVISIONING',
      'PENDING',
      'RUNNING',
      'RUNNING',
      'DEACTIVATING',
      'STOPPED',
    ]);
  });

  it('variant fixtures use task ARNs distinct from the life cycle and from each other', () => {
    const variants = [
      'running-awsvpc',
      'running-bridge',
      'running-sidecars',
      'running-overrides',
      'running-no-models',
    ];
    const arns = variants.map((name) => loadEvent<EcsEvent>('ecs', name).detail.taskArn);
    expect(new Set(arns).size).toBe(variants.length);
  });

  it('the malformed fixture lacks taskArn and has a string version', () => {
    const { detail } = loadEvent<EcsEvent>('ecs', 'malformed-missing-taskarn');
    expect(detail).not.toHaveProperty('taskArn');
    expect(detail.version).toBe('three');
  });
});

describe('loadEvent', () => {
  it('returns a fresh copy on every call', () => {
    const first = loadEvent<EcsEvent>('ecs', 'running-awsvpc');
    first.detail.version = 99;
    first.detail.containers?.splice(0);
    first.resources.push('mutated');
    const second = loadEvent<EcsEvent>('ecs', 'running-awsvpc');
    expect(second.detail.version).toBe(3);
    expect(second.detail.containers).toHaveLength(1);
    expect(second.resources).toHaveLength(1);
    expect(second).not.toBe(first);
  });

  it('throws for an unknown fixture', () => {
    expect(() => loadEvent('ecs', 'does-not-exist')).toThrow(/ENOENT/);
  });
});

describe('withDetail', () => {
  it('shallow-merges detail into a deep copy and leaves the input untouched', () => {
    const base = loadEvent<EcsEvent>('ecs', 'running-awsvpc');
    const patched = withDetail(base, { version: 7, lastStatus: 'PENDING', stopCode: undefined });
    expect(patched.detail).toMatchObject({ version: 7, lastStatus: 'PENDING', taskArn: base.detail.taskArn });
    expect(patched.detail).not.toHaveProperty('stopCode');
    expect(base.detail.version).toBe(3);
    expect(base.detail.lastStatus).toBe('RUNNING');
    (patched.detail.containers as unknown[]).splice(0);
    expect(base.detail.containers).toHaveLength(1);
  });

  it('accepts the default loadEvent type', () => {
    const patched = withDetail(loadEvent('ecs', 'pending'), { version: 10 });
    expect(patched.detail).toMatchObject({ version: 10, lastStatus: 'PENDING' });
  });
});
