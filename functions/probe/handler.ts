import { createProbeHandler } from '../adapters/edges/scheduled-probe.ts';
import { createStore, loadFunctionConfig, probeDeps } from '../composition/registry.ts';

// Cold start: configuration checked and clients created once per container.
const config = loadFunctionConfig();

/** Lambda entry point (EventBridge rule, once a minute). */
export const handler = createProbeHandler(
  probeDeps(config, createStore(config, 'probe')),
  config.probeIntervalSeconds,
);
