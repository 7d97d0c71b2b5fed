import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RemovalPolicy } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import {
  SETTINGS,
  type SettingName,
  type SettingSpec,
  type UrlSetting,
} from '../../functions/domain/settings.ts';
import { CONTEXT_KEYS, ContextError, parseRegistryContext } from '../../infra/aws/context.ts';
import { buildStack } from './synth.ts';

function parse(context: Record<string, unknown>) {
  return parseRegistryContext((key) => context[key], Object.keys(context));
}

function errorOf(context: Record<string, unknown>): ContextError {
  try {
    parse(context);
  } catch (error) {
    if (error instanceof ContextError) return error;
    throw error;
  }
  throw new Error(`no error for ${JSON.stringify(context)}`);
}

describe('parseRegistryContext', () => {
  it('gives the design defaults when nothing is set', () => {
    // Act
    const context = parse({});

    // Assess
    expect(context).toEqual({
      tableName: undefined,
      settings: {
        PROBE_INTERVAL_SECONDS: '5',
        PROBE_TIMEOUT_MS: '2000',
        FAILURE_THRESHOLD: '2',
        UNHEALTHY_AFTER_SECONDS: '10',
        REMOVE_AFTER_SECONDS: '30',
        TFSERVING_CONTAINER_NAMES: 'tfserving,tf-serving',
        PROBE_CONCURRENCY: '64',
        PROBE_TARGETS_PER_SHARD: '500',
      },
      clusterArns: [],
      network: undefined,
      apiAuth: 'iam',
      apiKind: 'rest',
      apiCloudWatchRole: true,
      tableRemovalPolicy: RemovalPolicy.RETAIN,
      alarmEmail: undefined,
      dashboard: true,
    });
  });

  it('reads the alarm email and the dashboard flag', () => {
    // Act
    const context = parse({ ALARM_EMAIL: ' ops@example.com ', DASHBOARD: 'false' });

    // Assess
    expect(context).toMatchObject({ alarmEmail: 'ops@example.com', dashboard: false });
  });

  it('reads numbers and lists from cdk.json (JSON values) and from -c (strings) alike', () => {
    const fromJson = parse({
      PROBE_INTERVAL_SECONDS: 3,
      CLUSTER_ARNS: [
        'arn:aws:ecs:us-east-1:123456789012:cluster/a',
        'arn:aws:ecs:us-east-1:123456789012:cluster/b',
      ],
      TFSERVING_CONTAINER_NAMES: ['serving'],
      API_CLOUDWATCH_ROLE: false,
    });
    const fromCli = parse({
      PROBE_INTERVAL_SECONDS: '3',
      CLUSTER_ARNS:
        'arn:aws:ecs:us-east-1:123456789012:cluster/a, arn:aws:ecs:us-east-1:123456789012:cluster/b',
      TFSERVING_CONTAINER_NAMES: 'serving',
      API_CLOUDWATCH_ROLE: 'false',
    });
    expect(fromCli).toEqual(fromJson);
    expect(fromJson.settings.PROBE_INTERVAL_SECONDS).toBe('3');
    expect(fromJson.clusterArns).toHaveLength(2);
    expect(fromJson.apiCloudWatchRole).toBe(false);
  });

  it('reads the probe network, API auth, table name and removal policy', () => {
    const context = parse({
      VPC_ID: 'vpc-0123456789abcdef0',
      SUBNET_IDS: 'subnet-01234567,subnet-0123456789abcdef1',
      SECURITY_GROUP_IDS: ['sg-0123456789abcdef0'],
      API_AUTH: 'NONE',
      TABLE_NAME: 'registry-dev',
      TABLE_REMOVAL_POLICY: 'destroy',
    });
    expect(context).toMatchObject({
      network: {
        vpcId: 'vpc-0123456789abcdef0',
        subnetIds: ['subnet-01234567', 'subnet-0123456789abcdef1'],
        securityGroupIds: ['sg-0123456789abcdef0'],
      },
      apiAuth: 'none',
      tableName: 'registry-dev',
      tableRemovalPolicy: RemovalPolicy.DESTROY,
    });
  });

  it('reads the API kind, rest or http, in any case', () => {
    expect(parse({ API_KIND: 'HTTP' }).apiKind).toBe('http');
    expect(parse({ API_KIND: ' rest ' }).apiKind).toBe('rest');
  });

  it('ignores CDK keys that are not ours', () => {
    expect(() =>
      parse({ '@aws-cdk/core:target-partitions': ['aws'], 'aws:cdk:bundling-stacks': [] }),
    ).not.toThrow();
  });

  it.each([
    [{ PROBE_TIMEOUT_MS: '10' }, 'PROBE_TIMEOUT_MS', /"10".*50 to 60000/],
    [{ PROBE_INTERVAL_SECONDS: 'soon' }, 'PROBE_INTERVAL_SECONDS', /"soon".*whole number/],
    [{ FAILURE_THRESHOLD: 0 }, 'FAILURE_THRESHOLD', /0.*1 to 1000/],
    [{ TABLE_NAME: 'a b' }, 'TABLE_NAME', /"a b"/],
    [{ TFSERVING_CONTAINER_NAMES: ' , ' }, 'TFSERVING_CONTAINER_NAMES', /comma-separated/],
    [{ CLUSTER_ARNS: 'ml' }, 'CLUSTER_ARNS', /"ml" is not an ECS cluster ARN/],
    [{ CLUSTER_ARNS: { a: 1 } }, 'CLUSTER_ARNS', /list or comma-separated/],
    [{ VPC_ID: 'vpc-1' }, 'VPC_ID', /"vpc-1".*VPC id/],
    [{ VPC_ID: 'vpc-0123456789abcdef0' }, 'SUBNET_IDS', /needs the private subnets/],
    [{ SUBNET_IDS: 'subnet-01234567' }, 'SUBNET_IDS', /need VPC_ID/],
    [{ SECURITY_GROUP_IDS: 'sg-01234567' }, 'SECURITY_GROUP_IDS', /need VPC_ID/],
    [
      { VPC_ID: 'vpc-0123456789abcdef0', SUBNET_IDS: 'subnet-xyz' },
      'SUBNET_IDS',
      /"subnet-xyz" is not a subnet id/,
    ],
    [{ API_AUTH: 'cognito' }, 'API_AUTH', /one of iam, none/],
    [{ API_KIND: 'websocket' }, 'API_KIND', /"websocket": expected one of rest, http \(default rest\)/],
    [{ API_CLOUDWATCH_ROLE: 'yes' }, 'API_CLOUDWATCH_ROLE', /true or false/],
    [{ TABLE_REMOVAL_POLICY: 'snapshot' }, 'TABLE_REMOVAL_POLICY', /one of retain, destroy/],
    [{ ALARM_EMAIL: 'ops at example' }, 'ALARM_EMAIL', /"ops at example".*one email address/],
    [{ ALARM_EMAIL: 'a@b.com,c@d.com' }, 'ALARM_EMAIL', /one email address/],
    [{ DASHBOARD: 'no' }, 'DASHBOARD', /true or false/],
    [{ PROBE_INTERVAL: '3' }, 'PROBE_INTERVAL', /unknown key; known keys: .*PROBE_INTERVAL_SECONDS/],
  ])('throws for %j naming %s, the value and the fix', (context, key, detail) => {
    const error = errorOf(context);
    expect(error.key).toBe(key);
    expect(error.message).toMatch(new RegExp(`^Invalid CDK context ${key}=`));
    expect(error.message).toMatch(detail);
    expect(error.message).toContain(
      `Fix: pass -c ${key}=<value> to cdk, or set "${key}" under "context" in cdk.json.`,
    );
  });

  it('documents every key it reads', () => {
    const read = new Set<string>();
    parseRegistryContext((key) => {
      read.add(key);
      return undefined;
    });
    expect([...read].sort()).toEqual(Object.keys(CONTEXT_KEYS).sort());
  });
});

/** A valid value other than the default, as `-c` would pass it. */
function nonDefaultValue(name: SettingName): string {
  const spec = SETTINGS[name] as Exclude<SettingSpec, UrlSetting>;
  switch (spec.kind) {
    case 'whole-number':
      return String(spec.default === spec.max ? spec.min : spec.max);
    case 'list':
      return spec.itemPattern ? 'arn:aws:ecs:eu-west-1:123456789012:cluster/other' : 'a,b';
    case 'text':
      return 'my-registry';
  }
}

describe('every registry setting as CDK context', () => {
  it.each(Object.keys(SETTINGS) as SettingName[])('accepts %s and gives its value to the stack', (name) => {
    // Prepare
    const value = nonDefaultValue(name);

    // Act
    const context = parse({ [name]: value });

    // Assess
    const delivered =
      name === 'TABLE_NAME'
        ? context.tableName
        : name === 'CLUSTER_ARNS'
          ? context.clusterArns.join(',')
          : (context.settings as Record<string, string>)[name];
    expect(delivered).toBe(value);
  });
});

describe('RegistryStack context', () => {
  it('warns at synth about settings that defeat each other, and still synthesizes', () => {
    // Act
    const { stack } = buildStack({ UNHEALTHY_AFTER_SECONDS: '1' });

    // Assess
    const warnings = Annotations.fromStack(stack).findWarning(
      '*',
      Match.stringLikeRegexp('healthy endpoints will flap'),
    );
    expect(warnings).toHaveLength(1);
    expect(JSON.stringify(warnings[0]?.entry.data)).toContain('UNHEALTHY_AFTER_SECONDS=1');
  });

  it.each([
    [
      { PROBE_TIMEOUT_MS: '10' },
      /^tf-serving-registry: Invalid CDK context PROBE_TIMEOUT_MS="10": .*Fix: pass -c PROBE_TIMEOUT_MS=<value>/,
    ],
    [
      { API_KIND: 'graphql' },
      /^tf-serving-registry: Invalid CDK context API_KIND="graphql": expected one of rest, http \(default rest\)\. Fix: pass -c API_KIND=<value>/,
    ],
  ])(
    'the CDK app prints a bad context value (%j) as one line, without a stack trace, and exits 1',
    (context, line) => {
      // Act
      const run = spawnSync(process.execPath, ['--import', 'tsx', 'infra/aws/app.ts'], {
        env: {
          ...process.env,
          CDK_CONTEXT_JSON: JSON.stringify(context),
          CDK_OUTDIR: mkdtempSync(join(tmpdir(), 'cdk-out-')),
        },
        encoding: 'utf8',
        timeout: 60_000,
      });

      // Assess
      expect(run.status).toBe(1);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(run.stderr.trim()).toMatch(line);
      expect(run.stderr).not.toMatch(/^\s+at /m);
    },
  );

  it('gives each of the five functions every setting delivered as an environment variable', () => {
    // Act
    const { template } = buildStack({ PROBE_CONCURRENCY: '7' });

    // Assess
    const variables = Object.values(template.findResources('AWS::Lambda::Function'))
      .map((fn) => fn.Properties?.Environment?.Variables as Record<string, unknown> | undefined)
      .filter((env) => env?.TABLE_NAME !== undefined);
    expect(variables).toHaveLength(5);
    for (const env of variables) {
      expect(env).toMatchObject({
        PROBE_CONCURRENCY: '7',
        PROBE_INTERVAL_SECONDS: '5',
        FAILURE_THRESHOLD: '2',
      });
    }
  });

  it('throws from the stack constructor on a bad value, before anything is synthesized', () => {
    expect(() => buildStack({ PROBE_TIMEOUT_MS: '10' })).toThrow(/Invalid CDK context PROBE_TIMEOUT_MS="10"/);
  });
});
