// The TF Serving stand-in over real HTTP on loopback addresses 127.0.10.x, port 8501 (one address per
// stand-in, so this file never clashes with other test files, which use other 127.x ranges).
import { once } from 'node:events';
import http from 'node:http';
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { TfServingStandIn } from '../../tools/tfserving-stand-in/stand-in.ts';
import { within } from '../support/kit/poll.ts';
import { standInsOn } from '../support/kit/stand-ins.ts';

const PORT = 8501;
const standIns = standInsOn(10, { port: PORT });
const agents: http.Agent[] = [];

afterEach(() => {
  for (const agent of agents.splice(0)) agent.destroy();
});

function keepAliveAgent(): http.Agent {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  agents.push(agent);
  return agent;
}

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  socket: Socket;
}

interface RequestOptions {
  method?: string;
  headers?: http.OutgoingHttpHeaders;
  /** Default: a fresh connection, closed after the reply. */
  agent?: http.Agent;
}

/** One HTTP request with the path sent exactly as given (no URL normalisation). */
function request(
  target: { host: string; port: number },
  path: string,
  options: RequestOptions = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: target.host,
        port: target.port,
        path,
        method: options.method ?? 'GET',
        headers: options.headers,
        agent: options.agent ?? false,
      },
      (res) => {
        const socket = res.socket;
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
            socket,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function errorOf(reply: Reply): string {
  return (JSON.parse(reply.body) as { error: string }).error;
}

interface StatusEntry {
  version: string;
  state: string;
  status: { error_code: string; error_message: string };
}

function statusOf(reply: Reply): StatusEntry[] {
  return (JSON.parse(reply.body) as { model_version_status: StatusEntry[] }).model_version_status;
}

function entry(version: string, state: string, errorCode = 'OK', errorMessage = ''): StatusEntry {
  return { version, state, status: { error_code: errorCode, error_message: errorMessage } };
}

interface Metadata {
  model_spec: { name: string; signature_name: string; version: string };
  metadata: { signature_def: { signature_def: Record<string, { method_name: string }> } };
}

function metadataOf(reply: Reply): Metadata {
  return JSON.parse(reply.body) as Metadata;
}

describe('TfServingStandIn', () => {
  describe('model status', () => {
    it('answers every tracked version newest first, in proto3 JSON with whitespace', async () => {
      // Prepare
      const standIn = await standIns.start({ models: { foo: { available: ['2', 10, '9'] } } });
      standIn.failLoad('foo', 11);

      // Act
      const reply = await request(standIn, '/v1/models/foo');

      // Assess
      expect(reply.status).toBe(200);
      expect(reply.headers['content-type']).toBe('application/json');
      expect(reply.headers['content-length']).toBe(String(Buffer.byteLength(reply.body)));
      expect(reply.headers['transfer-encoding']).toBeUndefined();
      expect(reply.body).toMatch(/^\{\n "model_version_status": \[\n {2}\{\n {3}"version": "11",/);
      expect(reply.body.endsWith('}\n')).toBe(true);
      expect(statusOf(reply)).toEqual([
        entry(
          '11',
          'END',
          'NOT_FOUND',
          'Could not find SavedModel .pb or .pbtxt at supplied export directory path: /models/foo/11',
        ),
        entry('10', 'AVAILABLE'),
        entry('9', 'AVAILABLE'),
        entry('2', 'AVAILABLE'),
      ]);
    });

    it('answers exactly one version for /versions/N, leading zeros included', async () => {
      // Prepare
      const standIn = await standIns.start({ models: { foo: { available: [6, 7] } } });

      // Act
      const reply = await request(standIn, '/v1/models/foo/versions/007');

      // Assess
      expect(reply.status).toBe(200);
      expect(statusOf(reply)).toEqual([entry('7', 'AVAILABLE')]);
    });

    it('answers 404 for a model it has never tracked', async () => {
      // Prepare
      const standIn = await standIns.start({ models: { foo: { available: [1] } } });

      // Act
      const reply = await request(standIn, '/v1/models/bar');

      // Assess
      expect(reply.status).toBe(404);
      expect(reply.headers['content-type']).toBe('application/json');
      expect(errorOf(reply)).toBe('Could not find any versions of model bar');
    });

    it('answers 404 for a version it has never tracked', async () => {
      // Prepare
      const standIn = await standIns.start({ models: { foo: { available: [1] } } });

      // Act
      const reply = await request(standIn, '/v1/models/foo/versions/9');

      // Assess
      expect(reply.status).toBe(404);
      expect(errorOf(reply)).toBe('Could not find version 9 of model foo');
    });

    it('ignores the label of a status request, known or not, and answers every version', async () => {
      // Prepare
      const standIn = await standIns.start({ models: { foo: { available: [1, 2], labels: { stable: 1 } } } });

      // Act
      const known = await request(standIn, '/v1/models/foo/labels/stable');
      const unknown = await request(standIn, '/v1/models/foo/labels/nope');

      // Assess
      for (const reply of [known, unknown]) {
        expect(reply.status).toBe(200);
        expect(statusOf(reply)).toEqual([entry('2', 'AVAILABLE'), entry('1', 'AVAILABLE')]);
      }
    });

    it('keeps unloaded versions as END entries and answers 200 after the model is removed', async () => {
      // Prepare
      const standIn = await standIns.start({ models: { foo: { available: [1] } } });
      standIn.load('foo', 2);
      standIn.unload('foo', 1);
      const afterRollout = statusOf(await request(standIn, '/v1/models/foo'));

      // Act
      standIn.removeModel('foo');
      const reply = await request(standIn, '/v1/models/foo');

      // Assess
      expect(afterRollout).toEqual([entry('2', 'AVAILABLE'), entry('1', 'END')]);
      expect(reply.status).toBe(200);
      expect(statusOf(reply)).toEqual([entry('2', 'END'), entry('1', 'END')]);
    });

    it('shows a load in progress as LOADING and a failed one as END with the given error', async () => {
      // Prepare
      const standIn = await standIns.start({ models: { foo: { available: [7] } } });
      standIn.startLoading('foo', 8);
      const whileLoading = statusOf(await request(standIn, '/v1/models/foo'));

      // Act
      standIn.failLoad('foo', 8, 'Not found: no SavedModel in /models/foo/8');
      const reply = await request(standIn, '/v1/models/foo');

      // Assess
      expect(whileLoading).toEqual([entry('8', 'LOADING'), entry('7', 'AVAILABLE')]);
      expect(statusOf(reply)).toEqual([
        entry('8', 'END', 'NOT_FOUND', 'Not found: no SavedModel in /models/foo/8'),
        entry('7', 'AVAILABLE'),
      ]);
    });

    it('reports any state and status set directly', async () => {
      // Prepare
      const standIn = await standIns.start();
      standIn.setVersion('foo', '3', 'START');
      standIn.setVersion('foo', '4', 'UNLOADING');
      standIn.setVersion('foo', '5', 'END', {
        error_code: 'CANCELLED',
        error_message: 'Loading of servable cancelled',
      });

      // Act
      const reply = await request(standIn, '/v1/models/foo');

      // Assess
      expect(statusOf(reply)).toEqual([
        entry('5', 'END', 'CANCELLED', 'Loading of servable cancelled'),
        entry('4', 'UNLOADING'),
        entry('3', 'START'),
      ]);
    });

    it('forgets a model entirely, as a restart would', async () => {
      // Prepare
      const standIn = await standIns.start({ models: { foo: { available: [1] } } });

      // Act
      standIn.forgetModel('foo');
      const reply = await request(standIn, '/v1/models/foo');

      // Assess
      expect(reply.status).toBe(404);
      expect(errorOf(reply)).toBe('Could not find any versions of model foo');
    });

    it('URL-decodes model names like curl: %XX only, + stays a plus', async () => {
      // Prepare
      const standIn = await standIns.start({
        models: { 'team/model': { available: [1] }, 'a+b': { available: [2] } },
      });

      // Act
      const slash = await request(standIn, '/v1/models/team%2Fmodel');
      const plus = await request(standIn, '/v1/models/a+b');
      const space = await request(standIn, '/v1/models/x%20y');

      // Assess
      expect(statusOf(slash)).toEqual([entry('1', 'AVAILABLE')]);
      expect(statusOf(plus)).toEqual([entry('2', 'AVAILABLE')]);
      expect(errorOf(space)).toBe('Could not find any versions of model x y');
    });

    it('reads a query string as part of the model name', async () => {
      // Prepare
      const standIn = await standIns.start({ models: { foo: { available: [1] } } });

      // Act
      const reply = await request(standIn, '/v1/models/foo?x=1');

      // Assess
      expect(reply.status).toBe(404);
      expect(errorOf(reply)).toBe('Could not find any versions of model foo?x=1');
    });

    it('matches the path case-insensitively but model names case-sensitively', async () => {
      // Prepare
      const standIn = await standIns.start({ models: { foo: { available: [1] } } });

      // Act
      const upperPath = await request(standIn, '/V1/MODELS/foo/VERSIONS/1');
      const upperName = await request(standIn, '/v1/models/FOO');

      // Assess
      expect(statusOf(upperPath)).toEqual([entry('1', 'AVAILABLE')]);
      expect(upperName.status).toBe(404);
    });
  });

  describe('malformed requests', () => {
    it.each([
      ['/v1/models', 400, 'Missing model name in request.'],
      ['/v1/models/', 400, 'Malformed request: GET /v1/models/'],
      ['/v1/models/foo/', 400, 'Malformed request: GET /v1/models/foo/'],
      ['/v1/models/foo/versions/3/', 400, 'Malformed request: GET /v1/models/foo/versions/3/'],
      ['/v1/models/foo/versions/abc', 400, 'Malformed request: GET /v1/models/foo/versions/abc'],
      ['/v1/models/foo/versions/-1', 400, 'Malformed request: GET /v1/models/foo/versions/-1'],
      ['/v1/models/foo/versions/3?x=1', 400, 'Malformed request: GET /v1/models/foo/versions/3?x=1'],
      ['/v1/models/foo:predict', 400, 'Malformed request: GET /v1/models/foo:predict'],
      ['/v1/foo', 400, 'Malformed request: GET /v1/foo'],
      [
        '/v1/models/foo/versions/9223372036854775808',
        400,
        'Failed to convert version: 9223372036854775808 to numeric.',
      ],
      [
        '/v1/models/foo/versions/9223372036854775807',
        404,
        'Could not find version 9223372036854775807 of model foo',
      ],
    ])('answers GET %s with %i and TF Serving’s message', async (path, status, message) => {
      // Prepare
      const standIn = await standIns.start({ models: { foo: { available: [3] } } });

      // Act
      const reply = await request(standIn, path);

      // Assess
      expect(reply.status).toBe(status);
      expect(reply.headers['content-type']).toBe('application/json');
      expect(errorOf(reply)).toBe(message);
    });

    it('prints error bodies with a 4-space indent and no trailing newline', async () => {
      // Prepare
      const standIn = await standIns.start();

      // Act
      const reply = await request(standIn, '/v1/models/foo');

      // Assess
      expect(reply.body).toBe('{\n    "error": "Could not find any versions of model foo"\n}');
      expect(reply.headers['content-length']).toBe(String(Buffer.byteLength(reply.body)));
    });

    it.each(['POST', 'PUT', 'DELETE', 'PATCH'])('answers %s with 400 Malformed request', async (method) => {
      // Prepare
      const standIn = await standIns.start({ models: { foo: { available: [1] } } });

      // Act
      const reply = await request(standIn, '/v1/models/foo', { method });

      // Assess
      expect(reply.status).toBe(400);
      expect(errorOf(reply)).toBe(`Malformed request: ${method} /v1/models/foo`);
    });

    it('answers HEAD with 400 and no body', async () => {
      // Prepare
      const standIn = await standIns.start({ models: { foo: { available: [1] } } });

      // Act
      const reply = await request(standIn, '/v1/models/foo', { method: 'HEAD' });

      // Assess
      expect(reply.status).toBe(400);
      expect(reply.body).toBe('');
    });

    it('answers a CORS preflight with 200 only when Origin carries an http(s) scheme', async () => {
      // Prepare
      const standIn = await standIns.start({ models: { foo: { available: [1] } } });

      // Act
      const withOrigin = await request(standIn, '/v1/models/foo', {
        method: 'OPTIONS',
        headers: { Origin: 'https://console.example.com' },
      });
      const withoutScheme = await request(standIn, '/v1/models/foo', {
        method: 'OPTIONS',
        headers: { Origin: 'console.example.com' },
      });
      const withoutOrigin = await request(standIn, '/v1/models/foo', { method: 'OPTIONS' });

      // Assess
      expect(withOrigin.status).toBe(200);
      expect(withOrigin.body).toBe('');
      for (const reply of [withoutScheme, withoutOrigin]) {
        expect(reply.status).toBe(400);
        expect(errorOf(reply)).toBe('Malformed request: OPTIONS /v1/models/foo');
      }
    });
  });

  describe('paths outside /v1/', () => {
    it.each(['/', '/healthz', '/v1', '/v2/models/foo', '/monitoring/prometheus/metrics'])(
      'answers GET %s with libevent’s HTML 404 page',
      async (path) => {
        // Prepare
        const standIn = await standIns.start({ models: { foo: { available: [1] } } });

        // Act
        const reply = await request(standIn, path);

        // Assess
        expect(reply.status).toBe(404);
        expect(reply.headers['content-type']).toBe('text/html');
        expect(reply.body).toContain('<TITLE>404 Not Found</TITLE>');
        expect(() => JSON.parse(reply.body)).toThrow();
      },
    );
  });

  describe('model metadata', () => {
    it('describes the latest AVAILABLE version, ignoring newer ones still loading', async () => {
      // Prepare
      const standIn = await standIns.start({ models: { foo: { available: [1, 2] } } });
      standIn.startLoading('foo', 3);

      // Act
      const reply = await request(standIn, '/v1/models/foo/metadata');

      // Assess
      expect(reply.status).toBe(200);
      expect(reply.headers['content-type']).toBe('application/json');
      const metadata = metadataOf(reply);
      expect(metadata.model_spec).toEqual({ name: 'foo', signature_name: '', version: '2' });
      expect(metadata.metadata.signature_def.signature_def.serving_default?.method_name).toBe(
        'tensorflow/serving/predict',
      );
    });

    it('describes the version asked for', async () => {
      // Prepare
      const standIn = await standIns.start({ models: { foo: { available: [1, 2] } } });

      // Act
      const reply = await request(standIn, '/v1/models/foo/versions/1/metadata');

      // Assess
      expect(metadataOf(reply).model_spec.version).toBe('1');
    });

    it('resolves a label to its version', async () => {
      // Prepare
      const standIn = await standIns.start({ models: { foo: { available: [1, 2], labels: { stable: 1 } } } });
      standIn.setLabel('foo', 'canary', 2);

      // Act
      const stable = await request(standIn, '/v1/models/foo/labels/stable/metadata');
      const canary = await request(standIn, '/v1/models/foo/labels/canary/metadata');

      // Assess
      expect(metadataOf(stable).model_spec.version).toBe('1');
      expect(metadataOf(canary).model_spec.version).toBe('2');
    });

    it('answers 400 for a label the model does not have', async () => {
      // Prepare
      const standIn = await standIns.start({ models: { foo: { available: [1], labels: { stable: 1 } } } });
      standIn.removeLabel('foo', 'stable');

      // Act
      const removed = await request(standIn, '/v1/models/foo/labels/stable/metadata');
      const unknown = await request(standIn, '/v1/models/foo/labels/nope/metadata');

      // Assess
      expect(removed.status).toBe(400);
      expect(errorOf(removed)).toBe('Unrecognized servable version label: stable');
      expect(errorOf(unknown)).toBe('Unrecognized servable version label: nope');
    });

    it('answers 404 Latest(...) when nothing of the model is AVAILABLE', async () => {
      // Prepare
      const standIn = await standIns.start({ models: { foo: { available: [1] } } });
      standIn.unload('foo', 1);

      // Act
      const unloaded = await request(standIn, '/v1/models/foo/metadata');
      const unknown = await request(standIn, '/v1/models/bar/metadata');

      // Assess
      expect(unloaded.status).toBe(404);
      expect(errorOf(unloaded)).toBe('Servable not found for request: Latest(foo)');
      expect(errorOf(unknown)).toBe('Servable not found for request: Latest(bar)');
    });

    it('answers 404 Specific(...) for a version, asked for or labelled, that is not AVAILABLE', async () => {
      // Prepare
      const standIn = await standIns.start({ models: { foo: { available: [2, 3], labels: { old: 2 } } } });
      standIn.unload('foo', 2);

      // Act
      const unknown = await request(standIn, '/v1/models/foo/versions/9/metadata');
      const labelled = await request(standIn, '/v1/models/foo/labels/old/metadata');

      // Assess
      expect(unknown.status).toBe(404);
      expect(errorOf(unknown)).toBe('Servable not found for request: Specific(foo, 9)');
      expect(errorOf(labelled)).toBe('Servable not found for request: Specific(foo, 2)');
    });

    it('treats /METADATA as a status request, since TF Serving compares the subresource case-sensitively', async () => {
      // Prepare
      const standIn = await standIns.start({ models: { foo: { available: [1] } } });

      // Act
      const reply = await request(standIn, '/v1/models/foo/METADATA');

      // Assess
      expect(statusOf(reply)).toEqual([entry('1', 'AVAILABLE')]);
    });
  });

  describe('connections and lifecycle', () => {
    it('keeps an HTTP/1.1 connection alive across requests', async () => {
      // Prepare
      const standIn = await standIns.start({ models: { foo: { available: [1] } } });
      const agent = keepAliveAgent();

      // Act
      const first = await request(standIn, '/v1/models/foo', { agent });
      const second = await request(standIn, '/v1/models/bar', { agent });

      // Assess
      expect(first.headers.connection).toBe('keep-alive');
      expect(second.socket).toBe(first.socket);
      expect(second.status).toBe(404);
    });

    it('closes the connection after an HTML 404, like libevent', async () => {
      // Prepare
      const standIn = await standIns.start();
      const agent = keepAliveAgent();

      // Act
      const reply = await request(standIn, '/healthz', { agent });

      // Assess
      expect(reply.headers.connection).toBe('close');
    });

    it('refuses connections after die() and drops kept-alive ones', async () => {
      // Prepare
      const standIn = await standIns.start({ models: { foo: { available: [1] } } });
      const agent = keepAliveAgent();
      const kept = await request(standIn, '/v1/models/foo', { agent });
      const keptClosed = once(kept.socket, 'close');

      // Act
      await standIn.die();

      // Assess
      await keptClosed;
      expect(standIn.listening).toBe(false);
      await expect(request(standIn, '/v1/models/foo')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    });

    it('listens again on the same address after revive(), with its models as they were', async () => {
      // Prepare
      const standIn = await standIns.start({ models: { foo: { available: [1] } } });
      await standIn.die();
      standIn.load('foo', 2);

      // Act
      await standIn.revive();
      const reply = await request(standIn, '/v1/models/foo');

      // Assess
      expect(standIn.listening).toBe(true);
      expect(statusOf(reply)).toEqual([entry('2', 'AVAILABLE'), entry('1', 'AVAILABLE')]);
    });

    it('fails to start on an address already in use, with EADDRINUSE', async () => {
      // Prepare
      const standIn = await standIns.start();

      // Act
      const starting = TfServingStandIn.start({ host: standIn.host, port: standIn.port });

      // Assess
      await expect(starting).rejects.toMatchObject({ code: 'EADDRINUSE' });
    });

    it('picks a free port when started with port 0 and reports it in its URL', async () => {
      // Prepare
      const host = standIns.nextHost();

      // Act
      const standIn = standIns.keep(
        await TfServingStandIn.start({ host, port: 0, models: { foo: { available: [1] } } }),
      );
      const reply = await request(standIn, '/v1/models/foo');

      // Assess
      expect(standIn.port).toBeGreaterThan(0);
      expect(standIn.url).toBe(`http://${host}:${standIn.port}`);
      expect(reply.status).toBe(200);
    });

    it('closes idempotently and cannot be revived once closed', async () => {
      // Prepare
      const standIn = await standIns.start();

      // Act
      await standIn.close();
      await standIn.close();

      // Assess
      await expect(standIn.revive()).rejects.toThrow(/closed/);
      await expect(request(standIn, '/v1/models/foo')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    });

    it('counts requests and keeps the latest paths, raw', async () => {
      // Prepare
      const standIn = await standIns.start({ keepPaths: 2 });

      // Act
      await request(standIn, '/v1/models/a');
      await request(standIn, '/healthz');
      await request(standIn, '/v1/models/c?x=1');

      // Assess
      expect(standIn.requests.count).toBe(3);
      expect(standIn.requests.paths).toEqual(['/healthz', '/v1/models/c?x=1']);
      standIn.clearRequests();
      expect(standIn.requests).toEqual({ count: 0, paths: [] });
    });

    it('runs many stand-ins side by side in one process', async () => {
      // Prepare
      const started = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          standIns.start({ models: { [`model-${i}`]: { available: [i + 1] } } }),
        ),
      );

      // Act
      const replies = await Promise.all(
        started.map((standIn, i) => request(standIn, `/v1/models/model-${i}`)),
      );

      // Assess
      replies.forEach((reply, i) => {
        expect(statusOf(reply)).toEqual([entry(String(i + 1), 'AVAILABLE')]);
      });
    });
  });

  describe('misbehaviours', () => {
    it('answers 500 with a JSON error under http-500', async () => {
      // Prepare
      const standIn = await standIns.start({ models: { foo: { available: [1] } } });
      standIn.misbehave('http-500');

      // Act
      const reply = await request(standIn, '/v1/models/foo');

      // Assess
      expect(reply.status).toBe(500);
      expect(reply.headers['content-type']).toBe('application/json');
      expect(errorOf(reply)).toMatch(/500/);
    });

    it('answers 200 with an HTML page under html', async () => {
      // Prepare
      const standIn = await standIns.start({ models: { foo: { available: [1] } } });
      standIn.misbehave('html');

      // Act
      const reply = await request(standIn, '/v1/models/foo');

      // Assess
      expect(reply.status).toBe(200);
      expect(reply.headers['content-type']).toBe('text/html');
      expect(reply.body).toMatch(/^<!DOCTYPE html>/);
    });

    it('answers 200 application/json that does not parse under non-json', async () => {
      // Prepare
      const standIn = await standIns.start({ models: { foo: { available: [1] } } });
      standIn.misbehave('non-json');

      // Act
      const reply = await request(standIn, '/v1/models/foo');

      // Assess
      expect(reply.status).toBe(200);
      expect(reply.headers['content-type']).toBe('application/json');
      expect(() => JSON.parse(reply.body)).toThrow();
    });

    it('sends the first half of the real body, with a Content-Length to match, under truncated-json', async () => {
      // Prepare
      const standIn = await standIns.start({ models: { foo: { available: [1, 2, 3] } } });
      const whole = await request(standIn, '/v1/models/foo');
      standIn.misbehave('truncated-json');

      // Act
      const reply = await request(standIn, '/v1/models/foo');

      // Assess
      expect(reply.status).toBe(200);
      expect(reply.headers['content-length']).toBe(String(Buffer.byteLength(reply.body)));
      expect(Buffer.byteLength(reply.body)).toBe(Math.floor(Buffer.byteLength(whole.body) / 2));
      expect(whole.body.startsWith(reply.body)).toBe(true);
      expect(() => JSON.parse(reply.body)).toThrow();
    });

    it('lists a -1 version directory as TF Serving does (absl::SimpleAtoi accepts it)', async () => {
      // Prepare
      const standIn = await standIns.start({ models: { foo: { available: [3] } } });
      standIn.unload('foo', '-1');

      // Act
      const reply = await request(standIn, '/v1/models/foo');

      // Assess
      expect(statusOf(reply)).toEqual([entry('3', 'AVAILABLE'), entry('-1', 'END')]);
    });

    it('lists a long history of unloaded versions below the AVAILABLE one', async () => {
      // Prepare
      // Versions named by push time, as exporters do: ~124 bytes an entry.
      const standIn = await standIns.start({
        models: { foo: { available: [1_700_008_500], history: 8500 } },
      });

      // Act
      const reply = await request(standIn, '/v1/models/foo');

      // Assess
      const entries = statusOf(reply);
      expect(Buffer.byteLength(reply.body)).toBeGreaterThan(1024 * 1024);
      expect(entries).toHaveLength(8501);
      expect(entries[0]).toEqual(entry('1700008500', 'AVAILABLE'));
      expect(entries[8500]).toEqual(entry('1700000000', 'END'));
    });

    it('sends a valid status body of about 10 MB under oversized', async () => {
      // Prepare
      const standIn = await standIns.start({ models: { foo: { available: [1] } } });
      standIn.misbehave('oversized');

      // Act
      const reply = await request(standIn, '/v1/models/foo');

      // Assess
      expect(reply.status).toBe(200);
      expect(Buffer.byteLength(reply.body)).toBeGreaterThan(8 * 1024 * 1024);
      expect(reply.headers['content-length']).toBe(String(Buffer.byteLength(reply.body)));
      const entries = statusOf(reply);
      expect(entries[0]?.state).toBe('AVAILABLE');
      expect(entries.length).toBeGreaterThan(80_000);
    });

    it('answers JSON that is not a status response under wrong-shape', async () => {
      // Prepare
      const standIn = await standIns.start({ models: { foo: { available: [1] } } });
      standIn.misbehave('wrong-shape');

      // Act
      const reply = await request(standIn, '/v1/models/foo');

      // Assess
      expect(reply.status).toBe(200);
      expect(JSON.parse(reply.body)).toEqual({ model_version_status: 'nope' });
    });

    it('never answers under hang, yet close() ends the hanging request promptly', async () => {
      // Prepare
      const standIn = await standIns.start({ models: { foo: { available: [1] } } });
      standIn.misbehave('hang');
      const outcome = expect(request(standIn, '/v1/models/foo')).rejects.toMatchObject({
        code: 'ECONNRESET',
      });
      await within(5_000, () => standIn.requests.count === 1, 'the request to reach the stand-in', 1);

      // Act
      const closing = Date.now();
      await standIn.close();
      const closeMs = Date.now() - closing;

      // Assess
      await outcome;
      expect(closeMs).toBeLessThan(1_000);
    });

    it('answers for real again after misbehave("none"), and never misbehaves outside /v1/', async () => {
      // Prepare
      const standIn = await standIns.start({ models: { foo: { available: [1] } } });
      standIn.misbehave('http-500');
      const outside = await request(standIn, '/healthz');

      // Act
      standIn.misbehave('none');
      const reply = await request(standIn, '/v1/models/foo');

      // Assess
      expect(outside.status).toBe(404);
      expect(outside.headers['content-type']).toBe('text/html');
      expect(statusOf(reply)).toEqual([entry('1', 'AVAILABLE')]);
    });
  });

  describe('input checks', () => {
    it('rejects versions that are not int64, unknown states and unknown misbehaviours', async () => {
      // Prepare
      const standIn = await standIns.start();

      // Act
      const attempts = [
        () => standIn.load('foo', '-9223372036854775809'),
        () => standIn.load('foo', 'abc'),
        () => standIn.load('foo', 1.5),
        () => standIn.load('foo', '9223372036854775808'),
        () => standIn.load('', 1),
        () => standIn.setVersion('foo', 1, 'READY' as never),
        () => standIn.misbehave('explode' as never),
      ];

      // Assess
      for (const attempt of attempts) expect(attempt).toThrow(RangeError);
    });
  });

  describe('command line', () => {
    it('serves one stand-in per --host until SIGTERM, then exits 0', async () => {
      // Prepare
      const [first, second] = [standIns.nextHost(), standIns.nextHost()];
      const { child, stdout } = standIns.run([
        ...['--host', first, '--host', second, '--model', 'resnet:1,2', '--label', 'resnet:stable=1'],
      ]);
      await within(
        20_000,
        () => stdout().split('\n').length > 2 || child.exitCode !== null,
        'two listening lines',
      );

      // Act
      const status = await request({ host: second, port: PORT }, '/v1/models/resnet');
      const metadata = await request({ host: first, port: PORT }, '/v1/models/resnet/labels/stable/metadata');
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const [exitCode] = await exited;

      // Assess
      expect(stdout()).toContain(`http://${first}:8501`);
      expect(stdout()).toContain(`http://${second}:8501`);
      expect(statusOf(status)).toEqual([entry('2', 'AVAILABLE'), entry('1', 'AVAILABLE')]);
      expect(metadataOf(metadata).model_spec.version).toBe('1');
      expect(exitCode).toBe(0);
    });

    it('exits 2 with a clear message on a bad argument', async () => {
      // Prepare
      const { child, stderr } = standIns.run(['--model', 'resnet']);

      // Act
      const [exitCode] = await once(child, 'exit');

      // Assess
      expect(exitCode).toBe(2);
      expect(stderr()).toContain('--model resnet: expected name:versions');
    });
  });
});
