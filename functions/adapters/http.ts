import { asError, MethodNotAllowedError, RequestError, StoreUnavailableError } from '../domain/errors.ts';

/**
 * The one place that turns outcomes and errors into HTTP responses: a {@link RequestError} is
 * exposed with its status and code; the store being unavailable is a 503 the client may retry
 * (never a 500: the registry is fine, a dependency is down); anything else becomes a generic
 * 500, with details logged only.
 */

export interface HttpResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export interface ErrorLog {
  error(message: string, attributes: Record<string, unknown>): void;
  warn(message: string, attributes: Record<string, unknown>): void;
}

/** Seconds a client should wait before asking again when the store is unavailable. */
export const RETRY_AFTER_SECONDS = 1;

const JSON_HEADERS = { 'content-type': 'application/json' };

export function jsonResponse(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): HttpResponse {
  return jsonTextResponse(statusCode, JSON.stringify(body), headers);
}

/** A JSON response whose body is already serialized. */
export function jsonTextResponse(
  statusCode: number,
  text: string,
  headers: Record<string, string> = {},
): HttpResponse {
  return { statusCode, headers: { ...JSON_HEADERS, ...headers }, body: text };
}

export function errorBody(code: string, message: string) {
  return { error: { code, message } };
}

export function errorResponse(thrown: unknown, log: ErrorLog): HttpResponse {
  if (thrown instanceof RequestError) {
    const headers =
      thrown instanceof MethodNotAllowedError ? { allow: thrown.allowed.join(', ') } : undefined;
    return jsonResponse(thrown.statusCode, errorBody(thrown.code, thrown.message), headers);
  }
  if (thrown instanceof StoreUnavailableError) {
    log.warn('registry store unavailable', { error: thrown.message, timedOut: thrown.timedOut });
    return jsonResponse(
      503,
      errorBody('RegistryUnavailable', 'The registry store did not answer in time; try again shortly.'),
      { 'retry-after': String(RETRY_AFTER_SECONDS) },
    );
  }
  const error = asError(thrown);
  log.error('request failed', { error: { name: error.name, message: error.message, stack: error.stack } });
  return jsonResponse(500, errorBody('InternalError', 'The registry could not answer this request.'));
}

/** True when an `If-None-Match` header value names `etag` (weak comparison, lists and `*` included). */
export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, '');
  return ifNoneMatch.split(',').some((tag) => tag.trim() === '*' || opaque(tag) === opaque(etag));
}

/** A header's value, whatever its case (API Gateway keeps the client's casing). */
export function headerValue(
  headers: Record<string, string | undefined> | null,
  name: string,
): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers ?? {})) {
    if (key.toLowerCase() === wanted) return value;
  }
  return undefined;
}
