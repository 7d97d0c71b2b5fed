import { isLoopback } from '../../functions/adapters/tfserving/tfserving-client.ts';
import { ECS_EVENT_SOURCE, ECS_TASK_STATE_CHANGE } from '../../functions/domain/ecs-task-event.ts';

/**
 * ECS "Task State Change" events (awsvpc, as EventBridge delivers them) for tasks on loopback
 * hosts. Refuses any other address: benchmarks and fault tests never register a non-loopback endpoint.
 */

export type BenchLifecycle = 'RUNNING' | 'DRAINING';

export interface BenchTask {
  /** Unique within a run: becomes the 32-hex task id. */
  readonly index: number;
  /** Distinguishes runs sharing a registry (a few letters). */
  readonly runId: string;
  readonly host: string;
  readonly models: readonly string[];
  readonly labels?: readonly string[];
  /** @default 'us-east-1a' */
  readonly availabilityZone?: string;
}

export function taskId(task: Pick<BenchTask, 'index' | 'runId'>): string {
  const run = Buffer.from(task.runId).toString('hex').padEnd(8, '0').slice(0, 8);
  return run + task.index.toString(16).padStart(24, '0');
}

export function taskEvent(task: BenchTask, lifecycle: BenchLifecycle) {
  if (!isLoopback(task.host)) throw new Error(`refusing a non-loopback task address: ${task.host}`);
  const id = taskId(task);
  const taskArn = `arn:aws:ecs:us-east-1:123456789012:task/bench/${id}`;
  const environment = [{ name: 'TFSERVING_MODELS', value: task.models.join(',') }];
  if (task.labels?.length) environment.push({ name: 'TFSERVING_LABELS', value: task.labels.join(',') });
  return {
    version: '0',
    id: `${id}-${lifecycle}`,
    'detail-type': ECS_TASK_STATE_CHANGE,
    source: ECS_EVENT_SOURCE,
    account: '123456789012',
    time: new Date().toISOString(),
    region: 'us-east-1',
    resources: [taskArn],
    detail: {
      clusterArn: 'arn:aws:ecs:us-east-1:123456789012:cluster/bench',
      taskArn,
      taskDefinitionArn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/bench-tfs:1',
      launchType: 'FARGATE',
      availabilityZone: task.availabilityZone ?? 'us-east-1a',
      version: lifecycle === 'RUNNING' ? 3 : 4,
      lastStatus: 'RUNNING',
      desiredStatus: lifecycle === 'RUNNING' ? 'RUNNING' : 'STOPPED',
      containers: [
        {
          name: 'tfserving',
          image: 'tensorflow/serving:2.15.0',
          lastStatus: 'RUNNING',
          networkInterfaces: [{ attachmentId: 'bench', privateIpv4Address: task.host }],
        },
      ],
      overrides: { containerOverrides: [{ name: 'tfserving', environment }] },
    },
  };
}

/** The i-th loopback host of a block: 127.<block>.<i / 250>.<i % 250 + 1> (block 2–254). */
export function loopbackHost(block: number, i: number): string {
  if (!Number.isInteger(block) || block < 2 || block > 254) throw new RangeError(`bad block ${block}`);
  const third = Math.floor(i / 250);
  if (third > 255) throw new RangeError(`host index ${i} too large for one block`);
  return `127.${block}.${third}.${(i % 250) + 1}`;
}
