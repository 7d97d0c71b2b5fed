import { createDiscoveryHandler } from '../adapters/edges/discovery-api.ts';
import { createStore, discoveryDeps, loadFunctionConfig } from '../composition/registry.ts';

// Cold start: configuration checked and clients created once per container.
const config = loadFunctionConfig();

/** Lambda entry point (API Gateway REST API, Lambda proxy). */
export const handler = createDiscoveryHandler(discoveryDeps(config, createStore(config, 'discovery')));
