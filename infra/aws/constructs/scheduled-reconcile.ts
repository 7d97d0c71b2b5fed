import { fileURLToPath } from 'node:url';
import { Duration, Validations } from 'aws-cdk-lib';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { AppFunction, type AppFunctionNetwork } from './app-function.ts';
import { clusterArnsOf, grantEcsLookups, grantInClusters } from './ecs-access.ts';
import { runEveryMinute } from './every-minute.ts';

const ENTRY = fileURLToPath(new URL('../../../functions/reconcile/handler.ts', import.meta.url));

export interface ScheduledReconcileProps {
  /**
   * Clusters whose running tasks are reconciled (`CLUSTER_ARNS`).
   * @default - every cluster of the account and Region (found with ecs:ListClusters)
   */
  readonly clusterArns?: readonly string[];
  /** The settings every function reads. */
  readonly environment: Readonly<Record<string, string>>;
  /**
   * Where the function runs: it probes the endpoints it finds at once, so it needs the probe's network.
   * @default - not in a VPC
   */
  readonly network?: AppFunctionNetwork;
  /**
   * A round lists and describes the clusters' tasks and applies what changed; it is meant to end
   * before the next trigger (a longer round overlaps the next one, which is harmless: writes are
   * forward-only).
   * @default Duration.seconds(60)
   */
  readonly timeout?: Duration;
}

/**
 * The reconciler: an EventBridge rule `rate(1 minute)` starting the reconcile function, which
 * applies ECS's view of the clusters' tasks exactly like the ecs-events function applies an event
 * (it heals what events missed). Like the probe, a failed or stale round is not retried: the next
 * round, a minute away, heals it.
 */
export class ScheduledReconcile extends Construct {
  readonly appFunction: AppFunction;
  readonly rule: events.Rule;
  readonly clusterArns: readonly string[];

  constructor(scope: Construct, id: string, props: ScheduledReconcileProps) {
    super(scope, id);
    this.clusterArns = clusterArnsOf('ScheduledReconcile', props.clusterArns);
    const timeout = props.timeout ?? Duration.seconds(60);
    if (timeout.toSeconds() < 10 || timeout.toSeconds() > 900) {
      throw new Error(
        `ScheduledReconcile timeout=${timeout.toSeconds()}s is invalid: a round runs once a minute, so use 10–900 s (default 60 s).`,
      );
    }
    this.appFunction = new AppFunction(this, 'Function', {
      entry: ENTRY,
      name: 'reconcile',
      description:
        "Applies ECS's running tasks to the TF Serving registry once a minute, healing missed events",
      timeout,
      environment: props.environment,
      network: props.network,
    });
    this.grantEcsTaskReads();
    // The reads that complete a task, as for an event: task definitions and bridge-mode container instances.
    grantEcsLookups(this.appFunction, this.clusterArns);

    this.rule = runEveryMinute(this, this.appFunction.function, 'Starts a reconcile round every minute');
  }

  /**
   * Finding the running tasks: `CLUSTER_ARNS` and the ECS reads that use it, together, so the
   * configuration and the permissions cannot drift apart.
   */
  private grantEcsTaskReads(): void {
    const fn = this.appFunction.function;
    const clusters = this.clusterArns;
    fn.addEnvironment('CLUSTER_ARNS', clusters.join(','));
    // ListTasks is authorized against container instances, not the cluster: granted on '*' and
    // limited by the ecs:cluster condition (as AWS documents it).
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['ecs:ListTasks'],
        resources: ['*'],
        ...(clusters.length > 0 && { conditions: { ArnEquals: { 'ecs:cluster': [...clusters] } } }),
      }),
    );
    if (clusters.length === 0) {
      // Only needed to find the clusters when none is configured.
      fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['ecs:ListClusters'], resources: ['*'] }));
    }
    grantInClusters(this.appFunction, clusters, 'task', ['ecs:DescribeTasks']);
    Validations.of(this.appFunction.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: clusters.length
        ? 'ecs:ListTasks is authorized against container instances: granted on * and limited to the configured clusters by the ecs:cluster condition.'
        : 'No CLUSTER_ARNS configured: ecs:ListClusters (no resource-level permissions) and ecs:ListTasks of every cluster of the account.',
    });
  }
}
