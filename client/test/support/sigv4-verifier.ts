import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An independent SigV4 verifier (node:crypto only, no SDK code), written from AWS's description of
 * the algorithm: canonical request → string to sign → HMAC chain. It recomputes the signature of
 * a request as it arrived and compares it with the one in its `Authorization` header. Checked
 * against the published test suite in sigv4.test.ts before it is trusted to judge the client.
 */

export interface VerifiableRequest {
  readonly method: string;
  /** The path as received (percent-encoded on the wire); encoded once more, as non-S3 services do. */
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  /** Lower-case names. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body?: string;
}

export interface Verdict {
  readonly ok: boolean;
  readonly reason: string;
  readonly accessKeyId?: string;
  readonly signedHeaders?: string;
}

const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/;

/** RFC 3986 unreserved characters stay; every other byte of the UTF-8 is %XX (upper case). */
function uriEncode(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-._~]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function canonicalPath(path: string): string {
  const segments: string[] = [];
  for (const segment of path.split('/').slice(1)) {
    if (segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  return `/${segments.map(uriEncode).join('/')}`;
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function hmac(key: Buffer | string, text: string): Buffer {
  return createHmac('sha256', key).update(text, 'utf8').digest();
}

export function verify(
  request: VerifiableRequest,
  secrets: Readonly<Record<string, string>>,
  expected: { region: string; service: string },
): Verdict {
  const authorization = request.headers.authorization;
  if (authorization === undefined) return { ok: false, reason: 'Missing Authentication Token' };
  const match = AUTHORIZATION.exec(authorization);
  if (match === null) return { ok: false, reason: `malformed Authorization header: ${authorization}` };
  const [, accessKeyId = '', day = '', region, service, signedHeaders = '', signature = ''] = match;
  if (region !== expected.region || service !== expected.service) {
    return {
      ok: false,
      reason: `credential scope ${region}/${service}, expected ${expected.region}/${expected.service}`,
    };
  }
  const secret = secrets[accessKeyId];
  if (secret === undefined) return { ok: false, reason: `unknown access key ${accessKeyId}`, accessKeyId };
  const amzDate = request.headers['x-amz-date'];
  if (amzDate === undefined || !amzDate.startsWith(day))
    return { ok: false, reason: 'x-amz-date missing or not the scope day' };
  const names = signedHeaders.split(';');
  if (!names.includes('host') || !names.includes('x-amz-date')) {
    return { ok: false, reason: `host and x-amz-date must be signed, got ${signedHeaders}` };
  }
  if (request.headers['x-amz-security-token'] !== undefined && !names.includes('x-amz-security-token')) {
    return { ok: false, reason: 'x-amz-security-token sent but not signed' };
  }
  const canonicalHeaders = names
    .map((name) => `${name}:${(request.headers[name] ?? '').trim().replace(/\s+/g, ' ')}\n`)
    .join('');
  const canonicalQuery = Object.entries(request.query)
    .map(([k, v]) => [uriEncode(k), uriEncode(v)] as const)
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const canonicalRequest = [
    request.method,
    canonicalPath(request.path),
    canonicalQuery,
    canonicalHeaders,
    signedHeaders,
    sha256Hex(request.body ?? ''),
  ].join('\n');
  const scope = `${day}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  const key = hmac(
    hmac(hmac(hmac(`AWS4${secret}`, day), region as string), service as string),
    'aws4_request',
  );
  const computed = hmac(key, stringToSign).toString('hex');
  const ok = timingSafeEqual(Buffer.from(computed), Buffer.from(signature));
  return { ok, reason: ok ? 'signature matches' : 'signature does not match', accessKeyId, signedHeaders };
}

/** A discovery API on loopback that answers only correctly signed requests (403 otherwise, as API Gateway). */
export class SigningRegistry {
  readonly verdicts: Verdict[] = [];
  readonly headers: IncomingMessage['headers'][] = [];
  readonly #server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://verifier');
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
    }
    this.headers.push(req.headers);
    const verdict = verify(
      {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers,
      },
      this.secrets,
      { region: 'us-east-1', service: 'execute-api' },
    );
    this.verdicts.push(verdict);
    const body = verdict.ok
      ? {
          model: 'resnet',
          endpoints: [
            {
              id: 'ml/signed/tfserving',
              host: '127.0.91.9',
              restPort: 8501,
              grpcPort: 8500,
              versions: ['1'],
              availabilityZone: 'us-east-1a',
              clusterArn: 'arn:aws:ecs:us-east-1:123456789012:cluster/ml',
              taskArn: 'arn:aws:ecs:us-east-1:123456789012:task/ml/signed',
              lastProbeAt: new Date().toISOString(),
            },
          ],
          stale: false,
        }
      : { message: verdict.reason };
    const text = JSON.stringify(body);
    res.writeHead(verdict.ok ? 200 : 403, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
    });
    res.end(text);
  });

  private constructor(readonly secrets: Readonly<Record<string, string>>) {}

  static async start(host: string, secrets: Readonly<Record<string, string>>): Promise<SigningRegistry> {
    const registry = new SigningRegistry(secrets);
    await new Promise<void>((resolve, reject) => {
      registry.#server.once('error', reject);
      registry.#server.listen({ host, port: 0 }, () => resolve());
    });
    return registry;
  }

  get url(): string {
    const { address, port } = this.#server.address() as AddressInfo;
    return `http://${address}:${port}/v1/`;
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}
