import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';

const ignore = (): void => undefined;

/**
 * A Lambda context for invoking the real handlers in-process (local mode, tests, benchmarks).
 * A class, not an object literal with closures: local mode makes one per request, and each
 * closure created per call costs more than the rest of the context (tsx names every function it
 * creates).
 */
class LocalContext implements Context {
  readonly callbackWaitsForEmptyEventLoop = false;
  readonly functionVersion = '$LATEST';
  readonly memoryLimitInMB = '256';
  readonly logStreamName = 'local';
  readonly awsRequestId = randomUUID();
  readonly invokedFunctionArn: string;
  readonly logGroupName: string;
  readonly done = ignore;
  readonly fail = ignore;
  readonly succeed = ignore;
  private readonly startedAt = Date.now();

  constructor(
    readonly functionName: string,
    private readonly timeoutMs: number,
  ) {
    this.invokedFunctionArn = `arn:aws:lambda:local:000000000000:function:${functionName}`;
    this.logGroupName = `/local/${functionName}`;
  }

  getRemainingTimeInMillis(): number {
    return Math.max(0, this.timeoutMs - (Date.now() - this.startedAt));
  }
}

export function localContext(functionName: string, timeoutMs = 60_000): Context {
  return new LocalContext(functionName, timeoutMs);
}
