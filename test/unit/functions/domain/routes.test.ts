import { describe, expect, it } from 'vitest';
import { RequestError } from '../../../../functions/domain/errors.ts';
import { matchRoute } from '../../../../functions/domain/routes.ts';

describe('matchRoute', () => {
  it.each([
    ['/models/', { resource: '/models', pathParameters: null }],
    ['/models/resnet/', { resource: '/models/{model}', pathParameters: { model: 'resnet' } }],
    [
      '/models/resnet/labels/stable/',
      { resource: '/models/{model}/labels/{label}', pathParameters: { model: 'resnet', label: 'stable' } },
    ],
  ])('tolerates one trailing slash: %s', (pathname, expected) => {
    // Act + Assess
    expect(matchRoute(pathname)).toEqual(expected);
  });

  it('matches /models without path parameters', () => {
    // Act / Assess
    expect(matchRoute('/models')).toEqual({ resource: '/models', pathParameters: null });
  });

  it('matches /models/{model}', () => {
    // Act / Assess
    expect(matchRoute('/models/resnet')).toEqual({
      resource: '/models/{model}',
      pathParameters: { model: 'resnet' },
    });
  });

  it('matches /models/{model}/versions/{version}', () => {
    // Act / Assess
    expect(matchRoute('/models/resnet/versions/007')).toEqual({
      resource: '/models/{model}/versions/{version}',
      pathParameters: { model: 'resnet', version: '007' },
    });
  });

  it('matches /models/{model}/labels/{label}', () => {
    // Act / Assess
    expect(matchRoute('/models/resnet/labels/stable')).toEqual({
      resource: '/models/{model}/labels/{label}',
      pathParameters: { model: 'resnet', label: 'stable' },
    });
  });

  it('matches /models/{model}/health', () => {
    // Act / Assess
    expect(matchRoute('/models/resnet/health')).toEqual({
      resource: '/models/{model}/health',
      pathParameters: { model: 'resnet' },
    });
  });

  it('matches /openapi.json, and a model named health as a model', () => {
    // Act / Assess
    expect(matchRoute('/openapi.json')).toEqual({ resource: '/openapi.json', pathParameters: null });
    expect(matchRoute('/models/health')).toEqual({
      resource: '/models/{model}',
      pathParameters: { model: 'health' },
    });
  });

  it('decodes percent-encoded path parameters', () => {
    // Act / Assess
    expect(matchRoute('/models/r%C3%A9snet%20v2/labels/%E7%A8%B3%E5%AE%9A')).toEqual({
      resource: '/models/{model}/labels/{label}',
      pathParameters: { model: 'résnet v2', label: '稳定' },
    });
  });

  it('decodes an encoded slash into the parameter instead of splitting on it', () => {
    // Act / Assess
    expect(matchRoute('/models/a%2Fb')).toEqual({
      resource: '/models/{model}',
      pathParameters: { model: 'a/b' },
    });
  });

  it('decodes an encoded colon into the parameter', () => {
    // Act / Assess
    expect(matchRoute('/models/resnet%3Apredict').pathParameters).toEqual({ model: 'resnet:predict' });
  });

  it.each([
    ['a truncated escape', '/models/%E0%A4%A'],
    ['an escape that is not hex', '/models/%zz'],
    ['a lone continuation byte', '/models/%80'],
    ['an encoded lone surrogate (CESU-8)', '/models/%ED%A0%80'],
    ['an overlong encoding of "/"', '/models/%C0%AF'],
    ['invalid encoding in the version', '/models/resnet/versions/%FF'],
  ])('throws a 400 RequestError for %s', (_, pathname) => {
    // Act
    const act = () => matchRoute(pathname);

    // Assess
    expect(act).toThrow(RequestError);
    expect(act).toThrow(expect.objectContaining({ statusCode: 400, code: 'InvalidPath' }));
  });

  it.each([
    '/',
    '/health',
    '/v1/models/resnet',
    '/Models',
    '/models/resnet/metadata',
    '/models/resnet/versions',
    '/models/resnet/labels',
    '/models/resnet/versions/1/extra',
    '/models/resnet/labels/stable/metadata',
    '/models/resnet//',
  ])('returns the pathname %j as the resource for anything else', (pathname) => {
    // Act / Assess
    expect(matchRoute(pathname)).toEqual({ resource: pathname, pathParameters: null });
  });
});
