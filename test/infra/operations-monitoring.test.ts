import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ALARM_WINDOWS } from '../../infra/aws/constructs/operations-monitoring.ts';
import { buildStack, functionId, propertiesOf } from './synth.ts';

/**
 * The stack's alarms, their topic, the dashboard, X-Ray tracing and the outputs an operator
 * needs (infra/aws/constructs/operations-monitoring.ts; the README's "Alarms and dashboard").
 */

const FUNCTIONS = ['ecs-events', 'probe', 'probe-shard', 'reconcile', 'discovery'] as const;
const REGISTRY = {
  Namespace: 'TfServingRegistry',
  Dimensions: [{ Name: 'service', Value: 'tf-serving-registry' }],
};

describe('operations monitoring', () => {
  const { template } = buildStack();
  const topic = () => Object.keys(template.findResources('AWS::SNS::Topic'));
  const topicRef = () => ({ Ref: topic()[0] });
  /** The one alarm whose logical id starts with `Monitoring<name>`. */
  const alarm = (name: string) => {
    const ids = Object.keys(template.findResources('AWS::CloudWatch::Alarm')).filter((id) =>
      id.startsWith(`Monitoring${name}`),
    );
    expect(ids, name).toHaveLength(1);
    return propertiesOf(template, ids[0] as string);
  };

  describe('alarm topic', () => {
    it('is one SNS topic, encrypted with a rotated customer key, TLS only', () => {
      expect(topic()).toHaveLength(1);
      template.hasResourceProperties('AWS::SNS::Topic', {
        KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^MonitoringAlarmTopicKey'), 'Arn'] },
      });
      template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
      template.hasResourceProperties('AWS::SNS::TopicPolicy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Action: 'sns:Publish',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        },
      });
    });

    it("lets this account's CloudWatch alarms, and only them, publish and use the key", () => {
      const fromAlarms = {
        StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
        ArnLike: { 'aws:SourceArn': Match.anyValue() },
      };
      template.hasResourceProperties('AWS::SNS::TopicPolicy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Allow',
              Principal: { Service: 'cloudwatch.amazonaws.com' },
              Action: 'sns:Publish',
              Condition: fromAlarms,
            }),
          ]),
        },
      });
      template.hasResourceProperties('AWS::KMS::Key', {
        KeyPolicy: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Principal: { Service: 'cloudwatch.amazonaws.com' },
              Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
              Condition: fromAlarms,
            }),
          ]),
        },
      });
    });

    it('has no subscription unless ALARM_EMAIL names one', () => {
      template.resourceCountIs('AWS::SNS::Subscription', 0);
      const { template: withEmail } = buildStack({ ALARM_EMAIL: 'ops@example.com' });
      withEmail.hasResourceProperties('AWS::SNS::Subscription', {
        Protocol: 'email',
        Endpoint: 'ops@example.com',
        TopicArn: { Ref: Match.stringLikeRegexp('^MonitoringAlarmTopic') },
      });
    });
  });

  describe('alarms', () => {
    it('each notify the topic on alarm and on recovery, and explain what to check first', () => {
      const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
      expect(alarms).toHaveLength(4 + FUNCTIONS.length);
      for (const { Properties } of alarms) {
        expect(Properties.AlarmActions).toEqual([topicRef()]);
        expect(Properties.OKActions).toEqual([topicRef()]);
        expect(Properties.AlarmDescription).toMatch(/First: /);
      }
    });

    it('watches the fleet-wide count of models without a healthy endpoint: every round for some minutes', () => {
      expect(alarm('NoHealthyEndpoint')).toMatchObject({
        ...REGISTRY,
        MetricName: 'ModelsWithoutHealthyEndpoints',
        Statistic: 'Minimum',
        Period: 60,
        EvaluationPeriods: ALARM_WINDOWS.noHealthyEndpointMinutes,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        Threshold: 1,
        TreatMissingData: 'notBreaching',
      });
    });

    it('treats minutes without a probe round as a stalled prober', () => {
      expect(alarm('ProberStalled')).toMatchObject({
        ...REGISTRY,
        MetricName: 'ProbeRoundDuration',
        Statistic: 'SampleCount',
        Period: 60,
        EvaluationPeriods: ALARM_WINDOWS.proberStalledMinutes,
        ComparisonOperator: 'LessThanThreshold',
        Threshold: 1,
        TreatMissingData: 'breaching',
      });
    });

    it("fires on any message in the ECS events' dead-letter queue (SQS's own metric)", () => {
      expect(alarm('DeadLettersWaiting')).toMatchObject({
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [
          {
            Name: 'QueueName',
            Value: { 'Fn::GetAtt': [expect.stringMatching(/^EcsEventsDeadLetterQueue/), 'QueueName'] },
          },
        ],
        Statistic: 'Maximum',
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        Threshold: 1,
        TreatMissingData: 'notBreaching',
      });
    });

    it("watches the discovery stage's 5xx answers, under this stack's API name", () => {
      const props = alarm('Discovery5xx');
      expect(props).toMatchObject({
        Namespace: 'AWS/ApiGateway',
        MetricName: '5XXError',
        Statistic: 'Sum',
        Period: 300,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        Threshold: ALARM_WINDOWS.discovery5xxPerFiveMinutes,
        TreatMissingData: 'notBreaching',
      });
      const apiName = (props.Dimensions as { Name: string; Value: unknown }[]).find(
        (d) => d.Name === 'ApiName',
      );
      template.hasResourceProperties('AWS::ApiGateway::RestApi', { Name: apiName?.Value });
      expect(apiName?.Value).toMatch(/-discovery$/);
    });

    it.each(FUNCTIONS)('fires on any error of the %s function', (name) => {
      const pascal = name.replace(/(^|-)([a-z])/g, (_, _dash, letter: string) => letter.toUpperCase());
      expect(alarm(`${pascal}Errors`)).toMatchObject({
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: functionId(template, name) } }],
        Statistic: 'Sum',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
      });
    });
  });

  describe('with the HTTP API (API_KIND=http)', () => {
    const { template: http } = buildStack({ API_KIND: 'http' });
    const httpApi = () => ({ Ref: Object.keys(http.findResources('AWS::ApiGatewayV2::Api'))[0] });

    it("watches the HTTP API stage's 5xx under its own metric name and dimensions (ApiId, Stage)", () => {
      const ids = Object.keys(http.findResources('AWS::CloudWatch::Alarm')).filter((id) =>
        id.startsWith('MonitoringDiscovery5xx'),
      );
      expect(ids).toHaveLength(1);
      expect(propertiesOf(http, ids[0] as string)).toMatchObject({
        Namespace: 'AWS/ApiGateway',
        MetricName: '5xx',
        Dimensions: [
          { Name: 'ApiId', Value: httpApi() },
          { Name: 'Stage', Value: 'v1' },
        ],
        Statistic: 'Sum',
        Period: 300,
        Threshold: ALARM_WINDOWS.discovery5xxPerFiveMinutes,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
      });
    });

    it("graphs the HTTP API's 5xx and Count on the dashboard, and none of the REST API's metrics", () => {
      const [dashboard] = Object.values(http.findResources('AWS::CloudWatch::Dashboard'));
      const body = JSON.stringify(dashboard?.Properties.DashboardBody);
      expect(body).toContain('\\"AWS/ApiGateway\\",\\"5xx\\",\\"ApiId\\",\\"');
      expect(body).toContain('\\"AWS/ApiGateway\\",\\"Count\\",\\"ApiId\\",\\"');
      expect(body).not.toContain('5XXError');
      expect(body).not.toContain('ApiName');
    });
  });

  describe('dashboard', () => {
    const body = () => {
      const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
      // The body is a Fn::Join of JSON text and references: the text is what the widgets say.
      return JSON.stringify(dashboard?.Properties.DashboardBody);
    };

    it('is one dashboard with the alarms and every figure they and the README name', () => {
      template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
      for (const figure of [
        'HealthyEndpoints',
        'ModelsWithoutHealthyEndpoints',
        'ProbeFailures',
        'ProbeRoundDuration',
        'ProbeRoundOverruns',
        'EventLag',
        'DiscoveryStaleAnswers',
        'DiscoveryUnavailableAnswers',
        'ApproximateNumberOfMessagesVisible',
        '5XXError',
        'Errors',
      ]) {
        expect(body(), figure).toContain(figure);
      }
      expect(body()).toContain('"type\\":\\"alarm\\"');
    });

    it('finds every model and every failure reason by SEARCH, knowing none of them at synth time', () => {
      expect(body()).toContain(
        'SEARCH(\'{TfServingRegistry,model,service} MetricName=\\\\\\"HealthyEndpoints\\\\\\"',
      );
      expect(body()).toContain(
        'SEARCH(\'{TfServingRegistry,reason,service} MetricName=\\\\\\"ProbeFailures\\\\\\"',
      );
    });

    it('can be left out (DASHBOARD=false), keeping the alarms', () => {
      const { template: without } = buildStack({ DASHBOARD: 'false' });
      without.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
      without.resourceCountIs('AWS::CloudWatch::Alarm', 4 + FUNCTIONS.length);
    });
  });

  describe('X-Ray', () => {
    it.each(FUNCTIONS)('traces the %s function actively', (name) => {
      expect(propertiesOf(template, functionId(template, name)).TracingConfig).toEqual({ Mode: 'Active' });
    });

    it('traces the discovery stage', () => {
      template.hasResourceProperties('AWS::ApiGateway::Stage', { TracingEnabled: true });
    });
  });

  describe('outputs', () => {
    it('exports the alarm topic, and the dashboard by name and console URL', () => {
      template.hasOutput('AlarmTopicArn', { Value: topicRef() });
      template.hasOutput('DashboardName', { Value: { Ref: Match.stringLikeRegexp('^MonitoringDashboard') } });
      const url = JSON.stringify(template.toJSON().Outputs.DashboardUrl.Value);
      expect(url).toContain('console.aws.amazon.com/cloudwatch/home?region=');
      expect(url).toMatch(/#dashboards:name=",\{"Ref":"MonitoringDashboard/);
    });
  });
});
