import { createProbeShardHandler } from '../adapters/edges/scheduled-probe.ts';
import { createStore, loadFunctionConfig, probeDeps } from '../composition/registry.ts';

// Cold start: configuration checked and clients created once per container.
const config = loadFunctionConfig();

/** Lambda entry point (started asynchronously by the probe coordinator with `{ shard, scheduledTime }`). */
export const handler = createProbeShardHandler(
  probeDeps(config, createStore(config, 'probe')),
  config.probeIntervalSeconds,
);
