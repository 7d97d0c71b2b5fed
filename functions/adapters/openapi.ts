import * as z from 'zod/mini';
import {
  EndpointHealthSchema,
  EndpointSchema,
  ErrorSchema,
  EventsAcceptedSchema,
  EventsUnavailableSchema,
  KnownModelsSchema,
  ModelEndpointsSchema,
  ModelHealthSchema,
  ModelListSchema,
  ModelSummarySchema,
} from '../domain/api-schemas.ts';
import {
  DISCOVERY_METHODS,
  DISCOVERY_ROUTES,
  type DiscoveryRoute,
  type LocalRoute,
  routeParameters,
} from '../domain/routes.ts';

/**
 * The API's OpenAPI 3.1 document (`GET /openapi.json`), generated from the routes table and the
 * answers' schemas (`functions/domain/api-schemas.ts`, through zod's own JSON Schema output), so
 * a route or a field cannot be added without appearing here. The tests validate every answer they
 * see against it (`test/support/kit/openapi.ts`).
 */

/** The answers' schemas, by the component name the document gives them. */
const COMPONENTS = {
  Endpoint: EndpointSchema,
  ModelEndpoints: ModelEndpointsSchema,
  ModelSummary: ModelSummarySchema,
  ModelList: ModelListSchema,
  EndpointHealth: EndpointHealthSchema,
  ModelHealth: ModelHealthSchema,
  Error: ErrorSchema,
  EventsAccepted: EventsAcceptedSchema,
  EventsUnavailable: EventsUnavailableSchema,
  KnownModels: KnownModelsSchema,
} as const;

type Component = keyof typeof COMPONENTS;

interface RouteDoc {
  readonly summary: string;
  readonly description: string;
  /** The component of its 200 answer; undefined for the document itself. */
  readonly answer: Component | undefined;
  /** False for an answer that needs no store (the document). */
  readonly readsStore: boolean;
}

/** What each route answers, in words: a new route in the table must be described here. */
const ROUTE_DOCS: Readonly<Record<DiscoveryRoute, RouteDoc>> = {
  '/models': {
    summary: 'List the models',
    description:
      'Every model with at least one healthy endpoint; `endpoints` counts them. Reads the task list, then one Query per known model.',
    answer: 'ModelList',
    readsStore: true,
  },
  '/models/{model}': {
    summary: "A model's healthy endpoints",
    description:
      'Healthy endpoints serving any AVAILABLE version of the model. A known model with nothing healthy is `200` with no endpoints.',
    answer: 'ModelEndpoints',
    readsStore: true,
  },
  '/models/{model}/versions/{version}': {
    summary: "A model version's healthy endpoints",
    description: 'Healthy endpoints where that version is AVAILABLE (`007` is `7`).',
    answer: 'ModelEndpoints',
    readsStore: true,
  },
  '/models/{model}/labels/{label}': {
    summary: "A model label's healthy endpoints",
    description: 'Healthy endpoints where the label resolves to a version they serve.',
    answer: 'ModelEndpoints',
    readsStore: true,
  },
  '/models/{model}/health': {
    summary: 'Every registered endpoint of a model and why it is or is not served',
    description:
      'Every registered endpoint of the model, served or not: `reason` is null when served, otherwise the exclusion reason of the health rules, with the ECS lifecycle and the probe evidence. One Query, as discovery.',
    answer: 'ModelHealth',
    readsStore: true,
  },
  '/openapi.json': {
    summary: 'This document',
    description: 'The OpenAPI 3.1 document of every route, served by the discovery handler itself.',
    answer: undefined,
    readsStore: false,
  },
};

const PARAMETER_SCHEMAS: Readonly<Record<string, object>> = {
  // JSON Schema counts lengths in code points, as the API does.
  name: { type: 'string', minLength: 1, maxLength: 256, pattern: '^[^\\p{Cc}/:]+$' },
  version: { type: 'string', pattern: '^\\d{1,256}$', description: 'decimal digits that fit in int64' },
};

const ref = (component: Component) => ({ $ref: `#/components/schemas/${component}` });
const json = (component: Component) => ({ 'application/json': { schema: ref(component) } });
const error = (description: string) => ({ description, content: json('Error') });
const header = (description: string, schema: object = { type: 'string' }) => ({ description, schema });

const METHOD_NOT_ALLOWED = {
  description: 'Another method (`MethodNotAllowed`); `Allow` names the ones the route answers.',
  headers: { Allow: header('the methods the route answers') },
  content: json('Error'),
};

const INTERNAL_ERROR = error('An unexpected failure (`InternalError`); the details are logged, never sent.');

function discoveryOperation(route: DiscoveryRoute, method: (typeof DISCOVERY_METHODS)[number]) {
  const doc = ROUTE_DOCS[route];
  const parameters = routeParameters(route).map((name) => ({
    name,
    in: 'path',
    required: true,
    schema: PARAMETER_SCHEMAS[name === 'version' ? 'version' : 'name'],
  }));
  const body = (content: object) => (method === 'HEAD' ? {} : { content });
  const okContent =
    doc.answer === undefined
      ? { 'application/json': { schema: { type: 'object', description: 'an OpenAPI 3.1 document' } } }
      : json(doc.answer);
  return {
    operationId: `${method.toLowerCase()}${route.replaceAll(/[{}]/g, '').replaceAll(/[/.](\w)/g, (_, c: string) => c.toUpperCase())}`,
    summary: method === 'HEAD' ? `${doc.summary} (headers only)` : doc.summary,
    description: doc.description,
    ...(parameters.length > 0 ? { parameters } : {}),
    responses: {
      '200': {
        description: 'The answer.',
        headers: {
          ETag: header('weak; If-None-Match with it gets 304 while the answer is unchanged'),
          'Cache-Control': header('no-cache'),
        },
        ...body(okContent),
      },
      '304': { description: 'Not modified: If-None-Match named the current ETag.' },
      ...(parameters.length > 0 ? { '400': error('Invalid input: a model name, label or version.') } : {}),
      '404': error(
        route.startsWith('/models/{model}')
          ? 'No running task declares the model (`ModelNotFound`).'
          : 'No such route.',
      ),
      '405': METHOD_NOT_ALLOWED,
      '500': INTERNAL_ERROR,
      ...(doc.readsStore
        ? {
            '503': {
              description:
                'The store did not answer in time and this process has no last answer to give (`RegistryUnavailable`).',
              headers: { 'Retry-After': header('seconds', { type: 'integer' }) },
              ...body(json('Error')),
            },
          }
        : {}),
    },
  };
}

const LOCAL_ONLY = 'Only `npm start` answers it; it is not deployed behind API Gateway.';

const UNAVAILABLE = {
  description: 'The store did not answer in time (`RegistryUnavailable`).',
  headers: { 'Retry-After': { description: 'seconds', schema: { type: 'integer' } } },
  content: json('Error'),
};

/** A read-only local route's GET and HEAD. */
function localRead(
  operationId: string,
  summary: string,
  description: string,
  ok: object,
  readsStore: boolean,
) {
  const operation = (method: 'get' | 'head') => ({
    operationId: `${method}${operationId}`,
    summary: method === 'head' ? `${summary} (headers only)` : summary,
    description: `${description} ${LOCAL_ONLY}`,
    'x-local-only': true,
    responses: {
      '200': { description: 'The answer.', ...(method === 'head' ? {} : { content: ok }) },
      '405': METHOD_NOT_ALLOWED,
      '500': INTERNAL_ERROR,
      ...(readsStore ? { '503': UNAVAILABLE } : {}),
    },
  });
  return { get: operation('get'), head: operation('head') };
}

/** Local mode's own routes: EventBridge events in, the status page and the list it reads. */
const LOCAL_PATHS: Readonly<Record<LocalRoute, object>> = {
  '/': localRead(
    'StatusPage',
    'The status page',
    'An HTML page listing every known model and its endpoints, served or excluded with the reason and the last error, refreshing itself from `/status/models` and the health API.',
    { 'text/html': { schema: { type: 'string' } } },
    false,
  ),
  '/status/models': localRead(
    'KnownModels',
    'Every known model',
    'Every model a running task declares, healthy or not (`GET /models` lists only models with a healthy endpoint).',
    json('KnownModels'),
    true,
  ),
  '/events': {
    post: {
      operationId: 'postEvents',
      summary: 'Apply EventBridge events (local mode only)',
      description:
        'One EventBridge event or an array, as EventBridge delivers them to a Lambda target. The batch is validated whole before any event is applied; events of other kinds are accepted and ignored. On AWS, EventBridge invokes the ecs-events function instead.',
      'x-local-only': true,
      requestBody: {
        required: true,
        content: {
          'application/json': {
            schema: {
              oneOf: [
                { $ref: '#/components/schemas/EventBridgeEvent' },
                { type: 'array', items: { $ref: '#/components/schemas/EventBridgeEvent' } },
              ],
            },
          },
        },
      },
      responses: {
        '202': { description: 'Validated and applied.', content: json('EventsAccepted') },
        '400': error('Malformed JSON, not an event, or an ECS task event that fails validation.'),
        '405': METHOD_NOT_ALLOWED,
        '413': error('The body is larger than 5 MiB.'),
        '500': INTERNAL_ERROR,
        '503': {
          description:
            'The store did not answer; `applied` events went in. Events are idempotent: post again.',
          headers: { 'Retry-After': header('seconds', { type: 'integer' }) },
          content: json('EventsUnavailable'),
        },
      },
    },
  },
};

const EVENTBRIDGE_EVENT = {
  type: 'object',
  description:
    'An EventBridge event; `aws.ecs` / `ECS Task State Change` events are applied, others ignored.',
  required: ['detail-type', 'source', 'detail'],
  properties: {
    'detail-type': { type: 'string' },
    source: { type: 'string' },
    id: { type: 'string' },
    detail: {},
  },
};

/** The answers' schemas as OpenAPI components, nested schemas as `$ref`s between them. */
function componentSchemas(): Record<string, unknown> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(COMPONENTS)) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, {
    target: 'draft-2020-12',
    io: 'output',
    uri: (id) => `#/components/schemas/${id}`,
  });
  return Object.fromEntries(
    // The dialect is the document's, and `$id`s would be fragment-only: OpenAPI names them by key.
    Object.entries(schemas).map(([id, { $schema: _dialect, $id: _id, ...schema }]) => [id, schema]),
  );
}

function buildDocument() {
  const paths: Record<string, unknown> = {};
  for (const route of DISCOVERY_ROUTES) {
    paths[route] = Object.fromEntries(
      DISCOVERY_METHODS.map((method) => [method.toLowerCase(), discoveryOperation(route, method)]),
    );
  }
  Object.assign(paths, LOCAL_PATHS);
  return {
    openapi: '3.1.1',
    info: {
      title: 'tf-serving-registry discovery API',
      version: '1',
      description:
        'Which TensorFlow Serving endpoints on Amazon ECS can serve a model (version, label) now, and why the others cannot. The same routes behind API Gateway (IAM-authorized unless deployed with API_AUTH=none) and in local mode (`npm start`, open).',
    },
    servers: [{ url: './', description: 'where this document is served from' }],
    paths,
    components: {
      schemas: { ...componentSchemas(), EventBridgeEvent: EVENTBRIDGE_EVENT },
      securitySchemes: {
        sigv4: {
          type: 'apiKey',
          name: 'Authorization',
          in: 'header',
          description: 'AWS Signature Version 4 for execute-api (API_AUTH=iam); local mode has no auth.',
          'x-amazon-apigateway-authtype': 'awsSigv4',
        },
      },
    },
    // Either signed (AWS, API_AUTH=iam) or open (local mode, API_AUTH=none).
    security: [{ sigv4: [] }, {}],
  };
}

let document: ReturnType<typeof buildDocument> | undefined;

/** The document, built on first use (its schema conversion is not worth a cold start's time). */
export function openApiDocument(): ReturnType<typeof buildDocument> {
  document ??= buildDocument();
  return document;
}
