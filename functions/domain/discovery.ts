import { createHash } from 'node:crypto';
import pMap from 'p-map';
import type {
  Endpoint,
  EndpointHealth,
  Freshness,
  ModelEndpoints,
  ModelHealth,
  ModelList,
} from './api-schemas.ts';
import { setBounded } from './bounded-map.ts';
import { RequestError, StoreUnavailableError } from './errors.ts';
import {
  type EndpointJudgement,
  type HealthPolicy,
  judgeEndpoint,
  judgementsStableUntil,
  markerFor,
} from './health.ts';
import { newestFirst } from './names.ts';
import type { RegistryStore, StoreOperation } from './ports.ts';
import type { ModelPartition, ModelRegistration, ProbeRecord } from './records.ts';
import { isUsable } from './snapshots.ts';

/** What the discovery API answers (design: "Discovery API"): types inferred from the answers' schemas. */
export type {
  Endpoint,
  EndpointHealth,
  Freshness,
  ModelEndpoints,
  ModelHealth,
  ModelList,
  ModelSummary,
} from './api-schemas.ts';

/** Any answer discovery computes (and remembers, to answer again when the store is unavailable). */
export type DiscoveryAnswer = ModelEndpoints | ModelList | ModelHealth;

/** Which endpoints of a model a request asks for. */
export type Selector =
  | { readonly kind: 'model' }
  | { readonly kind: 'version'; readonly version: string }
  | { readonly kind: 'label'; readonly label: string };

/** What discovery asks of the store. */
export const DISCOVERY_STORE_OPERATIONS = [
  'readSnapshot',
  'readModel',
  'listRunningTasks',
] as const satisfies readonly StoreOperation[];

export interface DiscoveryDeps {
  readonly store: Pick<RegistryStore, (typeof DISCOVERY_STORE_OPERATIONS)[number]>;
  readonly policy: HealthPolicy;
  readonly now: () => number;
  /** This process's last answers, served (stale) when the store is unavailable. */
  readonly answers: LastKnownAnswers;
}

interface ServedEndpoint {
  readonly registration: ModelRegistration;
  readonly probe: ProbeRecord;
  readonly lastSuccess: number;
  readonly stalledAt: number | undefined;
}

function servedEndpoints(partition: ModelPartition, nowMs: number, policy: HealthPolicy): ServedEndpoint[] {
  const probes = new Map<string, ProbeRecord>(partition.probes.map((p) => [p.endpointId, p]));
  const served: ServedEndpoint[] = [];
  for (const registration of partition.registrations) {
    const probe = probes.get(registration.endpointId);
    if (probe === undefined) continue;
    const marker = markerFor(partition.rounds, registration.endpointId);
    const judgement = judgeEndpoint(registration, probe, marker, nowMs, policy);
    if (judgement.reason === undefined) {
      served.push({
        registration,
        probe,
        lastSuccess: judgement.lastSuccessAt as number,
        stalledAt: judgement.stalledAt,
      });
    }
  }
  return served.sort((a, b) => (a.registration.endpointId < b.registration.endpointId ? -1 : 1));
}

/** Stale when any endpoint was judged on a stalled prober's last record; `asOf` is the oldest such. */
function freshnessOf(judged: readonly { readonly stalledAt: number | undefined }[]): Freshness {
  const stalled = judged.flatMap((s) => (s.stalledAt === undefined ? [] : [s.stalledAt]));
  return stalled.length === 0
    ? { stale: false }
    : { stale: true, asOf: new Date(Math.min(...stalled)).toISOString() };
}

function matches(probe: ProbeRecord, selector: Selector): boolean {
  switch (selector.kind) {
    case 'model':
      return true;
    case 'version':
      return probe.versions.includes(selector.version);
    case 'label': {
      const version = probe.labels[selector.label];
      return version !== undefined && probe.versions.includes(version);
    }
  }
}

/**
 * What discovery judges a model's endpoints on: its snapshot (one small read) while it is usable,
 * else the partition itself (no snapshot yet, too large for one item, or not rebuilt for longer
 * than UNHEALTHY_AFTER_SECONDS: rebuilds failing or the prober stalled).
 */
async function routingPartition(
  deps: Pick<DiscoveryDeps, 'store' | 'now' | 'policy'>,
  model: string,
): Promise<ModelPartition> {
  const snapshot = await deps.store.readSnapshot(model);
  if (
    snapshot?.partition !== undefined &&
    isUsable(snapshot, deps.now(), deps.policy.unhealthyAfterSeconds)
  ) {
    return snapshot.partition;
  }
  return deps.store.readModel(model);
}

/** A model is known while a running task declares it; throws a 404 {@link RequestError} otherwise. */
function requireKnownModel(partition: ModelPartition, model: string): void {
  if (!partition.registrations.some((r) => r.lifecycle === 'RUNNING')) {
    throw new RequestError(
      404,
      'ModelNotFound',
      `No running task declares the model ${JSON.stringify(model)}.`,
    );
  }
}

/**
 * Answers computed from a partition, by request, with the time until which they hold: a snapshot
 * read again unchanged is the same object (the store decodes a sequence once), so a hot model is
 * judged once per change or rule boundary, not once per request. Held weakly: a partition no
 * longer read takes its answers with it.
 */
const answersOf = new WeakMap<ModelPartition, Map<string, { answer: ModelEndpoints; until: number }>>();

/** Healthy endpoints of a model (one read of its snapshot). Throws a 404 {@link RequestError} for a model no running task declares. */
export async function findEndpoints(
  deps: DiscoveryDeps,
  model: string,
  selector: Selector,
): Promise<ModelEndpoints> {
  const partition = await routingPartition(deps, model);
  const nowMs = deps.now();
  const key = answerKey(model, selector);
  const known = answersOf.get(partition)?.get(key);
  if (known !== undefined && nowMs < known.until) return known.answer;
  requireKnownModel(partition, model);
  const served = servedEndpoints(partition, nowMs, deps.policy).filter(({ probe }) =>
    matches(probe, selector),
  );
  const answer: ModelEndpoints = {
    model,
    endpoints: served.map(({ registration, probe, lastSuccess }) =>
      toEndpoint(registration, probe, lastSuccess),
    ),
    ...freshnessOf(served),
  };
  const answers = answersOf.get(partition) ?? new Map();
  if (answers.size < MAX_ANSWERS_PER_PARTITION) {
    answers.set(key, { answer, until: judgementsStableUntil(partition, nowMs, deps.policy) });
    answersOf.set(partition, answers);
  }
  return answer;
}

/** Selectors (versions, labels) remembered per partition: they come from clients. */
const MAX_ANSWERS_PER_PARTITION = 64;

/** Every model a running task declares, sorted (one read of the task list): the known models. */
export async function knownModels(deps: Pick<DiscoveryDeps, 'store'>): Promise<string[]> {
  const tasks = await deps.store.listRunningTasks();
  return [...new Set(tasks.flatMap((t) => t.endpoints.flatMap((e) => e.models)))].sort();
}

/** Every model with at least one healthy endpoint: the running tasks' models, then one snapshot read per model. */
export async function listModels(deps: DiscoveryDeps): Promise<ModelList> {
  const names = await knownModels(deps);
  const nowMs = deps.now();
  const perModel = await Promise.all(
    names.map(async (name) => {
      const served = servedEndpoints(await routingPartition(deps, name), nowMs, deps.policy);
      return { name, served };
    }),
  );
  return {
    models: perModel
      .filter(({ served }) => served.length > 0)
      .map(({ name, served }) => ({
        name,
        endpoints: served.length,
        versions: newestFirst(new Set(served.flatMap(({ probe }) => probe.versions))),
      })),
    ...freshnessOf(perModel.flatMap(({ served }) => served)),
  };
}

/** What judging the whole fleet's models asks of the store (the probe coordinator's figure). */
export const FLEET_JUDGEMENT_STORE_OPERATIONS = [
  'listRunningTasks',
  'readSnapshot',
  'readModel',
] as const satisfies readonly StoreOperation[];

export interface FleetJudgementDeps extends Pick<DiscoveryDeps, 'now' | 'policy'> {
  readonly store: Pick<RegistryStore, (typeof FLEET_JUDGEMENT_STORE_OPERATIONS)[number]>;
}

// Models judged at once: each a snapshot read.
const JUDGE_CONCURRENCY = 8;

/**
 * The known models discovery serves no endpoint for now, sorted: what the fleet-wide "no healthy
 * endpoint" figure counts when no single probe invocation sees a whole model (probe shards).
 * Judged as discovery judges (one snapshot read per model, the stall rule included).
 */
export async function modelsWithoutServedEndpoints(deps: FleetJudgementDeps): Promise<string[]> {
  const names = await knownModels(deps);
  const nowMs = deps.now();
  const unserved = await pMap(
    names,
    async (name) => servedEndpoints(await routingPartition(deps, name), nowMs, deps.policy).length === 0,
    { concurrency: JUDGE_CONCURRENCY },
  );
  return names.filter((_, index) => unserved[index]);
}

/**
 * Every registered endpoint of a known model, served or not, with the reason the health rules give
 * for excluding it and the probe evidence (one Query, the partition discovery reads). Throws a 404
 * {@link RequestError} for a model no running task declares, as discovery does.
 */
export async function modelHealth(deps: DiscoveryDeps, model: string): Promise<ModelHealth> {
  const partition = await deps.store.readModel(model);
  requireKnownModel(partition, model);
  const nowMs = deps.now();
  const probes = new Map<string, ProbeRecord>(partition.probes.map((p) => [p.endpointId, p]));
  const judged = partition.registrations
    .map((registration) => {
      const probe = probes.get(registration.endpointId);
      const marker = markerFor(partition.rounds, registration.endpointId);
      const judgement = judgeEndpoint(registration, probe, marker, nowMs, deps.policy);
      return { registration, probe, judgement, stalledAt: judgement.stalledAt };
    })
    .sort((a, b) => (a.registration.endpointId < b.registration.endpointId ? -1 : 1));
  return {
    model,
    endpoints: judged.map(({ registration, probe, judgement }) =>
      toEndpointHealth(registration, probe, judgement),
    ),
    ...freshnessOf(judged),
  };
}

const isoOrNull = (ms: number | undefined): string | null =>
  ms === undefined ? null : new Date(ms).toISOString();

function toEndpointHealth(
  registration: ModelRegistration,
  probe: ProbeRecord | undefined,
  judgement: EndpointJudgement,
): EndpointHealth {
  // A round that saw the endpoint unchanged records it on the model's marker, not on its row.
  const latestProbe =
    probe === undefined ? undefined : Math.max(probe.probedAt, judgement.lastSuccessAt ?? probe.probedAt);
  return {
    id: registration.endpointId,
    host: registration.host ?? null,
    restPort: registration.restPort ?? null,
    grpcPort: registration.grpcPort,
    versions: [...(probe?.versions ?? [])],
    labels: sortedByKey(probe?.labels ?? {}),
    availabilityZone: registration.availabilityZone ?? null,
    clusterArn: registration.clusterArn,
    taskArn: registration.taskArn,
    lastProbeAt: isoOrNull(latestProbe),
    served: judgement.reason === undefined,
    reason: judgement.reason ?? null,
    lifecycle: registration.lifecycle,
    consecutiveFailures: probe?.consecutiveFailures ?? 0,
    lastError: probe?.lastError ?? null,
    lastSuccessAt: isoOrNull(judgement.lastSuccessAt),
  };
}

function sortedByKey(record: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The labels whose last resolution names a version the endpoint serves, sorted by label. */
function servedLabels(probe: ProbeRecord): Record<string, string> {
  return sortedByKey(
    Object.fromEntries(
      Object.entries(probe.labels).filter(([, version]) => probe.versions.includes(version)),
    ),
  );
}

function toEndpoint(registration: ModelRegistration, probe: ProbeRecord, lastSuccess: number): Endpoint {
  return {
    id: registration.endpointId,
    host: registration.host as string,
    restPort: registration.restPort as number,
    grpcPort: registration.grpcPort,
    versions: [...probe.versions],
    labels: servedLabels(probe),
    availabilityZone: registration.availabilityZone ?? null,
    clusterArn: registration.clusterArn,
    taskArn: registration.taskArn,
    lastProbeAt: new Date(lastSuccess).toISOString(),
  };
}

/**
 * A weak ETag over what a client routes by (ids, addresses, ports, served versions and labels), not over
 * `lastProbeAt` or freshness: it changes when routing should change, not on every probe round.
 */
export function routingEtag(body: Pick<ModelEndpoints, 'endpoints'> | Pick<ModelList, 'models'>): string {
  const routing =
    'endpoints' in body
      ? body.endpoints.map((e) => [e.id, e.host, e.restPort, e.grpcPort, e.versions, e.labels])
      : body.models.map((m) => [m.name, m.endpoints, m.versions]);
  return weakEtag(routing);
}

/**
 * A weak ETag over a whole answer (the health answer, the API document): it changes whenever
 * anything in it does, probe times included, so a poller gets a 304 only when nothing changed.
 */
export function contentEtag(body: unknown): string {
  return weakEtag(body);
}

function weakEtag(value: unknown): string {
  const digest = createHash('sha256').update(JSON.stringify(value)).digest('base64url').slice(0, 27);
  return `W/"${digest}"`;
}

/**
 * The last answer this process computed for each request, so discovery fails open: when the store
 * does not answer in time, the last answer is served again, marked stale. Bounded (least recently
 * used answers go first): request keys come from clients.
 */
export class LastKnownAnswers {
  private readonly answers = new Map<string, { body: DiscoveryAnswer; at: number }>();

  constructor(private readonly capacity = 1000) {}

  remember(key: string, body: DiscoveryAnswer, at: number): void {
    setBounded(this.answers, key, { body, at }, this.capacity);
  }

  /** The last answer for `key`, marked stale as of when it was computed (or as of its own data if older). */
  recall(key: string): DiscoveryAnswer | undefined {
    const known = this.answers.get(key);
    if (known === undefined) return undefined;
    const asOf = known.body.stale ? known.body.asOf : new Date(known.at).toISOString();
    return { ...known.body, stale: true, asOf };
  }
}

/** The cache key of a discovery request. */
export function answerKey(model: string | undefined, selector?: Selector): string {
  if (model === undefined) return 'models';
  return JSON.stringify([
    model,
    selector?.kind,
    selector?.kind === 'version' ? selector.version : selector?.kind === 'label' ? selector.label : null,
  ]);
}

/** The cache key of a health request (never equal to a selector's key). */
export function healthAnswerKey(model: string): string {
  return JSON.stringify([model, 'health']);
}

/**
 * Answers with `compute`, remembering the answer; when the store is unavailable, answers with the
 * last known answer, marked stale, or rethrows when there is none.
 */
export async function withLastKnown<T extends DiscoveryAnswer>(
  answers: LastKnownAnswers,
  key: string,
  now: () => number,
  compute: () => Promise<T>,
): Promise<{ body: T; fromCache: boolean }> {
  try {
    const body = await compute();
    answers.remember(key, body, now());
    return { body, fromCache: false };
  } catch (error) {
    if (!(error instanceof StoreUnavailableError)) throw error;
    const known = answers.recall(key) as T | undefined;
    if (known === undefined) throw error;
    return { body: known, fromCache: true };
  }
}
