import * as z from 'zod/mini';
import { InvalidEventError } from './errors.ts';
import { ECS_CLUSTER_ARN, ECS_TASK_ARN } from './names.ts';
import { describeIssues } from './zod.ts';

/**
 * The parts of an EventBridge "ECS Task State Change" event the registry uses. Unknown fields are
 * tolerated (AWS adds fields at any time); the fields used are checked strictly.
 * Shapes: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_task_events.html.
 */

const NameValue = z.object({ name: z.string(), value: z.optional(z.string()) });

const Container = z.object({
  name: z.string().check(z.minLength(1)),
  image: z.optional(z.string()),
  lastStatus: z.optional(z.string()),
  networkInterfaces: z.optional(z.array(z.object({ privateIpv4Address: z.optional(z.string()) }))),
  networkBindings: z.optional(
    z.array(
      z.object({
        bindIP: z.optional(z.string()),
        containerPort: z.optional(z.int()),
        hostPort: z.optional(z.int()),
        protocol: z.optional(z.string()),
      }),
    ),
  ),
});

const Attachment = z.object({
  type: z.optional(z.string()),
  status: z.optional(z.string()),
  details: z.optional(z.array(NameValue)),
});

const TaskDetail = z.object({
  taskArn: z.string().check(z.regex(ECS_TASK_ARN, 'must be an ECS task ARN')),
  clusterArn: z.string().check(z.regex(ECS_CLUSTER_ARN, 'must be an ECS cluster ARN')),
  version: z.int().check(z.nonnegative()),
  lastStatus: z.string().check(z.minLength(1)),
  desiredStatus: z.string().check(z.minLength(1)),
  taskDefinitionArn: z.optional(z.string()),
  availabilityZone: z.optional(z.string()),
  launchType: z.optional(z.string()),
  containerInstanceArn: z.optional(z.string()),
  updatedAt: z.optional(z.string()),
  attachments: z.optional(z.array(Attachment)),
  containers: z._default(z.array(Container), []),
  overrides: z.optional(
    z.object({
      containerOverrides: z.optional(
        z.array(z.object({ name: z.string(), environment: z.optional(z.array(NameValue)) })),
      ),
    }),
  ),
});

const Envelope = z.object({
  'detail-type': z.string(),
  source: z.string(),
  id: z.optional(z.string()),
  time: z.optional(z.string()),
  detail: z.unknown(),
});

/** The EventBridge `source` and `detail-type` of the events the registry applies. */
export const ECS_EVENT_SOURCE = 'aws.ecs';
export const ECS_TASK_STATE_CHANGE = 'ECS Task State Change';

export type TaskDetail = z.infer<typeof TaskDetail>;
export type TaskContainer = z.infer<typeof Container>;

/** What one incoming event is: an ECS task state change to apply, or something to ignore. */
export type ParsedEvent =
  | {
      readonly kind: 'task';
      readonly id: string | undefined;
      /** The envelope's `time`: when EventBridge says the state changed. */
      readonly time: string | undefined;
      readonly detail: TaskDetail;
    }
  | { readonly kind: 'ignored'; readonly detailType: string; readonly source: string };

/**
 * Validates one EventBridge event. Events of other types are `ignored`; a value that is not an
 * EventBridge event, or an ECS task event that fails validation, throws {@link InvalidEventError}.
 */
export function parseEvent(input: unknown): ParsedEvent {
  const envelope = Envelope.safeParse(input);
  if (!envelope.success) {
    throw new InvalidEventError('not an EventBridge event', describeIssues(envelope.error));
  }
  const { source } = envelope.data;
  const detailType = envelope.data['detail-type'];
  if (source !== ECS_EVENT_SOURCE || detailType !== ECS_TASK_STATE_CHANGE) {
    return { kind: 'ignored', detailType, source };
  }
  const detail = TaskDetail.safeParse(envelope.data.detail);
  if (!detail.success) {
    throw new InvalidEventError(
      'invalid ECS Task State Change',
      describeIssues(detail.error).map((i) => `detail.${i}`),
    );
  }
  return { kind: 'task', id: envelope.data.id, time: envelope.data.time, detail: detail.data };
}

/** Validates a batch whole before anything is applied: one bad event rejects the batch. */
export function parseEventBatch(input: unknown): ParsedEvent[] {
  const events = Array.isArray(input) ? input : [input];
  return events.map((event, index) => {
    try {
      return parseEvent(event);
    } catch (error) {
      if (error instanceof InvalidEventError && Array.isArray(input)) {
        throw new InvalidEventError(`event [${index}] is ${error.message}`);
      }
      throw error;
    }
  });
}

/** Validates a task's detail from another source (ECS `DescribeTasks`), with the events' rules. */
export function parseTaskDetail(input: unknown): TaskDetail {
  const detail = TaskDetail.safeParse(input);
  if (!detail.success) throw new InvalidEventError('invalid ECS task', describeIssues(detail.error));
  return detail.data;
}
