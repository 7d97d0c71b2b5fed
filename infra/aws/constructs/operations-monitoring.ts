import { Aws, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../../../functions/adapters/observability-names.ts';
import type { DiscoveryApiStage } from './discovery-api.ts';

/**
 * How long each alarm waits, in one place (the README's "Alarms and dashboard" section explains
 * them). A datapoint is one minute unless said otherwise.
 */
export const ALARM_WINDOWS = {
  /** Every round of this many minutes running found a model with no healthy endpoint. */
  noHealthyEndpointMinutes: 3,
  /** No probe round recorded for this many minutes (the probe runs every minute). */
  proberStalledMinutes: 5,
  /** Discovery answered this many 5xx within five minutes. */
  discovery5xxPerFiveMinutes: 5,
} as const;

export interface OperationsMonitoringProps {
  /** Every function of the stack, by its short name: one errors alarm each. */
  readonly functions: Readonly<Record<string, lambda.IFunction>>;
  /** The ECS events consumer's dead-letter queue. */
  readonly deadLetterQueue: sqs.IQueue;
  /**
   * The discovery API's stage, REST or HTTP API: each kind gives its own metric names and
   * dimensions (REST: 5XXError under ApiName and Stage; HTTP API: 5xx under ApiId and Stage).
   */
  readonly apiStage: DiscoveryApiStage;
  /**
   * Subscribe this address to the alarm topic (it must confirm the subscription).
   * @default - no subscription
   */
  readonly alarmEmail?: string;
  /**
   * Create the CloudWatch dashboard (LocalStack's free edition has no dashboards).
   * @default true
   */
  readonly dashboard?: boolean;
}

/**
 * The registry's alarms, one SNS topic they all notify (on alarm and on recovery), and one
 * dashboard of the figures they watch. "A model has no healthy endpoint" is one fleet-wide alarm
 * on the probe's `ModelsWithoutHealthyEndpoints`, so models need not be known at synth time
 * (docs/decisions/0016-one-fleet-alarm-for-models-without-healthy-endpoints.md).
 */
export class OperationsMonitoring extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly dashboard: cloudwatch.Dashboard | undefined;
  readonly noHealthyEndpoint: cloudwatch.Alarm;
  readonly proberStalled: cloudwatch.Alarm;
  readonly deadLetters: cloudwatch.Alarm;
  readonly discovery5xx: cloudwatch.Alarm;
  readonly functionErrors: Readonly<Record<string, cloudwatch.Alarm>>;

  constructor(scope: Construct, id: string, props: OperationsMonitoringProps) {
    super(scope, id);
    this.topic = this.alarmTopic(props.alarmEmail);
    const registryMetric = (metricName: string, statistic: string, label?: string) =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        dimensionsMap: { service: SERVICE_NAME },
        statistic,
        period: Duration.minutes(1),
        ...(label && { label }),
      });

    // Minimum: every round of the minute saw such a model, not one round's passing failure.
    this.noHealthyEndpoint = this.alarm('NoHealthyEndpoint', {
      alarmDescription: `A model declared by running tasks had no healthy endpoint in any probe round for ${ALARM_WINDOWS.noHealthyEndpointMinutes} minutes: discovery serves none for it. First: the "probe round" log's modelsWithoutHealthy (with probe shards, the coordinator's "models without a served endpoint"), then its endpoints' lastError.`,
      metric: registryMetric('ModelsWithoutHealthyEndpoints', cloudwatch.Stats.MINIMUM),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: ALARM_WINDOWS.noHealthyEndpointMinutes,
      // No rounds is the stalled-prober alarm's business.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.proberStalled = this.alarm('ProberStalled', {
      alarmDescription: `No probe round recorded for ${ALARM_WINDOWS.proberStalledMinutes} minutes: health is not being refreshed (discovery serves the last known endpoints, marked stale). First: the probe function's errors and its log ("probe round failed").`,
      metric: registryMetric('ProbeRoundDuration', cloudwatch.Stats.SAMPLE_COUNT),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: ALARM_WINDOWS.proberStalledMinutes,
      // Silence is the symptom.
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    this.deadLetters = this.alarm('DeadLettersWaiting', {
      alarmDescription:
        'ECS events are waiting in the dead-letter queue: they could not be delivered or applied. First: read a message (its error and event), fix the cause; the reconciler heals the registry meanwhile.',
      metric: props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        statistic: cloudwatch.Stats.MAXIMUM,
        period: Duration.minutes(5),
      }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.discovery5xx = this.alarm('Discovery5xx', {
      alarmDescription: `The discovery API answered 5xx at least ${ALARM_WINDOWS.discovery5xxPerFiveMinutes} times in 5 minutes (503: the table did not answer and no last known answer was at hand). First: DiscoveryUnavailableAnswers, StoreDeadlineExceeded and the discovery function's errors.`,
      metric: props.apiStage.metricServerError({
        statistic: cloudwatch.Stats.SUM,
        period: Duration.minutes(5),
      }),
      threshold: ALARM_WINDOWS.discovery5xxPerFiveMinutes,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.functionErrors = Object.fromEntries(
      Object.entries(props.functions).map(([name, fn]) => [
        name,
        this.alarm(`${pascal(name)}Errors`, {
          alarmDescription: `The ${name} function failed (threw or timed out) within 5 minutes. First: its log group's ERROR lines.`,
          metric: fn.metricErrors({ statistic: cloudwatch.Stats.SUM, period: Duration.minutes(5) }),
          threshold: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      ]),
    );

    this.dashboard = (props.dashboard ?? true) ? this.operationsDashboard(props, registryMetric) : undefined;
  }

  /** The console address of the dashboard (undefined without one). */
  get dashboardUrl(): string | undefined {
    if (this.dashboard === undefined) return undefined;
    return `https://console.aws.amazon.com/cloudwatch/home?region=${Aws.REGION}#dashboards:name=${this.dashboard.dashboardName}`;
  }

  private alarm(id: string, props: cloudwatch.AlarmProps): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, id, props);
    const notify = new actions.SnsAction(this.topic);
    alarm.addAlarmAction(notify);
    alarm.addOkAction(notify);
    this.alarms.push(alarm);
    return alarm;
  }

  /** An encrypted topic only TLS may use, that CloudWatch alarms of this account may publish to. */
  private alarmTopic(email: string | undefined): sns.Topic {
    // A customer managed key: CloudWatch cannot publish to a topic under the AWS managed SNS key.
    const key = new kms.Key(this, 'AlarmTopicKey', {
      description: 'Encrypts the tf-serving-registry alarm topic',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    // Grants on this key only for AWS services acting for a resource (Control Tower CT.KMS.PR.3):
    // no principal can hand the key to a third party through a grant.
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'GrantsOnlyForAwsResources',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['kms:CreateGrant'],
        resources: ['*'],
        conditions: {
          BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' },
        },
      }),
    );
    const cloudWatch = new iam.ServicePrincipal('cloudwatch.amazonaws.com');
    const fromThisAccountsAlarms = {
      StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
      ArnLike: { 'aws:SourceArn': `arn:${Aws.PARTITION}:cloudwatch:${Aws.REGION}:${Aws.ACCOUNT_ID}:alarm:*` },
    };
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [cloudWatch],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: fromThisAccountsAlarms,
      }),
    );
    const topic = new sns.Topic(this, 'AlarmTopic', {
      displayName: 'tf-serving-registry alarms',
      masterKey: key,
      enforceSSL: true,
    });
    // The topic has a policy (TLS only), so the account's default access no longer covers CloudWatch.
    topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [cloudWatch],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: fromThisAccountsAlarms,
      }),
    );
    if (email !== undefined) topic.addSubscription(new subscriptions.EmailSubscription(email));
    return topic;
  }

  private operationsDashboard(
    props: OperationsMonitoringProps,
    registryMetric: (name: string, statistic: string, label?: string) => cloudwatch.Metric,
  ): cloudwatch.Dashboard {
    /** Every series of a metric under one more dimension, whatever its values (models, reasons). */
    const perDimension = (metricName: string, dimension: string, statistic: string, label: string) =>
      new cloudwatch.MathExpression({
        expression: `SEARCH('{${METRICS_NAMESPACE},${dimension},service} MetricName="${metricName}" service="${SERVICE_NAME}"', '${statistic}', 60)`,
        usingMetrics: {},
        label,
        period: Duration.minutes(1),
      });
    const functions = Object.entries(props.functions);
    const stage = props.apiStage;
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(3),
    });
    dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24, height: 3 }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Healthy endpoints per model (fewest in a round)',
        left: [perDimension('HealthyEndpoints', 'model', 'Minimum', '')],
        leftYAxis: { min: 0 },
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Models without a healthy endpoint',
        left: [registryMetric('ModelsWithoutHealthyEndpoints', cloudwatch.Stats.MAXIMUM, 'models')],
        leftAnnotations: [
          { value: 1, label: `alarm: every round for ${ALARM_WINDOWS.noHealthyEndpointMinutes} min` },
        ],
        leftYAxis: { min: 0 },
        width: 12,
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Probe failures by reason',
        left: [perDimension('ProbeFailures', 'reason', 'Sum', '')],
        stacked: true,
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Probe round duration (ms) and overruns',
        left: [
          registryMetric('ProbeRoundDuration', cloudwatch.Stats.p(50), 'p50'),
          registryMetric('ProbeRoundDuration', cloudwatch.Stats.MAXIMUM, 'max'),
        ],
        right: [
          registryMetric('ProbeRoundOverruns', cloudwatch.Stats.SUM, 'overruns'),
          registryMetric('ProbeRoundFailures', cloudwatch.Stats.SUM, 'failed rounds'),
        ],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Probe rounds per minute (0: stalled prober)',
        left: [registryMetric('ProbeRoundDuration', cloudwatch.Stats.SAMPLE_COUNT, 'rounds')],
        right: [registryMetric('ProbeTargets', cloudwatch.Stats.MAXIMUM, 'targets')],
        leftYAxis: { min: 0 },
        width: 8,
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'ECS event lag: event time to applied (ms)',
        left: [
          registryMetric('EventLag', cloudwatch.Stats.p(50), 'p50'),
          registryMetric('EventLag', cloudwatch.Stats.p(99), 'p99'),
          registryMetric('EventLag', cloudwatch.Stats.MAXIMUM, 'max'),
        ],
        right: [
          registryMetric('EventsApplied', cloudwatch.Stats.SUM, 'applied'),
          registryMetric('EventsRejected', cloudwatch.Stats.SUM, 'rejected'),
        ],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Discovery: stale, last-known and unavailable answers; API 5xx',
        left: [
          registryMetric('DiscoveryStaleAnswers', cloudwatch.Stats.SUM, 'stale'),
          registryMetric('DiscoveryLastKnownAnswers', cloudwatch.Stats.SUM, 'last known'),
          registryMetric('DiscoveryUnavailableAnswers', cloudwatch.Stats.SUM, 'unavailable (503)'),
          stage.metricServerError({
            statistic: cloudwatch.Stats.SUM,
            period: Duration.minutes(1),
            label: 'API 5xx',
          }),
        ],
        right: [
          stage.metricCount({
            statistic: cloudwatch.Stats.SUM,
            period: Duration.minutes(1),
            label: 'requests',
          }),
        ],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Dead-letter queue depth',
        left: [
          props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
            statistic: cloudwatch.Stats.MAXIMUM,
            label: 'messages',
          }),
        ],
        leftYAxis: { min: 0 },
        width: 8,
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Function errors',
        left: functions.map(([name, fn]) =>
          fn.metricErrors({ statistic: cloudwatch.Stats.SUM, label: name }),
        ),
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Function duration, p99 (ms)',
        left: functions.map(([name, fn]) =>
          fn.metricDuration({ statistic: cloudwatch.Stats.p(99), label: name }),
        ),
        width: 12,
      }),
    );
    return dashboard;
  }
}

/** `ecs-events` → `EcsEvents`. */
function pascal(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_, _dash: string, letter: string) => letter.toUpperCase());
}
