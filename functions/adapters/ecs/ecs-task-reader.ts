import {
  DescribeTasksCommand,
  type ECSClient,
  paginateListClusters,
  paginateListTasks,
  type Task,
} from '@aws-sdk/client-ecs';
import { parseTaskDetail, type TaskDetail } from '../../domain/ecs-task-event.ts';
import { asError } from '../../domain/errors.ts';
import type { EcsTaskReader } from '../../domain/ports.ts';

/** A `DescribeTasks` task as the detail of a task event (timestamps aside, the same shape). */
export function taskAsDetail(task: Task): TaskDetail {
  return parseTaskDetail({
    taskArn: task.taskArn,
    clusterArn: task.clusterArn,
    version: task.version,
    lastStatus: task.lastStatus,
    desiredStatus: task.desiredStatus,
    taskDefinitionArn: task.taskDefinitionArn,
    availabilityZone: task.availabilityZone,
    launchType: task.launchType,
    containerInstanceArn: task.containerInstanceArn,
    attachments: task.attachments?.map((a) => ({
      type: a.type,
      status: a.status,
      details: a.details?.map((d) => ({ name: d.name ?? '', value: d.value })),
    })),
    containers: (task.containers ?? []).map((c) => ({
      name: c.name,
      image: c.image,
      lastStatus: c.lastStatus,
      networkInterfaces: c.networkInterfaces?.map((n) => ({ privateIpv4Address: n.privateIpv4Address })),
      networkBindings: c.networkBindings?.map((b) => ({
        bindIP: b.bindIP,
        containerPort: b.containerPort,
        hostPort: b.hostPort,
        protocol: b.protocol,
      })),
    })),
    overrides: {
      containerOverrides: task.overrides?.containerOverrides?.map((o) => ({
        name: o.name ?? '',
        environment: o.environment?.map((e) => ({ name: e.name ?? '', value: e.value })),
      })),
    },
  });
}

/** The ECS reads of reconciliation, through the ECS API. */
export class AwsEcsTaskReader implements EcsTaskReader {
  constructor(private readonly ecs: ECSClient) {}

  async listClusters(): Promise<string[]> {
    const clusters: string[] = [];
    for await (const page of paginateListClusters({ client: this.ecs }, {}))
      clusters.push(...(page.clusterArns ?? []));
    return clusters;
  }

  async listRunningTaskArns(clusterArn: string): Promise<string[]> {
    const arns: string[] = [];
    const pages = paginateListTasks(
      { client: this.ecs, pageSize: 100 },
      { cluster: clusterArn, desiredStatus: 'RUNNING' },
    );
    for await (const page of pages) arns.push(...(page.taskArns ?? []));
    return arns;
  }

  async describeTasks(clusterArn: string, taskArns: readonly string[]) {
    const { tasks = [], failures = [] } = await this.ecs.send(
      new DescribeTasksCommand({ cluster: clusterArn, tasks: [...taskArns] }),
    );
    const missing = failures
      .filter((f) => f.reason === 'MISSING' && f.arn !== undefined)
      .map((f) => f.arn as string);
    const details: TaskDetail[] = [];
    const invalid: string[] = [];
    for (const task of tasks) {
      try {
        details.push(taskAsDetail(task));
      } catch (error) {
        invalid.push(`${task.taskArn}: ${asError(error).message}`);
      }
    }
    return { tasks: details, missing, invalid };
  }
}
