import { fileURLToPath } from 'node:url';
import { Duration, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ECS_EVENT_SOURCE, ECS_TASK_STATE_CHANGE } from '../../../functions/domain/ecs-task-event.ts';
import { AppFunction, type AppFunctionNetwork } from './app-function.ts';
import { clusterArnsOf, grantEcsLookups } from './ecs-access.ts';

const ENTRY = fileURLToPath(new URL('../../../functions/ecs-events/handler.ts', import.meta.url));

export interface EcsEventsConsumerProps {
  /**
   * Clusters whose task events are consumed (`detail.clusterArn`).
   * @default - every cluster of the account and Region
   */
  readonly clusterArns?: readonly string[];
  /** The settings every function reads. */
  readonly environment: Readonly<Record<string, string>>;
  /**
   * Where the function runs: it probes a newly RUNNING endpoint at once, so it needs the probe's network.
   * @default - not in a VPC
   */
  readonly network?: AppFunctionNetwork;
  /**
   * Lambda retries of a failed invocation before the event goes to the dead-letter queue.
   * @default 2
   */
  readonly retryAttempts?: number;
  /**
   * Oldest event still worth applying (EventBridge delivery and Lambda's async queue).
   * @default Duration.hours(1)
   */
  readonly maxEventAge?: Duration;
  /**
   * @default Duration.seconds(30)
   */
  readonly timeout?: Duration;
}

/**
 * ECS "Task State Change" events from the default bus into the ecs-events function, with retries
 * and one dead-letter queue for both failure paths: EventBridge could not deliver, or the
 * function failed after its retries (an event that fails validation ends there).
 */
export class EcsEventsConsumer extends Construct {
  readonly appFunction: AppFunction;
  readonly rule: events.Rule;
  readonly deadLetterQueue: sqs.Queue;
  readonly clusterArns: readonly string[];

  constructor(scope: Construct, id: string, props: EcsEventsConsumerProps) {
    super(scope, id);
    this.clusterArns = clusterArnsOf('EcsEventsConsumer', props.clusterArns);
    const retryAttempts = props.retryAttempts ?? 2;
    if (!Number.isInteger(retryAttempts) || retryAttempts < 0 || retryAttempts > 2) {
      throw new Error(
        `EcsEventsConsumer retryAttempts=${retryAttempts} is invalid: Lambda allows 0, 1 or 2.`,
      );
    }
    const maxEventAge = props.maxEventAge ?? Duration.hours(1);

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    const isTheDlq = 'This queue is itself the dead-letter queue of the ECS events consumer.';
    Validations.of(this.deadLetterQueue).acknowledge(
      { id: 'AwsSolutions-SQS3', reason: isTheDlq },
      { id: 'cdk-validator-cfnguard::sqs_dlq_check', reason: isTheDlq },
    );

    this.appFunction = new AppFunction(this, 'Function', {
      entry: ENTRY,
      name: 'ecs-events',
      description:
        'Applies ECS task state changes to the TF Serving registry and probes new endpoints at once',
      timeout: props.timeout ?? Duration.seconds(30),
      environment: props.environment,
      network: props.network,
      callsTfServing: true,
    });
    const fn = this.appFunction.function;
    fn.configureAsyncInvoke({
      retryAttempts,
      maxEventAge,
      onFailure: new destinations.SqsDestination(this.deadLetterQueue),
    });
    // The reads that complete an event: task definitions and bridge-mode container instances.
    grantEcsLookups(this.appFunction, this.clusterArns);

    this.rule = new events.Rule(this, 'Rule', {
      description: 'ECS task state changes of the registry clusters',
      eventPattern: {
        source: [ECS_EVENT_SOURCE],
        detailType: [ECS_TASK_STATE_CHANGE],
        ...(this.clusterArns.length > 0 && { detail: { clusterArn: [...this.clusterArns] } }),
      },
      targets: [
        new targets.LambdaFunction(fn, {
          deadLetterQueue: this.deadLetterQueue,
          retryAttempts: 8,
          maxEventAge,
        }),
      ],
    });
  }
}
