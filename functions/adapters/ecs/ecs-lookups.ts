import {
  DescribeContainerInstancesCommand,
  DescribeTaskDefinitionCommand,
  type ECSClient,
  type TaskDefinition as EcsTaskDefinition,
} from '@aws-sdk/client-ecs';
import { asError } from '../../domain/errors.ts';
import type { EcsLookups, WarnLog } from '../../domain/ports.ts';
import type { ContainerDefinition, TaskDefinition } from '../../domain/task-endpoints.ts';

/**
 * The ECS and EC2 lookups that complete an event (`EcsLookups`). Both fail soft: where the API is
 * unavailable (LocalStack's free edition answers 501, a missing grant, a throttle) the event
 * alone is used and the failure is logged.
 */

/** A `DescribeTaskDefinition` answer's task definition as the domain reads it. */
export function asTaskDefinition(taskDefinition: EcsTaskDefinition): TaskDefinition {
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
    private readonly log: WarnLog,
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
      return asTaskDefinition(taskDefinition);
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
