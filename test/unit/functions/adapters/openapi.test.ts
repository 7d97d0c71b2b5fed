import { describe, expect, it } from 'vitest';
import { openApiDocument } from '../../../../functions/adapters/openapi.ts';
import { DISCOVERY_ROUTES, LOCAL_ROUTES } from '../../../../functions/domain/routes.ts';
import {
  compileComponentSchemas,
  openApiDocumentProblems,
  responseProblems,
} from '../../../support/kit/openapi.ts';

const ENDPOINT = {
  id: 'ml/a/tfserving',
  host: '10.0.0.1',
  restPort: 8501,
  grpcPort: 8500,
  versions: ['2', '1'],
  labels: { stable: '2' },
  availabilityZone: 'us-east-1a',
  clusterArn: 'arn:aws:ecs:us-east-1:123456789012:cluster/ml',
  taskArn: 'arn:aws:ecs:us-east-1:123456789012:task/ml/a',
  lastProbeAt: '2026-05-04T10:00:00.000Z',
};

function answer(path: string, status: number, body: unknown, method = 'GET') {
  return { method, path, status, contentType: 'application/json', body: JSON.stringify(body) };
}

describe('the OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document by the specification’s own schema', () => {
    // Act + Assess
    expect(openApiDocumentProblems()).toEqual([]);
  });

  it('is checked by a validator that finds an invalid document invalid', () => {
    // Prepare
    const broken = { ...openApiDocument(), openapi: '3.0.3', info: { title: 'no version' } };

    // Act + Assess
    expect(openApiDocumentProblems(broken).length).toBeGreaterThan(0);
  });

  it('has schemas that each compile with a strict Ajv', () => {
    // Act + Assess
    expect(compileComponentSchemas()).toEqual(expect.arrayContaining(['Endpoint', 'ModelHealth', 'Error']));
  });

  it('describes every route of the table with GET and HEAD, and local mode’s POST /events', () => {
    // Act
    const paths = openApiDocument().paths as Record<string, Record<string, unknown>>;

    // Assess
    for (const route of DISCOVERY_ROUTES) expect(Object.keys(paths[route] ?? {})).toEqual(['get', 'head']);
    expect(Object.keys(paths['/events'] ?? {})).toEqual(['post']);
    expect(Object.keys(paths['/'] ?? {})).toEqual(['get', 'head']);
    expect(Object.keys(paths['/status/models'] ?? {})).toEqual(['get', 'head']);
    expect(Object.keys(paths).sort()).toEqual([...DISCOVERY_ROUTES, ...LOCAL_ROUTES].sort());
  });

  it('is served as the same object on every call (built once)', () => {
    // Act + Assess
    expect(openApiDocument()).toBe(openApiDocument());
  });
});

describe('responseProblems', () => {
  it('accepts a documented answer', () => {
    // Act + Assess
    expect(
      responseProblems(
        answer('/models/resnet', 200, { model: 'resnet', endpoints: [ENDPOINT], stale: false }),
      ),
    ).toEqual([]);
  });

  it.each([
    [
      'a field the schema does not name',
      { model: 'resnet', endpoints: [{ ...ENDPOINT, extra: 1 }], stale: false },
    ],
    ['a missing field', { model: 'resnet', endpoints: [{ ...ENDPOINT, taskArn: undefined }], stale: false }],
    ['a stale answer without asOf', { model: 'resnet', endpoints: [], stale: true }],
    [
      'a port that is a string',
      { model: 'resnet', endpoints: [{ ...ENDPOINT, restPort: '8501' }], stale: false },
    ],
    [
      'a time that is not ISO 8601',
      { model: 'resnet', endpoints: [{ ...ENDPOINT, lastProbeAt: 'now' }], stale: false },
    ],
  ])('finds %s', (_, body) => {
    // Act + Assess
    expect(responseProblems(answer('/models/resnet', 200, body)).length).toBeGreaterThan(0);
  });

  it('finds a status the route does not list', () => {
    // Act + Assess
    expect(responseProblems(answer('/openapi.json', 503, { error: { code: 'X', message: 'y' } }))).toEqual([
      expect.stringContaining('does not list'),
    ]);
  });

  it('holds the status page to the media type the document names', () => {
    // Act + Assess
    expect(
      responseProblems({
        ...answer('/', 200, ''),
        contentType: 'text/html; charset=utf-8',
        body: '<!doctype html>',
      }),
    ).toEqual([]);
    expect(
      responseProblems({ ...answer('/', 200, ''), contentType: 'application/json', body: '{}' }).length,
    ).toBeGreaterThan(0);
  });

  it('holds a path no route matches to the error shape', () => {
    // Act + Assess
    expect(
      responseProblems(answer('/nothing', 404, { error: { code: 'RouteNotFound', message: 'm' } })),
    ).toEqual([]);
    expect(responseProblems(answer('/nothing', 404, { oops: true })).length).toBeGreaterThan(0);
  });
});
