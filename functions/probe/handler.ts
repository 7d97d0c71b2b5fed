import { loadConfig } from '../shared/config.ts';
import { createStore, probeDeps } from '../shared/registry.ts';
import { createProbeHandler } from './probe-handler.ts';

// Cold start: configuration checked and clients created once per container.
const config = loadConfig();

/** Lambda entry point (EventBridge rule, once a minute). */
export const handler = createProbeHandler(
  probeDeps(config, createStore(config, 'probe')),
  config.probeIntervalSeconds,
);
