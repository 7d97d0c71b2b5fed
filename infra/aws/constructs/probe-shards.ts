import { fileURLToPath } from 'node:url';
import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { PROBE_SHARD_FUNCTION_ENV } from '../../../functions/adapters/lambda/shard-invoker.ts';
import { AppFunction, type AppFunctionNetwork } from './app-function.ts';

/** How long a shard's start stays worth running: its minute (a later one would overlap the next minute's shards). */
const START_MAX_AGE = Duration.minutes(1);
const DEFAULT_TIMEOUT_SECONDS = 70;

export interface ProbeShardsProps {
  /** The settings every function reads. */
  readonly environment: Readonly<Record<string, string>>;
  /**
   * Where the shards run: like the probe, they must reach the tasks' private IPs.
   * @default - not in a VPC
   */
  readonly network?: AppFunctionNetwork;
  /**
   * A shard probes until just before the minute's next trigger; the timeout covers that minute
   * plus a last probe (60–900 s).
   * @default Duration.seconds(70)
   */
  readonly timeout?: Duration;
  /**
   * @default - FUNCTION_MEMORY_MB['probe-shard']
   */
  readonly memorySize?: number;
}

/**
 * The probe shard function: started asynchronously by the scheduled probe (the coordinator) once
 * a minute per shard when the fleet is larger than one invocation's share, it probes its own
 * endpoints every PROBE_INTERVAL_SECONDS until just before the next trigger
 * (docs/decisions/0021-probe-shards.md). A start is never retried and expires after its minute:
 * a late or doubled shard only adds rounds (writes are ordered by `probedAt`), and the next minute
 * starts the shards again. No reserved concurrency: one invocation per shard per minute, at most
 * 256, and a reservation would take that from the account's pool whether the fleet needs it or not.
 */
export class ProbeShards extends Construct {
  readonly appFunction: AppFunction;

  constructor(scope: Construct, id: string, props: ProbeShardsProps) {
    super(scope, id);
    const timeout = props.timeout ?? Duration.seconds(DEFAULT_TIMEOUT_SECONDS);
    if (timeout.toSeconds() < 60 || timeout.toSeconds() > 900) {
      throw new Error(
        `ProbeShards timeout=${timeout.toSeconds()}s is invalid: a shard probes for a minute, so use 60–900 s (default ${DEFAULT_TIMEOUT_SECONDS} s).`,
      );
    }
    this.appFunction = new AppFunction(this, 'Function', {
      entry: fileURLToPath(new URL('../../../functions/probe-shard/handler.ts', import.meta.url)),
      name: 'probe-shard',
      description:
        'Probes one shard of the registered TF Serving endpoints every PROBE_INTERVAL_SECONDS for about a minute, started by the probe',
      timeout,
      memorySize: props.memorySize,
      environment: props.environment,
      network: props.network,
      callsTfServing: true,
    });
    this.appFunction.function.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: START_MAX_AGE });
  }

  /**
   * Lets `coordinator` start shards: `lambda:InvokeFunction` on this function only (the unqualified
   * ARN: no version or alias), and its name in the coordinator's `PROBE_SHARD_FUNCTION_NAME`, in
   * one place, so configuration and permission cannot drift apart.
   */
  grantStart(coordinator: AppFunction): iam.Grant {
    const fn = this.appFunction.function;
    coordinator.addEnvironment(PROBE_SHARD_FUNCTION_ENV, fn.functionName);
    return iam.Grant.addToPrincipal({
      grantee: coordinator,
      actions: ['lambda:InvokeFunction'],
      resourceArns: [fn.functionArn],
    });
  }
}
