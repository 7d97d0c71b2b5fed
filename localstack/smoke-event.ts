/**
 * Synthetic "ECS Task State Change" events for the smoke run. LocalStack's free edition has no ECS,
 * so the run injects what ECS would send for an awsvpc (Fargate-style) task: the container's IP on
 * the Docker network plays the ENI private IP, and the model comes from a container environment
 * override (`MODEL_NAME`), so the event alone is enough (ECS lookups answer 501 there).
 * Shapes: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_task_events.html.
 */

import { ECS_EVENT_SOURCE, ECS_TASK_STATE_CHANGE } from '../functions/domain/ecs-task-event.ts';
import { ECS_CLUSTER_ARN } from '../functions/domain/names.ts';

export interface SmokeTask {
  readonly clusterArn: string;
  /** 32 hex digits, as ECS task ids are. */
  readonly taskId: string;
  /** The TF Serving container's IP address on the LocalStack Docker network. */
  readonly ip: string;
  readonly model: string;
  /** @default 'tfserving' (a default TFSERVING_CONTAINER_NAMES name) */
  readonly containerName?: string;
  /** @default 'tensorflow/serving' */
  readonly image?: string;
  /** @default 'us-east-1a' */
  readonly availabilityZone?: string;
}

export type TaskPhase = 'RUNNING' | 'STOPPED';

/** One entry of an EventBridge PutEvents request. */
export interface PutEventsEntry {
  readonly Source: string;
  readonly DetailType: string;
  readonly Detail: string;
  readonly Resources: readonly string[];
  readonly Time: string;
  readonly EventBusName: string;
}

const TASK_ID = /^[0-9a-f]{32}$/;

interface ClusterParts {
  readonly region: string;
  readonly account: string;
  readonly name: string;
}

function clusterParts(clusterArn: string): ClusterParts {
  if (!ECS_CLUSTER_ARN.test(clusterArn))
    throw new Error(`clusterArn ${JSON.stringify(clusterArn)} is not an ECS cluster ARN`);
  // arn:<partition>:ecs:<region>:<account>:cluster/<name>
  const [, , , region, account, resource] = clusterArn.split(':') as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  return { region, account, name: resource.slice('cluster/'.length) };
}

export function taskArnOf(task: Pick<SmokeTask, 'clusterArn' | 'taskId'>): string {
  const { region, account, name } = clusterParts(task.clusterArn);
  return `arn:aws:ecs:${region}:${account}:task/${name}/${task.taskId}`;
}

/** A fresh task id (ECS ids are 32 lower-case hex digits). */
export function newTaskId(random: () => number = Math.random): string {
  return Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16)).join('');
}

/**
 * The `detail` ECS sends for the task in `phase`: RUNNING (version 3, ENI attached) or STOPPED
 * (version 6, ENI deleted). The versions only have to increase between the two.
 */
export function taskDetail(task: SmokeTask, phase: TaskPhase, at: Date): Record<string, unknown> {
  if (!TASK_ID.test(task.taskId))
    throw new Error(`taskId ${JSON.stringify(task.taskId)} is not 32 hex digits`);
  const { region, account } = clusterParts(task.clusterArn);
  const taskArn = taskArnOf(task);
  const containerName = task.containerName ?? 'tfserving';
  const time = at.toISOString();
  const running = phase === 'RUNNING';
  const attachmentId = `${task.taskId.slice(0, 8)}-0000-4000-8000-${task.taskId.slice(8, 20)}`;
  return {
    attachments: [
      {
        id: attachmentId,
        type: 'eni',
        status: running ? 'ATTACHED' : 'DELETED',
        details: [
          { name: 'subnetId', value: 'subnet-0000000000000000a' },
          { name: 'networkInterfaceId', value: 'eni-0000000000000000a' },
          { name: 'privateIPv4Address', value: task.ip },
        ],
      },
    ],
    availabilityZone: task.availabilityZone ?? `${region}a`,
    clusterArn: task.clusterArn,
    connectivity: 'CONNECTED',
    containers: [
      {
        containerArn: `arn:aws:ecs:${region}:${account}:container/${taskArn.split('/')[1]}/${task.taskId}/${attachmentId}`,
        name: containerName,
        image: task.image ?? 'tensorflow/serving',
        lastStatus: running ? 'RUNNING' : 'STOPPED',
        taskArn,
        networkInterfaces: [{ attachmentId, privateIpv4Address: task.ip }],
        ...(running ? {} : { exitCode: 0 }),
      },
    ],
    cpu: '1024',
    memory: '2048',
    createdAt: time,
    desiredStatus: running ? 'RUNNING' : 'STOPPED',
    group: 'family:tfserving-smoke',
    lastStatus: phase,
    launchType: 'FARGATE',
    overrides: {
      containerOverrides: [{ name: containerName, environment: [{ name: 'MODEL_NAME', value: task.model }] }],
    },
    startedAt: time,
    ...(running
      ? {}
      : {
          stoppingAt: time,
          stoppedAt: time,
          stopCode: 'UserInitiated',
          stoppedReason: 'smoke run finished',
        }),
    taskArn,
    taskDefinitionArn: `arn:aws:ecs:${region}:${account}:task-definition/tfserving-smoke:1`,
    updatedAt: time,
    version: running ? 3 : 6,
  };
}

/** The PutEvents entry that makes EventBridge deliver the task's state change to the rule. */
export function taskStateChangeEntry(task: SmokeTask, phase: TaskPhase, at: Date): PutEventsEntry {
  return {
    Source: ECS_EVENT_SOURCE,
    DetailType: ECS_TASK_STATE_CHANGE,
    Detail: JSON.stringify(taskDetail(task, phase, at)),
    Resources: [taskArnOf(task)],
    Time: at.toISOString(),
    EventBusName: 'default',
  };
}

/** The event as EventBridge hands it to a Lambda target, for checking an entry against the handler's parser. */
export function deliveredEvent(entry: PutEventsEntry, id: string, account: string, region: string) {
  return {
    version: '0',
    id,
    'detail-type': entry.DetailType,
    source: entry.Source,
    account,
    time: entry.Time.replace(/\.\d{3}Z$/, 'Z'),
    region,
    resources: [...entry.Resources],
    detail: JSON.parse(entry.Detail) as unknown,
  };
}
