import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import { answerDiscovery as answerUnchecked } from '../../../../../functions/adapters/edges/discovery-api.ts';
import type { DiscoveryDeps } from '../../../../../functions/domain/discovery.ts';
import { StoreUnavailableError } from '../../../../../functions/domain/errors.ts';
import { testDiscoveryDeps } from '../../../../support/kit/deps.ts';
import { loadEvent } from '../../../../support/kit/events.ts';
import { failingStore, InMemoryRegistryStore } from '../../../../support/kit/in-memory-store.ts';
import { assertDocumented } from '../../../../support/kit/openapi.ts';
import { probeRecord, registration, taskRecord } from '../../../../support/kit/records.ts';

const NOW = Date.parse('2026-05-04T10:05:00.000Z');

type Fixture = 'get-model' | 'get-version' | 'get-label' | 'list-models' | 'get-health';

function request(name: Fixture, patch: Partial<APIGatewayProxyEvent> = {}): APIGatewayProxyEvent {
  return { ...loadEvent<APIGatewayProxyEvent>('apigw-rest', name), ...patch };
}

/** A store holding one healthy resnet endpoint serving versions 2 and 1, with the label stable → 2. */
function servingStore(): InMemoryRegistryStore {
  return InMemoryRegistryStore.holding({
    tasks: [taskRecord('a', ['resnet'])],
    registrations: [registration('a', 'resnet')],
    probes: [probeRecord('a', 'resnet', NOW, { versions: ['2', '1'], labels: { stable: '2' } })],
  });
}

/** Discovery at the default settings over {@link servingStore}. */
function deps(): DiscoveryDeps {
  return testDiscoveryDeps({ store: servingStore(), now: () => NOW });
}

/** The edge's answer, checked against the OpenAPI document for its route and status. */
async function answerDiscovery(...args: Parameters<typeof answerUnchecked>) {
  const response = await answerUnchecked(...args);
  const [, event] = args;
  assertDocumented({
    method: event.httpMethod,
    path: event.resource,
    status: response.statusCode,
    contentType: response.headers['content-type'] ?? null,
    // The HTTP layer drops a HEAD answer's body.
    body: event.httpMethod === 'HEAD' ? '' : response.body,
  });
  return response;
}

function body(response: { body: string }) {
  return JSON.parse(response.body) as Record<string, unknown>;
}

describe('answerDiscovery', () => {
  it('answers GET /models/{model} with the endpoints, a weak ETag and no-cache', async () => {
    // Act
    const response = await answerDiscovery(deps(), request('get-model'));

    // Assess
    expect(response.statusCode).toBe(200);
    expect(response.headers).toMatchObject({
      'content-type': 'application/json',
      'cache-control': 'no-cache',
      etag: expect.stringMatching(/^W\/"/),
    });
    expect(body(response)).toMatchObject({
      model: 'resnet',
      endpoints: [{ id: 'ml/a/tfserving', versions: ['2', '1'] }],
    });
  });

  it('answers GET /models with the model list', async () => {
    // Act
    const response = await answerDiscovery(deps(), request('list-models'));

    // Assess
    expect(body(response)).toEqual({
      models: [{ name: 'resnet', endpoints: 1, versions: ['2', '1'] }],
      stale: false,
    });
  });

  it('answers GET /models/{model}/labels/{label}', async () => {
    // Act
    const response = await answerDiscovery(deps(), request('get-label'));

    // Assess
    expect(body(response)).toMatchObject({ model: 'resnet', endpoints: [{ id: 'ml/a/tfserving' }] });
  });

  it('compares a requested version in canonical form (007 is 7, 02 is 2)', async () => {
    // Prepare
    const event = request('get-version', { pathParameters: { model: 'resnet', version: '0002' } });

    // Act
    const response = await answerDiscovery(deps(), event);

    // Assess
    expect(response.statusCode).toBe(200);
    expect(body(response)).toMatchObject({ endpoints: [{ id: 'ml/a/tfserving' }] });
  });

  it('returns 304 with the ETag for a matching If-None-Match', async () => {
    // Prepare
    const first = await answerDiscovery(deps(), request('get-model'));
    const etag = first.headers.etag ?? '';
    const event = request('get-model', { headers: { 'If-None-Match': etag } });

    // Act
    const response = await answerDiscovery(deps(), event);

    // Assess
    expect(response).toEqual({ statusCode: 304, headers: expect.objectContaining({ etag }), body: '' });
  });

  it('returns 200 for a stale If-None-Match', async () => {
    // Prepare
    const event = request('get-model', { headers: { 'if-none-match': 'W/"stale"' } });

    // Act
    const response = await answerDiscovery(deps(), event);

    // Assess
    expect(response.statusCode).toBe(200);
  });

  it('returns a 404 ModelNotFound for an unknown model', async () => {
    // Prepare
    const event = request('get-model', { pathParameters: { model: 'bert' } });

    // Act
    const response = await answerDiscovery(deps(), event);

    // Assess
    expect(response.statusCode).toBe(404);
    expect(body(response)).toEqual({ error: { code: 'ModelNotFound', message: expect.any(String) } });
  });

  it.each([
    ['a model name with a colon', 'get-model', { model: 'resnet:predict' }, 'InvalidModelName'],
    ['a model name that is too long', 'get-model', { model: 'm'.repeat(257) }, 'InvalidModelName'],
    ['a model name with U+FFFD', 'get-model', { model: 'res\uFFFDnet' }, 'InvalidModelName'],
    ['a negative version', 'get-version', { model: 'resnet', version: '-1' }, 'InvalidVersion'],
    [
      'an overflowing version',
      'get-version',
      { model: 'resnet', version: '9223372036854775808' },
      'InvalidVersion',
    ],
    ['a label with a slash', 'get-label', { model: 'resnet', label: 'a/b' }, 'InvalidLabelName'],
  ] as const)('returns 400 for %s', async (_, fixture, pathParameters, code) => {
    // Prepare
    const event = request(fixture, { pathParameters: { ...pathParameters } });

    // Act
    const response = await answerDiscovery(deps(), event);

    // Assess
    expect(response.statusCode).toBe(400);
    expect(body(response)).toMatchObject({ error: { code } });
  });

  it('returns 405 with an Allow header for a method other than GET and HEAD', async () => {
    // Act
    const response = await answerDiscovery(deps(), request('get-model', { httpMethod: 'DELETE' }));

    // Assess
    expect(response.statusCode).toBe(405);
    expect(response.headers?.allow).toBe('GET, HEAD');
    expect(body(response)).toMatchObject({ error: { code: 'MethodNotAllowed' } });
  });

  it('answers HEAD as GET (the same status and ETag; the HTTP layer drops the body)', async () => {
    // Prepare
    const registry = deps();

    // Act
    const get = await answerDiscovery(registry, request('list-models'));
    const head = await answerDiscovery(registry, request('list-models', { httpMethod: 'HEAD' }));

    // Assess
    expect(head.statusCode).toBe(200);
    expect(head.headers?.etag).toBe(get.headers?.etag);
  });

  it('returns 404 RouteNotFound for an unknown resource', async () => {
    // Act
    const response = await answerDiscovery(deps(), request('get-model', { resource: '/health' }));

    // Assess
    expect(response.statusCode).toBe(404);
    expect(body(response)).toMatchObject({ error: { code: 'RouteNotFound' } });
  });

  it('answers GET /models/{model}/health with every registered endpoint, served or not', async () => {
    // Prepare
    const store = servingStore();
    await store.putRegistration(registration('b', 'resnet'));
    const registry = testDiscoveryDeps({ store, now: () => NOW });

    // Act
    const response = await answerDiscovery(registry, request('get-health'));

    // Assess
    expect(response.statusCode).toBe(200);
    expect(response.headers.etag).toMatch(/^W\//);
    expect(body(response)).toMatchObject({
      model: 'resnet',
      stale: false,
      endpoints: [
        { id: 'ml/a/tfserving', served: true, reason: null },
        { id: 'ml/b/tfserving', served: false, reason: 'never-probed-ok', lastProbeAt: null },
      ],
    });
  });

  it.each([
    ['an unknown model', { model: 'bert' }, 404, 'ModelNotFound'],
    ['a model name with a colon', { model: 'a:b' }, 400, 'InvalidModelName'],
    ['an empty model name', { model: '' }, 400, 'InvalidModelName'],
  ])('answers the health of %s with %i %s', async (_, pathParameters, status, code) => {
    // Act
    const response = await answerDiscovery(deps(), request('get-health', { pathParameters }));

    // Assess
    expect(response.statusCode).toBe(status);
    expect(body(response)).toMatchObject({ error: { code } });
  });

  it('answers GET /openapi.json with the OpenAPI 3.1 document, and 304 to its ETag', async () => {
    // Prepare
    const event = request('list-models', { resource: '/openapi.json', path: '/openapi.json' });

    // Act
    const response = await answerDiscovery(deps(), event);
    const again = await answerDiscovery(deps(), {
      ...event,
      headers: { 'if-none-match': response.headers.etag },
    });

    // Assess
    expect(response.statusCode).toBe(200);
    expect(body(response)).toMatchObject({ openapi: expect.stringMatching(/^3\.1\./) });
    expect(again.statusCode).toBe(304);
  });

  it('returns a generic 500 when the store fails', async () => {
    // Prepare
    const failing = testDiscoveryDeps({
      store: failingStore(servingStore(), {
        readModel: new Error('ProvisionedThroughputExceededException on table secret'),
      }),
      now: () => NOW,
    });

    // Act
    const response = await answerDiscovery(failing, request('get-model'));

    // Assess
    expect(response.statusCode).toBe(500);
    expect(body(response)).toEqual({
      error: { code: 'InternalError', message: 'The registry could not answer this request.' },
    });
  });

  describe('when the store is unavailable', () => {
    /** `deps` whose store answers once, then times out (as the DynamoDB adapter reports it). */
    function failingAfterFirst(): DiscoveryDeps {
      const store = servingStore();
      const timeout = new StoreUnavailableError(
        'Query',
        Object.assign(new Error('aborted'), { name: 'TimeoutError' }),
      );
      const readModel = store.readModel.bind(store);
      vi.spyOn(store, 'readModel').mockImplementationOnce(readModel).mockRejectedValue(timeout);
      vi.spyOn(store, 'listRunningTasks').mockRejectedValue(timeout);
      return testDiscoveryDeps({ store, now: () => NOW });
    }

    it('answers 200 with the last answer for the same request, marked stale as of when it was made', async () => {
      // Prepare
      const failing = failingAfterFirst();
      const fresh = await answerDiscovery(failing, request('get-model'));

      // Act
      const stale = await answerDiscovery(failing, request('get-model'));

      // Assess
      expect(stale.statusCode).toBe(200);
      expect(body(stale)).toEqual({
        ...body(fresh),
        stale: true,
        asOf: new Date(NOW).toISOString(),
      });
      expect(stale.headers.etag).toBe(fresh.headers.etag);
    });

    it('answers 503 RegistryUnavailable with Retry-After when it has no earlier answer for the request', async () => {
      // Prepare
      const failing = failingAfterFirst();
      await answerDiscovery(failing, request('get-model'));

      // Act: another request (a version) was never answered before.
      const response = await answerDiscovery(failing, request('get-version'));

      // Assess
      expect(response.statusCode).toBe(503);
      expect(response.headers['retry-after']).toBe('1');
      expect(body(response)).toEqual({ error: { code: 'RegistryUnavailable', message: expect.any(String) } });
    });

    it('answers the health route from its last answer, marked stale, then 503 for a model never asked', async () => {
      // Prepare
      const failing = failingAfterFirst();
      const fresh = await answerDiscovery(failing, request('get-health'));

      // Act
      const stale = await answerDiscovery(failing, request('get-health'));
      const never = await answerDiscovery(
        failing,
        request('get-health', { pathParameters: { model: 'bert' } }),
      );

      // Assess
      expect(body(stale)).toEqual({ ...body(fresh), stale: true, asOf: new Date(NOW).toISOString() });
      expect(never.statusCode).toBe(503);
      expect(never.headers['retry-after']).toBe('1');
    });

    it('answers the API document whatever the store does', async () => {
      // Act
      const response = await answerDiscovery(
        failingAfterFirst(),
        request('list-models', { resource: '/openapi.json', path: '/openapi.json' }),
      );

      // Assess
      expect(response.statusCode).toBe(200);
    });

    it('answers 503 for the model list with no earlier answer', async () => {
      // Act
      const response = await answerDiscovery(failingAfterFirst(), request('list-models'));

      // Assess
      expect(response.statusCode).toBe(503);
    });

    it('still answers 400 for bad input without asking the store', async () => {
      // Act
      const response = await answerDiscovery(
        failingAfterFirst(),
        request('get-model', { pathParameters: { model: 'a/b' } }),
      );

      // Assess
      expect(response.statusCode).toBe(400);
    });
  });
});

/**
 * The HTTP API (API_KIND=http) sends payload format 1.0 (`test/fixtures/events/apigw-http-v1/`):
 * the REST proxy event's fields, with the stage in `path`, header names as the client sent them
 * (often lower-case) and the IAM caller in `requestContext.identity`. The edge must answer it as
 * it answers the REST API's event.
 */
describe('answerDiscovery over HTTP API events (payload format 1.0)', () => {
  const REST_OF = {
    'list-models': () => request('list-models'),
    'get-model': () => request('get-model'),
    'get-version': () => request('get-version'),
    'get-label': () => request('get-label'),
    'get-health': () => request('get-health'),
    'get-openapi': () => request('list-models', { resource: '/openapi.json', path: '/openapi.json' }),
  } as const;
  const httpEvent = (name: keyof typeof REST_OF, patch: Partial<APIGatewayProxyEvent> = {}) => ({
    ...loadEvent<APIGatewayProxyEvent>('apigw-http-v1', name),
    ...patch,
  });

  it.each(Object.keys(REST_OF) as (keyof typeof REST_OF)[])(
    'answers %s as it answers the REST API event of the route',
    async (name) => {
      // Act
      const viaHttpApi = await answerDiscovery(deps(), httpEvent(name));
      const viaRestApi = await answerDiscovery(deps(), REST_OF[name]());

      // Assess
      expect(viaHttpApi.statusCode).toBe(200);
      expect(viaHttpApi).toEqual(viaRestApi);
    },
  );

  it('returns 304 to the lower-case if-none-match header an HTTP API passes on', async () => {
    // Prepare
    const first = await answerDiscovery(deps(), httpEvent('get-model'));
    const etag = first.headers.etag ?? '';
    const event = httpEvent('get-model');
    event.headers = { ...event.headers, 'if-none-match': etag };

    // Act
    const response = await answerDiscovery(deps(), event);

    // Assess
    expect(etag).toMatch(/^W\//);
    expect(response).toEqual({ statusCode: 304, headers: expect.objectContaining({ etag }), body: '' });
  });

  it('answers HEAD as GET', async () => {
    // Act
    const get = await answerDiscovery(deps(), httpEvent('get-label'));
    const head = await answerDiscovery(deps(), httpEvent('get-label', { httpMethod: 'HEAD' }));

    // Assess
    expect(head.statusCode).toBe(200);
    expect(head.headers.etag).toBe(get.headers.etag);
  });
});
