import { RequestError } from './errors.ts';

/**
 * The discovery API's routes, once: the discovery handler answers them, local mode's HTTP front
 * matches paths against them, the CDK stack creates one API Gateway resource per route, and the
 * OpenAPI document describes them. A route is an API Gateway resource path; `{name}` is a path
 * parameter matching one path segment, which may be empty (the handler checks its value).
 */
export const DISCOVERY_ROUTES = [
  '/models',
  '/models/{model}',
  '/models/{model}/versions/{version}',
  '/models/{model}/labels/{label}',
  '/models/{model}/health',
  '/openapi.json',
] as const;

export type DiscoveryRoute = (typeof DISCOVERY_ROUTES)[number];

/**
 * The routes only local mode's HTTP front answers (never deployed): EventBridge events in, the
 * status page and the known-models list it refreshes from. The OpenAPI document describes them too.
 */
export const LOCAL_ROUTES = ['/events', '/', '/status/models'] as const;

export type LocalRoute = (typeof LOCAL_ROUTES)[number];

export function isLocalRoute(pathname: string): pathname is LocalRoute {
  return (LOCAL_ROUTES as readonly string[]).includes(pathname);
}

/** The methods every discovery route answers (HEAD: the same answer without a body). */
export const DISCOVERY_METHODS = ['GET', 'HEAD'] as const;

/** How the API describes itself in a 404: every route, as one line. */
export const ROUTES_HELP =
  'GET /models, /models/{model}[/versions/{version}|/labels/{label}|/health], /openapi.json';

export function isDiscoveryRoute(resource: string): resource is DiscoveryRoute {
  return (DISCOVERY_ROUTES as readonly string[]).includes(resource);
}

/** The path parameters a route declares, in order (`/models/{model}/labels/{label}` → model, label). */
export function routeParameters(route: DiscoveryRoute): string[] {
  return [...route.matchAll(/\{(\w+)\}/g)].map((match) => match[1] as string);
}

export interface MatchedRoute {
  /** The route matched, or the path itself when none did (API Gateway's `resource` is then unknown). */
  readonly resource: string;
  readonly pathParameters: Record<string, string> | null;
}

/**
 * The route a request path matches, with its percent-decoded path parameters (what API Gateway
 * puts in a proxy event). One trailing slash is tolerated (`/models/resnet/` is `/models/resnet`).
 * Throws a 400 {@link RequestError} for a path that is not valid percent-encoded UTF-8.
 */
/** Each route's segments, split once: a literal to equal, or the name of the parameter it binds. */
const ROUTE_SEGMENTS = DISCOVERY_ROUTES.map((route) => ({
  route,
  parts: route
    .split('/')
    .slice(1)
    .map((part) => ({ literal: part, parameter: /^\{(\w+)\}$/.exec(part)?.[1] })),
}));

export function matchRoute(pathname: string): MatchedRoute {
  const trimmed = pathname.length > 1 && pathname.endsWith('/') ? pathname.slice(0, -1) : pathname;
  let segments: string[];
  try {
    segments = trimmed
      .split('/')
      .slice(1)
      .map((segment) => decodeURIComponent(segment));
  } catch {
    throw new RequestError(400, 'InvalidPath', 'The path is not valid percent-encoded UTF-8.');
  }
  for (const { route, parts } of ROUTE_SEGMENTS) {
    if (parts.length !== segments.length) continue;
    const parameters: Record<string, string> = {};
    const matches = parts.every(({ literal, parameter }, index) => {
      const segment = segments[index] as string;
      if (parameter === undefined) return literal === segment;
      parameters[parameter] = segment;
      return true;
    });
    if (matches) {
      return { resource: route, pathParameters: Object.keys(parameters).length > 0 ? parameters : null };
    }
  }
  return { resource: pathname, pathParameters: null };
}
