import { describe, expect, it, vi } from 'vitest';
import {
  type ErrorLog,
  errorBody,
  errorResponse,
  etagMatches,
  headerValue,
  jsonResponse,
} from '../../../../functions/adapters/http.ts';
import { ConfigError, RequestError, StoreUnavailableError } from '../../../../functions/domain/errors.ts';

function fakeLog() {
  return { error: vi.fn<ErrorLog['error']>(), warn: vi.fn<ErrorLog['warn']>() };
}

describe('jsonResponse', () => {
  it('returns a JSON body with an application/json content type and the extra headers', () => {
    // Act
    const response = jsonResponse(200, { models: [] }, { etag: 'W/"x"' });

    // Assess
    expect(response).toEqual({
      statusCode: 200,
      headers: { 'content-type': 'application/json', etag: 'W/"x"' },
      body: '{"models":[]}',
    });
  });
});

describe('errorResponse', () => {
  it('answers 503 RegistryUnavailable with Retry-After when the store is unavailable, and warns', () => {
    // Prepare
    const log = fakeLog();
    const error = new StoreUnavailableError('Query', new Error('connect ECONNREFUSED 127.0.0.1:1'));

    // Act
    const response = errorResponse(error, log);

    // Assess
    expect(response.statusCode).toBe(503);
    expect(response.headers['retry-after']).toBe('1');
    expect(JSON.parse(response.body)).toEqual({
      error: { code: 'RegistryUnavailable', message: expect.any(String) },
    });
    expect(response.body).not.toContain('ECONNREFUSED');
    expect(log.warn).toHaveBeenCalledWith(
      'registry store unavailable',
      expect.objectContaining({ timedOut: false }),
    );
  });

  it('exposes a RequestError with its status, code and message', () => {
    // Prepare
    const log = fakeLog();

    // Act
    const response = errorResponse(
      new RequestError(404, 'ModelNotFound', 'No running task declares it.'),
      log,
    );

    // Assess
    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toBe('application/json');
    expect(JSON.parse(response.body)).toEqual(errorBody('ModelNotFound', 'No running task declares it.'));
  });

  it('does not log a RequestError', () => {
    // Prepare
    const log = fakeLog();

    // Act
    errorResponse(new RequestError(400, 'InvalidVersion', 'bad'), log);

    // Assess
    expect(log.error).not.toHaveBeenCalled();
  });

  it('returns a generic 500 for any other error, without its message', () => {
    // Prepare
    const log = fakeLog();

    // Act
    const response = errorResponse(new Error('connect ECONNREFUSED 10.0.0.1:8000 secret-table'), log);

    // Assess
    expect(response.statusCode).toBe(500);
    expect(JSON.parse(response.body)).toEqual({
      error: { code: 'InternalError', message: 'The registry could not answer this request.' },
    });
    expect(response.body).not.toContain('ECONNREFUSED');
  });

  it('logs the details of an unexpected error through the passed log', () => {
    // Prepare
    const log = fakeLog();
    const error = new TypeError('boom');

    // Act
    errorResponse(error, log);

    // Assess
    expect(log.error).toHaveBeenCalledWith('request failed', {
      error: { name: 'TypeError', message: 'boom', stack: error.stack },
    });
  });

  it('returns a generic 500 for a thrown non-Error value and logs it', () => {
    // Prepare
    const log = fakeLog();

    // Act
    const response = errorResponse('plain string', log);

    // Assess
    expect(response.statusCode).toBe(500);
    expect(log.error).toHaveBeenCalledWith(
      'request failed',
      expect.objectContaining({ error: expect.objectContaining({ message: 'plain string' }) }),
    );
  });

  it('returns a generic 500 for a ConfigError (only RequestError is exposed)', () => {
    // Prepare
    const log = fakeLog();

    // Act
    const response = errorResponse(new ConfigError('TABLE_NAME', '', 'expected a name'), log);

    // Assess
    expect(response.statusCode).toBe(500);
    expect(response.body).not.toContain('TABLE_NAME');
  });
});

describe('etagMatches', () => {
  const etag = 'W/"abc123"';

  it('returns false without an If-None-Match header', () => {
    // Act / Assess
    expect(etagMatches(undefined, etag)).toBe(false);
  });

  it('matches the same weak ETag', () => {
    // Act / Assess
    expect(etagMatches('W/"abc123"', etag)).toBe(true);
  });

  it('matches the strong form of the same ETag (weak comparison)', () => {
    // Act / Assess
    expect(etagMatches('"abc123"', etag)).toBe(true);
  });

  it('matches an ETag inside a comma-separated list with spaces', () => {
    // Act / Assess
    expect(etagMatches('"other", W/"abc123" , "third"', etag)).toBe(true);
  });

  it('matches the wildcard *', () => {
    // Act / Assess
    expect(etagMatches('*', etag)).toBe(true);
  });

  it('returns false for a different ETag', () => {
    // Act / Assess
    expect(etagMatches('W/"abc124", "x"', etag)).toBe(false);
  });

  it('returns false for an empty header value', () => {
    // Act / Assess
    expect(etagMatches('', etag)).toBe(false);
  });
});

describe('headerValue', () => {
  it('finds a header whatever the case of its name', () => {
    // Prepare
    const headers = { 'If-None-Match': 'W/"x"', Accept: 'application/json' };

    // Act
    const value = headerValue(headers, 'if-none-match');

    // Assess
    expect(value).toBe('W/"x"');
  });

  it('returns undefined for a missing header', () => {
    // Act / Assess
    expect(headerValue({ Accept: 'application/json' }, 'if-none-match')).toBeUndefined();
  });

  it('returns undefined for null headers (API Gateway sends null when there are none)', () => {
    // Act / Assess
    expect(headerValue(null, 'if-none-match')).toBeUndefined();
  });
});
