import type { TfServingEndpoint } from '../../../functions/domain/ports.ts';
import type { StatusVerdict } from '../../../functions/domain/tfserving-status.ts';

/**
 * A TF Serving client stand-in that never does I/O: answers come from tables keyed by
 * `<host>:<port>/<model>` (status) and `<host>:<port>/<model>/<label>` (label resolution).
 * A status not in the table is a refused connection; every call is recorded.
 */
export class FakeTfServing {
  readonly statusCalls: { host: string; restPort: number; model: string }[] = [];
  readonly labelCalls: { host: string; restPort: number; model: string; label: string }[] = [];
  readonly statuses = new Map<string, StatusVerdict>();
  readonly labels = new Map<string, string>();
  readonly #held = new Map<string, Promise<void>>();

  /** Sets the verdict of `GET /v1/models/{model}` on an endpoint. */
  status(endpoint: TfServingEndpoint, model: string, verdict: StatusVerdict): this {
    this.statuses.set(`${endpoint.host}:${endpoint.restPort}/${model}`, verdict);
    return this;
  }

  /**
   * Makes status calls for a model on an endpoint wait (a hung server) until the returned
   * function is called; they then answer from the table as usual.
   */
  hold(endpoint: TfServingEndpoint, model: string): () => void {
    let release = () => {};
    this.#held.set(
      `${endpoint.host}:${endpoint.restPort}/${model}`,
      new Promise<void>((resolve) => {
        release = resolve;
      }),
    );
    return release;
  }

  /** Sets what a label of a model resolves to on an endpoint. */
  label(endpoint: TfServingEndpoint, model: string, label: string, version: string): this {
    this.labels.set(`${endpoint.host}:${endpoint.restPort}/${model}/${label}`, version);
    return this;
  }

  async modelStatus(endpoint: TfServingEndpoint, model: string): Promise<StatusVerdict> {
    this.statusCalls.push({ host: endpoint.host, restPort: endpoint.restPort, model });
    await this.#held.get(`${endpoint.host}:${endpoint.restPort}/${model}`);
    return (
      this.statuses.get(`${endpoint.host}:${endpoint.restPort}/${model}`) ?? {
        ok: false,
        reason: `connect ECONNREFUSED ${endpoint.host}:${endpoint.restPort}`,
      }
    );
  }

  async labelVersion(endpoint: TfServingEndpoint, model: string, label: string): Promise<string | undefined> {
    this.labelCalls.push({ host: endpoint.host, restPort: endpoint.restPort, model, label });
    return this.labels.get(`${endpoint.host}:${endpoint.restPort}/${model}/${label}`);
  }
}

/** A successful status verdict: these versions AVAILABLE, newest first. */
export const available = (...versions: string[]): StatusVerdict => ({ ok: true, versions });
