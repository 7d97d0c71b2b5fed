import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Loopback stand-ins for the AWS APIs that have no local engine, at the HTTP level, so a
 * deployed bundle talks to them through its own SDK exactly as on AWS: ECS (JSON 1.1,
 * `X-Amz-Target: AmazonEC2ContainerServiceV20141113.<Operation>`), EC2 (query protocol, XML) and
 * Lambda's Invoke (REST JSON, `POST /2015-03-31/functions/{name}/invocations`).
 * Every call is recorded with its input; answers come from a script.
 */

export interface RecordedCall {
  readonly service: 'ecs' | 'ec2' | 'lambda';
  readonly operation: string;
  readonly input: Record<string, unknown>;
}

export type EcsScript = Readonly<
  Record<string, (input: Record<string, unknown>) => Record<string, unknown> | { error: string }>
>;

export class AwsFake {
  readonly calls: RecordedCall[] = [];

  private constructor(
    private readonly server: http.Server,
    readonly endpoint: string,
  ) {}

  /** An ECS endpoint answering each operation with `script[operation](input)`. */
  static async ecs(script: EcsScript): Promise<AwsFake> {
    let fake: AwsFake | undefined;
    const server = http.createServer(async (request, response) => {
      const operation = String(request.headers['x-amz-target'] ?? '').split('.')[1] ?? 'unknown';
      const input = JSON.parse((await bodyOf(request)) || '{}') as Record<string, unknown>;
      fake?.calls.push({ service: 'ecs', operation, input });
      const answer = script[operation]?.(input) ?? { error: 'UnsupportedOperation' };
      const failed = 'error' in answer;
      const body = JSON.stringify(
        failed ? { __type: answer.error, message: `${operation}: ${answer.error}` } : answer,
      );
      response.writeHead(failed ? 400 : 200, { 'content-type': 'application/x-amz-json-1.1' });
      response.end(body);
    });
    fake = new AwsFake(server, await listen(server));
    return fake;
  }

  /** An EC2 endpoint answering `DescribeInstances` with one instance per id and `privateIpOf(id)`. */
  static async ec2(privateIpOf: (instanceId: string) => string): Promise<AwsFake> {
    let fake: AwsFake | undefined;
    const server = http.createServer(async (request, response) => {
      const params = new URLSearchParams(await bodyOf(request));
      const operation = params.get('Action') ?? 'unknown';
      const ids = [...params.entries()].filter(([key]) => key.startsWith('InstanceId.')).map(([, id]) => id);
      fake?.calls.push({ service: 'ec2', operation, input: { InstanceIds: ids } });
      const instances = ids
        .map(
          (id) =>
            `<item><instanceId>${id}</instanceId><privateIpAddress>${privateIpOf(id)}</privateIpAddress></item>`,
        )
        .join('');
      response.writeHead(200, { 'content-type': 'text/xml;charset=UTF-8' });
      response.end(
        `<?xml version="1.0" encoding="UTF-8"?><DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">` +
          `<requestId>fake</requestId><reservationSet><item><reservationId>r-fake</reservationId>` +
          `<instancesSet>${instances}</instancesSet></item></reservationSet></DescribeInstancesResponse>`,
      );
    });
    fake = new AwsFake(server, await listen(server));
    return fake;
  }

  /**
   * A Lambda endpoint accepting `Invoke`: an asynchronous one (`X-Amz-Invocation-Type: Event`) is
   * answered 202 as Lambda does once it has queued the event; the event itself goes nowhere.
   */
  static async lambda(): Promise<AwsFake> {
    let fake: AwsFake | undefined;
    const server = http.createServer(async (request, response) => {
      const body = await bodyOf(request);
      const match = /^\/2015-03-31\/functions\/([^/]+)\/invocations/.exec(request.url ?? '');
      if (request.method !== 'POST' || match === null) {
        response.writeHead(404, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ message: `unsupported ${request.method} ${request.url}` }));
        return;
      }
      const invocationType = String(request.headers['x-amz-invocation-type'] ?? 'RequestResponse');
      fake?.calls.push({
        service: 'lambda',
        operation: 'Invoke',
        input: {
          FunctionName: decodeURIComponent(match[1] as string),
          InvocationType: invocationType,
          Payload: JSON.parse(body || 'null'),
        },
      });
      response.writeHead(invocationType === 'Event' ? 202 : 200, { 'content-type': 'application/json' });
      response.end(invocationType === 'Event' ? '' : 'null');
    });
    fake = new AwsFake(server, await listen(server));
    return fake;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

function bodyOf(request: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.once('error', reject);
  });
}

function listen(server: http.Server): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    );
  });
}
