import * as z from 'zod/mini';
import { EXCLUSION_REASONS } from './health.ts';
import { LIFECYCLES } from './lifecycle.ts';
import { NOT_APPLIED_REASONS } from './task-events.ts';

/**
 * The discovery API's answers, once (design: "Discovery API"): the domain's answer types are
 * inferred from these schemas, and the OpenAPI document (`functions/adapters/openapi.ts`) is
 * generated from them, so the types, the document and what the tests validate cannot drift apart.
 * Objects are closed: an answer with a field the schema does not name fails validation.
 */

const isoTime = z.iso.datetime();
const version = z.string().check(z.regex(/^\d+$/));
const count = z.int().check(z.nonnegative());
const port = z.int().check(z.gte(1), z.lte(65_535));

/** `stale` answers are last-known-good: `asOf` is the time of the data they were made from. */
function withFreshness<const Shape extends z.core.$ZodLooseShape>(shape: Shape) {
  return z.union([
    z.object({ ...shape, stale: z.literal(false) }),
    z.object({ ...shape, stale: z.literal(true), asOf: isoTime }),
  ]);
}

const endpointShape = {
  id: z.string().check(z.describe('cluster/task id/container name: stable for the task’s life')),
  host: z.string(),
  restPort: port,
  grpcPort: z.nullable(port),
  versions: z.array(version).check(z.describe('AVAILABLE versions, newest first')),
  labels: z
    .record(z.string(), version)
    .check(z.describe('each declared label → the version it resolved to, when the endpoint serves it')),
  availabilityZone: z.nullable(z.string()),
  clusterArn: z.string(),
  taskArn: z.string(),
  lastProbeAt: isoTime.check(z.describe('the last successful probe')),
};

export const EndpointSchema = z.object(endpointShape);

export const ModelEndpointsSchema = withFreshness({
  model: z.string(),
  endpoints: z.array(EndpointSchema),
}).check(z.describe('Healthy endpoints of a model under a selector.'));

export const ModelSummarySchema = z.object({
  name: z.string(),
  endpoints: count,
  versions: z.array(version),
});

export const ModelListSchema = withFreshness({ models: z.array(ModelSummarySchema) }).check(
  z.describe('Every model with at least one healthy endpoint.'),
);

export const EndpointHealthSchema = z.object({
  ...endpointShape,
  host: z.nullable(z.string()).check(z.describe('null while the task has no address yet')),
  restPort: z.nullable(port),
  versions: z.array(version).check(z.describe('AVAILABLE versions its last successful probe saw')),
  labels: z.record(z.string(), version).check(z.describe('each declared label → version, as last resolved')),
  lastProbeAt: z.nullable(isoTime).check(z.describe('the latest probe, successful or not')),
  served: z.boolean(),
  reason: z.nullable(z.enum(EXCLUSION_REASONS)).check(z.describe('why it is not served; null when it is')),
  lifecycle: z.enum(LIFECYCLES).check(z.describe('the ECS lifecycle the registry last applied')),
  consecutiveFailures: count,
  lastError: z.nullable(z.string()),
  lastSuccessAt: z.nullable(isoTime),
});

export const ModelHealthSchema = withFreshness({
  model: z.string(),
  endpoints: z.array(EndpointHealthSchema),
}).check(z.describe('Every registered endpoint of a model, served or not.'));

export const ErrorSchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

/** Local mode's `GET /status/models`: every model a running task declares, healthy or not. */
export const KnownModelsSchema = z.object({ models: z.array(z.string()) });

/** Local mode's `POST /events` answers: accepted (202) and a store that did not answer (503). */
const TaskEventAnswerShape = {
  taskArn: z.string(),
  taskVersion: count,
  lifecycle: z.enum(LIFECYCLES),
  endpoints: z
    .array(
      z.object({
        id: z.string(),
        host: z.nullable(z.string()),
        restPort: z.nullable(port),
        grpcPort: z.nullable(port),
        models: z.array(z.string()),
      }),
    )
    .check(z.describe('the endpoints the event names')),
  unregistered: z.optional(
    z
      .array(z.object({ container: z.string(), reason: z.string() }))
      .check(z.describe('containers that look like TF Serving but could not be registered, with why')),
  ),
  probes: z
    .array(
      z.object({
        endpointId: z.string(),
        model: z.string(),
        ok: z.boolean(),
        versions: z.optional(z.array(version)),
        error: z.optional(z.string()),
      }),
    )
    .check(z.describe('the probes run at once for newly registered endpoints')),
};

/** What `POST /events` says of one event. */
export const EventAnswerSchema = z.union([
  z.object({ status: z.literal('applied'), ...TaskEventAnswerShape }),
  z.object({
    status: z.literal('skipped'),
    reason: z.enum(NOT_APPLIED_REASONS),
    detail: z.string().check(z.describe('why, in a sentence')),
    ...TaskEventAnswerShape,
  }),
  z.object({ status: z.literal('ignored'), detailType: z.string() }),
]);

export const EventsAcceptedSchema = z.object({
  accepted: count.check(z.describe('events in the body')),
  ignored: count.check(z.describe('events that are not ECS task state changes')),
  applied: count,
  skipped: count.check(z.describe('task events that changed nothing: the registry holds a later state')),
  results: z.array(EventAnswerSchema).check(z.describe('what each event did, in order')),
});

export const EventsUnavailableSchema = z.object({
  error: z.object({ code: z.literal('RegistryUnavailable'), message: z.string() }),
  applied: count.check(z.describe('events of the batch applied before the store stopped answering')),
});

export type Endpoint = z.infer<typeof EndpointSchema>;
export type EventAnswer = z.infer<typeof EventAnswerSchema>;
export type ModelEndpoints = z.infer<typeof ModelEndpointsSchema>;
export type ModelSummary = z.infer<typeof ModelSummarySchema>;
export type ModelList = z.infer<typeof ModelListSchema>;
export type EndpointHealth = z.infer<typeof EndpointHealthSchema>;
export type ModelHealth = z.infer<typeof ModelHealthSchema>;
export type Freshness = { readonly stale: false } | { readonly stale: true; readonly asOf: string };
