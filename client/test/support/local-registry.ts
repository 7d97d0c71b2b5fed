import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { loopbackEvent } from '../../../test/support/kit/events.ts';
import { within } from '../../../test/support/kit/poll.ts';
import { QUICK_SETTINGS } from '../../../test/support/kit/settings.ts';

/** `npm start` as a child process (its own process group), as a user runs it. */

const REPO_DIR = fileURLToPath(new URL('../../../', import.meta.url));

/** Short settings: a silent death is excluded within FAILURE_THRESHOLD × interval + timeout = 2.3 s. */
export const REGISTRY_SETTINGS = QUICK_SETTINGS;

export const EXCLUSION_MS =
  REGISTRY_SETTINGS.FAILURE_THRESHOLD * REGISTRY_SETTINGS.PROBE_INTERVAL_SECONDS * 1000 +
  REGISTRY_SETTINGS.PROBE_TIMEOUT_MS;

export class LocalRegistry {
  #child: ChildProcess | undefined;
  #output = '';

  constructor(readonly port: number) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get output(): string {
    return this.#output;
  }

  /** Starts `npm start` on the port and waits for its banner. */
  async start(): Promise<void> {
    this.#output = '';
    const child = spawn('npm', ['start', '--silent'], {
      cwd: REPO_DIR,
      env: {
        ...process.env,
        PORT: String(this.port),
        ...Object.fromEntries(Object.entries(REGISTRY_SETTINGS).map(([k, v]) => [k, String(v)])),
      },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#child = child;
    child.stdout?.on('data', (chunk: Buffer) => {
      this.#output += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      this.#output += chunk.toString();
    });
    await within(
      30_000,
      () => {
        if (child.exitCode !== null) throw new Error(`npm start exited: ${this.#output}`);
        return this.#output.includes(`running at ${this.url}`);
      },
      'npm start banner',
    );
  }

  /** SIGKILL to the whole process group (npm, tsx, node): the registry vanishes without a goodbye. */
  async kill(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (child?.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    process.kill(-child.pid, 'SIGKILL');
    await exited;
  }

  /** POSTs one EventBridge event (or an array) to `/events`; throws unless accepted. */
  async post(event: unknown): Promise<void> {
    const response = await fetch(`${this.url}/events`, { method: 'POST', body: JSON.stringify(event) });
    const text = await response.text();
    if (response.status !== 202) throw new Error(`POST /events answered ${response.status}: ${text}`);
  }
}

/** An ECS task state-change event for a TF Serving task at `host` serving `model`, in `zone`. */
export function taskEvent(
  lifecycle: 'running' | 'draining',
  host: string,
  taskId: string,
  model: string,
  zone = 'us-east-1a',
): ReturnType<typeof loopbackEvent> {
  const event = loopbackEvent(lifecycle === 'running' ? 'running-awsvpc' : 'draining', host, taskId);
  event.detail.availabilityZone = zone;
  event.detail.overrides = {
    containerOverrides: [{ name: 'tfserving', environment: [{ name: 'MODEL_NAME', value: model }] }],
  };
  return event;
}
