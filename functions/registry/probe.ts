import pMap from 'p-map';
import type { RegistryStore, TaskRecord } from './registry-store.ts';
import { type EndpointRegistration, isAddressable } from './task-endpoints.ts';
import type { TfServingClient } from './tfserving-client.ts';

/**
 * Probing: one endpoint × model (used by the probe round and by registration, which probes a new
 * endpoint at once), a round over every running task, and the loop a scheduled invocation runs.
 */

export interface ProbeDeps {
  readonly store: Pick<RegistryStore, 'recordProbeSuccess' | 'recordProbeFailure' | 'listRunningTasks'>;
  readonly tfserving: Pick<TfServingClient, 'modelStatus' | 'labelVersion'>;
  readonly now: () => number;
  readonly removeAfterSeconds: number;
  readonly concurrency: number;
}

export interface ProbeTarget {
  readonly endpoint: EndpointRegistration & { host: string; restPort: number };
  readonly model: string;
}

export type ProbeResult =
  | { readonly ok: true; readonly versions: string[]; readonly written: boolean }
  | { readonly ok: false; readonly reason: string; readonly written: boolean };

/** Probes one endpoint for one model, resolves its declared labels, and records the outcome. */
export async function probeEndpointModel(deps: ProbeDeps, target: ProbeTarget): Promise<ProbeResult> {
  const { endpoint, model } = target;
  const probedAt = deps.now();
  const status = await deps.tfserving.modelStatus(endpoint, model);
  if (!status.ok) {
    const written = await deps.store.recordProbeFailure({
      endpointId: endpoint.id,
      model,
      probedAt,
      error: status.reason,
    });
    return { ok: false, reason: status.reason, written };
  }
  // TF Serving's status API ignores labels, so each declared label is resolved through metadata.
  // A label that does not resolve is left out; it is not a health failure of the model.
  const resolved = await Promise.all(
    endpoint.labels.map(
      async (label) => [label, await deps.tfserving.labelVersion(endpoint, model, label)] as const,
    ),
  );
  const labels = Object.fromEntries(
    resolved.filter((entry): entry is readonly [string, string] => entry[1] !== undefined),
  );
  const written = await deps.store.recordProbeSuccess({
    endpointId: endpoint.id,
    model,
    versions: status.versions,
    labels,
    probedAt,
    expiresAt: Math.ceil(deps.now() / 1000) + deps.removeAfterSeconds,
  });
  return { ok: true, versions: status.versions, written };
}

/** Every (endpoint, model) pair of the given tasks that has an address. */
export function probeTargets(tasks: readonly TaskRecord[]): ProbeTarget[] {
  return tasks.flatMap((task) =>
    task.endpoints
      .filter(isAddressable)
      .flatMap((endpoint) => endpoint.models.map((model) => ({ endpoint, model }))),
  );
}

export interface RoundSummary {
  readonly targets: number;
  readonly healthy: number;
  readonly failed: number;
  readonly writes: number;
  readonly durationMs: number;
}

/** One probe round: every registered endpoint × model, with bounded concurrency. */
export async function runProbeRound(deps: ProbeDeps): Promise<RoundSummary> {
  const started = deps.now();
  const targets = probeTargets(await deps.store.listRunningTasks());
  const results = await pMap(targets, (target) => probeEndpointModel(deps, target), {
    concurrency: deps.concurrency,
  });
  const healthy = results.filter((r) => r.ok).length;
  return {
    targets: targets.length,
    healthy,
    failed: results.length - healthy,
    writes: results.filter((r) => r.written).length,
    durationMs: deps.now() - started,
  };
}

export interface LoopOptions {
  readonly intervalMs: number;
  /** Epoch ms by which the last round must have finished (the next scheduled trigger, less a margin). */
  readonly deadlineMs: number;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly signal?: AbortSignal;
}

/**
 * Runs rounds every `intervalMs` until the deadline. A round starts only if a round as long as the
 * longest one so far still finishes before the deadline, so an invocation never overlaps the next
 * scheduled one; a doubled or late trigger only adds rounds, whose writes are ordered by `probedAt`.
 */
export async function runProbeLoop<T extends { durationMs: number }>(
  round: () => Promise<T>,
  options: LoopOptions,
): Promise<T[]> {
  const summaries: T[] = [];
  let longestRoundMs = 0;
  let nextStart = options.now();
  while (!options.signal?.aborted) {
    const start = options.now();
    if (start + longestRoundMs > options.deadlineMs) break;
    const summary = await round();
    summaries.push(summary);
    longestRoundMs = Math.max(longestRoundMs, summary.durationMs);
    nextStart += options.intervalMs;
    // A round longer than the interval delays the next one rather than stacking rounds.
    if (nextStart < options.now()) nextStart = options.now();
    if (nextStart + longestRoundMs > options.deadlineMs) break;
    await options.sleep(nextStart - options.now());
  }
  return summaries;
}
