import { z } from 'zod';
import { InvalidEventError } from '../shared/errors.ts';

/**
 * The parts of an EventBridge "ECS Task State Change" event the registry uses. Unknown fields are
 * tolerated (AWS adds fields at any time); the fields used are checked strictly.
 * Shapes: `shared/reference/ecs-task-events.md` §A.
 */

const NameValue = z.object({ name: z.string(), value: z.string().optional() });

const Container = z.object({
  name: z.string().min(1),
  image: z.string().optional(),
  lastStatus: z.string().optional(),
  networkInterfaces: z.array(z.object({ privateIpv4Address: z.string().optional() })).optional(),
  networkBindings: z
    .array(
      z.object({
        bindIP: z.string().optional(),
        containerPort: z.number().int().optional(),
        hostPort: z.number().int().optional(),
        protocol: z.string().optional(),
      }),
    )
    .optional(),
});

const Attachment = z.object({
  type: z.string().optional(),
  status: z.string().optional(),
  details: z.array(NameValue).optional(),
});

const TaskDetail = z.object({
  taskArn: z.string().regex(/^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task\/\S+$/, 'must be an ECS task ARN'),
  clusterArn: z
    .string()
    .regex(/^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:cluster\/\S+$/, 'must be an ECS cluster ARN'),
  version: z.number().int().nonnegative(),
  lastStatus: z.string().min(1),
  desiredStatus: z.string().min(1),
  taskDefinitionArn: z.string().optional(),
  availabilityZone: z.string().optional(),
  launchType: z.string().optional(),
  containerInstanceArn: z.string().optional(),
  updatedAt: z.string().optional(),
  attachments: z.array(Attachment).optional(),
  containers: z.array(Container).default([]),
  overrides: z
    .object({
      containerOverrides: z
        .array(z.object({ name: z.string(), environment: z.array(NameValue).optional() }))
        .optional(),
    })
    .optional(),
});

const Envelope = z.object({
  'detail-type': z.string(),
  source: z.string(),
  id: z.string().optional(),
  time: z.string().optional(),
  detail: z.unknown(),
});

export const ECS_TASK_STATE_CHANGE = 'ECS Task State Change';

export type TaskDetail = z.infer<typeof TaskDetail>;
export type TaskContainer = z.infer<typeof Container>;

/** What one incoming event is: an ECS task state change to apply, or something to ignore. */
export type ParsedEvent =
  | { readonly kind: 'task'; readonly id: string | undefined; readonly detail: TaskDetail }
  | { readonly kind: 'ignored'; readonly detailType: string; readonly source: string };

function describeIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
}

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
  if (source !== 'aws.ecs' || detailType !== ECS_TASK_STATE_CHANGE) {
    return { kind: 'ignored', detailType, source };
  }
  const detail = TaskDetail.safeParse(envelope.data.detail);
  if (!detail.success) {
    throw new InvalidEventError(
      'invalid ECS Task State Change',
      describeIssues(detail.error).map((i) => `detail.${i}`),
    );
  }
  return { kind: 'task', id: envelope.data.id, detail: detail.data };
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

/**
 * Where a task is in its life, as the registry sees it. Ranked so that state only moves forward:
 * a stopping or stopped task never comes back, whatever arrives late.
 */
export type Lifecycle = 'PENDING' | 'RUNNING' | 'STOPPING' | 'STOPPED';
export const LIFECYCLE_RANK: Readonly<Record<Lifecycle, number>> = {
  PENDING: 0,
  RUNNING: 1,
  STOPPING: 2,
  STOPPED: 3,
};

const STOPPING_STATUSES = new Set(['DEACTIVATING', 'STOPPING', 'DEPROVISIONING']);

export function lifecycleOf(detail: Pick<TaskDetail, 'lastStatus' | 'desiredStatus'>): Lifecycle {
  if (detail.lastStatus === 'STOPPED') return 'STOPPED';
  // desiredStatus STOPPED while still RUNNING is the drain signal: the first event of a stop.
  if (detail.desiredStatus === 'STOPPED' || STOPPING_STATUSES.has(detail.lastStatus)) return 'STOPPING';
  if (detail.lastStatus === 'RUNNING') return 'RUNNING';
  return 'PENDING';
}
