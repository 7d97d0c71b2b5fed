import pMap from 'p-map';
import {
  finishRound,
  leaseExpiresAt,
  type ProbeDeps,
  probeEndpointModel,
  probeTargets,
  type RoundSummary,
} from '../../functions/registry/probe.ts';
import type { ModelPartition } from '../../functions/registry/registry-store.ts';

/**
 * A bench-only PROTOTYPE (not the registry's code) of the change proposed in the report for the
 * probe round: the same decisions as `runProbeRound`, but the probe keeps the rows it read in
 * memory instead of reading every model partition again each round, and updates them from its own
 * writes (a real implementation would also re-read a partition every few rounds or after a failed
 * conditional write). In the benchmark's steady state only lease renewals change the rows, and
 * those are the prototype's own writes: the prototype measures the round time of such a cache.
 */
export function cachedRowsRound(deps: ProbeDeps) {
  const cache = new Map<
    string,
    { round: ModelPartition['round']; rows: Map<string, ModelPartition['probes'][number]> }
  >();
  return async (): Promise<RoundSummary> => {
    const startedAt = deps.now();
    const targets = probeTargets(await deps.store.listRunningTasks());
    const models = [...new Set(targets.map((t) => t.model))];
    await pMap(
      models.filter((model) => !cache.has(model)),
      async (model) => {
        const partition = await deps.store.readProbeState(model);
        cache.set(model, {
          round: partition.round,
          rows: new Map(partition.probes.map((p) => [p.endpointId, p])),
        });
      },
      { concurrency: 8 },
    );
    const outcomes = await pMap(
      targets,
      async (target) => {
        const known = cache.get(target.model);
        try {
          const row = known?.rows.get(target.endpoint.id);
          const result = await probeEndpointModel(deps, target, { probe: row, round: known?.round });
          // Keep the cache in step with the probe's own writes.
          if (result.written && row !== undefined) {
            const nowSeconds = Math.ceil(deps.now() / 1000);
            known?.rows.set(
              target.endpoint.id,
              result.ok
                ? {
                    ...row,
                    versions: result.versions,
                    lastSuccessAt: deps.now(),
                    consecutiveFailures: 0,
                    expiresAt: leaseExpiresAt(nowSeconds, deps.removeAfterSeconds),
                  }
                : { ...row, consecutiveFailures: row.consecutiveFailures + 1 },
            );
          }
          return { target, result };
        } catch {
          return { target, result: undefined };
        }
      },
      { concurrency: deps.concurrency },
    );
    return finishRound(deps, models, outcomes, startedAt);
  };
}
