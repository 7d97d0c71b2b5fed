import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import {
  answerKey,
  type DiscoveryDeps,
  findEndpoints,
  listModels,
  type ModelEndpoints,
  type ModelList,
  routingEtag,
  type Selector,
  withLastKnown,
} from '../../domain/discovery.ts';
import { RequestError, StoreUnavailableError } from '../../domain/errors.ts';
import { requireName, requireVersion } from '../../domain/names.ts';
import { errorResponse, etagMatches, type HttpResponse, headerValue, jsonResponse } from '../http.ts';
import { logger, metrics } from '../observability.ts';

/**
 * API Gateway REST API (v1) proxy handler: the discovery routes of the design. It fails open:
 * when the store does not answer within its deadline, the last answer this container computed
 * for the same request is served again, marked stale; with none, a 503 the client may retry.
 */

type DiscoveryEvent = Pick<APIGatewayProxyEvent, 'httpMethod' | 'resource' | 'pathParameters' | 'headers'>;

async function route(deps: DiscoveryDeps, event: DiscoveryEvent) {
  const params = event.pathParameters ?? {};
  if (event.resource === '/models') {
    return withLastKnown(deps.answers, answerKey(undefined), deps.now, () => listModels(deps));
  }
  const model = requireName('model', params.model);
  let selector: Selector;
  switch (event.resource) {
    case '/models/{model}':
      selector = { kind: 'model' };
      break;
    case '/models/{model}/versions/{version}':
      selector = { kind: 'version', version: requireVersion(params.version) };
      break;
    case '/models/{model}/labels/{label}':
      selector = { kind: 'label', label: requireName('label', params.label) };
      break;
    default:
      throw new RequestError(404, 'RouteNotFound', `No route for ${event.resource}.`);
  }
  return withLastKnown(deps.answers, answerKey(model, selector), deps.now, () =>
    findEndpoints(deps, model, selector),
  );
}

const ROUTES = new Set([
  '/models',
  '/models/{model}',
  '/models/{model}/versions/{version}',
  '/models/{model}/labels/{label}',
]);

function countAnswer(body: ModelEndpoints | ModelList, fromCache: boolean): void {
  if (fromCache) metrics.addMetric('DiscoveryLastKnownAnswers', MetricUnit.Count, 1);
  if (body.stale) metrics.addMetric('DiscoveryStaleAnswers', MetricUnit.Count, 1);
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
    if (!ROUTES.has(event.resource)) {
      throw new RequestError(
        404,
        'RouteNotFound',
        'No such route: see GET /models, /models/{model}[/versions/{version}|/labels/{label}].',
      );
    }
    if (event.httpMethod !== 'GET') {
      throw new RequestError(
        405,
        'MethodNotAllowed',
        `${event.httpMethod} is not allowed: the discovery API is read-only (GET).`,
      );
    }
    const { body, fromCache } = await route(deps, event);
    countAnswer(body, fromCache);
    const etag = routingEtag(body);
    const headers = { etag, 'cache-control': 'no-cache' };
    if (etagMatches(headerValue(event.headers, 'if-none-match'), etag)) {
      return { statusCode: 304, headers, body: '' };
    }
    return jsonResponse(200, body, headers);
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
    .use(logMetrics(metrics));
}
