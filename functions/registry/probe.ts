import pMap from 'p-map';
import { lastSuccessAt } from './health.ts';
import type { ProbeRecord, ProbeRound, RegistryStore, TaskRecord } from './registry-store.ts';
import { type EndpointRegistration, isAddressable } from './task-endpoints.ts';
import type { TfServingClient } from './tfserving-client.ts';

/**
 * Probing: one endpoint × model (used by the probe round and by registration, which probes a new
 * endpoint at once), a round over every running task, and the loop a scheduled invocation runs.
 */

export interface ProbeDeps {
  readonly store: Pick<
    RegistryStore,
    'recordProbeSuccess' | 'recordProbeFailure' | 'listRunningTasks' | 'readProbeState' | 'recordRound'
  >;
  readonly tfserving: Pick<TfServingClient, 'modelStatus' | 'labelVersion'>;
  readonly now: () => number;
  readonly removeAfterSeconds: number;
  readonly concurrency: number;
}

export interface ProbeTarget {
  readonly endpoint: EndpointRegistration & { host: string; restPort: number };
  readonly model: string;
}

/** What the registry holds for a target, read at the start of a round. */
export interface KnownState {
  readonly probe: ProbeRecord | undefined;
  readonly round: ProbeRound | undefined;
}

export type ProbeResult =
  | {
      readonly ok: true;
      readonly versions: string[];
      readonly written: boolean;
      /** Nothing changed: left to the round's marker instead of a write. */
      readonly unchanged: boolean;
    }
  | { readonly ok: false; readonly reason: string; readonly written: boolean };

const sameList = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((v, i) => v === b[i]);

function sameLabels(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
}

/**
 * The stored `expiresAt` is a lease for TTL's clean-up, an hour past REMOVE_AFTER_SECONDS, renewed
 * once less than ten minutes of that hour is left: about one write an hour per unchanged row.
 * Serving does not wait for it: a row counts as expired REMOVE_AFTER_SECONDS after its last
 * success (`health.ts`), whatever the lease says.
 */
const LEASE_SECONDS = 3600;
const LEASE_RENEW_SECONDS = 600;

/** The `expiresAt` a success writes. */
export function leaseExpiresAt(nowSeconds: number, removeAfterSeconds: number): number {
  return nowSeconds + removeAfterSeconds + LEASE_SECONDS;
}

/** Whether a success needs no write: the row already says exactly this, shows no failure, and its lease holds. */
function isUnchanged(
  probe: ProbeRecord | undefined,
  versions: readonly string[],
  labels: Readonly<Record<string, string>>,
  nowSeconds: number,
  removeAfterSeconds: number,
): boolean {
  return (
    probe !== undefined &&
    probe.lastSuccessAt !== undefined &&
    probe.consecutiveFailures === 0 &&
    probe.expiresAt !== undefined &&
    probe.expiresAt - nowSeconds >= removeAfterSeconds + LEASE_RENEW_SECONDS &&
    sameList(probe.versions, versions) &&
    sameLabels(probe.labels, labels)
  );
}

/**
 * Probes one endpoint for one model, resolves its declared labels, and records the outcome.
 * With `known` (a round), an unchanged success writes nothing: the round's marker vouches for it.
 * Without it (a newly registered endpoint), a success is always written.
 */
export async function probeEndpointModel(
  deps: ProbeDeps,
  target: ProbeTarget,
  known?: KnownState,
): Promise<ProbeResult> {
  const { endpoint, model } = target;
  const probedAt = deps.now();
  const status = await deps.tfserving.modelStatus(endpoint, model);
  if (!status.ok) {
    const lastSuccess = known?.probe === undefined ? undefined : lastSuccessAt(known.probe, known.round);
    const written = await deps.store.recordProbeFailure({
      endpointId: endpoint.id,
      model,
      probedAt,
      error: status.reason,
      ...(lastSuccess === undefined ? {} : { lastSuccessAt: lastSuccess }),
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
  const nowSeconds = Math.ceil(deps.now() / 1000);
  if (
    known !== undefined &&
    isUnchanged(known.probe, status.versions, labels, nowSeconds, deps.removeAfterSeconds)
  ) {
    return { ok: true, versions: status.versions, written: false, unchanged: true };
  }
  const written = await deps.store.recordProbeSuccess({
    endpointId: endpoint.id,
    model,
    versions: status.versions,
    labels,
    probedAt,
    expiresAt: leaseExpiresAt(nowSeconds, deps.removeAfterSeconds),
  });
  return { ok: true, versions: status.versions, written, unchanged: false };
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
  /** Registry writes: changed rows and one marker per model. */
  readonly writes: number;
  /** Registry writes that failed: a target's (its model then gets no marker) or a marker's. */
  readonly errors: number;
  readonly durationMs: number;
}

// Model partitions read at once at the start of a round.
const READ_CONCURRENCY = 8;
// A marker names the endpoints it vouches for (~50 B each); past this many, unchanged rows are
// written instead, keeping the marker far below DynamoDB's 400 KB item limit.
const MAX_VOUCHED_PER_MARKER = 4000;

/**
 * One probe round: every registered endpoint × model, with bounded concurrency. Each model's
 * probe rows are read first (one Query), so a success that changes nothing is not written: the
 * round writes one marker per model instead, naming the endpoints it vouches for. Writes per
 * round drop from one per endpoint × model to one per model plus what changed.
 */
export async function runProbeRound(deps: ProbeDeps): Promise<RoundSummary> {
  const startedAt = deps.now();
  const targets = probeTargets(await deps.store.listRunningTasks());
  const models = [...new Set(targets.map((t) => t.model))];
  const partitions = new Map(
    await pMap(models, async (model) => [model, await deps.store.readProbeState(model)] as const, {
      concurrency: READ_CONCURRENCY,
    }),
  );
  const seen = new Map<string, number>();
  const rows = new Map(
    [...partitions].map(([model, partition]) => [
      model,
      new Map(partition.probes.map((p) => [p.endpointId, p])),
    ]),
  );
  const outcomes = await pMap(
    targets,
    async (target) => {
      const index = (seen.get(target.model) ?? 0) + 1;
      seen.set(target.model, index);
      // Without known state a success is always written: how targets past the marker's cap are kept fresh.
      const known =
        index <= MAX_VOUCHED_PER_MARKER
          ? {
              probe: rows.get(target.model)?.get(target.endpoint.id),
              round: partitions.get(target.model)?.round,
            }
          : undefined;
      try {
        return { target, result: await probeEndpointModel(deps, target, known) };
      } catch {
        return { target, result: undefined };
      }
    },
    { concurrency: deps.concurrency },
  );
  return finishRound(deps, models, outcomes, startedAt);
}

/** One target's outcome in a round; `result` is undefined when its registry write failed. */
export interface RoundOutcome {
  readonly target: ProbeTarget;
  readonly result: ProbeResult | undefined;
}

/**
 * Ends a round: one marker per model whose writes all succeeded, naming the endpoints found
 * unchanged, and the round's summary.
 */
export async function finishRound(
  deps: ProbeDeps,
  models: readonly string[],
  outcomes: readonly RoundOutcome[],
  startedAt: number,
): Promise<RoundSummary> {
  let markers = 0;
  let markerErrors = 0;
  await pMap(
    models,
    async (model) => {
      const ofModel = outcomes.filter((o) => o.target.model === model);
      // A failed write leaves the registry unsure of what this round saw: no marker for the model.
      if (ofModel.some((o) => o.result === undefined)) return;
      const vouched = new Set(
        ofModel.filter((o) => o.result?.ok && o.result.unchanged).map((o) => o.target.endpoint.id),
      );
      if (vouched.size === 0) return;
      try {
        if (await deps.store.recordRound(model, { startedAt, vouched })) markers += 1;
      } catch {
        // Its endpoints go stale after UNHEALTHY_AFTER_SECONDS unless a later round's marker lands.
        markerErrors += 1;
      }
    },
    { concurrency: READ_CONCURRENCY },
  );
  const results = outcomes.flatMap((o) => (o.result === undefined ? [] : [o.result]));
  const healthy = results.filter((r) => r.ok).length;
  return {
    targets: outcomes.length,
    healthy,
    failed: outcomes.length - healthy,
    writes: results.filter((r) => r.written).length + markers,
    errors: outcomes.length - results.length + markerErrors,
    durationMs: deps.now() - startedAt,
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
