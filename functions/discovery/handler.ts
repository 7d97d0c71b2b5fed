import { loadConfig } from '../shared/config.ts';
import { createStore, discoveryDeps } from '../shared/registry.ts';
import { createDiscoveryHandler } from './discovery-handler.ts';

// Cold start: configuration checked and clients created once per container.
const config = loadConfig();

/** Lambda entry point (API Gateway REST API, Lambda proxy). */
export const handler = createDiscoveryHandler(discoveryDeps(config, createStore(config, 'discovery')));
