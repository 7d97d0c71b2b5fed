import { createProbeHandler } from '../adapters/edges/scheduled-probe.ts';
import { createStore, probeDeps } from '../composition/registry.ts';
import { loadConfig } from '../domain/settings.ts';

// Cold start: configuration checked and clients created once per container.
const config = loadConfig();

/** Lambda entry point (EventBridge rule, once a minute). */
export const handler = createProbeHandler(
  probeDeps(config, createStore(config, 'probe')),
  config.probeIntervalSeconds,
);
