import { readFileSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { EcsEventBatchResult, EcsEventResult } from '../../functions/adapters/edges/ecs-events.ts';
import { errorResponse, type HttpResponse, jsonResponse } from '../../functions/adapters/http.ts';
import { loggers } from '../../functions/adapters/observability.ts';
import type { EventAnswer } from '../../functions/domain/api-schemas.ts';
import { setBounded } from '../../functions/domain/bounded-map.ts';
import { parseEventBatch } from '../../functions/domain/ecs-task-event.ts';
import { MethodNotAllowedError, RequestError } from '../../functions/domain/errors.ts';
import { isLocalRoute, type LocalRoute, matchRoute } from '../../functions/domain/routes.ts';
import { localContext } from './local-context.ts';

/**
 * Local mode's HTTP front: API Gateway's routing for the discovery routes (the same handler gets
 * the same event shape), `POST /events` for EventBridge events, applied before the answer, and the
 * status page (`GET /`, `infra/local/status-page.html`) with the known-models list it reads.
 */

type Handler<E, R> = (event: E, context: Context) => Promise<R>;

export interface LocalHandlers {
  readonly discovery: Handler<APIGatewayProxyEvent, APIGatewayProxyResult>;
  /** Applies a validated batch of events in order, then rebuilds each model's snapshot they touched once. */
  readonly ecsEventBatch: Handler<readonly unknown[], EcsEventBatchResult>;
  /** Every model a running task declares (the status page lists their health). */
  readonly knownModels: () => Promise<string[]>;
}

/**
 * What `POST /events` says of one event: `ignored` (not an ECS task state change), `applied`, or
 * `skipped` with the reason the registry kept it from applying; the endpoints it named, the
 * containers it could not register and why, and the probes it ran at once.
 */
export function eventAnswer(result: EcsEventResult): EventAnswer {
  if ('status' in result) return { status: 'ignored', detailType: result.detailType };
  const common = {
    taskArn: result.taskArn,
    taskVersion: result.taskVersion,
    lifecycle: result.lifecycle,
    endpoints: result.endpoints.map(({ id, host, restPort, grpcPort, models }) => ({
      id,
      host: host ?? null,
      restPort: restPort ?? null,
      grpcPort,
      models: [...models],
    })),
    ...(result.skipped.length > 0 ? { unregistered: [...result.skipped] } : {}),
    probes: result.probes.map((probe) => ({
      endpointId: probe.endpointId,
      model: probe.model,
      ok: probe.ok,
      ...(probe.ok ? { versions: probe.versions } : { error: probe.reason }),
    })),
  };
  if (result.notApplied === undefined) return { status: 'applied', ...common };
  return {
    status: 'skipped',
    reason: result.notApplied.reason,
    detail: result.notApplied.message,
    ...common,
  };
}

const STATUS_PAGE = readFileSync(new URL('./status-page.html', import.meta.url), 'utf8');

const MAX_EVENTS_BODY_BYTES = 5 * 1024 * 1024;

function apiGatewayEvent(request: IncomingMessage, url: URL): APIGatewayProxyEvent {
  const { resource, pathParameters } = matchRoute(url.pathname);
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
    const values = Array.isArray(value) ? value : [value];
    headers[name] = values.join(',');
    multiValueHeaders[name] = values;
  }
  const query = url.searchParams.size > 0 ? Object.fromEntries(url.searchParams) : null;
  return {
    resource,
    path: url.pathname,
    httpMethod: request.method ?? 'GET',
    headers,
    multiValueHeaders,
    queryStringParameters: query,
    multiValueQueryStringParameters: null,
    pathParameters,
    stageVariables: null,
    body: null,
    isBase64Encoded: false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      stage: 'local',
      requestId: crypto.randomUUID(),
      requestTimeEpoch: Date.now(),
      resourceId: 'local',
      resourcePath: resource,
      httpMethod: request.method ?? 'GET',
      path: url.pathname,
      protocol: `HTTP/${request.httpVersion}`,
      authorizer: null,
      identity: {
        sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
        userAgent: request.headers['user-agent'] ?? null,
      },
    } as unknown as APIGatewayProxyEvent['requestContext'],
  };
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_EVENTS_BODY_BYTES) {
      throw new RequestError(
        413,
        'PayloadTooLarge',
        `The body is larger than ${MAX_EVENTS_BODY_BYTES} bytes.`,
      );
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function postEvents(handlers: LocalHandlers, request: IncomingMessage): Promise<HttpResponse> {
  if (request.method !== 'POST') {
    throw new MethodNotAllowedError(
      request.method ?? '',
      ['POST'],
      'post one EventBridge event or an array of them to /events',
    );
  }
  const text = await readBody(request);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new RequestError(400, 'InvalidJson', `The body is not JSON: ${(error as Error).message}`);
  }
  try {
    // The whole batch is validated before any event is applied: one bad event rejects it all.
    parseEventBatch(body);
  } catch (error) {
    throw new RequestError(400, 'InvalidEvent', (error as Error).message);
  }
  const events: unknown[] = Array.isArray(body) ? body : [body];
  const { results, unavailable } = await handlers.ecsEventBatch(events, localContext('ecs-events'));
  if (unavailable !== undefined) {
    // 503 with Retry-After; events are idempotent, so the batch can simply be posted again.
    const answer = errorResponse(unavailable, loggers['ecs-events']);
    return { ...answer, body: JSON.stringify({ ...JSON.parse(answer.body), applied: results.length }) };
  }
  const answers = results.map(eventAnswer);
  const count = (status: string) => answers.filter((answer) => answer.status === status).length;
  return jsonResponse(202, {
    accepted: events.length,
    ignored: count('ignored'),
    applied: count('applied'),
    skipped: count('skipped'),
    results: answers,
  });
}

/** A read-only local route: GET (and HEAD, the same answer without a body) only. */
function requireRead(request: IncomingMessage, what: string): void {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    throw new MethodNotAllowedError(request.method ?? '', ['GET', 'HEAD'], what);
  }
}

const LOCAL_ANSWERS: Record<
  LocalRoute,
  (handlers: LocalHandlers, request: IncomingMessage) => Promise<HttpResponse>
> = {
  '/events': postEvents,
  '/': async (_, request) => {
    requireRead(request, 'the status page is read-only');
    return {
      statusCode: 200,
      headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' },
      body: STATUS_PAGE,
    };
  },
  '/status/models': async (handlers, request) => {
    requireRead(request, 'the model list is read-only');
    return jsonResponse(200, { models: await handlers.knownModels() }, { 'cache-control': 'no-cache' });
  },
};

async function route(handlers: LocalHandlers, request: IncomingMessage): Promise<HttpResponse> {
  const url = new URL(request.url ?? '/', 'http://127.0.0.1');
  if (isLocalRoute(url.pathname)) return LOCAL_ANSWERS[url.pathname](handlers, request);
  const result = await handlers.discovery(apiGatewayEvent(request, url), localContext('discovery'));
  return {
    statusCode: result.statusCode,
    headers: (result.headers ?? {}) as Record<string, string>,
    body: result.body,
  };
}

/**
 * Bodies sent recently, as bytes: discovery hands out the same answer text while nothing changed,
 * so a hot model's answer is encoded once, not per request. A few entries; the oldest go first.
 */
const encodedBodies = new Map<string, Buffer>();
const ENCODED_BODIES = 32;
const MAX_ENCODED_BODY_BYTES = 1 << 20;

function encoded(body: string): Buffer {
  let bytes = encodedBodies.get(body);
  if (bytes === undefined) {
    bytes = Buffer.from(body);
    if (bytes.byteLength <= MAX_ENCODED_BODY_BYTES) setBounded(encodedBodies, body, bytes, ENCODED_BODIES);
  }
  return bytes;
}

function send(response: ServerResponse, answer: HttpResponse): void {
  if (answer.statusCode === 304) {
    response.writeHead(304, answer.headers);
    response.end();
    return;
  }
  const body = encoded(answer.body);
  // A known length, as API Gateway sends it: without one Node frames the body in chunks.
  response.writeHead(answer.statusCode, { ...answer.headers, 'content-length': String(body.byteLength) });
  // Node sends no body for HEAD requests by itself.
  response.end(body);
}

export function createLocalServer(handlers: LocalHandlers): http.Server {
  return http.createServer((request, response) => {
    route(handlers, request)
      .catch((error: unknown) => errorResponse(error, loggers.local))
      .then((answer) => send(response, answer))
      .catch((error: unknown) => loggers.local.error('response failed', { error: String(error) }));
  });
}
