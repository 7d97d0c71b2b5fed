import { createHash } from 'node:crypto';
import { RequestError } from '../shared/errors.ts';
import { exclusionReason, type HealthPolicy, lastSuccessAt } from './health.ts';
import { newestFirst } from './names.ts';
import type { ModelPartition, ModelRegistration, ProbeRecord, RegistryStore } from './registry-store.ts';

/** What the discovery API answers (design: "Discovery API"). */

export interface Endpoint {
  readonly id: string;
  readonly host: string;
  readonly restPort: number;
  readonly grpcPort: number | null;
  readonly versions: string[];
  readonly availabilityZone: string | null;
  readonly clusterArn: string;
  readonly taskArn: string;
  readonly lastProbeAt: string;
}

export interface ModelEndpoints {
  readonly model: string;
  readonly endpoints: Endpoint[];
}

export interface ModelSummary {
  readonly name: string;
  readonly endpoints: number;
  readonly versions: string[];
}

/** Which endpoints of a model a request asks for. */
export type Selector =
  | { readonly kind: 'model' }
  | { readonly kind: 'version'; readonly version: string }
  | { readonly kind: 'label'; readonly label: string };

export interface DiscoveryDeps {
  readonly store: Pick<RegistryStore, 'readModel' | 'listRunningTasks'>;
  readonly policy: HealthPolicy;
  readonly now: () => number;
}

function healthyEndpoints(partition: ModelPartition, nowMs: number, policy: HealthPolicy) {
  const probes = new Map<string, ProbeRecord>(partition.probes.map((p) => [p.endpointId, p]));
  const healthy: { registration: ModelRegistration; probe: ProbeRecord; lastSuccess: number }[] = [];
  for (const registration of partition.registrations) {
    const probe = probes.get(registration.endpointId);
    if (
      probe !== undefined &&
      exclusionReason(registration, probe, nowMs, policy, partition.round) === undefined
    ) {
      healthy.push({ registration, probe, lastSuccess: lastSuccessAt(probe, partition.round) as number });
    }
  }
  return healthy.sort((a, b) => (a.registration.endpointId < b.registration.endpointId ? -1 : 1));
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

/** Healthy endpoints of a model (one Query). Throws a 404 {@link RequestError} for a model no running task declares. */
export async function findEndpoints(
  deps: DiscoveryDeps,
  model: string,
  selector: Selector,
): Promise<ModelEndpoints> {
  const partition = await deps.store.readModel(model);
  if (!partition.registrations.some((r) => r.lifecycle === 'RUNNING')) {
    throw new RequestError(
      404,
      'ModelNotFound',
      `No running task declares the model ${JSON.stringify(model)}.`,
    );
  }
  const endpoints = healthyEndpoints(partition, deps.now(), deps.policy)
    .filter(({ probe }) => matches(probe, selector))
    .map(({ registration, probe, lastSuccess }) => toEndpoint(registration, probe, lastSuccess));
  return { model, endpoints };
}

/** Every model with at least one healthy endpoint: the running tasks' models, then one Query per model. */
export async function listModels(deps: DiscoveryDeps): Promise<{ models: ModelSummary[] }> {
  const tasks = await deps.store.listRunningTasks();
  const names = [...new Set(tasks.flatMap((t) => t.endpoints.flatMap((e) => e.models)))].sort();
  const nowMs = deps.now();
  const summaries = await Promise.all(
    names.map(async (name) => {
      const healthy = healthyEndpoints(await deps.store.readModel(name), nowMs, deps.policy);
      return {
        name,
        endpoints: healthy.length,
        versions: newestFirst(new Set(healthy.flatMap(({ probe }) => probe.versions))),
      };
    }),
  );
  return { models: summaries.filter((s) => s.endpoints > 0) };
}

function toEndpoint(registration: ModelRegistration, probe: ProbeRecord, lastSuccess: number): Endpoint {
  return {
    id: registration.endpointId,
    host: registration.host as string,
    restPort: registration.restPort as number,
    grpcPort: registration.grpcPort,
    versions: [...probe.versions],
    availabilityZone: registration.availabilityZone ?? null,
    clusterArn: registration.clusterArn,
    taskArn: registration.taskArn,
    lastProbeAt: new Date(lastSuccess).toISOString(),
  };
}

/**
 * A weak ETag over what a client routes by (ids, addresses, ports, served versions), not over
 * `lastProbeAt`: it changes when routing should change, not on every probe round.
 */
export function routingEtag(body: ModelEndpoints | { models: ModelSummary[] }): string {
  const routing =
    'endpoints' in body
      ? body.endpoints.map((e) => [e.id, e.host, e.restPort, e.grpcPort, e.versions])
      : body.models.map((m) => [m.name, m.endpoints, m.versions]);
  const digest = createHash('sha256').update(JSON.stringify(routing)).digest('base64url').slice(0, 27);
  return `W/"${digest}"`;
}
