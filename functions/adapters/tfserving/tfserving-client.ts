import http from 'node:http';
import { asError } from '../../domain/errors.ts';
import type { TfServingEndpoint, TfServingProber } from '../../domain/ports.ts';
import {
  type BodyJudge,
  labelMetadataJudge,
  modelStatusJudge,
  type StatusVerdict,
  timeoutReason,
} from '../../domain/tfserving-status.ts';

/**
 * A small HTTP client for TF Serving's REST status and metadata APIs: one keep-alive agent with one
 * connection per endpoint (its probes, one per model, take turns on it) and a hard deadline per
 * request (TF Serving sets no timeout of
 * its own, and a hung server must not hang a probe round). Bodies are judged as they stream in
 * (`tfserving-status.ts`), so a large answer costs no more memory than a small one.
 */

export interface TfServingClientOptions {
  readonly timeoutMs: number;
  /**
   * Connections per endpoint. Default 1: a fleet of 10,000 endpoints serving 2 models each kept
   * 20,000 sockets open with 4 (a round probes an endpoint's models side by side), as many as a
   * process may open here; with 1 it keeps 10,000, and the bare fan-out of those 20,000 probes
   * took the same time (median of 6 interleaved runs at 5,000 × 2 on loopback: 1,106 ms vs 1,127 ms).
   */
  readonly maxSocketsPerHost?: number;
  /** Hosts the client may contact; every host but link-local when absent. Tests confine it to loopback. */
  readonly isAllowedHost?: (host: string) => boolean;
}

// Link-local (169.254.0.0/16) holds instance and task metadata services, never a TF Serving endpoint.
const isLinkLocal = (host: string) => /^169\.254\./.test(host);

/** Only 127.0.0.0/8: what tests and benchmarks may probe. */
export const isLoopback = (host: string) =>
  /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || host === 'localhost';

export class TfServingClient implements TfServingProber {
  private readonly agent: http.Agent;
  private readonly timeoutMs: number;
  private readonly isAllowedHost: (host: string) => boolean;

  constructor(options: TfServingClientOptions) {
    this.isAllowedHost = options.isAllowedHost ?? ((host) => !isLinkLocal(host));
    this.timeoutMs = options.timeoutMs;
    this.agent = new http.Agent({
      keepAlive: true,
      maxSockets: options.maxSocketsPerHost ?? 1,
      // Drop idle sockets before TF Serving or a NAT does, so reuse never meets a dead socket.
      timeout: 30_000,
    });
  }

  /** `GET /v1/models/{model}` judged per the health rules. Never throws. */
  async modelStatus(endpoint: TfServingEndpoint, model: string): Promise<StatusVerdict> {
    try {
      return await this.get(endpoint, `/v1/models/${encodeURIComponent(model)}`, modelStatusJudge);
    } catch (error) {
      return { ok: false, reason: asError(error).message };
    }
  }

  /** Resolves a version label through the metadata API; undefined when it does not resolve. Never throws. */
  async labelVersion(endpoint: TfServingEndpoint, model: string, label: string): Promise<string | undefined> {
    try {
      const path = `/v1/models/${encodeURIComponent(model)}/labels/${encodeURIComponent(label)}/metadata`;
      return await this.get(endpoint, path, (statusCode) => labelMetadataJudge(statusCode));
    } catch {
      return undefined;
    }
  }

  /** Closes idle keep-alive sockets. */
  close(): void {
    this.agent.destroy();
  }

  /** One GET whose body is fed, as it arrives, to the judge its status code and content type pick. */
  private get<T>(
    endpoint: TfServingEndpoint,
    path: string,
    judgeFor: (statusCode: number, contentType: string | undefined) => BodyJudge<T>,
  ): Promise<T> {
    if (!this.isAllowedHost(endpoint.host)) {
      return Promise.reject(new Error(`probing ${endpoint.host} is not allowed`));
    }
    return new Promise((resolve, reject) => {
      const request = http.request({
        host: endpoint.host,
        port: endpoint.restPort,
        path,
        method: 'GET',
        agent: this.agent,
        headers: { accept: 'application/json' },
      });
      const deadline = setTimeout(() => {
        request.destroy(new Error(timeoutReason(this.timeoutMs)));
      }, this.timeoutMs);
      const fail = (error: Error) => {
        clearTimeout(deadline);
        reject(error);
      };
      request.once('error', fail);
      request.once('response', (response) => {
        const judge = judgeFor(response.statusCode ?? 0, response.headers['content-type']);
        response.on('data', (chunk: Buffer) => {
          try {
            judge.write(chunk);
          } catch (error) {
            request.destroy(error as Error);
          }
        });
        response.once('error', fail);
        response.once('aborted', () => fail(new Error('connection closed mid-body')));
        response.once('end', () => {
          clearTimeout(deadline);
          if (!response.complete) {
            reject(new Error('connection closed mid-body'));
            return;
          }
          resolve(judge.end());
        });
      });
      request.end();
    });
  }
}
