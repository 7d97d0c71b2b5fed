import { AwsEcsLookups, AwsEcsTaskReader } from '../registry/ecs-lookups.ts';
import { applyTaskEvent } from '../registry/task-events.ts';
import { createEcsClient, ec2PrivateIpLookup } from '../shared/aws-clients.ts';
import { loadConfig } from '../shared/config.ts';
import { logger } from '../shared/observability.ts';
import { createStore, probeDeps, taskEventDeps } from '../shared/registry.ts';
import { createReconcileHandler } from './reconcile-handler.ts';

// Cold start: configuration checked and clients created once per container.
const config = loadConfig();
const store = createStore(config, 'taskEvents');
const ecs = createEcsClient();
const taskEvents = taskEventDeps(
  config,
  store,
  probeDeps(config, store),
  new AwsEcsLookups(ecs, ec2PrivateIpLookup(), logger),
);

/** Lambda entry point (EventBridge rule, once a minute). */
export const handler = createReconcileHandler({
  ecs: new AwsEcsTaskReader(ecs),
  store,
  apply: (detail) => applyTaskEvent(detail, taskEvents),
  clusterArns: config.clusterArns,
  log: logger,
});
