import { createRegistry } from '../shared/registry.ts';
import { createDiscoveryHandler } from './discovery-handler.ts';

/** Lambda entry point: the registry is built once per container, at cold start. */
export const handler = createDiscoveryHandler(createRegistry().discovery);
