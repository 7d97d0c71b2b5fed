import type { DescribeTaskDefinitionCommandOutput } from '@aws-sdk/client-ecs';
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

/** Converts a `DescribeTaskDefinition` output fixture to the `TaskDefinition` shape `deriveEndpoints` reads. */
export function taskDefinition(name: TaskDefinitionFixture): TaskDefinition {
  const output = describeTaskDefinitionOutput(name);
  return {
    containers: (output.taskDefinition?.containerDefinitions ?? []).map(
      (c): ContainerDefinition => ({
        name: c.name ?? '',
        image: c.image,
        environment: Object.fromEntries((c.environment ?? []).map((e) => [e.name ?? '', e.value ?? ''])),
        dockerLabels: { ...c.dockerLabels },
        portMappings: (c.portMappings ?? []).flatMap((p) =>
          p.containerPort === undefined
            ? []
            : [{ containerPort: p.containerPort, name: p.name, appProtocol: p.appProtocol }],
        ),
      }),
    ),
  };
}

/** A one-container task definition, for edits the fixtures do not cover. */
export function singleContainerDefinition(
  container: Partial<ContainerDefinition> & { name: string },
): TaskDefinition {
  return {
    containers: [{ environment: {}, dockerLabels: {}, portMappings: [], ...container }],
  };
}
