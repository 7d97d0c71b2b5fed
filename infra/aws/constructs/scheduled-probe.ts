import { fileURLToPath } from 'node:url';
import { Duration } from 'aws-cdk-lib';
import type * as events from 'aws-cdk-lib/aws-events';
import { Construct } from 'constructs';
import { AppFunction, type AppFunctionNetwork } from './app-function.ts';
import { runEveryMinute } from './every-minute.ts';

const ENTRY = fileURLToPath(new URL('../../../functions/probe/handler.ts', import.meta.url));

export interface ScheduledProbeProps {
  /** The settings every function reads (the loop runs every PROBE_INTERVAL_SECONDS). */
  readonly environment: Readonly<Record<string, string>>;
  /**
   * Where the function runs; it must reach the tasks' private IPs.
   * @default - not in a VPC
   */
  readonly network?: AppFunctionNetwork;
  /**
   * The function's round ends before the next trigger (one minute), so rounds never overlap;
   * the timeout only has to cover that round plus a last probe.
   * @default Duration.seconds(70)
   */
  readonly timeout?: Duration;
  /**
   * @default 512
   */
  readonly memorySize?: number;
}

/**
 * The probe: an EventBridge rule `rate(1 minute)` (a plain rule, not EventBridge Scheduler, which
 * LocalStack's free edition never fires) starting the probe function, whose loop probes every
 * endpoint every PROBE_INTERVAL_SECONDS until just before the next trigger. A late, early or
 * doubled trigger is harmless: each round is idempotent, so no reserved concurrency is needed,
 * and a failed or stale round is not retried (the next one is a minute away).
 */
export class ScheduledProbe extends Construct {
  readonly appFunction: AppFunction;
  readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: ScheduledProbeProps) {
    super(scope, id);
    const timeout = props.timeout ?? Duration.seconds(70);
    if (timeout.toSeconds() < 60 || timeout.toSeconds() > 900) {
      throw new Error(
        `ScheduledProbe timeout=${timeout.toSeconds()}s is invalid: the round lasts about one minute, so use 60–900 s (default 70 s).`,
      );
    }
    this.appFunction = new AppFunction(this, 'Function', {
      entry: ENTRY,
      name: 'probe',
      description:
        'Probes every registered TF Serving endpoint every PROBE_INTERVAL_SECONDS for about a minute',
      timeout,
      memorySize: props.memorySize ?? 512,
      environment: props.environment,
      network: props.network,
    });
    this.rule = runEveryMinute(this, this.appFunction.function, 'Starts a probe round every minute');
  }
}
