#!/usr/bin/env node
/**
 * `tf-serving-registry`: the operator's command line over the discovery API, against local mode or
 * a deployed API (SigV4 with the library's signer when `--auth iam`). A separate entry point
 * (`bin`), never imported by the library, so it adds nothing to the library's bundle.
 */
import { parseArgs } from 'node:util';
import { regionOf } from './registry-client.js';

const USAGE = `Usage: tf-serving-registry <command> [options]

Commands:
  models               every model with at least one healthy endpoint
  endpoints <model>    the model's healthy endpoints (--version V or --label L to narrow)
  health <model>       every registered endpoint of the model, served or not, and why

Options:
  --url URL            the registry's base URL (default: $TF_SERVING_REGISTRY_URL, else http://127.0.0.1:3000);
                       on AWS the API Gateway stage URL, https://{api}.execute-api.{region}.amazonaws.com/v1/
  --auth none|iam      iam signs requests with SigV4 from the default AWS credential chain (default: none)
  --region R           SigV4 region (default: from an execute-api URL, else $AWS_REGION)
  --version V          endpoints: only those where version V is AVAILABLE
  --label L            endpoints: only those where label L resolves to a version they serve
  --json               print the registry's answer as JSON instead of a table
  --timeout MS         per request (default: 5000)
  -h, --help           this text

Exit codes: 0 answered; 1 the registry is unreachable or unavailable; 2 bad usage;
3 no running task declares the model; 4 the registry refused the request (bad input, denied).`;

const DEFAULT_URL = 'http://127.0.0.1:3000';

/** A failure with the exit code and message the operator sees. */
class CliError extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
  }
}

interface Options {
  readonly command: 'models' | 'endpoints' | 'health';
  readonly model: string | undefined;
  readonly url: string;
  readonly auth: 'none' | 'iam';
  readonly region: string | undefined;
  readonly version: string | undefined;
  readonly label: string | undefined;
  readonly json: boolean;
  readonly timeoutMs: number;
}

function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv): Options | 'help' {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    throw new CliError(2, `${(error as Error).message}\n\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  if (values.help) return 'help';
  const [command, model, ...extra] = positionals;
  if (command !== 'models' && command !== 'endpoints' && command !== 'health') {
    throw new CliError(
      2,
      `${command === undefined ? 'no command' : `unknown command ${JSON.stringify(command)}`}\n\n${USAGE}`,
    );
  }
  if (command === 'models' ? model !== undefined : model === undefined || extra.length > 0) {
    throw new CliError(
      2,
      `${command} ${command === 'models' ? 'takes no model' : 'takes one model name'}\n\n${USAGE}`,
    );
  }
  const auth = values.auth ?? 'none';
  if (auth !== 'none' && auth !== 'iam')
    throw new CliError(2, `--auth must be none or iam, got ${JSON.stringify(auth)}`);
  if (command !== 'endpoints' && (values.version !== undefined || values.label !== undefined)) {
    throw new CliError(2, '--version and --label narrow the endpoints command only');
  }
  if (values.version !== undefined && values.label !== undefined) {
    throw new CliError(2, 'give --version or --label, not both');
  }
  const timeoutMs = Number(values.timeout ?? 5000);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1) {
    throw new CliError(
      2,
      `--timeout must be a whole number of milliseconds, got ${JSON.stringify(values.timeout)}`,
    );
  }
  const url = values.url ?? env.TF_SERVING_REGISTRY_URL ?? DEFAULT_URL;
  try {
    new URL(url);
  } catch {
    throw new CliError(2, `--url must be an http(s) URL, got ${JSON.stringify(url)}`);
  }
  return {
    command,
    model,
    url,
    auth,
    region: values.region,
    version: values.version,
    label: values.label,
    json: values.json ?? false,
    timeoutMs,
  };
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      auth: { type: 'string' },
      region: { type: 'string' },
      version: { type: 'string' },
      label: { type: 'string' },
      json: { type: 'boolean' },
      timeout: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

/** The request path of a command, names percent-encoded. */
function pathOf(options: Options): string {
  if (options.command === 'models') return 'models';
  const model = `models/${encodeURIComponent(options.model as string)}`;
  if (options.command === 'health') return `${model}/health`;
  if (options.version !== undefined) return `${model}/versions/${encodeURIComponent(options.version)}`;
  if (options.label !== undefined) return `${model}/labels/${encodeURIComponent(options.label)}`;
  return model;
}

async function signedHeaders(options: Options, url: URL): Promise<Record<string, string>> {
  if (options.auth === 'none') return {};
  const region = options.region ?? regionOf(options.url);
  if (region === undefined) {
    throw new CliError(2, '--auth iam needs a region: --region, an execute-api URL, or AWS_REGION');
  }
  const { createSigner } = await import('./sigv4.js');
  const signer = await createSigner({ region });
  const { host: _host, ...headers } = await signer.sign({
    method: 'GET',
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port === '' ? {} : { port: Number(url.port) }),
    path: url.pathname,
    headers: { host: url.host },
  });
  return headers;
}

/** Asks the registry; the parsed 200 answer, or a {@link CliError} that says what went wrong. */
async function ask(options: Options): Promise<Record<string, unknown>> {
  const base = options.url.endsWith('/') ? options.url : `${options.url}/`;
  const url = new URL(pathOf(options), base);
  let headers: Record<string, string>;
  try {
    headers = await signedHeaders(options, url);
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(4, `could not sign the request: ${(error as Error).message}`);
  }
  let response: Response;
  try {
    response = await fetch(url, {
      headers: { accept: 'application/json', ...headers },
      signal: AbortSignal.timeout(options.timeoutMs),
    });
  } catch (error) {
    const failure = error as Error & { cause?: { message?: string } };
    const cause =
      failure.name === 'TimeoutError'
        ? `no answer within ${options.timeoutMs} ms`
        : (failure.cause?.message ?? failure.message);
    throw new CliError(1, `cannot reach the registry at ${options.url}: ${cause} (is it running? see --url)`);
  }
  const text = await response.text();
  let body: Record<string, unknown> | undefined;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = undefined;
  }
  if (response.status === 200 && body !== undefined) return body;
  const error = (body?.error ?? {}) as { code?: string; message?: string };
  const said = error.message ?? (body?.message as string | undefined) ?? text.slice(0, 200);
  if (response.status === 404 && error.code === 'ModelNotFound') {
    throw new CliError(3, `unknown model ${JSON.stringify(options.model)}: ${said}`);
  }
  if (response.status >= 400 && response.status < 500 && response.status !== 429) {
    throw new CliError(
      4,
      `the registry refused ${url.pathname}: ${response.status} ${error.code ?? ''} ${said}`.trim(),
    );
  }
  throw new CliError(1, `the registry is unavailable: ${response.status} ${error.code ?? ''} ${said}`.trim());
}

/** Left-aligned columns, two spaces apart. */
function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(head), ...rows.map(line)].join('\n');
}

const list = (values: readonly string[] | undefined) =>
  values && values.length > 0 ? values.join(',') : '-';
const labels = (record: Record<string, string> | undefined) =>
  list(Object.entries(record ?? {}).map(([l, v]) => `${l}=${v}`));
const address = (e: Endpoint) => (e.host === null ? '-' : `${e.host}:${e.restPort}`);
const ago = (iso: string | null, now: number) =>
  iso === null ? 'never' : `${Math.max(0, Math.round((now - Date.parse(iso)) / 1000))}s ago`;

interface Endpoint {
  id: string;
  host: string | null;
  restPort: number | null;
  grpcPort: number | null;
  versions: string[];
  labels: Record<string, string>;
  availabilityZone: string | null;
  lastProbeAt: string | null;
  served?: boolean;
  reason?: string | null;
  lifecycle?: string;
  consecutiveFailures?: number;
  lastError?: string | null;
}

/** The answer as an operator reads it. */
function render(command: Options['command'], body: Record<string, unknown>, now = Date.now()): string {
  const out: string[] = [];
  if (command === 'models') {
    const models = (body.models ?? []) as { name: string; endpoints: number; versions: string[] }[];
    out.push(
      models.length === 0
        ? 'no model has a healthy endpoint'
        : table(
            ['MODEL', 'ENDPOINTS', 'VERSIONS'],
            models.map((m) => [m.name, String(m.endpoints), list(m.versions)]),
          ),
    );
  } else {
    const endpoints = (body.endpoints ?? []) as Endpoint[];
    if (endpoints.length === 0) {
      out.push(
        command === 'health' ? 'no registered endpoint' : `no healthy endpoint of ${String(body.model)}`,
      );
    } else if (command === 'endpoints') {
      out.push(
        table(
          ['ENDPOINT', 'ADDRESS', 'GRPC', 'ZONE', 'VERSIONS', 'LABELS', 'LAST PROBE'],
          endpoints.map((e) => [
            e.id,
            address(e),
            e.grpcPort === null ? '-' : String(e.grpcPort),
            e.availabilityZone ?? '-',
            list(e.versions),
            labels(e.labels),
            ago(e.lastProbeAt, now),
          ]),
        ),
      );
    } else {
      out.push(
        table(
          ['ENDPOINT', 'ADDRESS', 'ECS', 'STATUS', 'VERSIONS', 'FAILURES', 'LAST PROBE', 'LAST ERROR'],
          endpoints.map((e) => [
            e.id,
            address(e),
            e.lifecycle ?? '-',
            e.served ? 'served' : `excluded: ${e.reason ?? '?'}`,
            list(e.versions),
            String(e.consecutiveFailures ?? 0),
            ago(e.lastProbeAt, now),
            e.lastError ?? '',
          ]),
        ),
      );
      const served = endpoints.filter((e) => e.served).length;
      out.push(`${served} of ${endpoints.length} endpoints of ${String(body.model)} served`);
    }
  }
  if (body.stale === true) out.push(`stale: the registry's last known answer, as of ${String(body.asOf)}`);
  return out.join('\n');
}

/** Runs one command line; resolves with the exit code (output written to the given streams). */
async function main(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  stdout: (text: string) => void = (text) => process.stdout.write(text),
  stderr: (text: string) => void = (text) => process.stderr.write(text),
): Promise<number> {
  try {
    const options = parseOptions(argv, env);
    if (options === 'help') {
      stdout(`${USAGE}\n`);
      return 0;
    }
    const body = await ask(options);
    stdout(`${options.json ? JSON.stringify(body, null, 2) : render(options.command, body)}\n`);
    return 0;
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    stderr(`tf-serving-registry: ${error.message}\n`);
    return error.exitCode;
  }
}

process.exitCode = await main(process.argv.slice(2));
