import { fileURLToPath } from 'node:url';
import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import { Construct } from 'constructs';
import { AppFunction, type AppFunctionNetwork } from './app-function.ts';

/** A scheduled round's trigger, and how long a trigger stays worth delivering. */
const PERIOD = Duration.minutes(1);

/** The jobs that run once a minute: what each function is, and the timeouts its round admits. */
const JOBS = {
  probe: {
    entry: '../../../functions/probe/handler.ts',
    description:
      'Probes every registered TF Serving endpoint every PROBE_INTERVAL_SECONDS for about a minute, or starts probe shards for a larger fleet',
    ruleDescription: 'Starts a probe round every minute',
    // The function's loop ends before the next trigger, so rounds never overlap; the timeout
    // only has to cover that minute plus a last probe.
    timeoutSeconds: { default: 70, min: 60 },
  },
  reconcile: {
    entry: '../../../functions/reconcile/handler.ts',
    description:
      "Applies ECS's running tasks to the TF Serving registry once a minute, healing missed events",
    ruleDescription: 'Starts a reconcile round every minute',
    // A round lists and describes the clusters' tasks and applies what changed; a longer round
    // overlaps the next one, which is harmless: writes are forward-only.
    timeoutSeconds: { default: 60, min: 10 },
  },
} as const;

export type ScheduledJobName = keyof typeof JOBS;

export interface ScheduledJobProps {
  readonly job: ScheduledJobName;
  /** The settings every function reads. */
  readonly environment: Readonly<Record<string, string>>;
  /**
   * Where the function runs; both jobs probe endpoints, so they must reach the tasks' private IPs.
   * @default - not in a VPC
   */
  readonly network?: AppFunctionNetwork;
  /**
   * @default - 70 s for the probe (60–900 s), 60 s for the reconciler (10–900 s)
   */
  readonly timeout?: Duration;
  /**
   * @default - the job's size in FUNCTION_MEMORY_MB
   */
  readonly memorySize?: number;
}

/**
 * A function started once a minute by an EventBridge rule `rate(1 minute)` on the default bus (a
 * plain rule, not EventBridge Scheduler, which LocalStack's free edition never fires): the probe,
 * whose loop probes every endpoint every PROBE_INTERVAL_SECONDS until just before the next
 * trigger, and the reconciler, which applies ECS's view of the clusters' tasks as an event would.
 * Rounds are idempotent: a late, early or doubled trigger is harmless, so no reserved concurrency
 * is needed, and a failed or stale round is retried neither by EventBridge nor by Lambda's async
 * queue (the next one is a minute away).
 */
export class ScheduledJob extends Construct {
  readonly appFunction: AppFunction;
  readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: ScheduledJobProps) {
    super(scope, id);
    const job = JOBS[props.job];
    const timeout = props.timeout ?? Duration.seconds(job.timeoutSeconds.default);
    const { min } = job.timeoutSeconds;
    if (timeout.toSeconds() < min || timeout.toSeconds() > 900) {
      throw new Error(
        `ScheduledJob ${props.job} timeout=${timeout.toSeconds()}s is invalid: a round runs once a minute, so use ${min}–900 s (default ${job.timeoutSeconds.default} s).`,
      );
    }
    this.appFunction = new AppFunction(this, 'Function', {
      entry: fileURLToPath(new URL(job.entry, import.meta.url)),
      name: props.job,
      description: job.description,
      timeout,
      memorySize: props.memorySize,
      environment: props.environment,
      network: props.network,
      callsTfServing: true,
    });
    const fn = this.appFunction.function;
    fn.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: PERIOD });
    this.rule = new events.Rule(this, 'Rule', {
      description: job.ruleDescription,
      schedule: events.Schedule.rate(PERIOD),
      targets: [new targets.LambdaFunction(fn, { retryAttempts: 0, maxEventAge: PERIOD })],
    });
  }
}
