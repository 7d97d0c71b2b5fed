import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DOCKER_NETWORK, LOCALSTACK_CONTEXT } from '../../localstack/settings.ts';
import { buildStack, functionId, resourcesOf } from './synth.ts';

/**
 * CloudFormation resource types this stack may use on LocalStack 4.14.0's free edition: each has a
 * resource provider in localstack-core at that tag (services/<service>/resource_providers) and its
 * service is free (https://docs.localstack.cloud/references/licensing/, the free edition's services). EC2 security groups only appear with a
 * VPC, which the LocalStack deployment never configures.
 */
const FREE_EDITION_TYPES = new Set([
  'AWS::ApiGateway::Account',
  'AWS::ApiGateway::Deployment',
  'AWS::ApiGateway::GatewayResponse',
  'AWS::ApiGateway::Method',
  'AWS::ApiGateway::RequestValidator',
  'AWS::ApiGateway::Resource',
  'AWS::ApiGateway::RestApi',
  'AWS::ApiGateway::Stage',
  'AWS::CDK::Metadata',
  'AWS::CloudWatch::Alarm',
  'AWS::DynamoDB::Table',
  'AWS::Events::Rule',
  'AWS::IAM::Policy',
  'AWS::IAM::Role',
  'AWS::KMS::Key',
  'AWS::Lambda::EventInvokeConfig',
  'AWS::Lambda::Function',
  'AWS::Lambda::Permission',
  'AWS::Logs::LogGroup',
  'AWS::SNS::Subscription',
  'AWS::SNS::Topic',
  'AWS::SNS::TopicPolicy',
  'AWS::SQS::Queue',
  'AWS::SQS::QueuePolicy',
]);

/**
 * Types only the AWS deployment uses: localstack-core 4.14.0 has no provider for them, and its
 * CloudFormation engine skips (mocks) such resources (https://docs.localstack.cloud/aws/services/cloudformation/,
 * "Upcoming Change in Handling Unsupported Resource Types"). The LocalStack context leaves them out.
 */
const AWS_ONLY_TYPES = new Set(['AWS::CloudWatch::Dashboard']);

/** What the free edition cannot run: HTTP APIs (v2), EventBridge Scheduler (never fires), layers, custom resources. */
const UNSUPPORTED = [
  /^AWS::ApiGatewayV2::/,
  /^AWS::Scheduler::/,
  /^AWS::Lambda::LayerVersion/,
  /^Custom::/,
  /^AWS::CloudFormation::CustomResource$/,
];

describe.each([
  ['the LocalStack deployment', LOCALSTACK_CONTEXT, new Set<string>()],
  ['the default (AWS) deployment', {}, AWS_ONLY_TYPES],
])('template of %s on LocalStack 4.14.0 free', (_name, context, skipped) => {
  const { template } = buildStack(context);
  const resources = resourcesOf(template);
  const types = [...new Set(Object.values(resources).map((resource) => resource.Type))].sort();

  it('has no HTTP API, Scheduler, layer or custom resource', () => {
    expect(types.filter((type) => UNSUPPORTED.some((pattern) => pattern.test(type)))).toEqual([]);
  });

  it('uses only resource types the free edition provides', () => {
    expect(types.filter((type) => !FREE_EDITION_TYPES.has(type) && !skipped.has(type))).toEqual([]);
  });

  it('has no custom-resource service token and no Lambda layers anywhere', () => {
    const text = JSON.stringify(template.toJSON());
    expect(text).not.toContain('ServiceToken');
    for (const resource of Object.values(resources)) {
      if (resource.Type === 'AWS::Lambda::Function') expect(resource.Properties?.Layers).toBeUndefined();
    }
  });

  it('runs every function on a runtime LocalStack 4.14 ships (nodejs22.x)', () => {
    const runtimes = Object.values(resources)
      .filter((resource) => resource.Type === 'AWS::Lambda::Function')
      .map((resource) => resource.Properties?.Runtime);
    expect(new Set(runtimes)).toEqual(new Set(['nodejs22.x']));
  });

  it('builds the API URL from AWS::URLSuffix (never a hard-coded amazonaws.com) so LocalStack can rewrite it', () => {
    const outputs = JSON.stringify(template.toJSON().Outputs);
    expect(outputs).not.toContain('amazonaws.com');
    expect(JSON.stringify(template.toJSON().Outputs.ApiUrl)).toContain('AWS::URLSuffix');
  });

  it('schedules the probe and the reconciler with rule expressions LocalStack converts (rate, on the default bus)', () => {
    const scheduled = Object.values(resources).filter(
      (resource) =>
        resource.Type === 'AWS::Events::Rule' && resource.Properties?.ScheduleExpression !== undefined,
    );
    const targetOf = (rule: (typeof scheduled)[number]) =>
      ((rule.Properties?.Targets ?? []) as { Arn: { 'Fn::GetAtt': [string, string] } }[]).map(
        (target) => target.Arn['Fn::GetAtt'][0],
      );
    expect(
      scheduled
        .map((rule) => [targetOf(rule), rule.Properties?.ScheduleExpression, rule.Properties?.EventBusName])
        .sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    ).toEqual([
      [[functionId(template, 'probe')], 'rate(1 minute)', undefined],
      [[functionId(template, 'reconcile')], 'rate(1 minute)', undefined],
    ]);
  });
});

describe('the LocalStack deployment context', () => {
  it('opens the API (no IAM enforcement there) and skips the account logging role', () => {
    const { template } = buildStack(LOCALSTACK_CONTEXT);
    template.allResourcesProperties('AWS::ApiGateway::Method', { AuthorizationType: 'NONE' });
    template.resourceCountIs('AWS::ApiGateway::Account', 0);
    template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete' });
  });

  it('leaves out the dashboard, which the free edition cannot create, and keeps the alarms', () => {
    const { template } = buildStack(LOCALSTACK_CONTEXT);
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
    expect(Object.keys(template.findResources('AWS::CloudWatch::Alarm')).length).toBeGreaterThan(0);
    expect(template.toJSON().Outputs.DashboardName).toBeUndefined();
  });

  it('accepts only the smoke cluster, whose events the smoke run injects', () => {
    const { template } = buildStack(LOCALSTACK_CONTEXT);
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { detail: { clusterArn: [LOCALSTACK_CONTEXT.CLUSTER_ARNS] } },
    });
  });
});

describe('localstack/docker-compose.yml', () => {
  const compose = readFileSync(new URL('../../localstack/docker-compose.yml', import.meta.url), 'utf8');
  const setting = (name: string) => new RegExp(`^\\s+${name}: "?([^"\\n]+)"?$`, 'm').exec(compose)?.[1];

  it('pins LocalStack 4.14.0, the last release that starts without an auth token', () => {
    expect(compose).toMatch(/^\s+image: localstack\/localstack:4\.14\.0$/m);
    expect(compose.match(/^\s+image: .*$/gm)).toEqual(['    image: localstack/localstack:4.14.0']);
  });

  it('gives Lambda the Docker socket and a user-defined network shared with the smoke containers', () => {
    expect(compose).toContain('- /var/run/docker.sock:/var/run/docker.sock');
    expect(setting('LAMBDA_DOCKER_NETWORK')).toBe(DOCKER_NETWORK);
    expect(compose).toMatch(new RegExp(`^networks:\\n  tfsr:\\n    name: ${DOCKER_NETWORK}$`, 'm'));
  });

  it('lets LocalStack delete expired items (TTL)', () => {
    expect(setting('DYNAMODB_REMOVE_EXPIRED_ITEMS')).toBe('1');
  });

  it('publishes the edge port on loopback only', () => {
    expect(compose).toContain('- "127.0.0.1:4566:4566"');
  });
});
