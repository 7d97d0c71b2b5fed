import { AwsEcsLookups } from '../registry/ecs-lookups.ts';
import { createEcsClient, ec2PrivateIpLookup } from '../shared/aws-clients.ts';
import { loadConfig } from '../shared/config.ts';
import { logger } from '../shared/observability.ts';
import { createStore, probeDeps, taskEventDeps } from '../shared/registry.ts';
import { createEcsEventsHandler } from './ecs-events-handler.ts';

// Cold start: configuration checked and clients created once per container.
const config = loadConfig();
const store = createStore(config, 'taskEvents');
const lookups = new AwsEcsLookups(createEcsClient(), ec2PrivateIpLookup(), logger);

/** Lambda entry point (EventBridge rule: ECS Task State Change). */
export const handler = createEcsEventsHandler(
  taskEventDeps(config, store, probeDeps(config, store), lookups),
);
