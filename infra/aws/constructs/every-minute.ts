import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';

/** A scheduled round's trigger, and how long a trigger stays worth delivering. */
const PERIOD = Duration.minutes(1);

/**
 * Starts `fn` once a minute from an EventBridge rule `rate(1 minute)` on the default bus (a plain
 * rule, not EventBridge Scheduler, which LocalStack's free edition never fires), as the rule
 * `Rule` of `scope`. For idempotent rounds: a failed or stale round is not retried, neither by
 * EventBridge nor by Lambda's async queue, since the next one is a minute away.
 */
export function runEveryMinute(scope: Construct, fn: lambda.IFunction, description: string): events.Rule {
  fn.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: PERIOD });
  return new events.Rule(scope, 'Rule', {
    description,
    schedule: events.Schedule.rate(PERIOD),
    targets: [new targets.LambdaFunction(fn, { retryAttempts: 0, maxEventAge: PERIOD })],
  });
}
