import { createProbeHandler } from '../adapters/edges/scheduled-probe.ts';
import {
  createStore,
  fleetJudgementDeps,
  loadFunctionConfig,
  probeDeps,
  probeShare,
  shardInvokerFrom,
} from '../composition/registry.ts';

// Cold start: configuration checked and clients created once per container.
const config = loadFunctionConfig();
const store = createStore(config, 'probe');
const probe = probeDeps(config, store);

/** Lambda entry point (EventBridge rule, once a minute): probes the fleet, or starts its shards. */
export const handler = createProbeHandler(
  {
    probe,
    fleet: fleetJudgementDeps(config, store),
    invoker: shardInvokerFrom(),
    share: probeShare(config, probe),
  },
  config.probeIntervalSeconds,
);
