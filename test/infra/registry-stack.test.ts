import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { storeActionsOf } from '../../functions/composition/registry.ts';
import { DISCOVERY_METHODS, DISCOVERY_ROUTES } from '../../functions/domain/routes.ts';
import { grantTaskReconcile } from '../../infra/aws/constructs/ecs-access.ts';
import { FUNCTION_MEMORY_MB } from '../../infra/aws/constructs/function-memory.ts';
import { ScheduledJob } from '../../infra/aws/constructs/scheduled-job.ts';
import {
  buildStack,
  functionId,
  propertiesOf,
  resourcesOf,
  roleActions,
  roleStatements,
  VPC_CONTEXT,
} from './synth.ts';

const SETTINGS = [
  'PROBE_INTERVAL_SECONDS',
  'PROBE_TIMEOUT_MS',
  'FAILURE_THRESHOLD',
  'UNHEALTHY_AFTER_SECONDS',
  'REMOVE_AFTER_SECONDS',
  'TFSERVING_CONTAINER_NAMES',
] as const;
const FUNCTIONS = ['ecs-events', 'probe', 'probe-shard', 'reconcile', 'discovery'] as const;
const CLUSTER = 'arn:aws:ecs:eu-west-1:123456789012:cluster/ml';
const CANARY = 'arn:aws:ecs:eu-west-1:123456789012:cluster/ml-canary';
/** `arn:<partition>:ecs:<region>:<account>:<suffix>` built from the stack's pseudo parameters. */
const accountArn = (suffix: string) => ({
  'Fn::Join': [
    '',
    [
      'arn:',
      { Ref: 'AWS::Partition' },
      ':ecs:',
      { Ref: 'AWS::Region' },
      ':',
      { Ref: 'AWS::AccountId' },
      `:${suffix}`,
    ],
  ],
});

describe('RegistryStack', () => {
  const { template } = buildStack();

  describe('registry table', () => {
    it('has the shared key schema, TTL on expiresAt, on-demand billing and point-in-time recovery', () => {
      template.hasResourceProperties('AWS::DynamoDB::Table', {
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        TableName: Match.absent(),
      });
    });

    it('is retained by default and destroyed only when asked', () => {
      template.hasResource('AWS::DynamoDB::Table', {
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
      });
      buildStack({ TABLE_REMOVAL_POLICY: 'destroy' }).template.hasResource('AWS::DynamoDB::Table', {
        DeletionPolicy: 'Delete',
      });
    });

    it('takes its physical name from TABLE_NAME', () => {
      buildStack({ TABLE_NAME: 'registry-dev' }).template.hasResourceProperties('AWS::DynamoDB::Table', {
        TableName: 'registry-dev',
      });
    });
  });

  describe('functions', () => {
    it.each(FUNCTIONS)(
      '%s runs the house defaults: nodejs22.x on arm64, its own log group, source maps',
      (name) => {
        const id = functionId(template, name);
        const fn = propertiesOf(template, id);
        expect(fn).toMatchObject({
          Runtime: 'nodejs22.x',
          Architectures: ['arm64'],
          Handler: 'index.handler',
          FunctionName: `TfServingRegistry-${name}`,
          LoggingConfig: { LogGroup: { Ref: expect.any(String) } },
        });
        const logGroupId = (fn.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
        expect(resourcesOf(template)[logGroupId]).toMatchObject({
          Type: 'AWS::Logs::LogGroup',
          Properties: { RetentionInDays: 30 },
        });
      },
    );

    it.each(FUNCTIONS)('%s gets every setting, TABLE_NAME and the Powertools names', (name) => {
      const fn = propertiesOf(template, functionId(template, name));
      const variables = (fn.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(variables).toMatchObject({
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: 'tf-serving-registry',
        POWERTOOLS_METRICS_NAMESPACE: 'TfServingRegistry',
        TABLE_NAME: { Ref: expect.stringMatching(/^RegistryTable/) },
        PROBE_INTERVAL_SECONDS: '5',
        PROBE_TIMEOUT_MS: '2000',
        FAILURE_THRESHOLD: '2',
        UNHEALTHY_AFTER_SECONDS: '10',
        REMOVE_AFTER_SECONDS: '30',
        TFSERVING_CONTAINER_NAMES: 'tfserving,tf-serving',
      });
    });

    it('passes context settings to every function, lists joined', () => {
      const { template: custom } = buildStack({
        PROBE_INTERVAL_SECONDS: 3,
        PROBE_TIMEOUT_MS: '750',
        FAILURE_THRESHOLD: '4',
        UNHEALTHY_AFTER_SECONDS: '20',
        REMOVE_AFTER_SECONDS: '60',
        TFSERVING_CONTAINER_NAMES: ['serving', 'model-server'],
      });
      for (const name of FUNCTIONS) {
        const fn = propertiesOf(custom, functionId(custom, name));
        expect((fn.Environment as { Variables: Record<string, unknown> }).Variables).toMatchObject({
          PROBE_INTERVAL_SECONDS: '3',
          PROBE_TIMEOUT_MS: '750',
          FAILURE_THRESHOLD: '4',
          UNHEALTHY_AFTER_SECONDS: '20',
          REMOVE_AFTER_SECONDS: '60',
          TFSERVING_CONTAINER_NAMES: 'serving,model-server',
        });
      }
    });

    it('sets every setting the functions read (no function misses one)', () => {
      for (const name of FUNCTIONS) {
        const fn = propertiesOf(template, functionId(template, name));
        const variables = Object.keys((fn.Environment as { Variables: Record<string, unknown> }).Variables);
        expect(variables).toEqual(expect.arrayContaining([...SETTINGS, 'TABLE_NAME']));
      }
    });

    it('creates no logRetention custom resource and no layers', () => {
      template.resourceCountIs('Custom::LogRetention', 0);
      template.allResourcesProperties('AWS::Lambda::Function', { Layers: Match.absent() });
    });
  });

  describe('least privilege', () => {
    it('ecs-events may read and write registry items and read ECS task definitions and container instances', () => {
      const actions = roleActions(template, functionId(template, 'ecs-events'));
      expect([...actions.keys()].sort()).toEqual(
        [
          'dynamodb:BatchGetItem',
          'dynamodb:DeleteItem',
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:Query',
          'dynamodb:UpdateItem',
          'ec2:DescribeInstances',
          'ecs:DescribeContainerInstances',
          'ecs:DescribeTaskDefinition',
          'logs:CreateLogStream',
          'logs:PutLogEvents',
          'sqs:GetQueueAttributes',
          'sqs:GetQueueUrl',
          'sqs:SendMessage',
          'xray:PutTelemetryRecords',
          'xray:PutTraceSegments',
        ].sort(),
      );
      expect(actions.get('dynamodb:PutItem')).toEqual([
        { 'Fn::GetAtt': [expect.stringMatching(/^RegistryTable/), 'Arn'] },
      ]);
      expect(actions.get('ecs:DescribeTaskDefinition')).toEqual(['*']);
      expect(actions.get('ec2:DescribeInstances')).toEqual(['*']);
      expect(actions.get('sqs:SendMessage')).toEqual([
        { 'Fn::GetAtt': [expect.stringMatching(/^EcsEventsDeadLetterQueue/), 'Arn'] },
      ]);
    });

    it('limits ecs:DescribeContainerInstances to the configured clusters', () => {
      const { template: custom } = buildStack({ CLUSTER_ARNS: CLUSTER });
      const actions = roleActions(custom, functionId(custom, 'ecs-events'));
      expect(actions.get('ecs:DescribeContainerInstances')).toEqual([
        'arn:aws:ecs:eu-west-1:123456789012:container-instance/ml/*',
      ]);
    });

    it('lets reconcile list and describe the tasks of every cluster, complete them like ecs-events, and read and write the table', () => {
      const id = functionId(template, 'reconcile');
      const actions = roleActions(template, id);
      expect([...actions.keys()].sort()).toEqual(
        [
          'dynamodb:BatchGetItem',
          'dynamodb:DeleteItem',
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:Query',
          'dynamodb:UpdateItem',
          'ec2:DescribeInstances',
          'ecs:DescribeContainerInstances',
          'ecs:DescribeTaskDefinition',
          'ecs:DescribeTasks',
          'ecs:ListClusters',
          'ecs:ListTasks',
          'logs:CreateLogStream',
          'logs:PutLogEvents',
          'xray:PutTelemetryRecords',
          'xray:PutTraceSegments',
        ].sort(),
      );
      for (const action of ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'Query']) {
        expect(actions.get(`dynamodb:${action}`)).toEqual([
          { 'Fn::GetAtt': [expect.stringMatching(/^RegistryTable/), 'Arn'] },
        ]);
      }
      for (const action of [
        'ecs:ListClusters',
        'ecs:ListTasks',
        'ecs:DescribeTaskDefinition',
        'ec2:DescribeInstances',
      ]) {
        expect(actions.get(action), action).toEqual(['*']);
      }
      expect(actions.get('ecs:DescribeTasks')).toEqual([accountArn('task/*')]);
      expect(actions.get('ecs:DescribeContainerInstances')).toEqual([accountArn('container-instance/*')]);
      expect(roleStatements(template, id).filter((statement) => statement.Condition !== undefined)).toEqual(
        [],
      );
    });

    it('limits reconcile to the configured clusters, with no ecs:ListClusters', () => {
      const { template: custom } = buildStack({ CLUSTER_ARNS: [CLUSTER, CANARY] });
      const id = functionId(custom, 'reconcile');
      const actions = roleActions(custom, id);
      expect([...actions.keys()].filter((action) => action.startsWith('ecs:')).sort()).toEqual([
        'ecs:DescribeContainerInstances',
        'ecs:DescribeTaskDefinition',
        'ecs:DescribeTasks',
        'ecs:ListTasks',
      ]);
      expect(
        roleStatements(custom, id).filter((statement) => [statement.Action].flat().includes('ecs:ListTasks')),
      ).toEqual([
        {
          Effect: 'Allow',
          Action: 'ecs:ListTasks',
          Resource: '*',
          Condition: { ArnEquals: { 'ecs:cluster': [CLUSTER, CANARY] } },
        },
      ]);
      expect(actions.get('ecs:DescribeTasks')?.sort()).toEqual([
        'arn:aws:ecs:eu-west-1:123456789012:task/ml-canary/*',
        'arn:aws:ecs:eu-west-1:123456789012:task/ml/*',
      ]);
      // The ECS lookups are the same grant as ecs-events'.
      const ecsEvents = roleActions(custom, functionId(custom, 'ecs-events'));
      for (const action of [
        'ecs:DescribeContainerInstances',
        'ecs:DescribeTaskDefinition',
        'ec2:DescribeInstances',
      ]) {
        expect(actions.get(action), action).toEqual(ecsEvents.get(action));
      }
      expect(actions.get('ecs:DescribeContainerInstances')?.sort()).toEqual([
        'arn:aws:ecs:eu-west-1:123456789012:container-instance/ml-canary/*',
        'arn:aws:ecs:eu-west-1:123456789012:container-instance/ml/*',
      ]);
    });

    it.each(FUNCTIONS)(
      'grants %s exactly the table actions of the store operations its code is wired with, on the table only',
      (name) => {
        // (That those operations are all the calls the code makes is proven by iam-proof.test.ts.)
        const actions = roleActions(template, functionId(template, name));
        const dynamodb = [...actions.keys()].filter((action) => action.startsWith('dynamodb:')).sort();
        expect(dynamodb).toEqual(storeActionsOf(name));
        for (const action of dynamodb) {
          expect(actions.get(action)).toEqual([
            { 'Fn::GetAtt': [expect.stringMatching(/^RegistryTable/), 'Arn'] },
          ]);
        }
      },
    );

    it('lets the probe write its round markers and snapshots (dynamodb:PutItem) and discovery only read', () => {
      expect(storeActionsOf('probe')).toContain('dynamodb:PutItem');
      expect(storeActionsOf('discovery')).toEqual(['dynamodb:GetItem', 'dynamodb:Query']);
    });

    it('attaches no managed policy to the function roles', () => {
      for (const name of FUNCTIONS) {
        expect(roleActions(template, functionId(template, name)).has('(managed policies)')).toBe(false);
      }
    });

    it('lets each function write only to its own log group', () => {
      for (const name of FUNCTIONS) {
        const id = functionId(template, name);
        const logGroup = (propertiesOf(template, id).LoggingConfig as { LogGroup: { Ref: string } }).LogGroup
          .Ref;
        expect(roleActions(template, id).get('logs:PutLogEvents')).toEqual([
          { 'Fn::GetAtt': [logGroup, 'Arn'] },
        ]);
      }
    });
  });

  describe('ECS events consumer', () => {
    it('matches ECS task state changes from the default bus, from every cluster when none is configured', () => {
      template.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: {
          source: ['aws.ecs'],
          'detail-type': ['ECS Task State Change'],
          detail: Match.absent(),
        },
        EventBusName: Match.absent(),
      });
    });

    it('matches only the configured clusters', () => {
      buildStack({
        CLUSTER_ARNS: `${CLUSTER}, arn:aws:ecs:eu-west-1:123456789012:cluster/ml-canary`,
      }).template.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: {
          source: ['aws.ecs'],
          'detail-type': ['ECS Task State Change'],
          detail: { clusterArn: [CLUSTER, 'arn:aws:ecs:eu-west-1:123456789012:cluster/ml-canary'] },
        },
      });
    });

    it('retries delivery and sends what cannot be delivered to the dead-letter queue', () => {
      template.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: Match.objectLike({ source: ['aws.ecs'] }),
        Targets: [
          Match.objectLike({
            Arn: { 'Fn::GetAtt': [functionId(template, 'ecs-events'), 'Arn'] },
            DeadLetterConfig: {
              Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^EcsEventsDeadLetterQueue'), 'Arn'] },
            },
            RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 3600 },
          }),
        ],
      });
    });

    it('retries failed invocations twice, then sends the event to the same dead-letter queue', () => {
      template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        FunctionName: { Ref: functionId(template, 'ecs-events') },
        MaximumRetryAttempts: 2,
        MaximumEventAgeInSeconds: 3600,
        DestinationConfig: {
          OnFailure: {
            Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('^EcsEventsDeadLetterQueue'), 'Arn'] },
          },
        },
      });
    });

    it('keeps dead letters 14 days, encrypted, over TLS only', () => {
      template.hasResourceProperties('AWS::SQS::Queue', {
        MessageRetentionPeriod: 1_209_600,
        SqsManagedSseEnabled: true,
      });
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
            Match.objectLike({
              Effect: 'Allow',
              Principal: { Service: 'events.amazonaws.com' },
              Action: 'sqs:SendMessage',
            }),
          ]),
        },
      });
    });
  });

  describe('scheduled probe', () => {
    it('runs on an EventBridge rule every minute (not EventBridge Scheduler)', () => {
      template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: 'rate(1 minute)',
        Targets: [
          Match.objectLike({
            Arn: { 'Fn::GetAtt': [functionId(template, 'probe'), 'Arn'] },
            RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 },
          }),
        ],
      });
      template.resourceCountIs('AWS::Scheduler::Schedule', 0);
    });

    it('outlives its one-minute round, is not retried, and needs no reserved concurrency', () => {
      const fn = propertiesOf(template, functionId(template, 'probe'));
      expect(fn.Timeout).toBe(70);
      expect(fn.ReservedConcurrentExecutions).toBeUndefined();
      template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        FunctionName: { Ref: functionId(template, 'probe') },
        MaximumRetryAttempts: 0,
        MaximumEventAgeInSeconds: 60,
      });
    });
  });

  describe('probe shards', () => {
    it('lets the probe start the shard function, and nothing else, and names it in the probe environment', () => {
      const probe = propertiesOf(template, functionId(template, 'probe'));
      const shard = functionId(template, 'probe-shard');
      expect((probe.Environment as { Variables: Record<string, unknown> }).Variables).toMatchObject({
        PROBE_SHARD_FUNCTION_NAME: { Ref: shard },
      });
      const actions = roleActions(template, functionId(template, 'probe'));
      expect(actions.get('lambda:InvokeFunction')).toEqual([{ 'Fn::GetAtt': [shard, 'Arn'] }]);
      expect([...actions.keys()].filter((action) => action.startsWith('lambda:'))).toEqual([
        'lambda:InvokeFunction',
      ]);
      for (const name of ['ecs-events', 'probe-shard', 'reconcile', 'discovery'] as const) {
        expect(roleActions(template, functionId(template, name)).has('lambda:InvokeFunction')).toBe(false);
      }
    });

    it('runs a shard for its minute, never retries a start, and keeps a start no longer than a minute', () => {
      const fn = propertiesOf(template, functionId(template, 'probe-shard'));
      expect(fn).toMatchObject({ Timeout: 70, MemorySize: FUNCTION_MEMORY_MB.probe });
      expect(fn.ReservedConcurrentExecutions).toBeUndefined();
      template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        FunctionName: { Ref: functionId(template, 'probe-shard') },
        MaximumRetryAttempts: 0,
        MaximumEventAgeInSeconds: 60,
      });
    });

    it('has no trigger of its own: only the probe starts it', () => {
      const shard = functionId(template, 'probe-shard');
      const rules = Object.values(template.findResources('AWS::Events::Rule'));
      expect(JSON.stringify(rules)).not.toContain(shard);
      expect(
        Object.keys(
          template.findResources('AWS::Lambda::Permission', {
            Properties: { FunctionName: { 'Fn::GetAtt': [shard, 'Arn'] } },
          }),
        ),
      ).toEqual([]);
    });
  });

  describe('scheduled reconcile', () => {
    it('runs on an EventBridge rule every minute (not EventBridge Scheduler), not retried', () => {
      template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: 'rate(1 minute)',
        EventBusName: Match.absent(),
        Targets: [
          Match.objectLike({
            Arn: { 'Fn::GetAtt': [functionId(template, 'reconcile'), 'Arn'] },
            RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 },
          }),
        ],
      });
      template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        FunctionName: { Ref: functionId(template, 'reconcile') },
        MaximumRetryAttempts: 0,
        MaximumEventAgeInSeconds: 60,
        DestinationConfig: Match.absent(),
      });
      template.resourceCountIs('AWS::Scheduler::Schedule', 0);
    });

    it('times out after 60 s with the house memory and needs no reserved concurrency', () => {
      const fn = propertiesOf(template, functionId(template, 'reconcile'));
      expect(fn).toMatchObject({ Timeout: 60, MemorySize: FUNCTION_MEMORY_MB.reconcile });
      expect(fn.ReservedConcurrentExecutions).toBeUndefined();
    });

    it('gets CLUSTER_ARNS empty (every cluster) when none is configured, and only reconcile gets it', () => {
      const variables = (name: string) =>
        (
          propertiesOf(template, functionId(template, name)).Environment as {
            Variables: Record<string, unknown>;
          }
        ).Variables;
      expect(variables('reconcile').CLUSTER_ARNS).toBe('');
      for (const name of ['ecs-events', 'probe', 'discovery']) {
        expect(variables(name).CLUSTER_ARNS, name).toBeUndefined();
      }
    });

    it('gets the configured clusters in CLUSTER_ARNS, comma-separated', () => {
      const { template: custom } = buildStack({ CLUSTER_ARNS: `${CLUSTER}, ${CANARY}` });
      const fn = propertiesOf(custom, functionId(custom, 'reconcile'));
      expect((fn.Environment as { Variables: Record<string, unknown> }).Variables.CLUSTER_ARNS).toBe(
        `${CLUSTER},${CANARY}`,
      );
    });

    it('rejects a timeout outside 10–900 s and a cluster that is not an ECS cluster ARN', () => {
      const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Check');
      const job = (id: string, timeout: Duration) =>
        new ScheduledJob(stack, id, { job: 'reconcile', environment: {}, timeout });
      expect(() => job('Short', Duration.seconds(5))).toThrow(
        /ScheduledJob reconcile timeout=5s is invalid: .*10–900 s/,
      );
      expect(() => job('Long', Duration.minutes(16))).toThrow(/timeout=960s is invalid/);
      const reconcile = job('Ok', Duration.seconds(60));
      expect(() => grantTaskReconcile(reconcile.appFunction, ['cluster/ml'])).toThrow(
        /the reconciler clusterArns has "cluster\/ml", which is not an ECS cluster ARN/,
      );
    });
  });

  describe('discovery API', () => {
    it('is a regional REST API (v1), not an HTTP API', () => {
      template.hasResourceProperties('AWS::ApiGateway::RestApi', {
        EndpointConfiguration: { Types: ['REGIONAL'] },
      });
      expect(
        Object.keys(resourcesOf(template)).filter((id) =>
          resourcesOf(template)[id]?.Type.startsWith('AWS::ApiGatewayV2::'),
        ),
      ).toEqual([]);
    });

    it('routes the design paths with GET and HEAD to the discovery function through Lambda proxy, IAM-authorized', () => {
      expect(restRoutes(template).sort()).toEqual(
        [
          'GET /models AWS_IAM',
          'GET /models/{model} AWS_IAM',
          'GET /models/{model}/versions/{version} AWS_IAM',
          'GET /models/{model}/labels/{label} AWS_IAM',
          'GET /models/{model}/health AWS_IAM',
          'GET /openapi.json AWS_IAM',
          'HEAD /models AWS_IAM',
          'HEAD /models/{model}/health AWS_IAM',
          'HEAD /openapi.json AWS_IAM',
          'HEAD /models/{model} AWS_IAM',
          'HEAD /models/{model}/versions/{version} AWS_IAM',
          'HEAD /models/{model}/labels/{label} AWS_IAM',
        ].sort(),
      );
    });

    it('is open when API_AUTH=none', () => {
      buildStack({ API_AUTH: 'none' }).template.allResourcesProperties('AWS::ApiGateway::Method', {
        AuthorizationType: 'NONE',
      });
    });

    it('throttles the stage and writes JSON access logs to a log group with retention', () => {
      template.hasResourceProperties('AWS::ApiGateway::Stage', {
        StageName: 'v1',
        MethodSettings: [
          Match.objectLike({
            HttpMethod: '*',
            ResourcePath: '/*',
            ThrottlingRateLimit: 100,
            ThrottlingBurstLimit: 200,
          }),
        ],
        AccessLogSetting: {
          DestinationArn: Match.anyValue(),
          Format: Match.stringLikeRegexp('"requestId":"\\$context.requestId"'),
        },
      });
      template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    });

    it('answers API Gateway errors in the design error shape', () => {
      template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
        ResponseType: 'DEFAULT_4XX',
        ResponseTemplates: { 'application/json': Match.stringLikeRegexp('^\\{"error":\\{"code":') },
      });
    });

    it('sets the account logging role unless API_CLOUDWATCH_ROLE=false', () => {
      template.resourceCountIs('AWS::ApiGateway::Account', 1);
      buildStack({ API_CLOUDWATCH_ROLE: 'false' }).template.resourceCountIs('AWS::ApiGateway::Account', 0);
    });
  });

  describe('discovery API as an HTTP API (API_KIND=http)', () => {
    const { template: http } = buildStack({ API_KIND: 'http' });
    const httpApiId = () => {
      const ids = Object.keys(http.findResources('AWS::ApiGatewayV2::Api'));
      expect(ids).toHaveLength(1);
      return ids[0] as string;
    };

    it('is an HTTP API (v2) and no REST API', () => {
      http.hasResourceProperties('AWS::ApiGatewayV2::Api', {
        ProtocolType: 'HTTP',
        Name: 'TfServingRegistry-discovery',
      });
      for (const type of [
        'AWS::ApiGateway::RestApi',
        'AWS::ApiGateway::Method',
        'AWS::ApiGateway::Account',
      ]) {
        http.resourceCountIs(type, 0);
      }
    });

    it('routes every method of every route in DISCOVERY_ROUTES, IAM-authorized, as the REST API does', () => {
      const expected = DISCOVERY_ROUTES.flatMap((route) =>
        DISCOVERY_METHODS.map((method) => `${method} ${route} AWS_IAM`),
      );
      expect(httpRoutes(http).sort()).toEqual(expected.sort());
      expect(httpRoutes(http).sort()).toEqual(restRoutes(template).sort());
    });

    it('sends every route to the same discovery function, Lambda proxy with payload format 1.0', () => {
      const integrations = Object.entries(http.findResources('AWS::ApiGatewayV2::Integration'));
      expect(integrations).toHaveLength(1);
      const [integrationId, integration] = integrations[0] as [
        string,
        { Properties: Record<string, unknown> },
      ];
      expect(integration.Properties).toMatchObject({
        ApiId: { Ref: httpApiId() },
        IntegrationType: 'AWS_PROXY',
        PayloadFormatVersion: '1.0',
        IntegrationUri: { 'Fn::GetAtt': [functionId(http, 'discovery'), 'Arn'] },
      });
      for (const route of Object.values(http.findResources('AWS::ApiGatewayV2::Route'))) {
        expect(route.Properties.Target).toEqual({
          'Fn::Join': ['', ['integrations/', { Ref: integrationId }]],
        });
      }
      // The same function, under the same logical id, whichever the API kind.
      expect(functionId(http, 'discovery')).toBe(functionId(template, 'discovery'));
    });

    it('lets only this API, route by route and from this account, invoke the function', () => {
      const permissions = Object.values(http.findResources('AWS::Lambda::Permission')).filter((permission) =>
        JSON.stringify(permission.Properties.FunctionName).includes(functionId(http, 'discovery')),
      );
      expect(permissions).toHaveLength(DISCOVERY_ROUTES.length * DISCOVERY_METHODS.length);
      for (const permission of permissions) {
        expect(permission.Properties).toMatchObject({
          Action: 'lambda:InvokeFunction',
          Principal: 'apigateway.amazonaws.com',
          SourceAccount: { Ref: 'AWS::AccountId' },
        });
        expect(JSON.stringify(permission.Properties.SourceArn)).toContain(httpApiId());
      }
    });

    it('is open when API_AUTH=none', () => {
      buildStack({ API_KIND: 'http', API_AUTH: 'none' }).template.allResourcesProperties(
        'AWS::ApiGatewayV2::Route',
        { AuthorizationType: 'NONE' },
      );
    });

    it('serves stage v1, deployed on every change, throttled, with JSON access logs in a log group with retention', () => {
      http.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
        ApiId: { Ref: httpApiId() },
        StageName: 'v1',
        AutoDeploy: true,
        DefaultRouteSettings: { ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 },
        AccessLogSettings: {
          DestinationArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DiscoveryApiAccessLogs'), 'Arn'] },
          Format: Match.stringLikeRegexp(
            '"requestId":"\\$context.requestId".*"routeKey":"\\$context.routeKey"',
          ),
        },
      });
      http.resourceCountIs('AWS::ApiGatewayV2::Stage', 1);
      http.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    });

    it('exports the stage URL under the same output, ApiUrl, with the same shape as the REST API', () => {
      const { Value } = http.toJSON().Outputs.ApiUrl as { Value: unknown };
      expect(Value).toEqual({
        'Fn::Join': [
          '',
          [
            'https://',
            { Ref: httpApiId() },
            '.execute-api.',
            { Ref: 'AWS::Region' },
            '.',
            { Ref: 'AWS::URLSuffix' },
            '/v1/',
          ],
        ],
      });
    });
  });

  describe('network', () => {
    it('puts no function in a VPC when none is configured', () => {
      template.allResourcesProperties('AWS::Lambda::Function', { VpcConfig: Match.absent() });
      template.resourceCountIs('AWS::EC2::SecurityGroup', 0);
    });

    it('puts the probe, its shards, ecs-events and reconcile (which probe new endpoints) in the configured subnets, not discovery', () => {
      const { template: vpc } = buildStack(VPC_CONTEXT);
      for (const name of ['probe', 'probe-shard', 'ecs-events', 'reconcile']) {
        expect(propertiesOf(vpc, functionId(vpc, name)).VpcConfig).toEqual({
          SubnetIds: VPC_CONTEXT.SUBNET_IDS,
          SecurityGroupIds: [
            { 'Fn::GetAtt': [expect.stringMatching(/^ProbeNetworkSecurityGroup/), 'GroupId'] },
          ],
        });
        expect(roleActions(vpc, functionId(vpc, name)).get('ec2:CreateNetworkInterface')).toEqual(['*']);
      }
      expect(propertiesOf(vpc, functionId(vpc, 'discovery')).VpcConfig).toBeUndefined();
      vpc.hasResourceProperties('AWS::EC2::SecurityGroup', { VpcId: VPC_CONTEXT.VPC_ID });
      vpc.hasOutput('ProbeSecurityGroupId', {});
    });

    it('uses the given security groups and creates none', () => {
      const { template: vpc } = buildStack({ ...VPC_CONTEXT, SECURITY_GROUP_IDS: 'sg-0123456789abcdef0' });
      for (const name of ['probe', 'probe-shard', 'ecs-events', 'reconcile']) {
        expect(propertiesOf(vpc, functionId(vpc, name)).VpcConfig, name).toEqual({
          SubnetIds: VPC_CONTEXT.SUBNET_IDS,
          SecurityGroupIds: ['sg-0123456789abcdef0'],
        });
      }
      vpc.resourceCountIs('AWS::EC2::SecurityGroup', 0);
    });
  });

  describe('outputs', () => {
    it('exports the API URL, the table name and the dead-letter queue URL', () => {
      template.hasOutput('ApiUrl', {
        Value: { 'Fn::Join': ['', Match.arrayWith(['https://', { Ref: 'AWS::URLSuffix' }])] },
      });
      template.hasOutput('TableName', { Value: { Ref: Match.stringLikeRegexp('^RegistryTable') } });
      template.hasOutput('DeadLetterQueueUrl', {
        Value: { Ref: Match.stringLikeRegexp('^EcsEventsDeadLetterQueue') },
      });
    });
  });
});

/** The REST API's methods as `METHOD /path AUTHORIZATION`, each checked to be a Lambda proxy to discovery. */
function restRoutes(template: ReturnType<typeof buildStack>['template']): string[] {
  const resources = resourcesOf(template);
  const paths = new Map<string, string>();
  const pathOf = (id: string): string => {
    const cached = paths.get(id);
    if (cached) return cached;
    const props = resources[id]?.Properties as { ParentId: unknown; PathPart: string };
    const parent = props.ParentId as { Ref?: string };
    const path = `${parent.Ref ? pathOf(parent.Ref) : ''}/${props.PathPart}`;
    paths.set(id, path);
    return path;
  };
  return Object.values(resources)
    .filter((resource) => resource.Type === 'AWS::ApiGateway::Method')
    .map((method) => {
      const props = method.Properties as {
        HttpMethod: string;
        AuthorizationType: string;
        ResourceId: { Ref: string };
        Integration: { Type: string; Uri: unknown };
      };
      expect(props.Integration.Type).toBe('AWS_PROXY');
      expect(JSON.stringify(props.Integration.Uri)).toContain(functionId(template, 'discovery'));
      return `${props.HttpMethod} ${pathOf(props.ResourceId.Ref)} ${props.AuthorizationType}`;
    });
}

/** The HTTP API's routes as `METHOD /path AUTHORIZATION` (its route keys are `METHOD /path`). */
function httpRoutes(template: ReturnType<typeof buildStack>['template']): string[] {
  return Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map(
    (route) => `${route.Properties.RouteKey} ${route.Properties.AuthorizationType}`,
  );
}
