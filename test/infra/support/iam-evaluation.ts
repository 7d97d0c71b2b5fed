import { runSimulation } from '@cloud-copilot/iam-simulate';
import type { RecordedCall } from './aws-fakes.ts';

/**
 * What an AWS call asks IAM for, per the Service Authorization Reference: the action, the
 * resources it is authorized against, and the condition keys the service sets. Then a real IAM
 * policy evaluator (`@cloud-copilot/iam-simulate`) decides each against a role's policies.
 */

export const REGION = 'us-east-1';
export const ACCOUNT = '123456789012';

export interface IamRequest {
  readonly action: string;
  readonly resource: string;
  readonly context: Record<string, string>;
}

export interface PolicyStatement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: string | string[];
  readonly Condition?: Record<string, unknown>;
}

/** The IAM requests of one DynamoDB call (`operation` on each table it names; a batch may name several). */
export function dynamoDbRequests(call: { operation: string; tableNames: readonly string[] }): IamRequest[] {
  const tables = call.tableNames.length === 0 ? ['(none)'] : call.tableNames;
  return tables.map((table) => ({
    action: `dynamodb:${call.operation}`,
    resource: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${table}`,
    context: {},
  }));
}

const clusterArnOf = (cluster: unknown) => {
  const text = String(cluster ?? 'default');
  return text.startsWith('arn:') ? text : `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/${text}`;
};

/** The IAM requests of one ECS, EC2 or Lambda call. */
export function ecsOrEc2Requests(call: RecordedCall): IamRequest[] {
  if (call.service === 'lambda') {
    // Invoke is authorized as lambda:InvokeFunction on the function (an unqualified name or ARN).
    const name = String(call.input.FunctionName);
    const resource = name.startsWith('arn:') ? name : `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`;
    return [{ action: 'lambda:InvokeFunction', resource, context: {} }];
  }
  const action = `${call.service}:${call.operation}`;
  const cluster = { 'ecs:cluster': clusterArnOf(call.input.cluster) };
  switch (action) {
    case 'ecs:DescribeTasks':
      return (call.input.tasks as string[]).map((resource) => ({ action, resource, context: cluster }));
    case 'ecs:DescribeContainerInstances':
      return (call.input.containerInstances as string[]).map((resource) => ({
        action,
        resource,
        context: cluster,
      }));
    case 'ecs:ListTasks':
      // Authorized against container instances, with the cluster as a condition key.
      return [{ action, resource: '*', context: cluster }];
    default:
      // DescribeTaskDefinition, ListClusters, ec2:DescribeInstances: no resource-level permissions.
      return [{ action, resource: '*', context: {} }];
  }
}

/** Whether `statements` (one role's identity policy) allow `request`, as IAM decides it. */
export async function isAllowed(
  statements: readonly PolicyStatement[],
  request: IamRequest,
): Promise<string> {
  const result = await runSimulation(
    {
      identityPolicies: [{ name: 'role', policy: { Version: '2012-10-17', Statement: [...statements] } }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy: undefined,
      request: {
        action: request.action,
        principal: `arn:aws:iam::${ACCOUNT}:role/proof`,
        resource: { accountId: ACCOUNT, resource: request.resource },
        contextVariables: request.context,
      },
    },
    {},
  );
  if (result.resultType === 'error') return `error: ${JSON.stringify(result.errors)}`;
  return result.overallResult;
}
