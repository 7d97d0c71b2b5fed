import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A DynamoDB endpoint that forwards to a real engine and can be told to fail the way DynamoDB
 * fails in production, for the fault tests and benchmarks (point `AWS_ENDPOINT_URL_DYNAMODB` at it):
 * - `pass`: forwards every request;
 * - `hang`: accepts requests and never answers (a brown-out seen from the client);
 * - `refuse`: stops listening (connections refused: an outage);
 * - `slow`: forwards after `delayMs`;
 * - `deny`: answers the listed operations `400 AccessDeniedException`, as IAM does for an action a
 *   role lacks (the other operations pass); with `matching`, only requests whose body contains it.
 * Loopback only. Every request is recorded: its operation (`X-Amz-Target`) and table.
 */

export type FaultMode =
  | { readonly kind: 'pass' }
  | { readonly kind: 'hang' }
  | { readonly kind: 'refuse' }
  | { readonly kind: 'slow'; readonly delayMs: number }
  | { readonly kind: 'deny'; readonly operations: readonly string[]; readonly matching?: string };

/** The tables a DynamoDB JSON request names: its `TableName`, or a batch's `RequestItems` keys. */
function tableNamesOf(body: Buffer): string[] {
  try {
    const request = JSON.parse(body.toString('utf8')) as { TableName?: unknown; RequestItems?: unknown };
    if (typeof request.TableName === 'string') return [request.TableName];
    const items = request.RequestItems;
    return typeof items === 'object' && items !== null ? Object.keys(items) : [];
  } catch {
    return [];
  }
}

export class DynamoDbFaultProxy {
  /** Requests received, by operation. */
  readonly requests = new Map<string, number>();
  /** Every request received, in order: its operation and the tables it names. */
  readonly calls: { readonly operation: string; readonly tableNames: readonly string[] }[] = [];
  #mode: FaultMode = { kind: 'pass' };
  readonly #server: http.Server;
  readonly #sockets = new Set<Socket>();
  readonly #target: URL;
  #port = 0;

  private constructor(target: string) {
    this.#target = new URL(target);
    this.#server = http.createServer((request, response) => this.#handle(request, response));
    this.#server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
  }

  /** Starts forwarding to `target` (an engine's endpoint URL) on a free loopback port. */
  static async start(target: string): Promise<DynamoDbFaultProxy> {
    const proxy = new DynamoDbFaultProxy(target);
    await proxy.#listen(0);
    return proxy;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  get mode(): FaultMode {
    return this.#mode;
  }

  /** Switches the fault. Hung requests stay hung; `refuse` closes the listener and every connection. */
  async set(mode: FaultMode): Promise<void> {
    const wasRefusing = this.#mode.kind === 'refuse';
    this.#mode = mode;
    if (mode.kind === 'refuse' && !wasRefusing) {
      await new Promise<void>((resolve) => {
        this.#server.close(() => resolve());
        for (const socket of this.#sockets) socket.destroy();
      });
    } else if (mode.kind !== 'refuse' && wasRefusing) {
      await this.#listen(this.#port);
    }
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    if (this.#server.listening) await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, '127.0.0.1', () => {
        this.#server.off('error', reject);
        this.#port = (this.#server.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  #handle(request: http.IncomingMessage, response: http.ServerResponse): void {
    const operation = String(request.headers['x-amz-target'] ?? '').split('.')[1] ?? 'unknown';
    this.requests.set(operation, (this.requests.get(operation) ?? 0) + 1);
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.once('end', () => {
      const body = Buffer.concat(chunks);
      this.calls.push({ operation, tableNames: tableNamesOf(body) });
      const mode = this.#mode;
      if (mode.kind === 'hang') return;
      if (
        mode.kind === 'deny' &&
        mode.operations.includes(operation) &&
        (mode.matching === undefined || body.toString('utf8').includes(mode.matching))
      ) {
        const denial = JSON.stringify({
          __type: 'com.amazon.coral.service#AccessDeniedException',
          message: `User is not authorized to perform: dynamodb:${operation}`,
        });
        response.writeHead(400, {
          'content-type': 'application/x-amz-json-1.0',
          'content-length': Buffer.byteLength(denial),
        });
        response.end(denial);
        return;
      }
      if (mode.kind === 'slow') setTimeout(() => this.#forward(request, response, body), mode.delayMs);
      else this.#forward(request, response, body);
    });
  }

  /** Forwards the request with its body and pipes the answer back. */
  #forward(request: http.IncomingMessage, response: http.ServerResponse, body: Buffer): void {
    const upstream = http.request(
      {
        host: this.#target.hostname,
        port: this.#target.port,
        method: request.method,
        path: request.url,
        headers: request.headers,
      },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    upstream.once('error', () => response.destroy());
    upstream.end(body);
  }
}
