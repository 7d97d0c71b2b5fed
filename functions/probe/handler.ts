import { RegistryStore } from '../registry/registry-store.ts';
import { createDynamoDbClient } from '../shared/aws-clients.ts';
import { loadConfig } from '../shared/config.ts';
import { probeDeps } from '../shared/registry.ts';
import { createProbeHandler } from './probe-handler.ts';

// Cold start: configuration checked and clients created once per container.
const config = loadConfig();

/** Lambda entry point (EventBridge rule, once a minute). */
export const handler = createProbeHandler(
  probeDeps(config, new RegistryStore(createDynamoDbClient(), config.tableName)),
  config.probeIntervalSeconds,
);
