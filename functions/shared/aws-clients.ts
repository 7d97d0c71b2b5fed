import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
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

export function createEc2Client(): EC2Client {
  return new EC2Client({ maxAttempts: 2 });
}
