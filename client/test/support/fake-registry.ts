import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A scripted discovery API on loopback, for the contract cases `npm start` does not produce on
 * demand (the registry's own stale answers, 503 with Retry-After, hangs, garbage). Routes and
 * bodies follow the design's Discovery API; `answer` decides each reply.
 */

export interface FakeEndpoint {
  id: string;
  host: string;
  restPort: number;
  grpcPort: number | null;
  versions: string[];
  availabilityZone: string | null;
  clusterArn: string;
  taskArn: string;
  lastProbeAt: string;
}

export interface SeenRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
}

export type Reply = { status: number; body?: unknown; headers?: Record<string, string> } | 'hang' | 'reset';

export function endpoint(n: number, zone = 'us-east-1a', versions = ['1']): FakeEndpoint {
  return {
    id: `ml/task${n}/tfserving`,
    host: `127.0.91.${n}`,
    restPort: 8501,
    grpcPort: 8500,
    versions,
    availabilityZone: zone,
    clusterArn: 'arn:aws:ecs:us-east-1:123456789012:cluster/ml',
    taskArn: `arn:aws:ecs:us-east-1:123456789012:task/ml/task${n}`,
    lastProbeAt: new Date().toISOString(),
  };
}

/** A weak ETag over what a client routes by, as the registry computes it (ids, addresses, ports, versions). */
export function etagOf(endpoints: readonly FakeEndpoint[]): string {
  const text = JSON.stringify(endpoints.map((e) => [e.id, e.host, e.restPort, e.grpcPort, e.versions]));
  let hash = 0;
  for (let i = 0; i < text.length; i += 1) hash = (hash * 31 + text.charCodeAt(i)) | 0;
  return `W/"${(hash >>> 0).toString(16)}"`;
}

export class FakeRegistry {
  readonly requests: SeenRequest[] = [];
  /** The model's endpoints; `undefined` answers 404 ModelNotFound. */
  endpoints: FakeEndpoint[] | undefined = [];
  /** Overrides the normal answer when set (for one request or until cleared). */
  override: ((request: SeenRequest) => Reply | undefined) | undefined;
  readonly #sockets = new Set<Socket>();
  readonly #server = createServer((req, res) => {
    const seen = { method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers };
    this.requests.push(seen);
    const reply = this.override?.(seen) ?? this.#normal(seen);
    if (reply === 'hang') return;
    if (reply === 'reset') {
      req.socket.destroy();
      return;
    }
    send(res, reply);
  });

  private constructor(
    readonly host: string,
    /** Path prefix the API is mounted at, e.g. `/v1` for an API Gateway stage. */
    readonly prefix: string,
  ) {
    this.#server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
  }

  static async start(host = '127.0.90.250', prefix = ''): Promise<FakeRegistry> {
    const registry = new FakeRegistry(host, prefix);
    await new Promise<void>((resolve, reject) => {
      registry.#server.once('error', reject);
      registry.#server.listen({ host, port: 0 }, () => resolve());
    });
    return registry;
  }

  get url(): string {
    return `http://${this.host}:${(this.#server.address() as AddressInfo).port}${this.prefix}`;
  }

  get etag(): string {
    return etagOf(this.endpoints ?? []);
  }

  close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  #normal(request: SeenRequest): Reply {
    const prefix = `${this.prefix}/models/`;
    if (!request.path.startsWith(prefix)) {
      return { status: 404, body: { error: { code: 'RouteNotFound', message: 'No such route.' } } };
    }
    const model = decodeURIComponent(request.path.slice(prefix.length).split('/')[0] ?? '');
    if (this.endpoints === undefined) {
      return {
        status: 404,
        body: { error: { code: 'ModelNotFound', message: `No running task declares ${model}.` } },
      };
    }
    const etag = this.etag;
    const match = request.headers['if-none-match'];
    if (match?.split(',').some((tag) => tag.trim() === etag)) {
      return { status: 304, headers: { etag } };
    }
    return { status: 200, body: { model, endpoints: this.endpoints, stale: false }, headers: { etag } };
  }
}

function send(res: ServerResponse, reply: Exclude<Reply, 'hang' | 'reset'>): void {
  const body =
    reply.body === undefined ? '' : typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    ...(reply.status === 304 || body === '' ? {} : { 'content-type': 'application/json' }),
    'content-length': Buffer.byteLength(body),
    ...reply.headers,
  });
  res.end(reply.status === 304 ? undefined : body);
}
