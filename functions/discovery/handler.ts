import { healthPolicy } from '../registry/health.ts';
import { RegistryStore } from '../registry/registry-store.ts';
import { createDynamoDbClient } from '../shared/aws-clients.ts';
import { loadConfig } from '../shared/config.ts';
import { createDiscoveryHandler } from './discovery-handler.ts';

// Cold start: configuration checked and clients created once per container.
const config = loadConfig();

/** Lambda entry point (API Gateway REST API, Lambda proxy). */
export const handler = createDiscoveryHandler({
  store: new RegistryStore(createDynamoDbClient(), config.tableName),
  now: Date.now,
  policy: healthPolicy(config),
});
