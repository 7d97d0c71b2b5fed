import type { ShardInvocation, ShardInvoker } from '../../domain/probe-fanout.ts';
import type { ShardRef } from '../../domain/shards.ts';
import type { LambdaInvoke } from '../aws-clients.ts';

/**
 * The environment variable naming the probe shard function to the coordinator: set by the CDK
 * construct that grants the coordinator `lambda:InvokeFunction` on that function, read by the
 * composition root. Unset (local mode, a stack without shards): the coordinator probes every
 * endpoint itself, whatever the fleet's size.
 */
export const PROBE_SHARD_FUNCTION_ENV = 'PROBE_SHARD_FUNCTION_NAME';

/** The deadline of one start, retries included: a minute's fan-out must not wait on one shard. */
export const DEFAULT_INVOKE_DEADLINE_MS = 3_000;

const utf8 = new TextEncoder();

/**
 * Starts probe shards with Lambda's asynchronous invocation (`InvocationType: 'Event'`): Lambda
 * queues the event and answers 202 at once; the shard runs for its minute on its own. Each start
 * has a deadline (the client's timeouts per attempt, and this overall one).
 */
export class LambdaShardInvoker implements ShardInvoker {
  constructor(
    private readonly send: LambdaInvoke,
    private readonly functionName: string,
    private readonly deadlineMs = DEFAULT_INVOKE_DEADLINE_MS,
  ) {}

  async invoke(shard: ShardRef, scheduledTime: string): Promise<void> {
    const invocation: ShardInvocation = { shard, scheduledTime };
    const { StatusCode } = await this.send(
      {
        FunctionName: this.functionName,
        InvocationType: 'Event',
        Payload: utf8.encode(JSON.stringify(invocation)),
      },
      AbortSignal.timeout(this.deadlineMs),
    );
    if (StatusCode !== 202) {
      throw new Error(
        `Invoke ${this.functionName} (shard ${shard.index}/${shard.count}) answered ${StatusCode}, expected 202`,
      );
    }
  }
}
