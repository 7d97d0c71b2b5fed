import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EC2Client } from '@aws-sdk/client-ec2';
import { ECSClient } from '@aws-sdk/client-ecs';
import type { InvokeCommandInput, InvokeCommandOutput } from '@aws-sdk/client-lambda';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * The AWS SDK clients, each created once per container by the handler that needs it (a separate
 * factory per client keeps unused SDKs out of a function's bundle). Endpoints stay out of code:
 * the SDK reads `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_DYNAMODB` / `AWS_ENDPOINT_URL_ECS` itself,
 * which is how the same bundle runs on AWS, on LocalStack (it injects `AWS_ENDPOINT_URL` into
 * Lambdas) and in local mode.
 *
 * Every client gets connection and request timeouts and a small retry budget: the SDK's defaults
 * (no request timeout, three attempts with back-off) let a browned-out dependency hang a caller
 * for as long as its socket lives. Callers add an overall deadline per operation on top.
 */

/** How long one SDK call may take: TCP connect, waiting for the answer, and attempts. */
export interface CallBudget {
  /** From the request's start to a connected socket (waiting for a free socket included). */
  readonly connectionTimeoutMs: number;
  /** Socket idle time while waiting for the answer. */
  readonly requestTimeoutMs: number;
  readonly maxAttempts: number;
  /** Sockets per host: a probe round writes the failures it observes in bursts. @default 50 */
  readonly maxSockets?: number;
}

const AWS_API_BUDGET: CallBudget = { connectionTimeoutMs: 1_000, requestTimeoutMs: 2_000, maxAttempts: 2 };

function clientOptions(budget: CallBudget) {
  const agent = { keepAlive: true, maxSockets: budget.maxSockets ?? 50 };
  return {
    maxAttempts: budget.maxAttempts,
    requestHandler: {
      connectionTimeout: budget.connectionTimeoutMs,
      requestTimeout: budget.requestTimeoutMs,
      // Without it the handler only warns when the request timeout passes, and waits on.
      throwOnRequestTimeout: true,
      httpAgent: agent,
      httpsAgent: agent,
    },
  };
}

export function createDynamoDbClient(budget: CallBudget): DynamoDBDocumentClient {
  const client = new DynamoDBClient(clientOptions(budget));
  // The SDK's logger middleware builds a redacted copy of every input and output (every item of a
  // Query) for a logger that, unconfigured, drops it: ~7 % of local mode's CPU registering 10,000
  // tasks. No logger is configured here, so it goes.
  client.middlewareStack.remove('loggerMiddleware');
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

export function createEcsClient(budget: CallBudget = AWS_API_BUDGET): ECSClient {
  return new ECSClient(clientOptions(budget));
}

/** One Lambda `Invoke` call, under the caller's abort signal. */
export type LambdaInvoke = (
  input: InvokeCommandInput,
  abortSignal: AbortSignal,
) => Promise<InvokeCommandOutput>;

/**
 * The probe coordinator's Lambda `Invoke` (`AWS_ENDPOINT_URL_LAMBDA` honoured). Like the EC2
 * client below, the Lambda client is loaded on first use and left out of the bundles: only a
 * fleet larger than one share needs it, and it would put the probe bundle over its budget
 * (docs/decisions/0021-probe-shards.md). A failed load is tried again on the next call.
 */
export function lambdaInvoke(budget: CallBudget = AWS_API_BUDGET): LambdaInvoke {
  let loading:
    | Promise<{
        client: import('@aws-sdk/client-lambda').LambdaClient;
        sdk: typeof import('@aws-sdk/client-lambda');
      }>
    | undefined;
  return async (input, abortSignal) => {
    loading ??= import('@aws-sdk/client-lambda').then((sdk) => ({
      sdk,
      client: new sdk.LambdaClient(clientOptions(budget)),
    }));
    const { client, sdk } = await loading.catch((error: unknown) => {
      loading = undefined;
      throw error;
    });
    return client.send(new sdk.InvokeCommand(input), { abortSignal });
  };
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
      client: new sdk.EC2Client(clientOptions(AWS_API_BUDGET)),
    }));
    const { client, sdk } = await loading;
    const { Reservations } = await client.send(
      new sdk.DescribeInstancesCommand({ InstanceIds: [instanceId] }),
    );
    return Reservations?.[0]?.Instances?.[0]?.PrivateIpAddress;
  };
}
