import type { ModelRegistration, ProbeRecord, ProbeRound } from './registry-store.ts';

/**
 * The serving rules of the design's Health section. Each holds on its own: with the others set
 * very large, any one of them alone still excludes an endpoint.
 */

export interface HealthPolicy {
  readonly unhealthyAfterSeconds: number;
  readonly failureThreshold: number;
  readonly removeAfterSeconds: number;
}

/** The health policy part of the configuration. */
export function healthPolicy(config: HealthPolicy): HealthPolicy {
  return {
    unhealthyAfterSeconds: config.unhealthyAfterSeconds,
    failureThreshold: config.failureThreshold,
    removeAfterSeconds: config.removeAfterSeconds,
  };
}

export type ExclusionReason =
  | 'not-running'
  | 'never-probed-ok'
  | 'row-expired'
  | 'stale'
  | 'failing'
  | 'no-available-version';

/**
 * The time of an endpoint's last successful probe: its row's, or the start of the latest round
 * that found it serving exactly what its row says (such a round writes a marker, not the row).
 * A row showing failures is never vouched for.
 */
export function lastSuccessAt(probe: ProbeRecord, round: ProbeRound | undefined): number | undefined {
  if (probe.lastSuccessAt === undefined) return undefined;
  const vouched =
    round !== undefined && probe.consecutiveFailures === 0 && round.vouched.has(probe.endpointId);
  return vouched ? Math.max(probe.lastSuccessAt, round.startedAt) : probe.lastSuccessAt;
}

/** Why an endpoint is not served for a model right now, or undefined when it is served. */
export function exclusionReason(
  registration: ModelRegistration,
  probe: ProbeRecord | undefined,
  nowMs: number,
  policy: HealthPolicy,
  round?: ProbeRound,
): ExclusionReason | undefined {
  // ECS said stopping or stopped (or not yet running): out at once, whatever the probes say.
  if (registration.lifecycle !== 'RUNNING' || registration.host === undefined) return 'not-running';
  const lastSuccess = probe === undefined ? undefined : lastSuccessAt(probe, round);
  if (probe === undefined || lastSuccess === undefined) return 'never-probed-ok';
  // A row expires REMOVE_AFTER_SECONDS after its last success. The stored `expiresAt` (what TTL
  // acts on) is a longer lease, renewed rarely; TTL deletes lazily anyway, so both are checked here.
  if (probe.expiresAt === undefined || probe.expiresAt * 1000 <= nowMs) return 'row-expired';
  if (nowMs - lastSuccess >= policy.removeAfterSeconds * 1000) return 'row-expired';
  if (nowMs - lastSuccess > policy.unhealthyAfterSeconds * 1000) return 'stale';
  if (probe.consecutiveFailures >= policy.failureThreshold) return 'failing';
  if (probe.versions.length === 0) return 'no-available-version';
  return undefined;
}
