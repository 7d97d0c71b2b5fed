import type { DescribeTaskDefinitionCommandOutput } from '@aws-sdk/client-ecs';
import { asTaskDefinition } from '../../../functions/adapters/ecs/ecs-lookups.ts';
import type { ContainerDefinition, TaskDefinition } from '../../../functions/domain/task-endpoints.ts';
import { loadEvent } from './events.ts';

/** The fixtures under `test/fixtures/events/task-definitions/`. */
export type TaskDefinitionFixture = 'tfs-resnet-7' | 'tfs-custom-ports-1';

/** Loads a `DescribeTaskDefinition` output fixture (a fresh copy). */
export function describeTaskDefinitionOutput(
  name: TaskDefinitionFixture,
): DescribeTaskDefinitionCommandOutput {
  return loadEvent<DescribeTaskDefinitionCommandOutput>('task-definitions', name);
}

/** A `DescribeTaskDefinition` output fixture as the ECS lookups hand it to the domain (their own mapping). */
export function taskDefinition(name: TaskDefinitionFixture): TaskDefinition {
  const { taskDefinition: definition } = describeTaskDefinitionOutput(name);
  if (definition === undefined) throw new Error(`fixture ${name} has no taskDefinition`);
  return asTaskDefinition(definition);
}

/** A one-container task definition, for edits the fixtures do not cover. */
export function singleContainerDefinition(
  container: Partial<ContainerDefinition> & { name: string },
): TaskDefinition {
  return {
    containers: [{ environment: {}, dockerLabels: {}, portMappings: [], ...container }],
  };
}
