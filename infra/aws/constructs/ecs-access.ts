import { Aws, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { ECS_CLUSTER_ARN } from '../../../functions/domain/names.ts';
import type { AppFunction } from './app-function.ts';

/**
 * The clusters a construct is limited to, deduplicated; throws, naming `owner`, on anything that
 * is not an ECS cluster ARN. Empty means every cluster of the account and Region.
 */
export function clusterArnsOf(owner: string, clusterArns: readonly string[] | undefined): readonly string[] {
  const arns = [...new Set(clusterArns ?? [])];
  for (const arn of arns) {
    if (!ECS_CLUSTER_ARN.test(arn)) {
      throw new Error(
        `${owner} clusterArns has ${JSON.stringify(arn)}, which is not an ECS cluster ARN: use arn:aws:ecs:<region>:<account>:cluster/<name>.`,
      );
    }
  }
  return arns;
}

/** An ARN pattern a grant uses, and how cdk-nag spells it in an AwsSolutions-IAM5 finding. */
export interface ScopedArn {
  readonly arn: string;
  readonly nagId: string;
}

/**
 * The ARNs of every resource of `type` in the clusters (`task/<cluster>/*`,
 * `container-instance/<cluster>/*`: the long ARN format, which carries the cluster name), or of
 * the account and Region when no cluster is configured.
 */
export function clusterResourceArns(
  clusterArns: readonly string[],
  type: 'task' | 'container-instance',
): ScopedArn[] {
  if (clusterArns.length === 0) {
    return [
      {
        arn: `arn:${Aws.PARTITION}:ecs:${Aws.REGION}:${Aws.ACCOUNT_ID}:${type}/*`,
        nagId: `arn:<AWS::Partition>:ecs:<AWS::Region>:<AWS::AccountId>:${type}/*`,
      },
    ];
  }
  return clusterArns.map((clusterArn) => {
    const [prefix, clusterName] = clusterArn.split(':cluster/') as [string, string];
    const arn = `${prefix}:${type}/${clusterName}/*`;
    return { arn, nagId: arn };
  });
}

/**
 * Grants `actions` on the clusters' resources of `type` and acknowledges the wildcard each ARN
 * needs (the resource ids are not known in advance).
 */
export function grantInClusters(
  appFunction: AppFunction,
  clusterArns: readonly string[],
  type: 'task' | 'container-instance',
  actions: readonly string[],
): iam.Grant {
  const arns = clusterResourceArns(clusterArns, type);
  const grant = iam.Grant.addToPrincipal({
    grantee: appFunction,
    actions: [...actions],
    resourceArns: arns.map(({ arn }) => arn),
  });
  const what = type === 'task' ? 'Tasks' : 'Container instances';
  for (const { nagId } of arns) {
    Validations.of(appFunction.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagId}]`,
      reason: clusterArns.length
        ? `${what} of a configured cluster (${actions.join(', ')}): their ids are not known in advance.`
        : `No CLUSTER_ARNS configured: ${what.toLowerCase()} of every cluster of the account (${actions.join(', ')}).`,
    });
  }
  return grant;
}

/**
 * The ECS and EC2 reads that complete a task (as the ecs-events and reconcile functions do, through
 * `AwsEcsLookups`): task definitions (environment, labels, ports) and, for bridge-mode tasks, the
 * container instance's private IP.
 */
export function grantEcsLookups(appFunction: AppFunction, clusterArns: readonly string[]): iam.Grant {
  const grant = iam.Grant.addToPrincipal({
    grantee: appFunction,
    // No resource-level permissions for these two reads.
    actions: ['ecs:DescribeTaskDefinition', 'ec2:DescribeInstances'],
    resourceArns: ['*'],
  });
  Validations.of(appFunction.role).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason: 'ecs:DescribeTaskDefinition and ec2:DescribeInstances support no resource-level permissions.',
  });
  return grant.combine(
    grantInClusters(appFunction, clusterArns, 'container-instance', ['ecs:DescribeContainerInstances']),
  );
}

/**
 * What the reconciler needs to find the running tasks: `CLUSTER_ARNS` and the ECS reads that use
 * it, together, so the configuration and the permissions cannot drift apart; and the reads that
 * complete a task, as for an event ({@link grantEcsLookups}).
 */
export function grantTaskReconcile(appFunction: AppFunction, clusterArns: readonly string[]): iam.Grant {
  const clusters = clusterArnsOf('the reconciler', clusterArns);
  appFunction.addEnvironment('CLUSTER_ARNS', clusters.join(','));
  // ListTasks is authorized against container instances, not the cluster: granted on '*' and
  // limited by the ecs:cluster condition (as AWS documents it).
  let grant = iam.Grant.addToPrincipal({
    grantee: appFunction,
    actions: ['ecs:ListTasks'],
    resourceArns: ['*'],
    ...(clusters.length > 0 && { conditions: { ArnEquals: { 'ecs:cluster': [...clusters] } } }),
  });
  if (clusters.length === 0) {
    // Only needed to find the clusters when none is configured.
    grant = grant.combine(
      iam.Grant.addToPrincipal({ grantee: appFunction, actions: ['ecs:ListClusters'], resourceArns: ['*'] }),
    );
  }
  Validations.of(appFunction.role).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason: clusters.length
      ? 'ecs:ListTasks is authorized against container instances: granted on * and limited to the configured clusters by the ecs:cluster condition.'
      : 'No CLUSTER_ARNS configured: ecs:ListClusters (no resource-level permissions) and ecs:ListTasks of every cluster of the account.',
  });
  return grant
    .combine(grantInClusters(appFunction, clusters, 'task', ['ecs:DescribeTasks']))
    .combine(grantEcsLookups(appFunction, clusters));
}
