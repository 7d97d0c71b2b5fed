import { createEcsClient, ec2PrivateIpLookup } from '../adapters/aws-clients.ts';
import { AwsEcsLookups } from '../adapters/ecs/ecs-lookups.ts';
import { createEcsEventsHandler } from '../adapters/edges/ecs-events.ts';
import { loggers } from '../adapters/observability.ts';
import { createStore, loadFunctionConfig, probeDeps, taskEventDeps } from '../composition/registry.ts';

// Cold start: configuration checked and clients created once per container.
const config = loadFunctionConfig();
const store = createStore(config, 'taskEvents');
const lookups = new AwsEcsLookups(createEcsClient(), ec2PrivateIpLookup(), loggers['ecs-events']);

/** Lambda entry point (EventBridge rule: ECS Task State Change). */
export const handler = createEcsEventsHandler(
  taskEventDeps(config, store, probeDeps(config, store), lookups),
);
