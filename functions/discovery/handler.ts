import { createDiscoveryHandler } from '../adapters/edges/discovery-api.ts';
import { createStore, discoveryDeps, loadFunctionConfig } from '../composition/registry.ts';

// Cold start: configuration checked and clients created once per container.
const config = loadFunctionConfig();

/** Lambda entry point (API Gateway REST API, or HTTP API with payload format 1.0: Lambda proxy). */
export const handler = createDiscoveryHandler(discoveryDeps(config, createStore(config, 'discovery')));
