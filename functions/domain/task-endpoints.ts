import type { TaskContainer, TaskDetail } from './ecs-task-event.ts';
import { isValidName } from './names.ts';

/**
 * Finds a task's TF Serving containers, the models and labels they declare, and the address to
 * probe them at (design: "Registering: which containers, which models, which address").
 */

/** The parts of a task definition container the registry reads (from `ecs:DescribeTaskDefinition`). */
export interface ContainerDefinition {
  readonly name: string;
  readonly image?: string;
  readonly environment: Readonly<Record<string, string>>;
  readonly dockerLabels: Readonly<Record<string, string>>;
  readonly portMappings: readonly { containerPort: number; name?: string; appProtocol?: string }[];
}

export interface TaskDefinition {
  readonly containers: readonly ContainerDefinition[];
}

/** One TF Serving container of a task: what the registry stores and probes. */
export interface EndpointRegistration {
  /** `<cluster name>/<task id>/<container name>`: cluster + task + container, readable and unique. */
  readonly id: string;
  readonly containerName: string;
  /** Undefined while ECS has not given the task an address (PROVISIONING, some STOPPED events). */
  readonly host: string | undefined;
  readonly restPort: number | undefined;
  readonly grpcPort: number | null;
  readonly models: readonly string[];
  readonly labels: readonly string[];
}

export interface EndpointDerivation {
  readonly endpoints: EndpointRegistration[];
  /** Containers that look like TF Serving but could not be registered, with the reason. */
  readonly skipped: { container: string; reason: string }[];
}

export interface DeriveOptions {
  readonly tfservingContainerNames: readonly string[];
  /** The task definition, when it could be read; undefined means "the event alone". */
  readonly taskDefinition?: TaskDefinition;
  /** Private IP of the EC2 container instance, for bridge and host network modes. */
  readonly containerInstanceHost?: string;
}

const DEFAULT_REST_PORT = 8501;
const DEFAULT_GRPC_PORT = 8500;
// The official image sets MODEL_NAME=model (tensorflow_serving/tools/docker/Dockerfile).
const OFFICIAL_IMAGE_DEFAULT_MODEL = 'model';

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

function unique(values: Iterable<string>): string[] {
  return [...new Set(values)];
}

function isTfServingImage(image: string | undefined): boolean {
  return image?.includes('tensorflow/serving') ?? false;
}

function parsePort(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,5}$/.test(value.trim())) return undefined;
  const port = Number(value);
  return port >= 1 && port <= 65_535 ? port : undefined;
}

export function resourceName(arn: string): string {
  return arn.slice(arn.indexOf('/') + 1);
}

/** `cluster/ml` → `ml`; `task/ml/3f0c…` → `3f0c…` (also the old ARN format without the cluster). */
function lastSegment(arn: string): string {
  return arn.slice(arn.lastIndexOf('/') + 1);
}

export function endpointId(clusterArn: string, taskArn: string, containerName: string): string {
  return `${resourceName(clusterArn)}/${lastSegment(taskArn)}/${containerName}`;
}

/** Container ports in the container: labels first, then named or typed port mappings, then TF Serving's defaults. */
function containerPorts(definition: ContainerDefinition | undefined): { rest: number; grpc: number | null } {
  const labels = definition?.dockerLabels ?? {};
  const mappings = definition?.portMappings ?? [];
  const isGrpc = (m: ContainerDefinition['portMappings'][number]) =>
    m.appProtocol === 'grpc' || /grpc/i.test(m.name ?? '');
  const isRest = (m: ContainerDefinition['portMappings'][number]) =>
    !isGrpc(m) && (m.appProtocol === 'http' || m.appProtocol === 'http2' || /rest|http/i.test(m.name ?? ''));
  const rest =
    parsePort(labels['tfserving.rest-port']) ??
    mappings.find(isRest)?.containerPort ??
    mappings.find((m) => m.containerPort === DEFAULT_REST_PORT)?.containerPort ??
    DEFAULT_REST_PORT;
  const declaredGrpc =
    parsePort(labels['tfserving.grpc-port']) ??
    mappings.find(isGrpc)?.containerPort ??
    mappings.find((m) => m.containerPort === DEFAULT_GRPC_PORT)?.containerPort;
  // With known port mappings, a gRPC port that none of them publishes is not reachable.
  const grpc = declaredGrpc ?? (mappings.length > 0 ? null : DEFAULT_GRPC_PORT);
  return { rest, grpc };
}

function awsvpcAddress(detail: TaskDetail, container: TaskContainer): string | undefined {
  const fromContainer = container.networkInterfaces?.find((ni) => ni.privateIpv4Address)?.privateIpv4Address;
  if (fromContainer) return fromContainer;
  const eni = detail.attachments?.find((a) => a.type === 'eni' || a.type === 'ElasticNetworkInterface');
  return eni?.details?.find((d) => d.name === 'privateIPv4Address')?.value;
}

function overrideEnvironment(detail: TaskDetail, containerName: string): Record<string, string> {
  const override = detail.overrides?.containerOverrides?.find((o) => o.name === containerName);
  return Object.fromEntries((override?.environment ?? []).map((e) => [e.name, e.value ?? '']));
}

/** Derives the TF Serving endpoints of a task from its event and, when known, its task definition. */
export function deriveEndpoints(detail: TaskDetail, options: DeriveOptions): EndpointDerivation {
  const endpoints: EndpointRegistration[] = [];
  const skipped: { container: string; reason: string }[] = [];
  const definitions = new Map(options.taskDefinition?.containers.map((c) => [c.name, c]));
  const names = new Set(options.tfservingContainerNames);

  for (const container of detail.containers) {
    const definition = definitions.get(container.name);
    const environment = { ...definition?.environment, ...overrideEnvironment(detail, container.name) };
    const labels = definition?.dockerLabels ?? {};
    const declaredModels = unique([
      ...list(environment.MODEL_NAME),
      ...list(environment.TFSERVING_MODELS),
      ...list(labels['tfserving.models']),
    ]);
    const image = container.image ?? definition?.image;
    const looksLikeTfServing =
      isTfServingImage(image) || names.has(container.name) || declaredModels.length > 0;
    if (!looksLikeTfServing) continue;

    let models = declaredModels;
    // Only with the task definition in hand do we know MODEL_NAME is really unset.
    if (models.length === 0 && options.taskDefinition !== undefined && isTfServingImage(image)) {
      models = [OFFICIAL_IMAGE_DEFAULT_MODEL];
    }
    const invalid = models.filter((m) => !isValidName(m));
    models = models.filter(isValidName);
    if (invalid.length > 0) {
      skipped.push({
        container: container.name,
        reason: `invalid model names ignored: ${invalid.join(', ')}`,
      });
    }
    if (models.length === 0) {
      skipped.push({
        container: container.name,
        reason: 'declares no model (MODEL_NAME, TFSERVING_MODELS, tfserving.models)',
      });
      continue;
    }
    const declaredLabels = unique([
      ...list(environment.TFSERVING_LABELS),
      ...list(labels['tfserving.labels']),
    ]).filter(isValidName);

    const ports = containerPorts(definition);
    let host: string | undefined;
    let restPort: number | undefined;
    let grpcPort: number | null;
    const bindings = container.networkBindings ?? [];
    if (bindings.length > 0) {
      // bridge or host mode: host ports on the container instance (duplicate "::" bindings share containerPort).
      const hostPortOf = (port: number | null) => bindings.find((b) => b.containerPort === port)?.hostPort;
      host = options.containerInstanceHost;
      restPort = hostPortOf(ports.rest);
      grpcPort = hostPortOf(ports.grpc) ?? null;
      if (restPort === undefined) {
        skipped.push({
          container: container.name,
          reason: `no host port is bound to REST port ${ports.rest}`,
        });
      } else if (host === undefined) {
        // ECS always sends the instance for the EC2 launch type; a hand-written event may not.
        const reason =
          detail.containerInstanceArn === undefined
            ? 'the container instance address is unknown: the event has no detail.containerInstanceArn (bridge and host mode need it)'
            : 'the container instance address is unknown';
        skipped.push({ container: container.name, reason });
      }
    } else {
      host = awsvpcAddress(detail, container);
      restPort = ports.rest;
      grpcPort = ports.grpc;
    }
    endpoints.push({
      id: endpointId(detail.clusterArn, detail.taskArn, container.name),
      containerName: container.name,
      host,
      restPort,
      grpcPort,
      models,
      labels: declaredLabels,
    });
  }
  return { endpoints, skipped };
}

/** True when ECS has given the endpoint an address the probe can reach. */
export function isAddressable(endpoint: EndpointRegistration): endpoint is EndpointRegistration & {
  host: string;
  restPort: number;
} {
  return endpoint.host !== undefined && endpoint.restPort !== undefined;
}
