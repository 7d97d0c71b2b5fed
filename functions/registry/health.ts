import type { ModelRegistration, ProbeRecord } from './registry-store.ts';

/**
 * The serving rules of the design's Health section. Each holds on its own: with the others set
 * very large, any one of them alone still excludes an endpoint.
 */

export interface HealthPolicy {
  readonly unhealthyAfterSeconds: number;
  readonly failureThreshold: number;
}

/** The health policy part of the configuration. */
export function healthPolicy(config: HealthPolicy): HealthPolicy {
  return { unhealthyAfterSeconds: config.unhealthyAfterSeconds, failureThreshold: config.failureThreshold };
}

export type ExclusionReason =
  | 'not-running'
  | 'never-probed-ok'
  | 'row-expired'
  | 'stale'
  | 'failing'
  | 'no-available-version';

/** Why an endpoint is not served for a model right now, or undefined when it is served. */
export function exclusionReason(
  registration: ModelRegistration,
  probe: ProbeRecord | undefined,
  nowMs: number,
  policy: HealthPolicy,
): ExclusionReason | undefined {
  // ECS said stopping or stopped (or not yet running): out at once, whatever the probes say.
  if (registration.lifecycle !== 'RUNNING' || registration.host === undefined) return 'not-running';
  if (probe?.lastSuccessAt === undefined) return 'never-probed-ok';
  // TTL deletes lazily (hours to days), so the expiry is checked on every read.
  if (probe.expiresAt === undefined || probe.expiresAt * 1000 <= nowMs) return 'row-expired';
  if (nowMs - probe.lastSuccessAt > policy.unhealthyAfterSeconds * 1000) return 'stale';
  if (probe.consecutiveFailures >= policy.failureThreshold) return 'failing';
  if (probe.versions.length === 0) return 'no-available-version';
  return undefined;
}
