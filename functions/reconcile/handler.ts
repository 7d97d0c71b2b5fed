import { createEcsClient, ec2PrivateIpLookup } from '../adapters/aws-clients.ts';
import { AwsEcsLookups } from '../adapters/ecs/ecs-lookups.ts';
import { AwsEcsTaskReader } from '../adapters/ecs/ecs-task-reader.ts';
import { createReconcileHandler } from '../adapters/edges/scheduled-reconcile.ts';
import { loggers } from '../adapters/observability.ts';
import { createStore, loadFunctionConfig, probeDeps, taskEventDeps } from '../composition/registry.ts';
import { applyTaskEvent } from '../domain/task-events.ts';

// Cold start: configuration checked and clients created once per container.
const config = loadFunctionConfig();
const store = createStore(config, 'taskEvents');
const ecs = createEcsClient();
const taskEvents = taskEventDeps(
  config,
  store,
  probeDeps(config, store),
  new AwsEcsLookups(ecs, ec2PrivateIpLookup(), loggers.reconcile),
);

/** Lambda entry point (EventBridge rule, once a minute). */
export const handler = createReconcileHandler({
  ecs: new AwsEcsTaskReader(ecs),
  store,
  apply: (detail) => applyTaskEvent(detail, taskEvents),
  clusterArns: config.clusterArns,
  log: loggers.reconcile,
});
