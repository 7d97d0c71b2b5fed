/**
 * The deployed stack's outputs (as `cdk deploy --outputs-file` writes them) and the URLs the smoke
 * run builds from them.
 */

export interface StackOutputs {
  readonly apiUrl: string;
  readonly tableName: string;
  readonly deadLetterQueueUrl: string;
}

export interface RestApiStage {
  readonly apiId: string;
  readonly stage: string;
}

/** Reads one stack's outputs from an outputs file (`{ "<stack>": { "ApiUrl": …, … } }`). */
export function readStackOutputs(file: unknown, stackName: string): StackOutputs {
  const stacks = file !== null && typeof file === 'object' ? (file as Record<string, unknown>) : undefined;
  const outputs = stacks?.[stackName];
  if (outputs === null || typeof outputs !== 'object') {
    const found = stacks ? Object.keys(stacks).join(', ') || 'none' : 'not a JSON object';
    throw new Error(`no outputs for stack ${stackName} (stacks in the file: ${found}); deploy it first`);
  }
  const values = outputs as Record<string, unknown>;
  const get = (key: string): string => {
    const value = values[key];
    if (typeof value !== 'string' || value === '') {
      throw new Error(`stack ${stackName} has no output ${key} (outputs: ${Object.keys(values).join(', ')})`);
    }
    return value;
  };
  return {
    apiUrl: get('ApiUrl'),
    tableName: get('TableName'),
    deadLetterQueueUrl: get('DeadLetterQueueUrl'),
  };
}

// https://<apiId>.execute-api.<region>.amazonaws.com/<stage>/ on AWS;
// https://<apiId>.execute-api.localhost.localstack.cloud:4566/<stage>/ as LocalStack rewrites it.
const INVOKE_URL = /^https?:\/\/([a-z0-9]+)\.execute-api\.[^/]+\/([^/]+)\/?$/;

/** The REST API id and stage of an API Gateway invoke URL (the ApiUrl output). */
export function parseInvokeUrl(apiUrl: string): RestApiStage {
  const match = INVOKE_URL.exec(apiUrl.trim());
  if (!match) {
    throw new Error(
      `ApiUrl ${JSON.stringify(apiUrl)} is not an API Gateway invoke URL (https://<apiId>.execute-api.<host>/<stage>/)`,
    );
  }
  const [, apiId, stage] = match as unknown as [string, string, string];
  return { apiId, stage };
}

/** A discovery route for `model`, optionally narrowed to a version or a label; names are URL-encoded. */
export function modelPath(model: string, narrow?: { version?: string; label?: string }): string {
  const base = `/models/${encodeURIComponent(model)}`;
  if (narrow?.version !== undefined) return `${base}/versions/${encodeURIComponent(narrow.version)}`;
  if (narrow?.label !== undefined) return `${base}/labels/${encodeURIComponent(narrow.label)}`;
  return base;
}

/**
 * The LocalStack URL of a REST API route that needs no DNS:
 * `<edge>/_aws/execute-api/<apiId>/<stage><path>` (`*.localhost.localstack.cloud` needs public DNS).
 */
export function localExecuteApiUrl(edgeUrl: string, api: RestApiStage, path: string): string {
  if (!path.startsWith('/')) throw new Error(`path ${JSON.stringify(path)} must start with '/'`);
  return `${edgeUrl.replace(/\/+$/, '')}/_aws/execute-api/${api.apiId}/${api.stage}${path}`;
}

/** Discovery's Endpoint, the fields the smoke run checks. */
export interface DiscoveredEndpoint {
  readonly host: string;
  readonly restPort: number;
  readonly versions: readonly string[];
}

/** The endpoint of a `GET /models/{model}` answer that has `host`, if any. */
export function findEndpoint(body: unknown, host: string): DiscoveredEndpoint | undefined {
  if (body === null || typeof body !== 'object') return undefined;
  const endpoints = (body as { endpoints?: unknown }).endpoints;
  if (!Array.isArray(endpoints)) return undefined;
  return endpoints.find(
    (endpoint): endpoint is DiscoveredEndpoint =>
      endpoint !== null && typeof endpoint === 'object' && (endpoint as { host?: unknown }).host === host,
  );
}
