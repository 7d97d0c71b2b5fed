import { Annotations, CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { loadConfig, settingConflicts } from '../../functions/domain/settings.ts';
import { DiscoveryApi } from './constructs/discovery-api.ts';
import { grantTaskReconcile } from './constructs/ecs-access.ts';
import { EcsEventsConsumer } from './constructs/ecs-events-consumer.ts';
import { OperationsMonitoring } from './constructs/operations-monitoring.ts';
import { ProbeNetwork } from './constructs/probe-network.ts';
import { ProbeShards } from './constructs/probe-shards.ts';
import { RegistryTable } from './constructs/registry-table.ts';
import { ScheduledJob } from './constructs/scheduled-job.ts';
import { readRegistryContext } from './context.ts';

/**
 * The registry on AWS (and LocalStack): ECS events and a scheduled probe (spread over probe shards
 * when the fleet needs more than one invocation) keep the table current,
 * a scheduled reconciler heals what events missed, the discovery API reads it. Configuration comes from CDK context (`infra/aws/context.ts`).
 */
export class RegistryStack extends Stack {
  readonly registryTable: RegistryTable;
  readonly ecsEvents: EcsEventsConsumer;
  readonly probe: ScheduledJob;
  readonly probeShards: ProbeShards;
  readonly reconcile: ScheduledJob;
  readonly discovery: DiscoveryApi;
  readonly monitoring: OperationsMonitoring;

  constructor(scope: Construct, id: string, props: StackProps = {}) {
    super(scope, id, {
      description: 'tf-serving-registry: a registry of TensorFlow Serving endpoints on Amazon ECS',
      ...props,
    });
    const context = readRegistryContext(this.node);
    for (const conflict of settingConflicts(loadConfig(context.settings))) {
      Annotations.of(this).addWarningV2('tf-serving-registry:settings-conflict', conflict.message);
    }

    this.registryTable = new RegistryTable(this, 'RegistryTable', {
      tableName: context.tableName,
      removalPolicy: context.tableRemovalPolicy,
    });
    const network = context.network && new ProbeNetwork(this, 'ProbeNetwork', context.network);

    this.ecsEvents = new EcsEventsConsumer(this, 'EcsEvents', {
      clusterArns: context.clusterArns,
      environment: context.settings,
      network,
    });
    this.registryTable.grantStoreAccess(this.ecsEvents.appFunction, 'ecs-events');

    this.probe = new ScheduledJob(this, 'Probe', { job: 'probe', environment: context.settings, network });
    this.registryTable.grantStoreAccess(this.probe.appFunction, 'probe');
    // A fleet larger than one invocation's share is probed by shards the probe starts each minute.
    this.probeShards = new ProbeShards(this, 'ProbeShards', { environment: context.settings, network });
    this.registryTable.grantStoreAccess(this.probeShards.appFunction, 'probe-shard');
    this.probeShards.grantStart(this.probe.appFunction);

    this.reconcile = new ScheduledJob(this, 'Reconcile', {
      job: 'reconcile',
      environment: context.settings,
      network,
    });
    this.registryTable.grantStoreAccess(this.reconcile.appFunction, 'reconcile');
    grantTaskReconcile(this.reconcile.appFunction, context.clusterArns);

    this.discovery = new DiscoveryApi(this, 'DiscoveryApi', {
      environment: context.settings,
      auth: context.apiAuth,
      kind: context.apiKind,
      cloudWatchRole: context.apiCloudWatchRole,
    });
    this.registryTable.grantStoreAccess(this.discovery.appFunction, 'discovery');

    this.monitoring = new OperationsMonitoring(this, 'Monitoring', {
      functions: {
        'ecs-events': this.ecsEvents.appFunction.function,
        probe: this.probe.appFunction.function,
        'probe-shard': this.probeShards.appFunction.function,
        reconcile: this.reconcile.appFunction.function,
        discovery: this.discovery.appFunction.function,
      },
      deadLetterQueue: this.ecsEvents.deadLetterQueue,
      apiStage: this.discovery.stage,
      alarmEmail: context.alarmEmail,
      dashboard: context.dashboard,
    });

    new CfnOutput(this, 'ApiUrl', {
      value: this.discovery.url,
      description: 'Discovery API base URL (stage)',
    });
    new CfnOutput(this, 'TableName', { value: this.registryTable.table.tableName });
    new CfnOutput(this, 'DeadLetterQueueUrl', {
      value: this.ecsEvents.deadLetterQueue.queueUrl,
      description: 'ECS events that could not be delivered or applied',
    });
    new CfnOutput(this, 'AlarmTopicArn', {
      value: this.monitoring.topic.topicArn,
      description: 'SNS topic every alarm notifies (on alarm and on recovery): subscribe to it',
    });
    const { dashboard, dashboardUrl } = this.monitoring;
    if (dashboard && dashboardUrl) {
      new CfnOutput(this, 'DashboardName', { value: dashboard.dashboardName });
      new CfnOutput(this, 'DashboardUrl', {
        value: dashboardUrl,
        description:
          'CloudWatch dashboard of the registry: health per model, probe rounds, event lag, discovery',
      });
    }
    if (network?.createdSecurityGroup) {
      new CfnOutput(this, 'ProbeSecurityGroupId', {
        value: network.createdSecurityGroup.securityGroupId,
        description: "Allow this group in on the TF Serving tasks' REST port",
      });
    }
  }
}
