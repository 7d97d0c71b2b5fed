import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { Template } from 'aws-cdk-lib/assertions';
import { ACCOUNT, REGION } from './iam-evaluation.ts';

const execFileAsync = promisify(execFile);

type Json = unknown;
type Resources = Record<
  string,
  { Type: string; Properties?: Record<string, Json>; Metadata?: Record<string, Json> }
>;

/**
 * The synthesized template as AWS would see it deployed: intrinsic functions resolved with fixed
 * pseudo parameters, and `physicalNames` for the resources whose names matter (the table).
 */
export function resolver(template: Template, physicalNames: Readonly<Record<string, string>>) {
  const resources = template.toJSON().Resources as Resources;
  const pseudo: Record<string, string> = {
    'AWS::Partition': 'aws',
    'AWS::Region': REGION,
    'AWS::AccountId': ACCOUNT,
    'AWS::URLSuffix': 'amazonaws.com',
    'AWS::StackName': 'TfServingRegistry',
  };
  // A function's name is a literal in the template (`<stack>-<name>`): what Ref and its ARN resolve to.
  const functionName = (id: string) =>
    resources[id]?.Type === 'AWS::Lambda::Function' &&
    typeof resources[id]?.Properties?.FunctionName === 'string'
      ? (resources[id]?.Properties?.FunctionName as string)
      : undefined;
  const arnOf = (id: string): string => {
    const name = physicalNames[id] ?? functionName(id) ?? id;
    switch (resources[id]?.Type) {
      case 'AWS::Lambda::Function':
        return `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`;
      case 'AWS::DynamoDB::Table':
        return `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${name}`;
      case 'AWS::SQS::Queue':
        return `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`;
      case 'AWS::Logs::LogGroup':
        return `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${name}:*`;
      default:
        return `arn:aws:unresolved:${REGION}:${ACCOUNT}:${name}`;
    }
  };
  const resolve = (value: Json): Json => {
    if (Array.isArray(value)) return value.map(resolve);
    if (value === null || typeof value !== 'object') return value;
    const object = value as Record<string, Json>;
    if ('Ref' in object) {
      const ref = String(object.Ref);
      return pseudo[ref] ?? physicalNames[ref] ?? functionName(ref) ?? ref;
    }
    if ('Fn::GetAtt' in object) {
      const [id, attribute] = object['Fn::GetAtt'] as [string, string];
      if (attribute !== 'Arn') throw new Error(`cannot resolve Fn::GetAtt ${id}.${attribute}`);
      return arnOf(id);
    }
    if ('Fn::Join' in object) {
      const [separator, parts] = object['Fn::Join'] as [string, Json[]];
      return parts.map((part) => String(resolve(part))).join(separator);
    }
    return Object.fromEntries(Object.entries(object).map(([key, inner]) => [key, resolve(inner)]));
  };
  return { resources, resolve };
}

/** A place for synthesized output inside the repository, so bundles resolve `node_modules` from there. */
export function bundleOutdir(prefix: string): string {
  const cache = fileURLToPath(new URL('../../../node_modules/.cache/', import.meta.url));
  mkdirSync(cache, { recursive: true });
  return mkdtempSync(join(cache, prefix));
}

export interface Invocation {
  readonly event: unknown;
  /** What the Lambda context says is left of the invocation (the probe loops until then). */
  readonly remainingMs?: number;
}

export interface InvocationResult {
  readonly ok: boolean;
  readonly result?: unknown;
  readonly error?: string;
}

const DRIVER = `
const { handler } = await import(process.env.PROOF_BUNDLE);
const results = [];
for (const { event, remainingMs = 10000 } of JSON.parse(process.env.PROOF_INVOCATIONS)) {
  const started = Date.now();
  const context = {
    callbackWaitsForEmptyEventLoop: false, functionName: 'proof', functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:${REGION}:${ACCOUNT}:function:proof', memoryLimitInMB: '256',
    awsRequestId: crypto.randomUUID(), logGroupName: 'proof', logStreamName: 'proof',
    getRemainingTimeInMillis: () => Math.max(0, remainingMs - (Date.now() - started)),
  };
  try { results.push({ ok: true, result: await handler(event, context) }); }
  catch (error) { results.push({ ok: false, error: String(error) }); }
}
console.log('PROOF_RESULTS ' + JSON.stringify(results));
process.exit(0);
`;

/**
 * Runs a deployed bundle's `handler` over `invocations` in a fresh `node`, as Lambda would: only
 * the function's own environment (from the template) and what the test adds (endpoints, dummy
 * credentials).
 */
export async function invokeBundle(
  bundle: string,
  env: Readonly<Record<string, string>>,
  invocations: readonly Invocation[],
): Promise<InvocationResult[]> {
  const { stdout } = await execFileAsync(process.execPath, ['--input-type=module', '-e', DRIVER], {
    timeout: 60_000,
    maxBuffer: 16 * 1024 * 1024,
    env: {
      PATH: process.env.PATH ?? '',
      ...env,
      PROOF_BUNDLE: pathToFileURL(bundle).href,
      PROOF_INVOCATIONS: JSON.stringify(invocations),
    },
  });
  const line = stdout.split('\n').find((l) => l.startsWith('PROOF_RESULTS '));
  if (line === undefined) throw new Error(`no results from ${bundle}: ${stdout.slice(-2000)}`);
  return JSON.parse(line.slice('PROOF_RESULTS '.length)) as InvocationResult[];
}
