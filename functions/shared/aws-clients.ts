import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ECSClient } from '@aws-sdk/client-ecs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * The AWS SDK clients, created once per container. Endpoints stay out of code: the SDK reads
 * `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_DYNAMODB` / `AWS_ENDPOINT_URL_ECS` itself, which is how the same bundle
 * runs on AWS, on LocalStack (it injects `AWS_ENDPOINT_URL` into Lambdas) and in local mode.
 */
export interface AwsClients {
  readonly dynamodb: DynamoDBDocumentClient;
  readonly ecs: ECSClient;
  readonly ec2: EC2Client;
}

export function createAwsClients(): AwsClients {
  // Few retries: a probe or event write that keeps failing should surface, not stall a round.
  const dynamodb = new DynamoDBClient({ maxAttempts: 3 });
  return {
    dynamodb: DynamoDBDocumentClient.from(dynamodb, { marshallOptions: { removeUndefinedValues: true } }),
    ecs: new ECSClient({ maxAttempts: 2 }),
    ec2: new EC2Client({ maxAttempts: 2 }),
  };
}
