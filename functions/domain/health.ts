import type { ModelRegistration, ProbeRecord, RoundMarker } from './records.ts';
import { shardsOfEndpoint } from './shards.ts';

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

/** Why an endpoint is not served for a model: what the health API and the status page show. */
export const EXCLUSION_REASONS = [
  'not-running',
  'never-probed-ok',
  'row-expired',
  'stale',
  'failing',
  'no-available-version',
] as const;

export type ExclusionReason = (typeof EXCLUSION_REASONS)[number];

/**
 * The marker that speaks for an endpoint among a model's markers (one per probe shard): the latest
 * recorded of those whose shard owns the endpoint under that marker's own shard count. A marker
 * of another shard is no evidence about it, so a shard that stalls or fails leaves only its own
 * endpoints without fresh records (the stall rule then applies to them alone). When the shard
 * count changes, the markers of the old layout keep speaking for their endpoints until the new
 * owner's marker is recorded later. No owning marker: undefined (the row alone is judged).
 */
export function markerFor(rounds: readonly RoundMarker[], endpointId: string): RoundMarker | undefined {
  let chosen: RoundMarker | undefined;
  const shardOf = shardsOfEndpoint(endpointId);
  for (const marker of rounds) {
    if (marker.shard !== undefined && shardOf(marker.shard.count) !== marker.shard.index) continue;
    if (chosen === undefined || marker.recordedAt > chosen.recordedAt) chosen = marker;
  }
  return chosen;
}

/**
 * The time of an endpoint's last successful probe: its row's, or the time a probe round last saw
 * it serving exactly what its row says (such a round writes the model's marker, not the row). A
 * row showing failures is never vouched for.
 */
export function lastSuccessAt(probe: ProbeRecord, marker: RoundMarker | undefined): number | undefined {
  if (probe.lastSuccessAt === undefined) return undefined;
  const seenAt = probe.consecutiveFailures === 0 ? marker?.seen.get(probe.endpointId) : undefined;
  return seenAt === undefined ? probe.lastSuccessAt : Math.max(probe.lastSuccessAt, seenAt);
}

export interface EndpointJudgement {
  /** Why the endpoint is not served, or undefined when it is. */
  readonly reason: ExclusionReason | undefined;
  readonly lastSuccessAt: number | undefined;
  /**
   * Set when the prober has recorded nothing about the endpoint (no marker, no row write) for
   * longer than UNHEALTHY_AFTER_SECONDS: the time of its last record, as of which it was judged.
   */
  readonly stalledAt: number | undefined;
}

/**
 * Judges one endpoint for one model at `nowMs`.
 *
 * A stalled prober is not evidence: when nothing about the endpoint has been recorded (neither by
 * the model's round marker nor on its row) for longer than UNHEALTHY_AFTER_SECONDS, the endpoint
 * is judged as of that last record instead of now, so an endpoint healthy then stays served
 * (marked stale by discovery). ECS lifecycle and the row's lease are still judged as of now, and
 * any recorded failure excludes. A probe that finds an endpoint dead or hanging is a record, so a
 * prober that runs, however slowly, keeps every rule in force.
 */
export function judgeEndpoint(
  registration: ModelRegistration,
  probe: ProbeRecord | undefined,
  marker: RoundMarker | undefined,
  nowMs: number,
  policy: HealthPolicy,
): EndpointJudgement {
  const lastSuccess = probe === undefined ? undefined : lastSuccessAt(probe, marker);
  const verdict = (reason: ExclusionReason | undefined, stalledAt?: number): EndpointJudgement => ({
    reason,
    lastSuccessAt: lastSuccess,
    stalledAt,
  });
  // ECS said stopping or stopped (or not yet running): out at once, whatever the probes say.
  if (registration.lifecycle !== 'RUNNING' || registration.host === undefined) return verdict('not-running');
  if (probe === undefined || lastSuccess === undefined) return verdict('never-probed-ok');
  // The lease (what TTL acts on) is a physical fact: once past it, the row may be gone any moment.
  if (probe.expiresAt === undefined || probe.expiresAt * 1000 <= nowMs) return verdict('row-expired');

  const lastRecord = Math.max(probe.probedAt, marker?.recordedAt ?? Number.NEGATIVE_INFINITY);
  const stalled = nowMs - lastRecord > policy.unhealthyAfterSeconds * 1000;
  const at = stalled ? lastRecord : nowMs;
  const stalledAt = stalled ? lastRecord : undefined;
  if (stalled && probe.consecutiveFailures > 0) return verdict('failing', stalledAt);
  // A row expires REMOVE_AFTER_SECONDS after its last success, whatever its (longer) lease says.
  if (at - lastSuccess >= policy.removeAfterSeconds * 1000) return verdict('row-expired', stalledAt);
  if (at - lastSuccess > policy.unhealthyAfterSeconds * 1000) return verdict('stale', stalledAt);
  if (probe.consecutiveFailures >= policy.failureThreshold) return verdict('failing', stalledAt);
  if (probe.versions.length === 0) return verdict('no-available-version', stalledAt);
  return verdict(undefined, stalledAt);
}

/** Why an endpoint is not served for a model right now, or undefined when it is. */
export function exclusionReason(
  registration: ModelRegistration,
  probe: ProbeRecord | undefined,
  nowMs: number,
  policy: HealthPolicy,
  marker?: RoundMarker,
): ExclusionReason | undefined {
  return judgeEndpoint(registration, probe, marker, nowMs, policy).reason;
}

/**
 * Until when (epoch ms, exclusive) every judgement of this partition made at `nowMs` stays the
 * same: each rule compares the time with a fixed point of the rows (a last success, a lease, the
 * last record), and each comparison, once it flips, stays flipped, so nothing changes before the
 * earliest such point still ahead. Points at `nowMs` count as ahead (a `>` rule flips just after).
 */
export function judgementsStableUntil(
  partition: { readonly probes: readonly ProbeRecord[]; readonly rounds: readonly RoundMarker[] },
  nowMs: number,
  policy: HealthPolicy,
): number {
  let until = Number.POSITIVE_INFINITY;
  const ahead = (point: number) => {
    if (point >= nowMs && point < until) until = point;
  };
  const unhealthyMs = policy.unhealthyAfterSeconds * 1000;
  for (const probe of partition.probes) {
    const marker = markerFor(partition.rounds, probe.endpointId);
    const success = lastSuccessAt(probe, marker);
    if (probe.expiresAt !== undefined) ahead(probe.expiresAt * 1000);
    const lastRecord = Math.max(probe.probedAt, marker?.recordedAt ?? Number.NEGATIVE_INFINITY);
    ahead(lastRecord + unhealthyMs);
    if (success !== undefined) {
      ahead(success + unhealthyMs);
      ahead(success + policy.removeAfterSeconds * 1000);
    }
  }
  return until;
}
