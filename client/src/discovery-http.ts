import type { Endpoint } from './types.js';

/**
 * One discovery request and what its answer means for the client. Nothing here throws: every
 * outcome, transport failures included, is a value the caller decides on.
 */

export type Outcome =
  | {
      readonly kind: 'answer';
      readonly endpoints: readonly Endpoint[];
      readonly etag: string | undefined;
      /** The registry's own last-known-good answer (`"stale": true`). */
      readonly serverStale: boolean;
      readonly serverAsOf: string | undefined;
    }
  | { readonly kind: 'not-modified' }
  | { readonly kind: 'not-found'; readonly message: string }
  /** A 4xx the caller must fix (bad name, denied, wrong URL). */
  | {
      readonly kind: 'rejected';
      readonly status: number;
      readonly code: string | undefined;
      readonly message: string;
    }
  /** Unreachable, timed out, 5xx, 429, or an answer that is not a discovery body. */
  | {
      readonly kind: 'unavailable';
      readonly status: number | undefined;
      readonly retryAfterMs: number | undefined;
      readonly message: string;
      readonly cause?: unknown;
    };

export interface RequestHeaders {
  [name: string]: string;
}

/** Signs a GET of `url` with these headers; returns the headers to send. */
export type Sign = (url: URL, headers: RequestHeaders) => Promise<RequestHeaders>;

export interface DiscoveryHttp {
  readonly fetch: typeof globalThis.fetch;
  readonly timeoutMs: number;
  readonly headers: Readonly<RequestHeaders>;
  /** Resolves the signer lazily (IAM auth), or undefined. */
  readonly sign: Sign | undefined;
  /** Aborted when the client closes. */
  readonly closing: AbortSignal;
}

const MAX_RETRY_AFTER_MS = 300_000;

/** `GET url` with a deadline; `etag` makes it conditional. */
export async function requestDiscovery(
  http: DiscoveryHttp,
  url: URL,
  etag: string | undefined,
): Promise<Outcome> {
  let status: number | undefined;
  try {
    const base: RequestHeaders = { accept: 'application/json', ...http.headers };
    const headers = http.sign === undefined ? base : await http.sign(url, base);
    if (etag !== undefined) headers['if-none-match'] = etag;
    const signal = AbortSignal.any([AbortSignal.timeout(http.timeoutMs), http.closing]);
    const response = await http.fetch(url, { method: 'GET', headers, signal, redirect: 'error' });
    status = response.status;
    // Read the body within the same deadline (the signal covers it), whatever the status.
    const text = await response.text();
    return interpret(status, text, response.headers);
  } catch (error) {
    const timedOut = error instanceof Error && error.name === 'TimeoutError';
    const message = timedOut ? `no answer within ${http.timeoutMs} ms` : `request failed: ${describe(error)}`;
    return { kind: 'unavailable', status, retryAfterMs: undefined, message, cause: error };
  }
}

function interpret(status: number, text: string, headers: Headers): Outcome {
  if (status === 304) return { kind: 'not-modified' };
  if (status === 200) {
    const body = parseJson(text);
    const endpoints = body === undefined ? undefined : parseEndpoints(body);
    if (body === undefined || endpoints === undefined) {
      return {
        kind: 'unavailable',
        status,
        retryAfterMs: undefined,
        message: `200 with a body that is not a discovery answer: ${JSON.stringify(text.slice(0, 120))}`,
      };
    }
    const serverStale = body.stale === true;
    return {
      kind: 'answer',
      endpoints,
      etag: headers.get('etag') ?? undefined,
      serverStale,
      serverAsOf: serverStale && typeof body.asOf === 'string' ? body.asOf : undefined,
    };
  }
  const error = errorOf(parseJson(text));
  if (status === 404 && error.code === 'ModelNotFound') {
    return { kind: 'not-found', message: error.message ?? 'model not found' };
  }
  if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
    return {
      kind: 'rejected',
      status,
      code: error.code,
      message: `${status}${error.code ? ` ${error.code}` : ''}: ${error.message ?? text.slice(0, 200)}`,
    };
  }
  return {
    kind: 'unavailable',
    status,
    retryAfterMs: retryAfter(headers.get('retry-after')),
    message: `${status}${error.code ? ` ${error.code}` : ''}${error.message ? `: ${error.message}` : ''}`,
  };
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** The registry's `{"error":{"code","message"}}`, or API Gateway's own `{"message"}`. */
function errorOf(body: Record<string, unknown> | undefined): { code?: string; message?: string } {
  const error = body?.error;
  if (typeof error === 'object' && error !== null) {
    const { code, message } = error as Record<string, unknown>;
    return {
      ...(typeof code === 'string' ? { code } : {}),
      ...(typeof message === 'string' ? { message } : {}),
    };
  }
  return typeof body?.message === 'string' ? { message: body.message } : {};
}

/**
 * The endpoints of a discovery body, or undefined when it is not one. An entry without a usable
 * address is left out (it cannot be dialled); a missing list in a stale answer counts as no list.
 */
function parseEndpoints(body: Record<string, unknown>): Endpoint[] | undefined {
  const list = body.endpoints;
  if (!Array.isArray(list)) return undefined;
  const endpoints: Endpoint[] = [];
  for (const item of list) {
    if (typeof item !== 'object' || item === null) continue;
    const raw = item as Record<string, unknown>;
    const { id, host, restPort, grpcPort } = raw;
    if (typeof id !== 'string' || typeof host !== 'string' || host === '' || !isPort(restPort)) continue;
    endpoints.push({
      ...raw,
      id,
      host,
      restPort,
      grpcPort: isPort(grpcPort) ? grpcPort : null,
      versions: Array.isArray(raw.versions) ? raw.versions.filter((v) => typeof v === 'string') : [],
      labels: stringRecord(raw.labels),
      availabilityZone: typeof raw.availabilityZone === 'string' ? raw.availabilityZone : null,
      clusterArn: typeof raw.clusterArn === 'string' ? raw.clusterArn : '',
      taskArn: typeof raw.taskArn === 'string' ? raw.taskArn : '',
      lastProbeAt: typeof raw.lastProbeAt === 'string' ? raw.lastProbeAt : '',
    });
  }
  return endpoints;
}

function stringRecord(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return {};
  return Object.fromEntries(Object.entries(value).filter(([, v]) => typeof v === 'string')) as Record<
    string,
    string
  >;
}

function isPort(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 && value < 65536;
}

/** `Retry-After`: delta-seconds or an HTTP date, capped at 5 minutes. */
function retryAfter(value: string | null): number | undefined {
  if (value === null) return undefined;
  const ms = /^\d+$/.test(value.trim()) ? Number(value) * 1000 : Date.parse(value) - Date.now();
  return Number.isFinite(ms) ? Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS) : undefined;
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
  return `${error.message}${cause}`;
}
