import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import {
  answerKey,
  contentEtag,
  type DiscoveryAnswer,
  type DiscoveryDeps,
  findEndpoints,
  healthAnswerKey,
  listModels,
  type ModelEndpoints,
  type ModelList,
  modelHealth,
  routingEtag,
  type Selector,
  withLastKnown,
} from '../../domain/discovery.ts';
import { MethodNotAllowedError, RequestError, StoreUnavailableError } from '../../domain/errors.ts';
import { requireName, requireVersion } from '../../domain/names.ts';
import {
  DISCOVERY_METHODS,
  type DiscoveryRoute,
  isDiscoveryRoute,
  ROUTES_HELP,
} from '../../domain/routes.ts';
import {
  errorResponse,
  etagMatches,
  type HttpResponse,
  headerValue,
  jsonResponse,
  jsonTextResponse,
} from '../http.ts';
import { loggers, metrics, publishRecordedMetrics } from '../observability.ts';
import { openApiDocument } from '../openapi.ts';

const logger = loggers.discovery;

/**
 * API Gateway REST API (v1) proxy handler: the discovery routes of the design. It fails open:
 * when the store does not answer within its deadline, the last answer this container computed
 * for the same request is served again, marked stale; with none, a 503 the client may retry.
 */

type DiscoveryEvent = Pick<APIGatewayProxyEvent, 'httpMethod' | 'resource' | 'pathParameters' | 'headers'>;

type PathParameters = Readonly<Record<string, string | undefined>>;

/** What each route answers: the model list, a model's endpoints under a selector, its health, the API document. */
const ANSWERS: Record<DiscoveryRoute, (deps: DiscoveryDeps, params: PathParameters) => Promise<Answer>> = {
  '/models': (deps) =>
    routingAnswer(withLastKnown(deps.answers, answerKey(undefined), deps.now, () => listModels(deps))),
  '/models/{model}': (deps, params) => endpointsOf(deps, params, { kind: 'model' }),
  '/models/{model}/versions/{version}': (deps, params) =>
    endpointsOf(deps, params, { kind: 'version', version: requireVersion(params.version) }),
  '/models/{model}/labels/{label}': (deps, params) =>
    endpointsOf(deps, params, { kind: 'label', label: requireName('label', params.label) }),
  '/models/{model}/health': async (deps, params) => {
    const model = requireName('model', params.model);
    const { body, fromCache } = await withLastKnown(deps.answers, healthAnswerKey(model), deps.now, () =>
      modelHealth(deps, model),
    );
    return { body, fromCache, etag: contentEtag(body.endpoints) };
  },
  '/openapi.json': async () => {
    const document = openApiDocument();
    return { body: document, fromCache: false, etag: contentEtag(document) };
  },
};

interface Answer {
  readonly body: DiscoveryAnswer | object;
  /** Served from this container's last known answer (the store did not answer). */
  readonly fromCache: boolean;
  readonly etag: string;
  /** The body as JSON, when already serialized. */
  readonly text?: string;
}

/**
 * The ETag and JSON text of an answer the domain handed out before (it hands the same object out
 * again while nothing changed): hashed and serialized once, not per request.
 */
const rendered = new WeakMap<object, { etag: string; text: string }>();

function renderedOf(body: ModelEndpoints | ModelList): { etag: string; text: string } {
  let known = rendered.get(body);
  if (known === undefined) {
    known = { etag: routingEtag(body), text: JSON.stringify(body) };
    rendered.set(body, known);
  }
  return known;
}

async function routingAnswer(
  answer: Promise<{ body: ModelEndpoints | ModelList; fromCache: boolean }>,
): Promise<Answer> {
  const { body, fromCache } = await answer;
  const { etag, text } = renderedOf(body);
  return { body, fromCache, etag, text };
}

function endpointsOf(deps: DiscoveryDeps, params: PathParameters, selector: Selector): Promise<Answer> {
  const model = requireName('model', params.model);
  return routingAnswer(
    withLastKnown(deps.answers, answerKey(model, selector), deps.now, () =>
      findEndpoints(deps, model, selector),
    ),
  );
}

function countAnswer({ body, fromCache }: Answer): void {
  if (fromCache) metrics.addMetric('DiscoveryLastKnownAnswers', MetricUnit.Count, 1);
  if ('stale' in body && body.stale) metrics.addMetric('DiscoveryStaleAnswers', MetricUnit.Count, 1);
}

/** No answer to fall back on: counted, then the shared 503. */
function unavailable(error: StoreUnavailableError): HttpResponse {
  metrics.addMetric('DiscoveryUnavailableAnswers', MetricUnit.Count, 1);
  if (error.timedOut) metrics.addMetric('StoreDeadlineExceeded', MetricUnit.Count, 1);
  return errorResponse(error, logger);
}

/** Answers one discovery request; never throws. */
export async function answerDiscovery(deps: DiscoveryDeps, event: DiscoveryEvent): Promise<HttpResponse> {
  try {
    const resource = event.resource;
    if (!isDiscoveryRoute(resource)) {
      throw new RequestError(404, 'RouteNotFound', `No such route: see ${ROUTES_HELP}.`);
    }
    if (!(DISCOVERY_METHODS as readonly string[]).includes(event.httpMethod)) {
      throw new MethodNotAllowedError(event.httpMethod, DISCOVERY_METHODS, 'the discovery API is read-only');
    }
    const answer = await ANSWERS[resource](deps, event.pathParameters ?? {});
    countAnswer(answer);
    const { body, etag } = answer;
    const headers = { etag, 'cache-control': 'no-cache' };
    if (etagMatches(headerValue(event.headers, 'if-none-match'), etag)) {
      return { statusCode: 304, headers, body: '' };
    }
    return answer.text === undefined
      ? jsonResponse(200, body, headers)
      : jsonTextResponse(200, answer.text, headers);
  } catch (error) {
    if (error instanceof StoreUnavailableError) return unavailable(error);
    return errorResponse(error, logger);
  }
}

/** Builds the Lambda handler over a registry (the local runtime passes its own). */
export function createDiscoveryHandler(deps: DiscoveryDeps) {
  return middy(
    async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => answerDiscovery(deps, event),
  )
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(publishRecordedMetrics());
}
