import http from 'node:http';
import { asError } from '../shared/errors.ts';
import { judgeModelStatus, labelVersionFromMetadata, type StatusVerdict } from './tfserving-status.ts';

/**
 * A small HTTP client for TF Serving's REST status and metadata APIs: one keep-alive agent (probes
 * of an endpoint reuse its connection), a hard deadline per request (TF Serving sets no timeout of
 * its own, and a hung server must not hang a probe round), and a cap on the body size.
 */

export interface TfServingClientOptions {
  readonly timeoutMs: number;
  /** Larger answers are failures: a status answer is a few hundred bytes per version. */
  readonly maxBodyBytes?: number;
  readonly maxSocketsPerHost?: number;
  /** Hosts the client may contact; every host but link-local when absent. Tests confine it to loopback. */
  readonly isAllowedHost?: (host: string) => boolean;
}

// Link-local (169.254.0.0/16) holds instance and task metadata services, never a TF Serving endpoint.
const isLinkLocal = (host: string) => /^169\.254\./.test(host);

/** Only 127.0.0.0/8: what tests and benchmarks may probe. */
export const isLoopback = (host: string) =>
  /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || host === 'localhost';

export interface TfServingEndpoint {
  readonly host: string;
  readonly restPort: number;
}

interface RawResponse {
  readonly statusCode: number;
  readonly contentType: string | undefined;
  readonly body: string;
}

const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

export class TfServingClient {
  private readonly agent: http.Agent;
  private readonly timeoutMs: number;
  private readonly maxBodyBytes: number;
  private readonly isAllowedHost: (host: string) => boolean;

  constructor(options: TfServingClientOptions) {
    this.isAllowedHost = options.isAllowedHost ?? ((host) => !isLinkLocal(host));
    this.timeoutMs = options.timeoutMs;
    this.maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    this.agent = new http.Agent({
      keepAlive: true,
      maxSockets: options.maxSocketsPerHost ?? 4,
      // Drop idle sockets before TF Serving or a NAT does, so reuse never meets a dead socket.
      timeout: 30_000,
    });
  }

  /** `GET /v1/models/{model}` judged per the health rules. Never throws. */
  async modelStatus(endpoint: TfServingEndpoint, model: string): Promise<StatusVerdict> {
    try {
      const response = await this.get(endpoint, `/v1/models/${encodeURIComponent(model)}`);
      return judgeModelStatus(response.statusCode, response.contentType, response.body);
    } catch (error) {
      return { ok: false, reason: asError(error).message };
    }
  }

  /** Resolves a version label through the metadata API; undefined when it does not resolve. Never throws. */
  async labelVersion(endpoint: TfServingEndpoint, model: string, label: string): Promise<string | undefined> {
    try {
      const path = `/v1/models/${encodeURIComponent(model)}/labels/${encodeURIComponent(label)}/metadata`;
      const response = await this.get(endpoint, path);
      return labelVersionFromMetadata(response.statusCode, response.body);
    } catch {
      return undefined;
    }
  }

  /** Closes idle keep-alive sockets. */
  close(): void {
    this.agent.destroy();
  }

  private get(endpoint: TfServingEndpoint, path: string): Promise<RawResponse> {
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
        request.destroy(new Error(`timeout after ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      const fail = (error: Error) => {
        clearTimeout(deadline);
        reject(error);
      };
      request.once('error', fail);
      request.once('response', (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > this.maxBodyBytes) {
            request.destroy(new Error(`body larger than ${this.maxBodyBytes} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        response.once('error', fail);
        response.once('aborted', () => fail(new Error('connection closed mid-body')));
        response.once('end', () => {
          clearTimeout(deadline);
          if (!response.complete) {
            reject(new Error('connection closed mid-body'));
            return;
          }
          resolve({
            statusCode: response.statusCode ?? 0,
            contentType: response.headers['content-type'],
            body: Buffer.concat(chunks).toString('utf8'),
          });
        });
      });
      request.end();
    });
  }
}
