import {
  DescribeContainerInstancesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  type ECSClient,
  paginateListClusters,
  paginateListTasks,
} from '@aws-sdk/client-ecs';
import { asError } from '../../domain/errors.ts';
import type { EcsTaskReader } from '../../domain/reconcile.ts';
import type { ContainerDefinition, TaskDefinition } from '../../domain/task-endpoints.ts';

/**
 * What the ECS and EC2 APIs add to an event: the task definition (environment, Docker labels,
 * port mappings: never in events) and, in bridge mode, the container instance's private IP.
 * Both fail soft: where the API is unavailable (LocalStack's free edition answers 501, a missing
 * grant, a throttle) the event alone is used and the failure is logged.
 */
export interface EcsLookups {
  taskDefinition(arn: string): Promise<TaskDefinition | undefined>;
  containerInstanceHost(clusterArn: string, containerInstanceArn: string): Promise<string | undefined>;
}

export interface LookupLog {
  warn(message: string, attributes: Record<string, unknown>): void;
}

/** Lookups for a runtime that has no ECS API (local mode by default). */
export const eventOnlyLookups = (containerInstanceHost: string | undefined): EcsLookups => ({
  taskDefinition: async () => undefined,
  containerInstanceHost: async () => containerInstanceHost,
});

// A failed lookup is retried after this long, not on every event.
const FAILURE_BACKOFF_MS = 60_000;

/** ECS/EC2 API lookups cached per container (task definition revisions are immutable). */
export class AwsEcsLookups implements EcsLookups {
  private readonly taskDefinitions = new Map<string, Promise<TaskDefinition | undefined>>();
  private readonly failures = new Map<string, number>();
  private readonly hosts = new Map<string, string>();

  constructor(
    private readonly ecs: ECSClient,
    private readonly privateIpOf: (ec2InstanceId: string) => Promise<string | undefined>,
    private readonly log: LookupLog,
    private readonly now: () => number = Date.now,
  ) {}

  taskDefinition(arn: string): Promise<TaskDefinition | undefined> {
    if (this.recentlyFailed(arn)) return Promise.resolve(undefined);
    let cached = this.taskDefinitions.get(arn);
    if (cached === undefined) {
      cached = this.describeTaskDefinition(arn);
      this.taskDefinitions.set(arn, cached);
    }
    return cached;
  }

  async containerInstanceHost(clusterArn: string, containerInstanceArn: string): Promise<string | undefined> {
    const cached = this.hosts.get(containerInstanceArn);
    if (cached !== undefined || this.recentlyFailed(containerInstanceArn)) return cached;
    try {
      const { containerInstances } = await this.ecs.send(
        new DescribeContainerInstancesCommand({
          cluster: clusterArn,
          containerInstances: [containerInstanceArn],
        }),
      );
      const instanceId = containerInstances?.[0]?.ec2InstanceId;
      if (instanceId === undefined) throw new Error('the container instance has no EC2 instance id');
      const host = await this.privateIpOf(instanceId);
      if (host === undefined) throw new Error(`EC2 instance ${instanceId} has no private IP`);
      // Only successes are cached: an instance keeps its private IP for its whole life.
      this.hosts.set(containerInstanceArn, host);
      return host;
    } catch (error) {
      this.fail(
        containerInstanceArn,
        'container instance lookup failed, bridge-mode endpoints skipped',
        error,
      );
      return undefined;
    }
  }

  private async describeTaskDefinition(arn: string): Promise<TaskDefinition | undefined> {
    try {
      const { taskDefinition } = await this.ecs.send(
        new DescribeTaskDefinitionCommand({ taskDefinition: arn }),
      );
      if (taskDefinition === undefined) throw new Error('the answer has no taskDefinition');
      return {
        containers: (taskDefinition.containerDefinitions ?? []).map(
          (c): ContainerDefinition => ({
            name: c.name ?? '',
            image: c.image,
            environment: Object.fromEntries((c.environment ?? []).map((e) => [e.name ?? '', e.value ?? ''])),
            dockerLabels: c.dockerLabels ?? {},
            portMappings: (c.portMappings ?? [])
              .filter((p) => p.containerPort !== undefined)
              .map((p) => ({
                containerPort: p.containerPort as number,
                name: p.name,
                appProtocol: p.appProtocol,
              })),
          }),
        ),
      };
    } catch (error) {
      this.taskDefinitions.delete(arn);
      this.fail(arn, 'task definition lookup failed, using the event alone', error);
      return undefined;
    }
  }

  private recentlyFailed(key: string): boolean {
    const failedAt = this.failures.get(key);
    return failedAt !== undefined && this.now() - failedAt < FAILURE_BACKOFF_MS;
  }

  private fail(key: string, message: string, error: unknown): void {
    this.failures.set(key, this.now());
    const cause = asError(error);
    this.log.warn(message, { resource: key, error: `${cause.name}: ${cause.message}` });
  }
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
    return { tasks, missing };
  }
}
