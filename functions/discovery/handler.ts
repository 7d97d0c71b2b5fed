import { createDiscoveryHandler } from '../adapters/edges/discovery-api.ts';
import { createStore, discoveryDeps } from '../composition/registry.ts';
import { loadConfig } from '../domain/settings.ts';

// Cold start: configuration checked and clients created once per container.
const config = loadConfig();

/** Lambda entry point (API Gateway REST API, Lambda proxy). */
export const handler = createDiscoveryHandler(discoveryDeps(config, createStore(config, 'discovery')));
