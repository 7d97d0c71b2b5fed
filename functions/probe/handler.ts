import { createRegistry } from '../shared/registry.ts';
import { createProbeHandler } from './probe-handler.ts';

const registry = createRegistry();

/** Lambda entry point: the registry is built once per container, at cold start. */
export const handler = createProbeHandler(registry.probe, registry.config.probeIntervalSeconds);
