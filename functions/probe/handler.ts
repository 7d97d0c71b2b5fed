import { createProbeHandler } from '../adapters/edges/scheduled-probe.ts';
import {
  createStore,
  loadFunctionConfig,
  probeDeps,
  probeShare,
  shardInvokerFrom,
} from '../composition/registry.ts';

// Cold start: configuration checked and clients created once per container.
const config = loadFunctionConfig();
const probe = probeDeps(config, createStore(config, 'probe'));

/** Lambda entry point (EventBridge rule, once a minute): probes the fleet, or starts its shards. */
export const handler = createProbeHandler(
  { probe, invoker: shardInvokerFrom(), share: probeShare(config, probe) },
  config.probeIntervalSeconds,
);
