import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EC2Client } from '@aws-sdk/client-ec2';
import { ECSClient } from '@aws-sdk/client-ecs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * The AWS SDK clients, each created once per container by the handler that needs it (a separate
 * factory per client keeps unused SDKs out of a function's bundle). Endpoints stay out of code:
 * the SDK reads `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_DYNAMODB` / `AWS_ENDPOINT_URL_ECS` itself,
 * which is how the same bundle runs on AWS, on LocalStack (it injects `AWS_ENDPOINT_URL` into
 * Lambdas) and in local mode.
 */

export function createDynamoDbClient(): DynamoDBDocumentClient {
  // Few retries: a probe or event write that keeps failing should surface, not stall a round.
  return DynamoDBDocumentClient.from(new DynamoDBClient({ maxAttempts: 3 }), {
    marshallOptions: { removeUndefinedValues: true },
  });
}

export function createEcsClient(): ECSClient {
  return new ECSClient({ maxAttempts: 2 });
}

/**
 * The private IP of an EC2 instance, for bridge-mode tasks. The EC2 client is 540 KB minified,
 * more than all the rest of the ecs-events bundle, and only bridge mode needs it: it is loaded on
 * first use and left out of the bundles (`externalModules` in `infra/aws/constructs/app-function.ts`);
 * the Lambda Node.js runtime ships AWS SDK v3 and resolves ES module imports through NODE_PATH.
 */
export function ec2PrivateIpLookup(): (instanceId: string) => Promise<string | undefined> {
  let loading: Promise<{ client: EC2Client; sdk: typeof import('@aws-sdk/client-ec2') }> | undefined;
  return async (instanceId) => {
    loading ??= import('@aws-sdk/client-ec2').then((sdk) => ({
      sdk,
      client: new sdk.EC2Client({ maxAttempts: 2 }),
    }));
    const { client, sdk } = await loading;
    const { Reservations } = await client.send(
      new sdk.DescribeInstancesCommand({ InstanceIds: [instanceId] }),
    );
    return Reservations?.[0]?.Instances?.[0]?.PrivateIpAddress;
  };
}
